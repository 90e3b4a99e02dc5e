# SPDX-License-Identifier: GPL-2.0
#
# carveout: external kernel module plus its library, tool and tests.
#
#   make                  build carveout.ko against the running kernel ($(KDIR))
#   make demo             boot a VM with carveout and show it working
#   make check            the test suite on the kernels of tests/vm/kernels.matrix
#                         marked "check" (builds the debug kernel, boots QEMU)
#   make check-all        the same on every kernel of the matrix
#   make vm-shell         interactive shell in the test VM with carveout loaded
#   make install          modules_install + userspace install
#   make userspace        libcarveout, carveoutctl (userspace/build)
#   make userspace-install  the library, headers, carveoutctl, man page and
#                         the Python package (python-install)
#   make python-install   only the Python package (pip, no network needed)
#   make user-tests       the VM's userspace tests, static, in build/user-tests
#   make version          print the version (dkms.conf's PACKAGE_VERSION, the
#                         one place it is written)
#   make dkms-install     register, build and install through DKMS
#   make bench            benchmarks against the kernel's allocators, in the VM
#   make harness          allocator core tests on the host (ASan/UBSan)
#   make fuzz             long runs: libFuzzer on the core, ioctl fuzzer in the VM
#   make hbench           allocator core micro-benchmark on the host

KDIR ?= /lib/modules/$(shell uname -r)/build
PREFIX ?= /usr/local
DESTDIR ?=
# The Python whose pip installs userspace/python (PYTHON= skips it), and
# where: its directory for PREFIX (Debian: .../dist-packages).
PYTHON ?= /usr/bin/python3
PYSITE ?= $(shell $(PYTHON) -c 'import sys; p = "$(PREFIX)/lib/python%d.%d/" % sys.version_info[:2]; print(p + ("dist-packages" if p + "dist-packages" in sys.path else "site-packages"))' 2>/dev/null)
# The one version of module, library, tool, pkg-config file and DKMS.
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' $(CURDIR)/dkms.conf)

.PHONY: all modules modules_install userspace userspace-install user-tests \
	python-install \
	install version dkms-install dkms-uninstall clean check check-all demo \
	vm-shell bench harness fuzz hbench

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

modules_install: modules
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install
	depmod -a $(notdir $(patsubst %/build,%,$(KDIR))) 2>/dev/null || depmod -a

userspace:
	$(MAKE) -C userspace

userspace-install: userspace
	$(MAKE) -C userspace install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)
	$(if $(PYTHON),$(MAKE) python-install)

# The package's own build backend needs no download (userspace/python);
# numpy comes from the system (python3-numpy).  --target is outside the
# packages the system's pip keeps away from (PEP 668).
python-install:
	@$(PYTHON) -m pip --version >/dev/null 2>&1 || { \
		echo "python-install: $(PYTHON) has no pip (apt-get install python3-pip)" >&2; \
		exit 1; }
	$(PYTHON) -m pip install --no-index --no-deps --disable-pip-version-check \
		--upgrade --target $(DESTDIR)$(PYSITE) ./userspace/python

install: modules_install userspace-install

user-tests:
	$(MAKE) -C tests/user O=$(CURDIR)/build/user-tests static

version:
	@echo $(VERSION)

dkms-install:
	rm -rf /usr/src/carveout-$(VERSION)
	mkdir -p /usr/src/carveout-$(VERSION)
	cp -r Kbuild Makefile dkms.conf module uapi /usr/src/carveout-$(VERSION)/
	dkms add carveout/$(VERSION)
	dkms build carveout/$(VERSION)
	dkms install carveout/$(VERSION)

dkms-uninstall:
	-dkms remove carveout/$(VERSION) --all
	rm -rf /usr/src/carveout-$(VERSION)

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	-$(MAKE) -C tests/harness clean
	-$(MAKE) -C userspace clean
	-$(MAKE) -C tests/user clean
	rm -rf build

check:
	@bash tests/vm/host/check.sh check

check-all:
	@bash tests/vm/host/check.sh all

demo:
	@bash tests/vm/host/demo.sh

vm-shell:
	@bash tests/vm/host/demo.sh --shell

bench:
	@bash tests/bench/run.sh

harness:
	$(MAKE) -C tests/harness check

fuzz:
	@bash tests/vm/host/fuzz.sh

hbench:
	$(MAKE) -C tests/harness bench
