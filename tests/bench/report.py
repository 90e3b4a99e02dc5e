#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn make bench's raw result lines into report.md, results.csv and SVGs.

Inputs: the VM result files (lines "R ...", "NA ...", "M ...", "I ...",
see tests/bench/kmod/co_bench_main.c) and the host output ("F ...", "M ...",
see tests/bench/host/frag.c).  Standard library only.
"""
import argparse
import collections
import csv
import math
import os
import statistics


def kv(line):
    d = {}
    for tok in line.split()[1:]:
        if "=" in tok:
            k, v = tok.split("=", 1)
            d[k] = v
    return d


def quartiles(v):
    v = sorted(v)
    if len(v) < 2:
        return v[0], v[0]
    q = statistics.quantiles(v, n=4, method="inclusive")
    return q[0], q[2]


class Series:
    def __init__(self):
        self.vals = []      # ns per op of successful repetitions
        self.ok = 0
        self.fail = 0
        self.failvals = []  # ns of failed single-op repetitions

    @property
    def med(self):
        return statistics.median(self.vals) if self.vals else None


def fmt_ns(ns):
    if ns is None:
        return "–"
    for unit, div in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= div:
            return f"{ns / div:.3g} {unit}"
    return f"{ns:.3g} ns"


def cell(s):
    """median [min..max], with failures noted."""
    if s is None:
        return "n/a"
    if not s.vals:
        t = f", fails after {fmt_ns(statistics.median(s.failvals))}" if s.failvals else ""
        return f"fails ({s.fail}/{s.ok + s.fail}{t})"
    txt = f"{fmt_ns(s.med)} [{fmt_ns(min(s.vals))}..{fmt_ns(max(s.vals))}]"
    if s.fail:
        txt += f", {s.fail} failed of {s.ok + s.fail}"
    return txt


def ratio(a, b):
    if a is None or b is None or a.med is None or b.med is None or not b.med:
        return None
    return a.med / b.med


def fmt_ratio(r):
    return "n/a" if r is None else f"{r:.3g}x"


def success(s):
    if s is None:
        return "n/a"
    n = s.ok + s.fail
    return f"{100.0 * s.ok / n:.0f}% ({s.ok}/{n})" if n else "n/a"


def svg_plot(path, title, xlabel, ylabel, series, xfmt):
    """Log-log plot: series = {label: [(x, med, lo, hi), ...]}."""
    W, H, L, R, T, B = 800, 440, 80, 240, 40, 50
    pts = [p for s in series.values() for p in s]
    if not pts:
        return False
    xs = [p[0] for p in pts]
    ys = [y for p in pts for y in (p[1], p[2], p[3]) if y and y > 0]
    x0, x1 = math.log10(min(xs)), math.log10(max(xs))
    y0, y1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    if x1 == x0:
        x1 = x0 + 1
    if y1 == y0:
        y1 = y0 + 1
    pad = (x1 - x0) * 0.05
    x0, x1 = x0 - pad, x1 + pad

    def X(x):
        return L + (math.log10(x) - x0) / (x1 - x0) * (W - L - R)

    def Y(y):
        return H - B - (math.log10(y) - y0) / (y1 - y0) * (H - T - B)

    colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
              "#8c564b", "#e377c2", "#7f7f7f"]
    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
         f'font-family="sans-serif" font-size="12">',
         f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="{W / 2}" y="20" text-anchor="middle" font-size="14">{title}</text>']
    for e in range(int(y0), int(y1) + 1):
        y = Y(10 ** e)
        o.append(f'<line x1="{L}" y1="{y:.1f}" x2="{W - R}" y2="{y:.1f}" stroke="#ddd"/>')
        o.append(f'<text x="{L - 6}" y="{y + 4:.1f}" text-anchor="end">{fmt_ns(10 ** e)}</text>')
    for x in sorted(set(xs)):
        o.append(f'<line x1="{X(x):.1f}" y1="{T}" x2="{X(x):.1f}" y2="{H - B}" stroke="#eee"/>')
        o.append(f'<text x="{X(x):.1f}" y="{H - B + 16}" text-anchor="middle">{xfmt(x)}</text>')
    o.append(f'<rect x="{L}" y="{T}" width="{W - L - R}" height="{H - T - B}" fill="none" stroke="black"/>')
    o.append(f'<text x="{(L + W - R) / 2}" y="{H - 10}" text-anchor="middle">{xlabel}</text>')
    o.append(f'<text x="16" y="{(T + H - B) / 2}" text-anchor="middle" '
             f'transform="rotate(-90 16 {(T + H - B) / 2})">{ylabel}</text>')
    for i, (name, s) in enumerate(series.items()):
        c = colors[i % len(colors)]
        s = sorted(s)
        if len(s) > 1:
            d = " ".join(f"{X(p[0]):.1f},{Y(p[1]):.1f}" for p in s)
            o.append(f'<polyline points="{d}" fill="none" stroke="{c}" stroke-width="2"/>')
        for x, m, lo, hi in s:
            o.append(f'<line x1="{X(x):.1f}" y1="{Y(lo):.1f}" x2="{X(x):.1f}" y2="{Y(hi):.1f}" stroke="{c}"/>')
            o.append(f'<circle cx="{X(x):.1f}" cy="{Y(m):.1f}" r="3.5" fill="{c}"/>')
        ly = T + 10 + 18 * i
        o.append(f'<line x1="{W - R + 10}" y1="{ly}" x2="{W - R + 30}" y2="{ly}" stroke="{c}" stroke-width="2"/>')
        o.append(f'<text x="{W - R + 35}" y="{ly + 4}">{name}</text>')
    o.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(o) + "\n")
    return True


def combine(out, elapsed, dirs):
    """report.md over several kernels' reports: targets side by side."""
    runs = []
    for d in dirs:
        name = os.path.basename(os.path.normpath(d))
        kern = open(os.path.join(d, "kernel.txt")).read().strip()
        rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(d, "targets.tsv"))]
        runs.append((name, kern, rows, open(os.path.join(d, "report.md")).read()))
    order = []
    for _, _, rows, _ in runs:
        for r in rows:
            if (r[0], r[1]) not in order:
                order.append((r[0], r[1]))
    md = ["# carveout benchmarks\n",
          f"`make bench` on {len(runs)} kernels, {elapsed} s in all:\n"]
    for name, kern, _, _ in runs:
        md.append(f"- **{name}**: {kern}")
    md.append("\n## Targets\n")
    md.append("| target | goal | " + " | ".join(f"{n} | status" for n, _, _, _ in runs) + " |")
    md.append("|---|---|" + "---|---|" * len(runs))
    for key in order:
        cells = []
        for _, _, rows, _ in runs:
            r = next((r for r in rows if (r[0], r[1]) == key), None)
            cells += [r[2], r[3]] if r else ["–", "–"]
        md.append(f"| {key[0]} | {key[1]} | " + " | ".join(cells) + " |")
    for name, _, _, text in runs:
        md.append(f"\n# Kernel {name}\n")
        for line in text.splitlines()[1:]:
            if line.startswith("#"):
                line = "#" + line
            md.append(line.replace("](", f"]({name}/") if line.startswith("![") else line)
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--combine", action="store_true",
                    help="files are per-kernel report directories")
    ap.add_argument("--out", required=True)
    ap.add_argument("--kernel", default="?")
    ap.add_argument("--host", default="?")
    ap.add_argument("--elapsed", default="?")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    if a.combine:
        combine(a.out, a.elapsed, a.files)
        return

    S = collections.defaultdict(Series)
    CMA = collections.Counter()   # successful reps that came from CMA
    CLEAN = collections.Counter()  # reps that found clean memory waiting
    NA = {}
    M = {}
    INFO = []
    F = []
    for fn in a.files:
        if not os.path.exists(fn):
            continue
        for line in open(fn, errors="replace"):
            line = line.strip()
            tag = line.split(" ", 1)[0]
            d = kv(line)
            if tag == "R":
                key = (d["part"], d["name"], d["impl"], d.get("thr", "1"),
                       d.get("label", ""))
                s = S[key]
                ok, fail, n = int(d["ok"]), int(d["fail"]), int(d["n"])
                s.ok += ok
                s.fail += fail
                if d.get("cma") == "1":
                    CMA[key] += 1
                if d.get("clean") == "1":
                    CLEAN[key] += 1
                if fail == 0 and n:
                    s.vals.append(int(d["tot"]) / n)
                elif ok == 0 and n == 1:
                    s.failvals.append(int(d["tot"]))
            elif tag == "NA":
                NA[(d["part"], d["name"], d["impl"], d.get("thr", "1"),
                    d.get("label", ""))] = d.get("reason", "?")
            elif tag == "M":
                M.update(d)
            elif tag == "I":
                INFO.append(line[2:])
            elif tag == "F":
                F.append(d)

    def g(part, name, impl, thr="1", label=""):
        return S.get((part, name, impl, thr, label))

    # ---- CSV ----------------------------------------------------------
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["part", "name", "impl", "threads", "label", "reps_ok",
                    "median_ns", "min_ns", "max_ns", "q1_ns", "q3_ns",
                    "ops_ok", "ops_failed"])
        for key in sorted(S):
            s = S[key]
            if s.vals:
                q1, q3 = quartiles(s.vals)
                w.writerow(list(key) + [len(s.vals), f"{s.med:.1f}",
                           f"{min(s.vals):.1f}", f"{max(s.vals):.1f}",
                           f"{q1:.1f}", f"{q3:.1f}", s.ok, s.fail])
            else:
                w.writerow(list(key) + [0, "", "", "", "", "", s.ok, s.fail])
        for key, reason in sorted(NA.items()):
            w.writerow(list(key) + [0, "n/a", "", "", "", "", 0, 0])
        for d in F:
            w.writerow(["frag", d["trace"], d["alloc"], "", "", "",
                        "", "", "", "", "", d["peak_footprint"], d["fail"]])

    md = []
    md.append("# carveout benchmarks\n")
    md.append(f"Kernel {a.kernel}; QEMU TCG "
              "(2 vCPUs, 2 NUMA nodes of 1 GiB, q35 + intel-iommu + edu); "
              f"host: {a.host}; make bench took {a.elapsed} s.  "
              "Figures are median [min..max] over repetitions of "
              "alloc+free pairs (per pair, per thread); ratios are "
              "carveout / baseline medians from the same VM run.  "
              "TCG emulation: absolute times are slow and noisy, ratios are "
              "what to read.\n")
    targets = []

    # ---- part 1 -------------------------------------------------------
    md.append("\n## 1. In-kernel fast paths\n")
    md.append("`co_slab`/`co_buddy`: carveout's allocator core compiled into "
              "the bench module over a fake 1 GiB arena (allocator cost only). "
              "`carveout_kbuf_alloc`: the exported in-kernel API (whole zeroed pages, "
              "buffer object), compared with `alloc_pages(__GFP_ZERO)`.  "
              "Batches of 16 allocations, then 16 frees.\n")
    md.append("| op | threads | carveout | baseline | ratio |")
    md.append("|---|---|---|---|---|")
    pairs = [("slab64", "co_slab", "kmem_cache"), ("slab64", "co_slab", "dma_pool"),
             ("slab1k", "co_slab", "kmem_cache"), ("slab1k", "co_slab", "dma_pool")]
    for o in (0, 4, 9):
        pairs += [(f"order{o}", "co_buddy", "alloc_pages"),
                  (f"order{o}", "carveout_kbuf_alloc", "alloc_pages_zero")]
    for name, ci, bi in pairs:
        for thr in ("1", "2"):
            c, b = g("fast", name, ci, thr), g("fast", name, bi, thr)
            if c is None and b is None:
                continue
            bc = cell(b) if b else "n/a (" + NA.get(("fast", name, bi, thr, ""), "missing") + ")"
            r = ratio(c, b)
            md.append(f"| {name} {ci} vs {bi} | {thr} | {cell(c)} | {bc} | {fmt_ratio(r)} |")
    for name, ci, bi, tgt, desc, threads in (
            ("slab64", "co_slab", "kmem_cache", 1.0, "slab 64 B alloc+free vs kmem_cache", ("1", "2")),
            ("slab1k", "co_slab", "kmem_cache", 1.0, "slab 1 KiB alloc+free vs kmem_cache", ("1", "2")),
            ("order0", "carveout_kbuf_alloc", "alloc_pages_zero", 1.2,
             "order-0 carveout_kbuf_alloc vs alloc_pages(__GFP_ZERO)", ("1", "2")),
            ("order0", "co_buddy", "alloc_pages", 1.0, "buddy order 0 vs alloc_pages", ("1",)),
            ("order9", "co_buddy", "alloc_pages", 0.5, "buddy order 9 vs alloc_pages", ("1",))):
        for thr in threads:
            r = ratio(g("fast", name, ci, thr), g("fast", name, bi, thr))
            targets.append((f"{desc} ({thr} thread{'s' if thr != '1' else ''})",
                            f"<= {tgt}x", fmt_ratio(r),
                            "n/a" if r is None else ("met" if r <= tgt else "missed")))
    r = ratio(g("fast", "order9", "carveout_kbuf_alloc"), g("fast", "order9", "alloc_pages_zero"))
    targets.append(("order 9 via carveout_kbuf_alloc (incl. zeroing) vs alloc_pages(__GFP_ZERO)",
                    "(<= 0.5x)", fmt_ratio(r),
                    "n/a" if r is None else ("met" if r <= 0.5 else "missed")))

    # ---- part 2 -------------------------------------------------------
    md.append("\n## 2. Large contiguous buffers (node 0; dma_alloc: the CMA area)\n")
    md.append("`carveout_kbuf_alloc` (region reserved at load, zeroes the buffer) vs "
              "`alloc_contig_range` at run time (search of naturally aligned "
              "candidates as module/co_region.c does, timed in full) vs "
              "`dma_alloc_attrs(DMA_ATTR_FORCE_CONTIGUOUS)` on the edu device, "
              "the coherent allocation from CMA (with the IOMMU translating, "
              "FORCE_CONTIGUOUS is what takes dma_alloc_contiguous(), i.e. "
              "cma_alloc() from the default CMA area; the IOVA mapping is "
              "included; \"from CMA\": the buffer lies in the CMA area "
              "reported at boot; without a CMA area it falls back to the page "
              "allocator: at most 4 MiB).  `co_buddy`: the "
              "allocator core alone.  *frag*: after pinning ~1 page in 1024 "
              "of all free memory outside the CMA area at random "
              "(co_bench_pin.ko; the kernel keeps pins and unmovable pages "
              "out of CMA), 320 MiB of tmpfs page cache and 256 MiB mlocked "
              "with every other page unmapped (movable: may sit in CMA and "
              "must be migrated).  Latency over successful repetitions.\n")
    md.append("`carveout_kbuf_alloc` waits before each repetition until the "
              "background zeroing has made the memory of the last one clean "
              "again (\"clean k/n\": repetitions that found it so), as a "
              "machine between allocations does; *no clean memory*: "
              "the same with `carveout.prezero=0`, zeroed at allocation.\n")
    md.append("| state | size | carveout_kbuf_alloc | co_buddy (core) | alloc_contig_range | dma_alloc from CMA | ratio carveout/contig | ratio carveout/dma CMA | no clean memory | ratio no clean/contig |")
    md.append("|---|---|---|---|---|---|---|---|---|---|")
    plot = collections.OrderedDict()
    for label in ("idle", "frag"):
        for mb in (4, 16, 64, 256):
            name = f"{mb}M"
            cs = [g("large", name, i, "1", label) for i in
                  ("carveout_kbuf_alloc", "co_buddy", "alloc_contig_range", "dma_alloc_cma")]
            if not any(cs):
                continue
            cells = [f"{cell(s)}; ok {success(s)}" if s else "n/a" for s in cs]
            if cs[0]:
                cells[0] += f"; clean {CLEAN[('large', name, 'carveout_kbuf_alloc', '1', label)]}/{len(cs[0].vals) + len(cs[0].failvals)}"
            dz = g("large", name, "carveout_kbuf_alloc_dirty", "1", label)
            if cs[3]:
                cells[3] += f"; from CMA {CMA[('large', name, 'dma_alloc_cma', '1', label)]}/{cs[3].ok}"
            r = ratio(cs[0], cs[2])
            md.append(f"| {label} | {name} | " + " | ".join(cells) +
                      f" | {fmt_ratio(r)} | {fmt_ratio(ratio(cs[0], cs[3]))} | "
                      f"{cell(dz) if dz else 'n/a'} | {fmt_ratio(ratio(dz, cs[2]))} |")
            for i, impl in enumerate(("carveout_kbuf_alloc", "co_buddy", "alloc_contig_range", "dma_alloc_cma")):
                s = cs[i]
                if s and s.vals:
                    plot.setdefault(f"{impl} ({label})", []).append(
                        (mb << 20, s.med, min(s.vals), max(s.vals)))
            if dz and dz.vals:
                plot.setdefault(f"carveout, no clean memory ({label})", []).append(
                    (mb << 20, dz.med, min(dz.vals), max(dz.vals)))
    small = g("large", "4K", "carveout_kbuf_alloc", "1", "idle")
    for mb in ("64M", "256M"):
        c = g("large", mb, "carveout_kbuf_alloc", "1", "idle")
        b = g("large", mb, "alloc_contig_range", "1", "idle")
        r = ratio(c, b)
        targets.append((f"{mb[:-1]} MiB carveout_kbuf_alloc, clean memory available, vs alloc_contig_range, idle",
                        "<= 0.01x", fmt_ratio(r),
                        "n/a" if r is None else ("met" if r <= 0.01 else "missed")))
        r = ratio(c, small)
        targets.append((f"{mb[:-1]} MiB carveout_kbuf_alloc, clean memory available, vs 4 KiB",
                        "<= 2x", fmt_ratio(r),
                        "n/a" if r is None else ("met" if r <= 2 else "missed")))
        r = ratio(g("large", mb, "carveout_kbuf_alloc_dirty", "1", "idle"), b)
        targets.append((f"{mb[:-1]} MiB carveout_kbuf_alloc, no clean memory (zeroed at allocation), vs alloc_contig_range",
                        "(as before)", fmt_ratio(r), "info"))
    zb, zn = int(M.get("prezeroed_bytes_idle", 0)), int(M.get("prezero_ns_idle", 0))
    if zb and zn:
        targets.append(("background zeroing: throughput; CPU time per GiB zeroed",
                        "(report)", f"{zb / zn:.2f} GB/s; {zn / zb * (1 << 30) / 1e6:.0f} ms/GiB",
                        "info"))
    b = g("large", "64M", "alloc_contig_range", "1", "idle")
    r = ratio(g("large", "64M", "co_buddy", "1", "idle"), b)
    targets.append(("64 MiB allocator core (co_buddy, no zeroing) vs alloc_contig_range, idle",
                    "<= 0.01x", fmt_ratio(r),
                    "n/a" if r is None else ("met" if r <= 0.01 else "missed")))
    for mb in ("64M", "256M"):
        c = g("large", mb, "carveout_kbuf_alloc", "1", "idle")
        d = g("large", mb, "dma_alloc_cma", "1", "idle")
        r = ratio(c, d)
        nc = CMA[("large", mb, "dma_alloc_cma", "1", "idle")]
        targets.append((f"{mb[:-1]} MiB carveout_kbuf_alloc vs dma_alloc from CMA, idle",
                        "(<= 0.01x, as vs contig)",
                        f"{fmt_ratio(r)} (baseline from CMA {nc}/{d.ok if d else 0})",
                        "n/a" if r is None else ("met" if r <= 0.01 else "missed")))
    c = g("large", "64M", "carveout_kbuf_alloc", "1", "frag")
    b = g("large", "64M", "alloc_contig_range", "1", "frag")
    targets.append(("64 MiB after fragmentation: success carveout / contig",
                    "100% where baseline fails", f"{success(c)} / {success(b)}",
                    "met" if c and c.fail == 0 and c.ok else "missed"))
    for mb in ("64M", "256M"):
        c = g("large", mb, "carveout_kbuf_alloc", "1", "frag")
        d = g("large", mb, "dma_alloc_cma", "1", "frag")
        r = ratio(c, d)
        targets.append((f"{mb[:-1]} MiB after fragmentation: success carveout / dma_alloc from CMA; latency ratio",
                        "100%", f"{success(c)} / {success(d)}; {fmt_ratio(r)}",
                        "met" if c and c.fail == 0 and c.ok else "missed"))
    if svg_plot(os.path.join(a.out, "large.svg"),
                "Contiguous alloc+free latency vs size (median, min..max)",
                "buffer size", "alloc+free", plot,
                lambda x: f"{x >> 20} MiB"):
        md.append("\n![latency vs size](large.svg)\n")

    # ---- part 2b: elastic regions -------------------------------------
    md.append("\n## 2b. Elastic regions: growth above the floor (node 0)\n")
    md.append("`co_bench.ko test=elastic`, after `CARVEOUT_IOC_RESIZE` gave node 0 a "
              "ceiling of 640 MiB (floor: the 320 MiB region) and a 200 ms idle "
              "delay: the floor is taken whole, then each timed "
              "`carveout_kbuf_alloc` must grow the region by a piece "
              "(`alloc_contig_range` with at most `grow_tries` candidate ranges), "
              "is freed, and the piece goes back before the next one.  In the "
              "same state (floor taken) and with the allocation alone timed, as "
              "for growth: `alloc_contig_range` of the same size (a search as in "
              "section 2) and `dma_alloc_attrs(DMA_ATTR_FORCE_CONTIGUOUS)` on "
              "edu, served by `cma_alloc()` from the default CMA area: \"from "
              "CMA k/n\" counts the buffers that lay in the area the kernel "
              "reported at boot; a baseline that did not come from CMA is n/a.  "
              "*floor*: the same sizes served from the floor (section 2, "
              "allocation + free).  Burst: 4 MiB buffers until the region cannot "
              "grow, all freed; the time until the region is back at its floor, "
              "and MemFree before / at the peak / after.\n")
    md.append("| state | size | growth | from the floor | alloc_contig_range | dma_alloc from CMA | ratio growth/contig | ratio growth/CMA dma_alloc | ratio growth/floor |")
    md.append("|---|---|---|---|---|---|---|---|---|")
    eplot = collections.OrderedDict()

    def el_cma(name, label):
        """dma_alloc from CMA in the elastic run: (series or None, text)."""
        key = ("elastic", name, "dma_alloc_cma", "1", label)
        dm = S.get(key)
        if dm is None:
            why = NA.get(key, "not run")
            why = {"no_cma_area": "no CMA area: no cma= reservation at boot, "
                                  "or a kernel without CONFIG_DMA_CMA",
                   "no_edu_device": "no edu device"}.get(why, why.replace("_", " "))
            return None, f"n/a ({why})"
        if not dm.ok or CMA[key] < dm.ok:
            return None, (f"n/a (not from the CMA area: {CMA[key]}/{dm.ok}; "
                          f"{cell(dm)})")
        return dm, f"{cell(dm)}; from CMA {CMA[key]}/{dm.ok}"

    for label in ("idle", "frag"):
        for mb in (4, 16, 64):
            name = f"{mb}M"
            gr = g("large", name, "carveout_grow", "1", label)
            fl = g("large", name, "carveout_kbuf_alloc", "1", label)
            cg = g("elastic", name, "alloc_contig_range", "1", label) or \
                g("large", name, "alloc_contig_range", "1", label)
            dm, dtxt = el_cma(name, label)
            if not gr:
                continue
            md.append(f"| {label} | {name} | {cell(gr)}; ok {success(gr)} | {cell(fl)} | "
                      f"{cell(cg) + '; ok ' + success(cg) if cg else 'n/a'} | {dtxt} | {fmt_ratio(ratio(gr, cg))} | "
                      f"{fmt_ratio(ratio(gr, dm))} | {fmt_ratio(ratio(gr, fl))} |")
            for impl, s_ in (("growth", gr), ("alloc_contig_range", cg),
                             ("dma_alloc from CMA", dm), ("from the floor", fl)):
                if s_ and s_.vals:
                    eplot.setdefault(f"{impl} ({label})", []).append(
                        (mb << 20, s_.med, min(s_.vals), max(s_.vals)))
            r = ratio(gr, dm)
            if dm and not gr.vals:
                got = f"growth {success(gr)}, CMA dma_alloc {success(dm)}"
            else:
                got = fmt_ratio(r) if dm else dtxt
            targets.append((f"elastic: {mb} MiB growth vs CMA dma_alloc, {label}",
                            "(report)", got, "info"))
    if svg_plot(os.path.join(a.out, "elastic.svg"),
                "Growth above the floor vs alloc_contig_range and CMA dma_alloc (median, min..max)",
                "buffer size", "allocation", eplot,
                lambda x: f"{x >> 20} MiB"):
        md.append("\n![growth vs contig vs CMA](elastic.svg)\n")
    for label in ("idle", "frag"):
        k = f"elastic_burst_{label}_"
        if k + "grown_bytes" in M:
            mf = M.get(k + "memfree_kb", "?/?/?").split("/")
            md.append(f"\nBurst ({label}): grew by {int(M[k + 'grown_bytes']) >> 20} MiB "
                      f"(ceiling {int(M[k + 'ceiling']) >> 20} MiB); back at the floor "
                      f"{M[k + 'return_ms']} ms after the last free (idle delay "
                      f"{M[k + 'delay_ms']} ms); MemFree {' / '.join(mf)} kB.")
            targets.append((f"elastic: back at the floor after a burst ({label})",
                            f"within the delay + a scan ({M[k + 'delay_ms']} ms delay)",
                            f"{M[k + 'return_ms']} ms", "info"))
    if any(g("elastic", f"{mb}M", "floor_with_ceiling", "1", lb)
           for lb in ("idle", "frag") for mb in (4, 16, 64)):
        md.append("\nFrom the floor with the ceiling set (nothing else allocated, before "
                  "the floor is taken; allocation + free, clean memory waited for) "
                  "against the same just before the ceiling was set, in the same VM "
                  "(`test=elastic floor_only=1`):\n")
        md.append("| state | size | with a ceiling | without | ratio |")
        md.append("|---|---|---|---|---|")
    for label in ("idle", "frag"):
        for mb in (4, 16, 64):
            name = f"{mb}M"
            wc = g("elastic", name, "floor_with_ceiling", "1", label)
            fl = g("elastic", name, "floor_no_ceiling", "1", label)
            if not wc:
                continue
            md.append(f"| {label} | {name} | {cell(wc)}; ok {success(wc)} | {cell(fl)} | "
                      f"{fmt_ratio(ratio(wc, fl))} |")
            targets.append((f"elastic: {mb} MiB from the floor with a ceiling vs without, {label}",
                            "unchanged (about 1x)", fmt_ratio(ratio(wc, fl)), "info"))
    r = ratio(g("large", "4M", "carveout_grow", "1", "idle"),
              g("elastic", "4M", "alloc_contig_range", "1", "idle") or
              g("large", "4M", "alloc_contig_range", "1", "idle"))
    targets.append(("elastic: 4 MiB allocation that grows the region vs alloc_contig_range, idle",
                     "(report)", fmt_ratio(r), "info"))

    # ---- part 3 -------------------------------------------------------
    md.append("\n## 3. Userspace: alloc + mmap + first touch (every page) + free\n")
    md.append("`DMA_HEAP_IOCTL_ALLOC` on `/dev/dma_heap/system` (not contiguous) "
              "and on the CMA heap (`/dev/dma_heap/<default CMA area>`, "
              "physically contiguous like carveout), then mmap of the dma-buf, "
              "a write to every page, munmap, close.\n")
    md.append("| size | carveout ioctl | dma-heap system | ratio vs system | dma-heap CMA | ratio vs CMA | anon mmap (reference, not contiguous) |")
    md.append("|---|---|---|---|---|---|---|")
    uplot = collections.OrderedDict()
    for name, size in (("4K", 4096), ("1M", 1 << 20), ("64M", 64 << 20)):
        c, h, an = g("user", name, "carveout"), g("user", name, "dmaheap_system"), g("user", name, "anon_mmap")
        hm = g("user", name, "dmaheap_cma")
        hc = cell(h) if h else "n/a (" + NA.get(("user", name, "dmaheap_system", "1", ""), "missing").replace("_", " ") + ")"
        hmc = cell(hm) if hm else "n/a (" + NA.get(("user", name, "dmaheap_cma", "1", ""), "missing").replace("_", " ") + ")"
        md.append(f"| {name} | {cell(c)} | {hc} | {fmt_ratio(ratio(c, h))} | {hmc} | "
                  f"{fmt_ratio(ratio(c, hm))} | {cell(an)} |")
        for impl, s in (("carveout", c), ("dma-heap system", h), ("dma-heap CMA", hm), ("anon mmap", an)):
            if s and s.vals:
                uplot.setdefault(impl, []).append((size, s.med, min(s.vals), max(s.vals)))
    for name in ("4K", "1M"):
        r = ratio(g("user", name, "carveout"), g("user", name, "dmaheap_system"))
        targets.append((f"userspace {name} vs dma-heap system", "<= 0.7x",
                        fmt_ratio(r) if r else "n/a (no dma-heap in this kernel)",
                        "n/a" if r is None else ("met" if r <= 0.7 else "missed")))
    for name in ("4K", "1M", "64M"):
        r = ratio(g("user", name, "carveout"), g("user", name, "dmaheap_cma"))
        targets.append((f"userspace {name} vs dma-heap CMA", "(<= 0.7x, as vs system)",
                        fmt_ratio(r) if r else "n/a (no CMA heap in this kernel)",
                        "n/a" if r is None else ("met" if r <= 0.7 else "missed")))
    if svg_plot(os.path.join(a.out, "user.svg"),
                "Userspace alloc+mmap+touch+free vs size", "buffer size",
                "per buffer", uplot,
                lambda x: f"{x >> 10} KiB" if x < (1 << 20) else f"{x >> 20} MiB"):
        md.append("\n![userspace latency vs size](user.svg)\n")

    # ---- part 3b: huge-page mappings ----------------------------------
    md.append("\n## 3b. mmap + first touch of a large buffer: page faults\n")
    md.append("`cobench-user touch`: an allocated buffer is mapped, one byte of every "
              "4 KiB page written, and unmapped (ALLOC/FREE not timed), against "
              "anonymous memory with 4 KiB pages (`MADV_NOHUGEPAGE`) and with "
              "transparent huge pages (`MADV_HUGEPAGE`, 2 MiB aligned): the "
              "faults and time a PMD mapping would save.  carveout maps "
              "4 KiB page table entries on every kernel (no PMD mappings).\n")
    md.append("| size | carveout | faults | anon 4 KiB pages | faults | anon THP | faults | ratio carveout/THP |")
    md.append("|---|---|---|---|---|---|---|---|")
    for name in ("2M", "64M", "256M", "1G"):
        cs = [g("touch", name, i) for i in ("carveout", "anon_4k", "anon_thp")]
        na = NA.get(("touch", name, "all", "1", "")) or NA.get(("touch", name, "carveout", "1", ""))
        if not any(cs) and not na:
            continue
        if not any(cs):
            md.append(f"| {name} | n/a ({na.replace('_', ' ')}) | | | | | | |")
            continue
        fl = [M.get(f"touch_faults_{name}_{i}", "?") for i in ("carveout", "anon_4k", "anon_thp")]
        tna = NA.get(("touch", name, "anon_thp", "1", ""))
        thp = f"n/a ({tna.replace('_', ' ')})" if cs[2] is None and tna else cell(cs[2])
        if cs[2] is None and tna:
            fl[2] = ""
        md.append(f"| {name} | {cell(cs[0])} | {fl[0]} | {cell(cs[1])} | {fl[1]} | "
                  f"{thp} | {fl[2]} | {fmt_ratio(ratio(cs[0], cs[2]))} |")
    for name in ("64M", "1G"):
        c, t = g("touch", name, "carveout"), g("touch", name, "anon_thp")
        na = NA.get(("touch", name, "all", "1", ""))
        fc, ft = M.get(f"touch_faults_{name}_carveout"), M.get(f"touch_faults_{name}_anon_thp")
        pmd = M.get(f"touch_pmd_kb_{name}_carveout")
        label = (f"{name[:-1]} {'MiB' if name[-1] == 'M' else 'GiB'} mmap + first touch: "
                 "PMD mappings (faults as anon THP)")
        if c is None or fc is None or pmd is None:
            targets.append((label, "PMD entries on 6.15+",
                            f"n/a ({(na or 'not measured').replace('_', ' ')})", "n/a"))
            continue
        if t is None or ft is None:
            tna = NA.get(("touch", name, "anon_thp", "1", "")) or "not measured"
            thp = f"THP n/a ({tna.replace('_', ' ')})"
        else:
            thp = f"vs THP {ft} faults, {fmt_ns(t.med)} ({fmt_ratio(ratio(c, t))})"
        # Met when smaps counts the whole touched mapping as PMD-mapped.
        kib = int(name[:-1]) << (10 if name[-1] == "M" else 20)
        targets.append((label, "PMD entries on 6.15+",
                        f"{pmd} of {kib} KiB PMD-mapped, {fc} faults, {fmt_ns(c.med)}; {thp}",
                        "met" if int(pmd) >= kib else "missed"))

    # ---- all allocators against size ---------------------------------
    aplot = collections.OrderedDict()
    for impl, lab in (("carveout_kbuf_alloc", "carveout (in-kernel)"),
                      ("alloc_contig_range", "alloc_contig_range"),
                      ("dma_alloc_cma", "CMA dma_alloc")):
        for mb in (4, 16, 64, 256):
            s_ = g("large", f"{mb}M", impl, "1", "idle")
            if s_ and s_.vals:
                aplot.setdefault(lab, []).append((mb << 20, s_.med, min(s_.vals), max(s_.vals)))
    for impl, lab in (("carveout", "carveout (userspace, +mmap+touch)"),
                      ("dmaheap_system", "dma-heap system (+mmap+touch)"),
                      ("dmaheap_cma", "dma-heap CMA (+mmap+touch)")):
        for name, size in (("4K", 4096), ("1M", 1 << 20), ("64M", 64 << 20)):
            s_ = g("user", name, impl)
            if s_ and s_.vals:
                aplot.setdefault(lab, []).append((size, s_.med, min(s_.vals), max(s_.vals)))
    if svg_plot(os.path.join(a.out, "all.svg"),
                "Allocation latency vs size, every allocator (idle; median, min..max)",
                "buffer size", "per buffer", aplot,
                lambda x: f"{x >> 10} KiB" if x < (1 << 20) else f"{x >> 20} MiB"):
        md.append("\n![every allocator: latency vs size](all.svg)\n")
        md.append("In-kernel series: alloc+free; userspace series: ALLOC/heap "
                  "alloc + mmap + first touch + munmap + free.  Missing series: "
                  "the baseline is absent in this kernel (see the tables).\n")

    # ---- part 4 -------------------------------------------------------
    md.append("\n## 4. DMA MAP + UNMAP (ioctl, device 0000:00:03.0, no driver bound: 32-bit mask)\n")
    md.append("| size | intel-iommu (lazy flush) | direct (intel_iommu=off, second VM) | ratio iommu/direct |")
    md.append("|---|---|---|---|")
    for name in ("4K", "2M"):
        i, d = g("map", name, "map_iommu"), g("map", name, "map_direct")
        md.append(f"| {name} | {cell(i)} | {cell(d)} | {fmt_ratio(ratio(i, d))} |")

    md.append("\n### 4b. CPU sync of an exported buffer edu keeps mapped, 4 KiB at a time\n")
    md.append("A 64 MiB buffer exported as a dma-buf, attached and mapped by edu "
              "(carveout_edu, DMA_FROM_DEVICE), handed to the CPU and back 4 KiB "
              "at a time over the whole buffer.  Per step: carveout's SYNC of the "
              "4 KiB range (FOR_CPU + FOR_DEVICE) against DMA_BUF_IOCTL_SYNC "
              "START + END, which syncs the whole buffer, and carveout's SYNC "
              "of the whole buffer (the same ioctl path as the range).  On a cache-coherent "
              "device without bounce buffers the DMA API has no cache work to do "
              "either way: what differs is the per-segment walk and dma-buf's "
              "own work.\n")
    md.append("| per 4 KiB step | carveout SYNC (range) | carveout SYNC (whole) | DMA_BUF_IOCTL_SYNC (whole) | ratio range/dma-buf |")
    md.append("|---|---|---|---|---|")
    r_, cw_, w_ = (g("sync", "64M_4K", i) for i in
                   ("carveout_range", "carveout_whole", "dmabuf_whole"))
    na = NA.get(("sync", "64M_4K", "all", "1", ""))
    if na:
        md.append(f"| 64 MiB buffer | n/a ({na}) | n/a | n/a | n/a |")
    else:
        md.append(f"| 64 MiB buffer | {cell(r_)} | {cell(cw_)} | {cell(w_)} | {fmt_ratio(ratio(r_, w_))} |")

    # ---- part 5 -------------------------------------------------------
    md.append("\n## 5. Fragmentation on allocation traces (host, allocator core vs references, 1 GiB arena)\n")
    md.append("Footprint = high-water mark (arena base to end of highest block in use); "
              "held = bytes not free.  Sizes 64 B..8 MiB log-uniform.\n")
    md.append("| trace | allocator | ops | peak footprint / peak live | peak held / peak live | granted / requested | largest free at end | failed |")
    md.append("|---|---|---|---|---|---|---|---|")
    for d in F:
        pl = int(d["peak_live"])
        md.append(f"| {d['trace']} | {d['alloc']} | {d['ops']} | "
                  f"{int(d['peak_footprint']) / pl:.3f} | {int(d['peak_held']) / pl:.3f} | "
                  f"{int(d['granted']) / int(d['requested']):.4f} | "
                  f"{int(d['largest_free']) >> 20} MiB | {d['fail']} |")
    foot = {(d["trace"], d["alloc"]): int(d["peak_footprint"]) / int(d["peak_live"])
            for d in F}
    for trace in dict.fromkeys(d["trace"] for d in F):
        r = foot.get((trace, "carveout"))
        refs = [foot[(trace, x)] for x in ("first_fit", "best_fit") if (trace, x) in foot]
        if r is None or not refs:
            continue
        best = min(refs)
        targets.append((f"{trace} trace: peak footprint / peak live "
                        f"(first fit {foot.get((trace, 'first_fit'), 0):.3f}, "
                        f"best fit {foot.get((trace, 'best_fit'), 0):.3f})",
                        "<= 1.25 and <= the better of first and best fit",
                        f"{r:.3f}",
                        "met" if r <= 1.25 and r <= best else "missed"))

    # ---- part 6 -------------------------------------------------------
    md.append("\n## 6. Memory overhead\n")
    if "buddy_meta_1g" in M:
        mb = int(M["buddy_meta_1g"])
        md.append(f"- buddy metadata for a 1 GiB arena: {mb} B = {mb / (1 << 30) * 100:.4f}% "
                  f"(kernel: {M.get('kernel_buddy_meta_1g', '?')} B, struct co_buddy {M.get('struct_co_buddy', '?')} B)")
        targets.append(("buddy metadata per GiB", "<= 0.2%",
                        f"{mb / (1 << 30) * 100:.4f}%", "met" if mb / (1 << 30) <= 0.002 else "missed"))
    if "slab_set_empty" in M:
        md.append(f"- an empty slab cache set: {M['slab_set_empty']} B of heap with "
                  f"{M.get('shim_cpus', '?')} CPUs (per-CPU magazines scale with CPUs); "
                  "one per open file per node")
    if "slab64_meta" in M:
        md.append(f"- slab bookkeeping when 64 MiB are filled with 64 B objects: "
                  f"{M['slab64_meta']} B = {float(M['slab64_meta_ppm']) / 1e4:.2f}% of the object bytes")

    # ---- targets ------------------------------------------------------
    md.append("\n## Targets\n")
    md.append("| target | goal | measured | status |")
    md.append("|---|---|---|---|")
    for t in targets:
        md.append("| " + " | ".join(t) + " |")
    md.append("\n## Run information\n")
    for i in INFO:
        md.append(f"- `{i}`")
    if "pin" in M or "grabbed_pages" in M:
        md.append(f"- fragmentation: grabbed {M.get('grabbed_pages')} pages, pinned {M.get('pinned_pages')}")
    with open(os.path.join(a.out, "targets.tsv"), "w") as f:
        for t in targets:
            f.write("\t".join(t) + "\n")
    with open(os.path.join(a.out, "kernel.txt"), "w") as f:
        f.write(a.kernel + "\n")
    with open(os.path.join(a.out, "report.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
