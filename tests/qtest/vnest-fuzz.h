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
