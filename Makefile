# VNest: the two commands a newcomer needs are `make run` and `make check`.
# Everything else here is a step of those.

PROFILE ?= x86_64-vtd-nest
# `make install`: where (PREFIX), staged under DESTDIR, binaries renamed
# with PROGRAM_PREFIX. See docs/building.rst, "Installing".
PREFIX ?= /usr/local
DESTDIR ?=
PROGRAM_PREFIX ?=

.PHONY: all deps build run check checkpatch fuzz fuzz-vtd-nest fuzz-smmu-nest fuzz-zpci \
	bench conformance libvirt-test clean help install deb

all: build

help:
	@echo "make run      build QEMU with VNest and boot the demo guest ($(PROFILE))"
	@echo "make check    build and run every test"
	@echo "make build    install dependencies and build QEMU with VNest"
	@echo "make install  install the emulators and their firmware (PREFIX=$(PREFIX),"
	@echo "             DESTDIR, PROGRAM_PREFIX)"
	@echo "make deb      a vnest-qemu .deb beside Debian's QEMU (/usr/bin/vnest-qemu-system-*)"
	@echo "make checkpatch  QEMU's style check on VNest's C files"
	@echo "make fuzz     fuzz the emulated host's ioctls (FUZZ_SECONDS, default 3600)"
	@echo "make fuzz-vtd-nest  fuzz intel-iommu nesting with random guests (FUZZ_SECONDS, default 600)"
	@echo "make fuzz-smmu-nest fuzz arm-smmuv3,accel=on nesting the same way"
	@echo "make fuzz-zpci fuzz s390 zPCI RPCIT over iommufd the same way"
	@echo "make bench    print the emulated host's translation rates and guest I/O"
	@echo "             costs: intel-iommu nested vs shadow vs per-descriptor,"
	@echo "             arm-smmuv3 batched vs per-command, zPCI runs vs per-page"
	@echo "make conformance  Linux's iommufd selftests: real kernel vs emulated host"
	@echo "make libvirt-test  Debian 13's libvirt (11.3, and 12.9 from backports) starts"
	@echo "             VNest domains from tests/libvirt/*.xml (builds its chroots once)"
	@echo "make clean    remove build/ (downloads and ccache stay in ~/.cache/vnest)"

deps:
	@scripts/deps.sh

build: deps
	@scripts/build-qemu.sh

install: build
	@DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" PROGRAM_PREFIX="$(PROGRAM_PREFIX)" \
		scripts/install.sh

deb: build
	@scripts/make-deb.sh

run: build
	@guest/run.sh $(PROFILE)

check: deps
	@scripts/check.sh

checkpatch: deps
	@scripts/checkpatch.sh

fuzz: deps
	@scripts/fuzz.sh

fuzz-vtd-nest: deps
	@scripts/fuzz-nest.sh vtd

fuzz-smmu-nest: deps
	@scripts/fuzz-nest.sh smmu

fuzz-zpci: deps
	@scripts/fuzz-nest.sh zpci

bench: deps
	@scripts/bench.sh

conformance: deps
	@scripts/conformance.sh

libvirt-test: build
	@scripts/deps.sh --libvirt
	@scripts/libvirt-test.sh

clean:
	rm -rf build
