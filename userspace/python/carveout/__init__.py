# SPDX-License-Identifier: LGPL-2.1-or-later
"""carveout: physically contiguous DMA buffers as numpy arrays.

    import numpy as np
    import carveout

    with carveout.allocate((1024, 1024), np.uint32, node=0) as a:
        a[:] = 7                                 # the buffer, no copy
        iova = a.map("0000:03:00.0")             # DMA address for the device
        a.sync_for_device()
        ...                                      # the device works
        a.sync_for_cpu()

allocate() returns a numpy array (CarveoutArray, an ndarray subclass) whose
memory is the buffer's mmap: slices, views and reshapes of it are the same
memory, and each of them knows its buffer (sync_for_cpu() on a slice syncs
that slice's bytes).

How it is built: ctypes over libcarveout, the C library of this tree.  The
library owns the ABI: it fills the ioctl structures (with their size
fields), maps the buffer, and puts errors in carveout's words
(carveout_strerror_op()); this package only declares the library's public
structures and functions (_lib.py), loads libcarveout by the soname that
names that ABI, and tests/python compiles the C headers to check every
declared offset and constant.  So the ABI is written once, in the uapi
header and the library, and no second copy of the ioctl structures exists
here.  The wheel carries the libcarveout built from the same tree (next to
this file); CARVEOUT_LIBRARY=/path/to/libcarveout.so.X picks another one.

Lifetime: the mapping belongs to the arrays.  The last array (or slice,
view, memoryview) that refers to a buffer's memory unmaps it and frees the
buffer, so no array can outlive its memory and touching one never crashes
the interpreter.  free() (also what leaving a "with" block does) ends the
buffer for this package: map(), sync and export() raise afterwards and its
DMA mappings are removed; the memory returns to carveout as soon as no
array refers to it any more (at once when nothing else does).  Views still
alive keep it, with its contents, until they go.

Errors are CarveoutError, an OSError with .errno, carveout's own text in
.strerror and the operation in .what.
"""
import ctypes
import os
import threading
import weakref

import numpy as np

from . import _lib
from ._build import VERSION as __version__

__all__ = ["CarveoutError", "CarveoutArray", "Context", "allocate", "info",
           "stats", "limits", "open", "version", "default_context"]

_L = _lib.lib

_DIRECTIONS = {
    "bidirectional": _lib.DMA_BIDIRECTIONAL, "bidi": _lib.DMA_BIDIRECTIONAL,
    "to_device": _lib.DMA_TO_DEVICE, "to-device": _lib.DMA_TO_DEVICE,
    "from_device": _lib.DMA_FROM_DEVICE, "from-device": _lib.DMA_FROM_DEVICE,
}


class CarveoutError(OSError):
    """A failed carveout call: .errno, .strerror (carveout's words), .what"""

    def __init__(self, err, what, op=_lib.OP_ANY):
        err = abs(err)
        text = _L.carveout_strerror_op(err, op).decode(errors="replace")
        super().__init__(err, text)
        self.what = what

    def __str__(self):
        return "%s: %s (errno %d)" % (self.what, self.strerror, self.errno)


def _check(ret, what, op):
    if ret < 0:
        raise CarveoutError(ret, what, op)
    return ret


def version():
    """The version of the loaded libcarveout."""
    return _L.carveout_version().decode()


def _direction(d):
    if isinstance(d, str):
        try:
            return _DIRECTIONS[d.lower()]
        except KeyError:
            raise ValueError("direction %r: give bidirectional, to_device "
                             "or from_device" % d) from None
    if d in (_lib.DMA_BIDIRECTIONAL, _lib.DMA_TO_DEVICE, _lib.DMA_FROM_DEVICE):
        return int(d)
    raise ValueError("direction %r" % (d,))


def _by_name(value, parse, what):
    if isinstance(value, str):
        r = parse(value.encode())
        if r < 0:
            raise ValueError("%s %r" % (what, value))
        return r
    return int(value)


class Context:
    """One open file of /dev/carveout; buffers allocated in it are its own.

    The module-level functions use default_context(); open a Context of
    your own to keep buffers in a separate file (for its limits, or to
    close all of them at once).
    """

    def __init__(self, path=None):
        ctx = _L.carveout_open(os.fsencode(path) if path else None)
        if not ctx:
            raise CarveoutError(ctypes.get_errno(), "open %s"
                                % (path or "/dev/carveout"), _lib.OP_OPEN)
        self._ctx = ctx
        self._close = weakref.finalize(self, _L.carveout_close, ctx)
        self._close.atexit = False

    def close(self):
        """Close the file; buffers of it can only be freed afterwards."""
        self._close()

    def fileno(self):
        """The file descriptor (owned by the context)."""
        return _L.carveout_fd(self._ptr())

    def _ptr(self):
        if not self._close.alive:
            raise CarveoutError(9, "context closed")
        return self._ctx

    def info(self):
        """INFO as plain data: capabilities, limits, regions per node."""
        si = _lib.out_struct(_lib.SysInfo)
        _check(_L.carveout_get_info(self._ptr(), ctypes.byref(si)), "info",
               _lib.OP_INFO)
        d = {k: getattr(si, k) for k, _ in _lib.SysInfo._fields_
             if k not in ("nodes", "nr_nodes_total")}
        d["version"] = version()
        d["cap_names"] = [n for n, bit in _lib.CAPS.items() if si.caps & bit]
        d["nodes"] = [{"node": n.node, "pieces": n.nr_pieces,
                       "region_bytes": n.region_bytes,
                       "free_bytes": n.free_bytes,
                       "used_bytes": n.region_bytes - n.free_bytes,
                       "largest_free": n.largest_free}
                      for n in si.nodes[:si.nr_nodes]]
        return d

    def limits(self):
        """The limits that apply to this file and what it holds."""
        lim = _lib.out_struct(_lib.Limits)
        _check(_L.carveout_get_limits(self._ptr(), ctypes.byref(lim)),
               "limits", _lib.OP_INFO)
        d = {k: getattr(lim, k) for k, _ in _lib.Limits._fields_}
        d["privileged"] = bool(d["privileged"])
        return d

    def stats(self, node=None):
        """STATS of one node (a dict) or of every node (a list of dicts)."""
        if node is None:
            return [self.stats(n["node"]) for n in self.info()["nodes"]]
        st = _lib.out_struct(_lib.Stats)
        _check(_L.carveout_get_stats(self._ptr(), node, ctypes.byref(st)),
               "stats of node %d" % node, _lib.OP_STATS)
        d = {k: getattr(st, k) for k, _ in _lib.Stats._fields_
             if k not in ("size", "flags", "nr_orders", "free_blocks",
                          "reserved")}
        d["used_bytes"] = st.region_bytes - st.free_bytes
        d["free_blocks"] = list(st.free_blocks[:st.nr_orders])
        return d

    def allocate(self, shape, dtype=np.uint8, node=None, policy=None,
                 cache="cached", align=None, device=None, pages=False):
        """A zeroed buffer as a numpy array of SHAPE and DTYPE.

        node: NUMA node (policy "strict" unless another is given).
        policy: "local", "strict", "preferred", "device" (or the number);
            default "local" without node, "strict" with one.
        cache: "cached", "wc" or "uncached".
        align: alignment in bytes, a power of two.
        device: the device for policy "device" ("0000:03:00.0").
        pages: whole pages even for sub-page sizes.
        """
        dtype = np.dtype(dtype)
        shape = tuple(int(s) for s in np.atleast_1d(shape))
        count = int(np.prod(shape, dtype=np.int64))
        nbytes = count * dtype.itemsize
        if nbytes <= 0:
            raise ValueError("carveout buffers are at least one byte")
        opts = _lib.AllocOpts()
        if policy is None:
            policy = "local" if node is None else "strict"
        opts.policy = _by_name(policy, _L.carveout_parse_policy, "policy")
        opts.node = -1 if node is None else int(node)
        opts.cache = _by_name(cache, _L.carveout_parse_cache, "cache mode")
        opts.align = int(align or 0)
        opts.device = device.encode() if device else None
        opts.flags = _lib.BUF_PAGES if pages else 0
        bufp = _L.carveout_buf_alloc(self._ptr(), nbytes, ctypes.byref(opts))
        if not bufp:
            raise CarveoutError(ctypes.get_errno(), "allocate %d bytes"
                                % nbytes, _lib.OP_ALLOC)
        buf = _Buffer(self, bufp)
        raw = (ctypes.c_ubyte * bufp.contents.granted).from_address(
            bufp.contents.addr)
        raw._carveout_buffer = buf	# the memory lives as long as raw
        arr = np.frombuffer(raw, dtype=dtype, count=count).reshape(shape)
        out = arr.view(CarveoutArray)
        out._co = buf
        return out


class _Buffer:
    """One buffer; unmapped and freed when the last array using it goes."""

    def __init__(self, ctx, bufp):
        self.ctx = ctx
        self.bufp = bufp
        b = bufp.contents
        self.addr = b.addr
        self.granted = b.granted
        self.handle = b.handle
        self.node = b.node
        self.phys = b.phys_addr or None
        self.maps = []			# (device, dma address, direction)
        self.freed = False
        self.lock = threading.Lock()
        fin = weakref.finalize(self, _L.carveout_buf_free, bufp)
        fin.atexit = False	# at exit the process unmaps; threads may run

    def ptr(self, what):
        if self.freed:
            raise CarveoutError(9, "%s: buffer %d was freed"
                                % (what, self.handle))
        self.ctx._ptr()
        return self.bufp

    def release(self):
        with self.lock:
            if self.freed:
                return
            for dev, addr, _ in self.maps:
                _L.carveout_buf_unmap(self.bufp, dev.encode(), addr)
            self.maps = []
            self.freed = True


class CarveoutArray(np.ndarray):
    """A numpy array over (part of) a carveout buffer.

    Slices and views of it are CarveoutArrays over the same buffer;
    results that are new memory (a + 1, copies) are not backed by it.
    """

    def __array_finalize__(self, obj):
        co = getattr(obj, "_co", None)
        if co is not None and not _inside(self, co):
            co = None
        self._co = co

    def __array_wrap__(self, out, *args, **kwargs):
        out = super().__array_wrap__(out, *args, **kwargs)
        if isinstance(out, CarveoutArray) and out._co is None:
            return out.view(np.ndarray)
        return out

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.free()

    def __reduce__(self):
        return np.asarray(self).copy().__reduce__()

    def _buf(self):
        co = self._co
        if co is None:
            raise ValueError("this array is not backed by a carveout buffer")
        return co

    @property
    def handle(self):
        """The buffer's handle in its context."""
        return self._buf().handle

    @property
    def node(self):
        """The NUMA node the buffer sits on."""
        return self._buf().node

    @property
    def physical_address(self):
        """Physical address of this array's first byte; None unless the
        context was opened with CAP_SYS_ADMIN."""
        co = self._buf()
        if co.phys is None:
            return None
        return co.phys + (_bounds(self)[0] - co.addr)

    @property
    def granted(self):
        """Bytes carveout reserved for the buffer."""
        return self._buf().granted

    @property
    def freed(self):
        """True once free() was called."""
        return self._buf().freed

    def map(self, device, direction="bidirectional"):
        """Map the whole buffer for DEVICE's DMA; returns the DMA address
        of this array's first byte."""
        co = self._buf()
        d = _direction(direction)
        addr = _lib.u64()
        with co.lock:
            _check(_L.carveout_buf_map(co.ptr("map"), device.encode(), d,
                                       ctypes.byref(addr)),
                   "map buffer %d for %s" % (co.handle, device), _lib.OP_MAP)
            co.maps.append((device, addr.value, d))
        return addr.value + (_bounds(self)[0] - co.addr)

    def unmap(self, dma_address=None, device=None):
        """Remove a DMA mapping (default: the last one made)."""
        co = self._buf()
        with co.lock:
            co.ptr("unmap")
            for i in range(len(co.maps) - 1, -1, -1):
                dev, addr, _ = co.maps[i]
                if device not in (None, dev):
                    continue
                if dma_address is not None and not (
                        addr <= dma_address < addr + co.granted):
                    continue
                _check(_L.carveout_buf_unmap(co.bufp, dev.encode(), addr),
                       "unmap buffer %d" % co.handle, _lib.OP_UNMAP)
                del co.maps[i]
                return
        raise CarveoutError(2, "unmap buffer %d: no such mapping" % co.handle,
                            _lib.OP_UNMAP)

    def _sync(self, flags, what):
        co = self._buf()
        lo, hi = _bounds(self)
        if hi <= lo:
            return
        with co.lock:
            dirs = sorted({d for _, _, d in co.maps}) or [
                _lib.DMA_BIDIRECTIONAL]
            for d in dirs:
                _check(_L.carveout_buf_sync(co.ptr(what), lo - co.addr,
                                            hi - lo, d, flags),
                       "%s of buffer %d" % (what, co.handle), _lib.OP_SYNC)

    def sync_for_device(self):
        """Hand this array's bytes to the device(s) it is mapped for."""
        self._sync(_lib.SYNC_FOR_DEVICE, "sync for device")

    def sync_for_cpu(self):
        """Take this array's bytes back from the device(s)."""
        self._sync(_lib.SYNC_FOR_CPU, "sync for cpu")

    def export(self, flags=None):
        """Export the buffer as a dma-buf; returns its fd (close it)."""
        co = self._buf()
        if flags is None:
            flags = os.O_RDWR | os.O_CLOEXEC
        with co.lock:
            return _check(_L.carveout_buf_export(co.ptr("export"), flags),
                          "export buffer %d" % co.handle, _lib.OP_EXPORT)

    def free(self):
        """End the buffer: its DMA mappings go, map/sync/export raise, and
        the memory returns once no array refers to it (views keep it)."""
        self._buf().release()


def _bounds(a):
    """First and one-past-last byte address an array touches."""
    if a.size == 0:
        p = a.__array_interface__["data"][0]
        return p, p
    try:
        return np.byte_bounds(a)
    except AttributeError:		# numpy 2
        from numpy.lib.array_utils import byte_bounds
        return byte_bounds(a)


def _inside(a, co):
    lo, hi = _bounds(a)
    return co.addr <= lo and hi <= co.addr + co.granted


_default = None
_default_lock = threading.Lock()


def default_context():
    """The Context the module-level functions use (opened on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Context(os.environ.get("CARVEOUT_DEVICE"))
        return _default


def open(path=None):  # pylint: disable=redefined-builtin
    """A new Context (another open file of /dev/carveout or PATH)."""
    return Context(path)


def allocate(shape, dtype=np.uint8, node=None, policy=None, cache="cached",
             align=None, device=None, pages=False):
    """A zeroed carveout buffer as a numpy array; see Context.allocate()."""
    return default_context().allocate(shape, dtype, node=node, policy=policy,
                                      cache=cache, align=align, device=device,
                                      pages=pages)


def info():
    """Capabilities, limits and regions per node, as a dict."""
    return default_context().info()


def limits():
    """The limits that apply to the default context, as a dict."""
    return default_context().limits()


def stats(node=None):
    """Per-node statistics: a list of dicts, or one dict for NODE."""
    return default_context().stats(node)
