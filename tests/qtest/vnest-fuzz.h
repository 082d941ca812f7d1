/*
 * VNest qtest helpers: the driver every structured fuzzer shares
 *
 * A fuzzer gives a function that runs one input (bytes decoded into guest
 * actions, the fuzzer's invariants asserted after it). The driver runs,
 * as one test /NAME/MODE:
 *   seeds   (no environment; make check) seeds 1..check_seeds, each a
 *           check_len-byte input from g_rand seeded with it;
 *   timed   VNEST_FUZZ_SECONDS=N: random seeds for N seconds, input
 *           lengths 64 + seed % timed_len;
 *   replay  VNEST_FUZZ_REPLAY=FILE: that one input.
 * VNEST_FUZZ_LAST=FILE: each input is written there before it runs, so
 * a crash can be kept (scripts/fuzz-nest.sh). The fuzzer's stats
 * function, if any, prints what the inputs reached once they ran.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef VNEST_TESTS_VNEST_FUZZ_H
#define VNEST_TESTS_VNEST_FUZZ_H

/*
 * An input being decoded: past its end everything reads as zero, so any
 * byte string is a valid input.
 */
typedef struct VnestFuzzInput {
    const uint8_t *start, *p, *end;
} VnestFuzzInput;

static inline VnestFuzzInput vnest_fuzz_input(const uint8_t *data,
                                              size_t len)
{
    return (VnestFuzzInput) { .start = data, .p = data, .end = data + len };
}

/* Bytes left to decode */
static inline bool vnest_fuzz_more(const VnestFuzzInput *in)
{
    return in->p < in->end;
}

static inline uint8_t vnest_fuzz_u8(VnestFuzzInput *in)
{
    return in->p < in->end ? *in->p++ : 0;
}

static inline uint16_t vnest_fuzz_u16(VnestFuzzInput *in)
{
    return vnest_fuzz_u8(in) | (uint16_t)vnest_fuzz_u8(in) << 8;
}

static inline uint32_t vnest_fuzz_u32(VnestFuzzInput *in)
{
    return vnest_fuzz_u16(in) | (uint32_t)vnest_fuzz_u16(in) << 16;
}

static inline uint64_t vnest_fuzz_u64(VnestFuzzInput *in)
{
    return vnest_fuzz_u32(in) | (uint64_t)vnest_fuzz_u32(in) << 32;
}

typedef struct VnestFuzz {
    const char *name;
    void (*run)(const uint8_t *data, size_t len);
    void (*stats)(void);
    unsigned check_seeds;
    size_t check_len;
    size_t timed_len;
} VnestFuzz;

/* g_test_init, the one test the environment asks for, g_test_run */
int vnest_fuzz_main(int argc, char **argv, const VnestFuzz *fz);

#endif
