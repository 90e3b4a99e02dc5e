# SPDX-License-Identifier: GPL-2.0
"""Tests of the carveout Python package against the real module (in the
test VM, as root, with carveout_edu bound to QEMU's edu device)."""
import ctypes
import errno
import fcntl
import gc
import json
import mmap
import os
import stat
import struct
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

import numpy as np

import carveout
from carveout import _lib

TREE = os.environ.get("CARVEOUT_SRC", "/tmp/carveout-src")
EDU = "0000:00:03.0"
EDU_SYSFS = "/sys/bus/pci/devices/" + EDU
EDU_DEV = "/dev/carveout-edu"
EDU_BUF_ADDR = 0x40000
EDU_XFER_MAX = 4095			# QEMU 7.2 wants the end inside the buffer
EDU_REG_SRC, EDU_REG_DST, EDU_REG_CNT, EDU_REG_CMD = 0x80, 0x88, 0x90, 0x98
EDU_CMD_RUN, EDU_CMD_TO_RAM = 0x1, 0x2
EDU_DMA_MASK = (1 << 28) - 1
MIB = 1 << 20


def used(node):
    return carveout.stats(node)["used_bytes"]


def buffers(node):
    return carveout.stats(node)["nr_buffers"]


def run_child(code):
    """Runs CODE in a new interpreter; returns (status, output)."""
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(code)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=300, check=False)
    return p.returncode, p.stdout.decode(errors="replace")


class Edu:
    """QEMU's edu DMA engine driven through sysfs resource0, as
    tests/user/demo_dma.c does (64-bit register accesses)."""

    def __init__(self):
        fd = os.open(EDU_SYSFS + "/resource0", os.O_RDWR | os.O_SYNC)
        try:
            self.bar = mmap.mmap(fd, 4096, mmap.MAP_SHARED)
        finally:
            os.close(fd)
        self.regs = np.frombuffer(self.bar, dtype=np.uint64)

    def dma(self, src, dst, length, to_ram):
        r = self.regs
        r[EDU_REG_SRC // 8] = src
        r[EDU_REG_DST // 8] = dst
        r[EDU_REG_CNT // 8] = length
        r[EDU_REG_CMD // 8] = EDU_CMD_RUN | (EDU_CMD_TO_RAM if to_ram else 0)
        for _ in range(2500):
            if not int(r[EDU_REG_CMD // 8]) & EDU_CMD_RUN:
                return
            time.sleep(0.002)
        raise AssertionError("edu DMA did not finish")

    def close(self):
        self.regs = None
        self.bar.close()


def edu_present():
    return os.path.exists(EDU_SYSFS + "/resource0") and os.path.exists(EDU_DEV)


class TestLayout(unittest.TestCase):
    """The ctypes declarations match the C headers, compiled."""

    def test_structs_and_constants_match_headers(self):
        lines = ["#include <stddef.h>", "#include <stdio.h>",
                 "#include <carveout/libcarveout.h>", "int main(void) {"]
        for cname, cls in _lib.STRUCTS.items():
            lines.append('printf("%s sizeof %%zu\\n", sizeof(struct %s));'
                         % (cname, cname))
            for f, _ in cls._fields_:
                lines.append('printf("%s %s %%zu\\n", offsetof(struct %s, %s));'
                             % (cname, f, cname, f))
        for name in _lib.CONSTANTS:
            lines.append('printf("const %s %%llu\\n", (unsigned long long)%s);'
                         % (name, name))
        lines.append("return 0; }")
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "layout.c")
            with open(src, "w") as f:
                f.write("\n".join(lines) + "\n")
            exe = os.path.join(d, "layout")
            subprocess.run(["cc", "-I", TREE + "/userspace/include", "-I",
                            TREE + "/uapi/linux", "-o", exe, src], check=True)
            out = subprocess.run([exe], stdout=subprocess.PIPE,
                                 check=True).stdout.decode()
        seen = 0
        for line in out.splitlines():
            a, b, v = line.split()
            v = int(v)
            if a == "const":
                self.assertEqual(_lib.CONSTANTS[b], v, b)
            elif b == "sizeof":
                cls = _lib.STRUCTS[a]
                if cls is not _lib.Buf:	# declared up to its public part
                    self.assertEqual(ctypes.sizeof(cls), v, a)
            else:
                self.assertEqual(getattr(_lib.STRUCTS[a], b).offset, v,
                                 "%s.%s" % (a, b))
            seen += 1
        self.assertGreater(seen, 60)


class TestPackage(unittest.TestCase):
    def test_installed_offline_with_its_library(self):
        # hostroot.sh installed it with pip in a VM that has no network.
        self.assertTrue(carveout.__file__.startswith("/tmp/carveout-python/"),
                        carveout.__file__)
        here = os.path.dirname(carveout.__file__)
        self.assertEqual(_lib.lib._name, os.path.join(here, _lib._build.SONAME))
        tree = _lib._build.__dict__.get("version_from_tree")
        self.assertIsNone(tree)		# the backend wrote the values in
        with open(TREE + "/dkms.conf") as f:
            self.assertIn('PACKAGE_VERSION="%s"' % carveout.__version__,
                          f.read())
        self.assertEqual(carveout.version(), carveout.__version__)


class TestInfo(unittest.TestCase):
    def test_info_is_plain_data(self):
        i = carveout.info()
        json.dumps(i)
        self.assertIn("numa", i["cap_names"])
        self.assertIn("dma_map", i["cap_names"])
        self.assertGreaterEqual(len(i["nodes"]), 1)
        self.assertEqual(i["total_bytes"],
                         sum(n["region_bytes"] for n in i["nodes"]))
        for n in i["nodes"]:
            self.assertLessEqual(n["largest_free"], n["free_bytes"])
            self.assertLessEqual(n["free_bytes"], n["region_bytes"])

    def test_stats_per_node(self):
        nodes = [n["node"] for n in carveout.info()["nodes"]]
        st = carveout.stats()
        json.dumps(st)
        self.assertEqual([s["node"] for s in st], nodes)
        for s in st:
            self.assertEqual(s["used_bytes"],
                             s["region_bytes"] - s["free_bytes"])
            self.assertTrue(s["free_blocks"])
        self.assertEqual(carveout.stats(nodes[-1])["node"], nodes[-1])

    def test_limits(self):
        lim = carveout.limits()
        self.assertTrue(lim["privileged"])	# root opened it
        self.assertGreaterEqual(lim["max_handles"], 0)


class TestAllocate(unittest.TestCase):
    def test_array_is_the_buffer(self):
        before = buffers(0)
        a = carveout.allocate((4, 1024), np.uint32, node=0)
        self.assertIsInstance(a, carveout.CarveoutArray)
        self.assertEqual((a.shape, a.dtype), ((4, 1024), np.uint32))
        self.assertEqual(a.node, 0)
        self.assertEqual(buffers(0), before + 1)
        self.assertFalse(a.any(), "a new buffer reads as zeros")
        a[:] = np.arange(4096, dtype=np.uint32).reshape(4, 1024)
        # Zero copy: the same bytes through a dma-buf's own mapping.
        fd = a.export()
        try:
            with mmap.mmap(fd, 16384, mmap.MAP_SHARED) as m:
                other = np.frombuffer(m, dtype=np.uint32, count=4096)
                self.assertTrue((other == np.arange(4096)).all())
                a[3, 1023] = 0xdeadbeef
                self.assertEqual(int(other[4095]), 0xdeadbeef)
                del other
        finally:
            os.close(fd)
        a.free()
        del a
        gc.collect()
        self.assertEqual(buffers(0), before)

    def test_node_policy_align_cache(self):
        nodes = [n["node"] for n in carveout.info()["nodes"]]
        last = nodes[-1]
        with carveout.allocate(1 << 16, np.uint8, node=last) as a:
            self.assertEqual(a.node, last)
        with carveout.allocate(4096, "f8", node=last, policy="preferred",
                               align=2 * MIB) as a:
            self.assertEqual(a.node, last)
            self.assertEqual(a.physical_address % (2 * MIB), 0)
            a[:] = 1.5
            self.assertEqual(float(a.sum()), 1.5 * 4096)
        caps = carveout.info()["cap_names"]
        if "wc" in caps:
            with carveout.allocate(8192, np.uint8, cache="wc") as a:
                a[:] = 3
                self.assertEqual(int(a.sum()), 3 * 8192)
        with self.assertRaises(ValueError):
            carveout.allocate(10, policy="nearest")
        with self.assertRaises(ValueError):
            carveout.allocate(10, cache="writeback")
        with self.assertRaises(ValueError):
            carveout.allocate(0)

    def test_physical_address_of_views(self):
        with carveout.allocate(1024, np.uint32) as a:
            p = a.physical_address
            self.assertIsInstance(p, int)
            self.assertNotEqual(p, 0)
            self.assertEqual(a[10:].physical_address, p + 40)

    def test_small_buffers(self):
        arrs = [carveout.allocate(100, np.uint8) for _ in range(8)]
        for i, a in enumerate(arrs):
            a[:] = i
        for i, a in enumerate(arrs):
            self.assertTrue((a == i).all())
            a.free()

    def test_errors_carry_errno_and_carveouts_words(self):
        total = carveout.info()["total_bytes"]
        with self.assertRaises(carveout.CarveoutError) as cm:
            carveout.allocate(total * 2, np.uint8)
        e = cm.exception
        self.assertIsInstance(e, OSError)
        self.assertIn(e.errno, (errno.EFBIG, errno.ENOMEM))
        want = _lib.lib.carveout_strerror_op(e.errno,
                                             _lib.OP_ALLOC).decode()
        self.assertEqual(e.strerror, want)
        self.assertNotEqual(e.strerror, os.strerror(e.errno))
        self.assertIn(want, str(e))
        with carveout.allocate(4096) as a:
            with self.assertRaises(carveout.CarveoutError) as cm:
                a.map("0000:ff:1f.7")
            self.assertEqual(cm.exception.errno, errno.ENODEV)
            with self.assertRaises(carveout.CarveoutError) as cm:
                a.sync_for_device()		# nothing mapped
            self.assertEqual(cm.exception.errno, errno.ENOENT)
        with self.assertRaises(carveout.CarveoutError) as cm:
            carveout.open("/dev/carveout-does-not-exist")
        self.assertEqual(cm.exception.errno, errno.ENOENT)


class TestSlicing(unittest.TestCase):
    def test_slices_are_views_of_the_buffer(self):
        with carveout.allocate(1000, np.uint16) as a:
            s = a[100:200]
            self.assertIsInstance(s, carveout.CarveoutArray)
            self.assertEqual(s.handle, a.handle)
            s[:] = 7
            self.assertTrue((a[100:200] == 7).all())
            self.assertEqual(int(a.sum()), 700)
            r = a.reshape(10, 100)[1:3, ::2]
            self.assertEqual(r.handle, a.handle)
            r[:] = 9
            self.assertEqual(int(a[100]), 9)
            self.assertEqual(int(a[101]), 7)
            # New memory is not the buffer.
            b = a + 1
            self.assertNotIsInstance(b, carveout.CarveoutArray)
            c = a.copy()
            with self.assertRaises(ValueError):
                c.handle		# pylint: disable=pointless-statement
            del s, r

    @unittest.skipUnless(edu_present(), "no edu device bound to carveout_edu")
    def test_sync_a_slice(self):
        with carveout.allocate(1 << 16, np.uint8) as a:
            iova = a.map(EDU)
            at = a[4096:].map(EDU, "to_device")
            self.assertIn(at - 4096, [m[1] for m in a._co.maps])
            a.map(EDU, "to_device")
            self.assertNotEqual(iova, a.physical_address)
            a[4096:8192].sync_for_device()
            a[::2].sync_for_cpu()
            a.sync_for_device()
            a.unmap(iova)
            a.unmap()
            a.unmap()
            with self.assertRaises(carveout.CarveoutError):
                a.unmap()


@unittest.skipUnless(edu_present(), "no edu device bound to carveout_edu")
class TestEduDma(unittest.TestCase):
    def test_round_trip_through_the_iommu(self):
        msg = np.frombuffer(os.urandom(EDU_XFER_MAX), dtype=np.uint8)
        edu = Edu()
        try:
            with carveout.allocate(1 << 16, np.uint8) as a:
                iova = a.map(EDU)
                self.assertLessEqual(iova + len(a), EDU_DMA_MASK + 1)
                a[:len(msg)] = msg
                a[:len(msg)].sync_for_device()
                edu.dma(iova, EDU_BUF_ADDR, len(msg), False)
                edu.dma(EDU_BUF_ADDR, iova + 32768, len(msg), True)
                a[32768:32768 + len(msg)].sync_for_cpu()
                self.assertTrue((a[32768:32768 + len(msg)] == msg).all())
                self.assertFalse(a[32768 + len(msg):].any())
        finally:
            edu.close()

    def test_exported_dmabuf_imported_by_edu(self):
        pat = np.frombuffer(os.urandom(EDU_XFER_MAX), dtype=np.uint8)
        with carveout.allocate((16, 4096), np.uint8) as a:
            a[0, :EDU_XFER_MAX] = pat
            fd = a.export()
            efd = os.open(EDU_DEV, os.O_RDWR)
            try:
                req = 0xC0000000 | (32 << 16) | (0xC6 << 8)
                for direction, off in ((0, 0), (1, 5 * 4096 + 256)):
                    x = bytearray(struct.pack("iIQIIQ", fd, direction, off,
                                              EDU_XFER_MAX, 0, 0))
                    fcntl.ioctl(efd, req, x)
            finally:
                os.close(efd)
                os.close(fd)
            got = a.reshape(-1)[5 * 4096 + 256:5 * 4096 + 256 + EDU_XFER_MAX]
            self.assertTrue((got == pat).all())


class TestLifetime(unittest.TestCase):
    """Freeing while views live: they keep the memory; nothing crashes."""

    def test_free_with_a_live_slice(self):
        rc, out = run_child("""
            import gc, numpy as np, carveout
            def buffers():
                return sum(s["nr_buffers"] for s in carveout.stats())
            base = buffers()
            a = carveout.allocate(1 << 20, np.uint8, node=0)
            v = a[4096:8192]
            m = memoryview(a[100:200])
            v[:] = 5
            a.free()
            try:
                a.map("0000:00:03.0")
                raise SystemExit("map after free worked")
            except carveout.CarveoutError as e:
                assert "freed" in str(e), e
            del a
            gc.collect()
            assert buffers() == base + 1, "the views keep the buffer"
            assert (v == 5).all() and v.sum() == 5 * 4096
            v[:] = 6
            m[0] = 1
            assert m[0] == 1
            del v
            gc.collect()
            assert buffers() == base + 1, "the memoryview keeps it"
            del m
            gc.collect()
            assert buffers() == base, "freed with the last view"
            print("survived")
        """)
        self.assertEqual(rc, 0, out)
        self.assertIn("survived", out)

    def test_views_outlive_their_context(self):
        rc, out = run_child("""
            import gc, numpy as np, carveout
            ctx = carveout.open()
            a = ctx.allocate(1 << 16, np.uint32)
            v = a[::3]
            v[:] = 0xabcd
            del a
            ctx.close()
            del ctx
            gc.collect()
            assert int(v[-1]) == 0xabcd
            v[:] = 1
            try:
                v.sync_for_cpu()
                raise SystemExit("sync on a closed context worked")
            except carveout.CarveoutError:
                pass
            print("survived")
        """)
        self.assertEqual(rc, 0, out)
        self.assertIn("survived", out)

    def test_free_gives_memory_back(self):
        before = used(0)
        a = carveout.allocate(4 * MIB, np.uint8, node=0)
        self.assertGreaterEqual(used(0), before + 4 * MIB)
        with a:
            a[:] = 1
        self.assertTrue(a.freed)
        with self.assertRaises(carveout.CarveoutError) as cm:
            a.export()
        self.assertEqual(cm.exception.errno, errno.EBADF)
        del a
        gc.collect()
        self.assertEqual(used(0), before)


class TestUnprivileged(unittest.TestCase):
    NODE = "/tmp/carveout-nobody"

    def test_physical_address_is_none_without_cap_sys_admin(self):
        st = os.stat("/dev/carveout")
        if os.path.exists(self.NODE):
            os.unlink(self.NODE)
        os.mknod(self.NODE, 0o600 | stat.S_IFCHR, st.st_rdev)
        os.chown(self.NODE, 65534, 65534)
        try:
            rc, out = run_child("""
                import os, numpy as np, carveout
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
                ctx = carveout.open("%s")
                assert not ctx.limits()["privileged"]
                a = ctx.allocate(1 << 16, np.uint8)
                assert a.physical_address is None, a.physical_address
                assert a[4096:].physical_address is None
                a[:] = 1
                assert int(a.sum()) == 1 << 16
                print("hidden")
            """ % self.NODE)
        finally:
            os.unlink(self.NODE)
        self.assertEqual(rc, 0, out)
        self.assertIn("hidden", out)
