# SPDX-License-Identifier: LGPL-2.1-or-later
"""ctypes declarations of libcarveout (<carveout/libcarveout.h>).

Only what the package calls is declared.  The structures mirror the
library's public structures field by field; tests/python checks every
field's offset and every constant against the C headers, compiled.
struct carveout_buf is declared up to its last public field: the package
only reads it through pointers the library allocated.
"""
import ctypes
import os

from . import _build

u32 = ctypes.c_uint32
u64 = ctypes.c_uint64

MAX_NODES = 64
DEV_NAME_LEN = 64
MAX_ORDERS = 40

# <carveout/carveout.h> (uapi) and <carveout/libcarveout.h> constants.
CAP_NUMA = 0x1
CAP_SLAB = 0x2
CAP_DMA_MAP = 0x4
CAP_DMABUF = 0x8
CAP_WC = 0x10
CAP_UNCACHED = 0x20
CAP_PHYS = 0x40
CAP_FREEMAP = 0x80
CAP_LIMITS = 0x100
CAP_DMA_HEAP = 0x200
CAP_PREZERO = 0x400
CAP_ELASTIC = 0x800
CAPS = {
    "numa": CAP_NUMA, "slab": CAP_SLAB, "dma_map": CAP_DMA_MAP,
    "dmabuf": CAP_DMABUF, "wc": CAP_WC, "uncached": CAP_UNCACHED,
    "phys": CAP_PHYS, "freemap": CAP_FREEMAP, "limits": CAP_LIMITS,
    "dma_heap": CAP_DMA_HEAP, "prezero": CAP_PREZERO,
    "elastic": CAP_ELASTIC,
}

POLICY_LOCAL = 0
POLICY_STRICT = 1
POLICY_PREFERRED = 2
POLICY_DEVICE = 3

DMA_BIDIRECTIONAL = 0
DMA_TO_DEVICE = 1
DMA_FROM_DEVICE = 2

SYNC_FOR_CPU = 0x1
SYNC_FOR_DEVICE = 0x2

BUF_PAGES = 0x1
BUF_NO_MMAP = 0x2

# enum carveout_op
OP_ANY = 0
OP_OPEN = 1
OP_INFO = 2
OP_ALLOC = 3
OP_FREE = 4
OP_MMAP = 5
OP_MAP = 6
OP_UNMAP = 7
OP_SYNC = 8
OP_EXPORT = 9
OP_STATS = 10


class NodeInfo(ctypes.Structure):
    """struct carveout_node_info"""
    _fields_ = [("node", u32), ("nr_pieces", u32), ("region_bytes", u64),
                ("free_bytes", u64), ("largest_free", u64)]


class SysInfo(ctypes.Structure):
    """struct carveout_sysinfo"""
    _fields_ = [("caps", u64), ("page_size", u32), ("slab_max", u32),
                ("total_bytes", u64), ("max_alloc", u64),
                ("file_limit", u64), ("user_limit", u64),
                ("file_bytes", u64), ("user_bytes", u64),
                ("nr_nodes", ctypes.c_uint), ("nr_nodes_total", ctypes.c_uint),
                ("nodes", NodeInfo * MAX_NODES)]


class Limits(ctypes.Structure):
    """struct carveout_limits"""
    _fields_ = [("file_limit", u64), ("user_limit", u64),
                ("eff_user_limit", u64), ("reserve_bytes", u64),
                ("file_bytes", u64), ("user_bytes", u64),
                ("max_handles", u32), ("nr_handles", u32),
                ("max_maps", u32), ("nr_maps", u32),
                ("privileged", ctypes.c_int)]


class Stats(ctypes.Structure):
    """struct carveout_stats (uapi)"""
    _fields_ = [("size", u32), ("flags", u32), ("node", u32),
                ("nr_orders", u32), ("region_bytes", u64),
                ("free_bytes", u64), ("largest_free", u64),
                ("requested_bytes", u64), ("granted_bytes", u64),
                ("nr_buffers", u64), ("alloc_count", u64),
                ("free_count", u64), ("fail_count", u64),
                ("numa_hit", u64), ("numa_miss", u64),
                ("numa_foreign", u64), ("local_node", u64),
                ("other_node", u64), ("free_blocks", u64 * MAX_ORDERS),
                ("clean_bytes", u64), ("prezeroed_bytes", u64),
                ("prezero_ns", u64), ("sync_zeroed_bytes", u64),
                ("floor_bytes", u64), ("ceiling_bytes", u64),
                ("low_wmark", u64), ("high_wmark", u64),
                ("piece_bytes", u64), ("shrink_delay_ms", u32),
                ("nr_elastic", u32), ("grow_count", u64),
                ("grow_bytes", u64), ("shrink_count", u64),
                ("shrink_bytes", u64), ("grow_fail_count", u64),
                ("last_fail", u32), ("reserved", u32),
                ("last_fail_bytes", u64)]


class AllocOpts(ctypes.Structure):
    """struct carveout_alloc_opts"""
    _fields_ = [("policy", ctypes.c_uint), ("node", ctypes.c_int),
                ("device", ctypes.c_char_p), ("align", u64),
                ("cache", ctypes.c_uint), ("flags", ctypes.c_uint)]


class Buf(ctypes.Structure):
    """struct carveout_buf, its public part"""
    _fields_ = [("addr", ctypes.c_void_p), ("size", u64), ("granted", u64),
                ("node", ctypes.c_uint), ("handle", u32),
                ("phys_addr", u64), ("dma_addr", u64),
                ("cache", ctypes.c_uint)]


# What the layout test compares with the C headers.
STRUCTS = {
    "carveout_node_info": NodeInfo, "carveout_sysinfo": SysInfo,
    "carveout_limits": Limits, "carveout_stats": Stats,
    "carveout_alloc_opts": AllocOpts, "carveout_buf": Buf,
}

CONSTANTS = {
    "CARVEOUT_MAX_NODES": MAX_NODES, "CARVEOUT_DEV_NAME_LEN": DEV_NAME_LEN,
    "CARVEOUT_POLICY_LOCAL": POLICY_LOCAL,
    "CARVEOUT_POLICY_STRICT": POLICY_STRICT,
    "CARVEOUT_POLICY_PREFERRED": POLICY_PREFERRED,
    "CARVEOUT_POLICY_DEVICE": POLICY_DEVICE,
    "CARVEOUT_DMA_BIDIRECTIONAL": DMA_BIDIRECTIONAL,
    "CARVEOUT_DMA_TO_DEVICE": DMA_TO_DEVICE,
    "CARVEOUT_DMA_FROM_DEVICE": DMA_FROM_DEVICE,
    "CARVEOUT_SYNC_FOR_CPU": SYNC_FOR_CPU,
    "CARVEOUT_SYNC_FOR_DEVICE": SYNC_FOR_DEVICE,
    "CARVEOUT_BUF_PAGES": BUF_PAGES, "CARVEOUT_BUF_NO_MMAP": BUF_NO_MMAP,
    "CARVEOUT_OP_OPEN": OP_OPEN, "CARVEOUT_OP_INFO": OP_INFO,
    "CARVEOUT_OP_ALLOC": OP_ALLOC, "CARVEOUT_OP_FREE": OP_FREE,
    "CARVEOUT_OP_MAP": OP_MAP, "CARVEOUT_OP_UNMAP": OP_UNMAP,
    "CARVEOUT_OP_SYNC": OP_SYNC, "CARVEOUT_OP_EXPORT": OP_EXPORT,
    "CARVEOUT_OP_STATS": OP_STATS,
}
CONSTANTS.update({"CARVEOUT_CAP_" + k.upper(): v for k, v in CAPS.items()})



def out_struct(cls):
    """An instance of CLS with room to spare behind it: a libcarveout
    whose structure grew at its end (a newer build under the same soname)
    then writes into the spare bytes instead of past the object."""
    raw = (ctypes.c_char * (ctypes.sizeof(cls) + 4096))()
    return cls.from_buffer(raw)		# which keeps raw alive


BufP = ctypes.POINTER(Buf)
CtxP = ctypes.c_void_p

_PROTOTYPES = {
    "carveout_version": (ctypes.c_char_p, []),
    "carveout_open": (CtxP, [ctypes.c_char_p]),
    "carveout_close": (None, [CtxP]),
    "carveout_fd": (ctypes.c_int, [CtxP]),
    "carveout_get_info": (ctypes.c_int, [CtxP, ctypes.POINTER(SysInfo)]),
    "carveout_get_limits": (ctypes.c_int, [CtxP, ctypes.POINTER(Limits)]),
    "carveout_get_stats": (ctypes.c_int,
                           [CtxP, ctypes.c_uint, ctypes.POINTER(Stats)]),
    "carveout_buf_alloc": (BufP, [CtxP, u64, ctypes.POINTER(AllocOpts)]),
    "carveout_buf_free": (ctypes.c_int, [BufP]),
    "carveout_buf_map": (ctypes.c_int, [BufP, ctypes.c_char_p, ctypes.c_uint,
                                        ctypes.POINTER(u64)]),
    "carveout_buf_unmap": (ctypes.c_int, [BufP, ctypes.c_char_p, u64]),
    "carveout_buf_sync": (ctypes.c_int, [BufP, u64, u64, ctypes.c_uint,
                                         ctypes.c_uint]),
    "carveout_buf_export": (ctypes.c_int, [BufP, ctypes.c_int]),
    "carveout_strerror_op": (ctypes.c_char_p, [ctypes.c_int, ctypes.c_int]),
    "carveout_parse_policy": (ctypes.c_int, [ctypes.c_char_p]),
    "carveout_parse_cache": (ctypes.c_int, [ctypes.c_char_p]),
    "carveout_policy_name": (ctypes.c_char_p, [ctypes.c_uint]),
    "carveout_cache_name": (ctypes.c_char_p, [ctypes.c_uint]),
}


def _candidates():
    """Where libcarveout is looked for, in order."""
    env = os.environ.get("CARVEOUT_LIBRARY")
    if env:
        return [env]
    here = os.path.dirname(os.path.abspath(__file__))
    return [os.path.join(here, _build.SONAME), _build.SONAME,
            os.path.join("/usr/local/lib", _build.SONAME)]


def _load():
    errors = []
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path, use_errno=True)
            break
        except OSError as e:
            errors.append(str(e))
    else:
        raise ImportError("carveout: cannot load libcarveout (%s): %s"
                          % (_build.SONAME, "; ".join(errors)))
    for name, (res, args) in _PROTOTYPES.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args
    return lib


lib = _load()
