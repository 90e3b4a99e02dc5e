# SPDX-License-Identifier: GPL-2.0
"""The Python example of README.md runs as it is written."""
import os
import re
import subprocess
import sys
import unittest

TREE = os.environ.get("CARVEOUT_SRC", "/tmp/carveout-src")


class TestReadme(unittest.TestCase):
    def test_python_example_runs_as_written(self):
        with open(os.path.join(TREE, "README.md")) as f:
            readme = f.read()
        section = readme.split("\n### Python\n", 1)[1].split("\n## ", 1)[0]
        m = re.search(r"```sh\npython3 - <<'EOF'\n(.*?)\nEOF\n```", section,
                      re.S)
        self.assertIsNotNone(m, "no python3 heredoc in README's Python section")
        p = subprocess.run([sys.executable, "-"], input=m.group(1).encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=300, check=False)
        out = p.stdout.decode()
        self.assertEqual(p.returncode, 0, out)
        self.assertIn("freed: True row still reads [3072 3073 3074 3075]", out)
        used = [int(u) for u in re.findall(r"used on node 0: (\d+)", out)]
        self.assertEqual(len(used), 2, out)
        self.assertGreaterEqual(used[0] - used[1], 1 << 20, out)
