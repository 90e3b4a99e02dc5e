# SPDX-License-Identifier: LGPL-2.1-or-later
"""Version and library soname.

In the source tree they are computed from dkms.conf, the one place the
version is written; the wheel carries this file with the two values written
in by the build backend (_carveout_build.py).
"""
import os
import re


def version_from_tree(top):
    """PACKAGE_VERSION of TOP/dkms.conf."""
    with open(os.path.join(top, "dkms.conf"), encoding="ascii") as f:
        m = re.search(r'^PACKAGE_VERSION="([^"]+)"', f.read(), re.M)
    if not m:
        raise RuntimeError("no PACKAGE_VERSION in %s/dkms.conf" % top)
    return m.group(1)


def soname_of(version):
    """libcarveout's soname: .so.0.N while the major is 0, .so.N from 1.0."""
    major, minor = version.split(".")[:2]
    return "libcarveout.so." + (major + "." + minor if major == "0" else major)


VERSION = version_from_tree(os.path.join(os.path.dirname(
    os.path.abspath(__file__)), "..", "..", ".."))
SONAME = soname_of(VERSION)
