# SPDX-License-Identifier: GPL-2.0
"""carveoutctl top, non-interactively (-n 2), checked against STATS and
this process's own mappings."""
import gc
import os
import re
import subprocess
import unittest

import numpy as np

import carveout

CTL = os.environ.get("CARVEOUTCTL", "/tmp/carveout/tests/carveoutctl")
MIB = 1 << 20


def mapped_here(dev="/dev/carveout"):
    total = 0
    with open("/proc/self/maps") as f:
        for line in f:
            if line.rstrip("\n").endswith(" " + dev):
                lo, hi = line.split()[0].split("-")
                total += int(hi, 16) - int(lo, 16)
    return total


def frames(out):
    """The frames of top's output, each a list of lines."""
    parts = re.split(r"^carveoutctl top, ", out, flags=re.M)
    return [p.splitlines() for p in parts[1:]]


class TestTop(unittest.TestCase):
    def run_top(self, *args):
        p = subprocess.run([CTL, "top"] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=120, check=False)
        out = p.stdout.decode()
        self.assertEqual(p.returncode, 0, out)
        return out

    def test_two_frames_match_stats_and_owners(self):
        gc.collect()
        nodes = [n["node"] for n in carveout.info()["nodes"]]
        with carveout.allocate(3 * MIB, np.uint8, node=nodes[-1]) as a:
            a[:] = 1
            st = {s["node"]: s for s in carveout.stats()}
            mine = mapped_here()
            out = self.run_top("-n", "2", "-d", "0.2", "--bytes")
        self.assertNotIn("\033[2J", out, "no screen clearing into a pipe")
        fr = frames(out)
        self.assertEqual(len(fr), 2, out)
        for i, lines in enumerate(fr):
            text = "\n".join(lines)
            self.assertIn("frame %d" % (i + 1), lines[0])
            m = re.search(r"^total: (\d+) nodes, (\d+) reserved, (\d+) used, "
                          r"(\d+) free, largest block (\d+)$", text, re.M)
            self.assertIsNotNone(m, text)
            self.assertEqual(int(m.group(1)), len(nodes))
            self.assertEqual(int(m.group(2)),
                             sum(s["region_bytes"] for s in st.values()))
            self.assertEqual(int(m.group(3)),
                             sum(s["used_bytes"] for s in st.values()))
            rows = {}
            for line in lines:
                f = line.split()
                if len(f) == 9 and f[0].isdigit():
                    rows[int(f[0])] = f
            self.assertEqual(sorted(rows), sorted(nodes), text)
            for n, f in rows.items():
                s = st[n]
                self.assertEqual([int(x) for x in f[1:6]],
                                 [s["region_bytes"], s["used_bytes"],
                                  s["free_bytes"], s["largest_free"],
                                  s["nr_buffers"]], "node %d: %s" % (n, f))
                rates = f[6:9]
                if i == 0:
                    self.assertEqual(rates, ["-", "-", "-"])
                else:
                    # Nothing allocated or freed while top ran.
                    self.assertEqual([float(r) for r in rates], [0.0] * 3)
            self.assertIn("owners:", text)
            own = [line.split() for line in lines
                   if line.split()[:1] == [str(os.getpid())]]
            self.assertEqual(len(own), 1, text)
            self.assertEqual(own[0][1], "python3")
            self.assertEqual(int(own[0][2]), mine)
            self.assertGreaterEqual(mine, 3 * MIB)

    def test_rounded_sizes_and_usage_errors(self):
        out = self.run_top("-n", "1")
        self.assertRegex(out, r"(?m)^total: \d+ nodes, [0-9.]+[KMGT]? "
                              r"reserved")
        self.assertNotIn("frame 2", out)
        p = subprocess.run([CTL, "top", "-n", "x"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"carveoutctl: top: 'x'", p.stdout)
