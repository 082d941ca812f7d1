/*
 * VNest guest benchmark workload: 4 KiB random reads with O_DIRECT
 *
 *   randread DEVICE[,DEVICE...] REGION_MIB COUNT ROUNDS [SEED]
 *
 * Stamps every 4 KiB block of the first REGION_MIB MiB of each DEVICE
 * with its block number (1 MiB O_DIRECT writes), then reads one block of
 * the first DEVICE outside the region (the "sentinel", at REGION_MIB *
 * 2 MiB), ROUNDS times COUNT blocks of the region at pseudo-random places
 * (xorshift64 from SEED: the same places on every run) from each DEVICE in
 * turn, and the sentinel again, checking every stamp. So the host can
 * find the reads between the two sentinel reads in a trace of the NVMe
 * commands. Each round is timed; the median round
 * gives the time per read. Prints VNEST: key=value lines; exits 0 only if
 * every block came back as stamped.
 *
 * Built static on the build machine and put in the guest's initramfs by
 * the x86_64-vtd-bench profile: busybox has no fio.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BLOCK       4096
#define CHUNK       (1024 * 1024)
#define STAMP_MAGIC 0x564e657374ULL     /* "VNest" */
#define MAX_DEVS    8

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t xorshift64(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int read_block(int fd, void *buf, uint64_t blk)
{
    if (pread(fd, buf, BLOCK, (off_t)(blk * BLOCK)) != BLOCK) {
        printf("VNEST: error=read of block %" PRIu64 " failed\n", blk);
        return -1;
    }
    return 0;
}

/* A standalone guest program: no QEMU utilities (qemu_strtou64). */
static uint64_t arg_u64(const char *s)
{
    uint64_t v = 0;

    return sscanf(s, "%" SCNu64, &v) == 1 ? v : 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    uint64_t nblocks, count, rounds, seed = 1, blk, sentinel, *p;
    uint64_t i, j, r, bad = 0;
    double t0, *secs;
    char *names, *name, *save;
    int fds[MAX_DEVS], ndevs = 0, fd;
    void *buf;

    if (argc < 5) {
        fprintf(stderr, "usage: %s DEVICE REGION_MIB COUNT ROUNDS [SEED]\n",
                argv[0]);
        return 2;
    }
    nblocks = arg_u64(argv[2]) * 1024 * 1024 / BLOCK;
    count = arg_u64(argv[3]);
    rounds = arg_u64(argv[4]);
    if (argc > 5) {
        seed = arg_u64(argv[5]) ?: 1;
    }
    if (!nblocks || !count || !rounds) {
        fprintf(stderr, "randread: REGION_MIB, COUNT and ROUNDS must be > 0\n");
        return 2;
    }
    secs = calloc(rounds, sizeof(*secs));
    sentinel = nblocks * 2;
    if (posix_memalign(&buf, BLOCK, CHUNK)) {
        return 1;
    }
    names = strdup(argv[1]);
    for (name = strtok_r(names, ",", &save); name && ndevs < MAX_DEVS;
         name = strtok_r(NULL, ",", &save)) {
        fd = open(name, O_RDWR | O_DIRECT);
        if (fd < 0) {
            printf("VNEST: error=cannot open %s with O_DIRECT\n", name);
            return 1;
        }
        fds[ndevs++] = fd;

        /* Stamp the region, a chunk at a time. */
        for (blk = 0; blk < nblocks; blk += CHUNK / BLOCK) {
            for (j = 0; j < CHUNK / BLOCK; j++) {
                p = (uint64_t *)((char *)buf + j * BLOCK);
                p[0] = STAMP_MAGIC;
                p[1] = blk + j;
            }
            if (pwrite(fd, buf, CHUNK, (off_t)(blk * BLOCK)) != CHUNK) {
                printf("VNEST: error=write to %s at block %" PRIu64
                       " failed\n", name, blk);
                return 1;
            }
        }
    }
    if (!ndevs) {
        return 2;
    }

    if (read_block(fds[0], buf, sentinel)) {
        return 1;
    }
    for (r = 0; r < rounds; r++) {
        t0 = now();
        for (i = 0; i < count; i++) {
            blk = xorshift64(&seed) % nblocks;
            if (read_block(fds[i % ndevs], buf, blk)) {
                return 1;
            }
            p = buf;
            bad += p[0] != STAMP_MAGIC || p[1] != blk;
        }
        secs[r] = now() - t0;
        printf("VNEST: bench.round%" PRIu64 ".usec_per_io=%.1f\n", r,
               secs[r] * 1e6 / count);
    }
    if (read_block(fds[0], buf, sentinel)) {
        return 1;
    }
    qsort(secs, rounds, sizeof(*secs), cmp_double);

    printf("VNEST: bench.ios=%" PRIu64 "\n", count * rounds);
    printf("VNEST: bench.rounds=%" PRIu64 "\n", rounds);
    printf("VNEST: bench.devices=%d\n", ndevs);
    printf("VNEST: bench.bad_blocks=%" PRIu64 "\n", bad);
    printf("VNEST: bench.sentinel_lba=0x%" PRIx64 "\n", sentinel * BLOCK / 512);
    printf("VNEST: bench.usec_per_io=%.1f\n",
           secs[rounds / 2] * 1e6 / count);
    while (ndevs) {
        close(fds[--ndevs]);
    }
    return bad ? 1 : 0;
}
