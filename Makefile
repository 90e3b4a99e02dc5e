# SPDX-License-Identifier: GPL-2.0
#
# carveout: external kernel module plus its tests and tools.
#
#   make            build carveout.ko against the running kernel ($(KDIR))
#   make demo       boot a VM with carveout and show it working
#   make check      the whole test suite (builds a test kernel, boots QEMU)
#   make vm-shell   interactive shell in the test VM with carveout loaded
#   make harness    allocator core tests on the host (ASan/UBSan)
#   make fuzz       longer libFuzzer run of the allocator core
#   make hbench     allocator core micro-benchmark on the host

KDIR ?= /lib/modules/$(shell uname -r)/build

.PHONY: all modules clean check demo vm-shell harness fuzz hbench

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	-$(MAKE) -C tests/harness clean
	rm -rf build

check:
	@bash tests/vm/check.sh

demo:
	@bash tests/vm/demo.sh

vm-shell:
	@bash tests/vm/demo.sh --shell

harness:
	$(MAKE) -C tests/harness check

fuzz:
	$(MAKE) -C tests/harness libfuzzer-run FUZZ_SECONDS=600

hbench:
	$(MAKE) -C tests/harness bench
