/*
 * VNest qtest helpers: the driver every structured fuzzer shares
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "tests/qtest/libqtest.h"
#include "vnest-fuzz.h"

static void fuzz_run(const VnestFuzz *fz, const uint8_t *data, size_t len)
{
    const char *last = g_getenv("VNEST_FUZZ_LAST");

    if (last) {
        g_assert_true(g_file_set_contents(last, (const char *)data, len,
                                          NULL));
    }
    fz->run(data, len);
}

static void fuzz_seed(const VnestFuzz *fz, uint32_t seed, size_t len)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(seed);
    g_autofree uint8_t *buf = g_malloc(len);
    size_t i;

    for (i = 0; i < len; i++) {
        buf[i] = g_rand_int(r);
    }
    fuzz_run(fz, buf, len);
}

/* make check: fixed seeds, the same inputs every run */
static void test_seeds(const void *opaque)
{
    const VnestFuzz *fz = opaque;
    uint32_t seed;

    for (seed = 1; seed <= fz->check_seeds; seed++) {
        fuzz_seed(fz, seed, fz->check_len);
    }
}

/* make fuzz-*: random seeds until the time is up */
static void test_timed(const void *opaque)
{
    const VnestFuzz *fz = opaque;
    double secs = g_ascii_strtod(g_getenv("VNEST_FUZZ_SECONDS"), NULL);
    g_autoptr(GTimer) t = g_timer_new();
    uint32_t base = g_test_rand_int(), n = 0;

    while (g_timer_elapsed(t, NULL) < secs) {
        uint32_t seed = base + n++;

        g_test_message("seed %" PRIu32, seed);
        fuzz_seed(fz, seed, 64 + seed % fz->timed_len);
    }
    g_test_message("%" PRIu32 " inputs in %.0f s: %.1f execs/s", n,
                   g_timer_elapsed(t, NULL), n / g_timer_elapsed(t, NULL));
}

static void test_replay(const void *opaque)
{
    g_autofree char *data = NULL;
    gsize len;

    g_assert_true(g_file_get_contents(g_getenv("VNEST_FUZZ_REPLAY"), &data,
                                      &len, NULL));
    fuzz_run(opaque, (const uint8_t *)data, len);
}

int vnest_fuzz_main(int argc, char **argv, const VnestFuzz *fz)
{
    g_autofree char *path = NULL;
    int ret;

    g_test_init(&argc, &argv, NULL);
    if (g_getenv("VNEST_FUZZ_REPLAY")) {
        path = g_strdup_printf("/%s/replay", fz->name);
        qtest_add_data_func(path, fz, test_replay);
    } else if (g_getenv("VNEST_FUZZ_SECONDS")) {
        path = g_strdup_printf("/%s/timed", fz->name);
        qtest_add_data_func(path, fz, test_timed);
    } else {
        path = g_strdup_printf("/%s/seeds", fz->name);
        qtest_add_data_func(path, fz, test_seeds);
    }
    ret = g_test_run();
    if (fz->stats) {
        fz->stats();
    }
    return ret;
}
