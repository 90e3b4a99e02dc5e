# SPDX-License-Identifier: LGPL-2.1-or-later
"""The in-tree PEP 517 build backend of the carveout Python package.

pyproject.toml names this file as the backend with no build requirements,
so "pip install ./userspace/python" needs no network: pip's isolated build
environment installs nothing and calls build_wheel() here.  It builds
libcarveout.so from ../lib with make (into a temporary directory, nothing
is written into the tree), and packs the package, that library and the
version (from dkms.conf, the one place it is written) into a wheel.
"""
import base64
import hashlib
import os
import shutil
import subprocess
import sysconfig
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
NAME = "carveout"


def _version():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "_carveout_version", os.path.join(HERE, NAME, "_build.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.VERSION, mod.SONAME


def _tag():
    plat = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    return "py3-none-" + plat


def _metadata(version):
    return ("Metadata-Version: 2.1\n"
            "Name: %s\n"
            "Version: %s\n"
            "Summary: physically contiguous DMA buffers from carveout as "
            "numpy arrays\n"
            "License: LGPL-2.1-or-later\n"
            "Requires-Python: >=3.7\n"
            "Requires-Dist: numpy\n" % (NAME, version))


def _build_lib(tmp, version):
    """libcarveout.so.VERSION built from this tree; its path."""
    real = os.path.join(tmp, "libcarveout.so." + version)
    subprocess.run(["make", "-s", "-C", os.path.join(TOP, "userspace"),
                    "O=" + tmp, real], check=True)
    return real


def _record_line(arc, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest())
    return "%s,sha256=%s,%d" % (arc, digest.rstrip(b"=").decode(), len(data))


def _dist_info(version):
    return "%s-%s.dist-info" % (NAME, version)


def _meta_files(version):
    di = _dist_info(version)
    return {
        di + "/METADATA": _metadata(version).encode(),
        di + "/WHEEL": ("Wheel-Version: 1.0\nGenerator: _carveout_build\n"
                        "Root-Is-Purelib: false\nTag: %s\n"
                        % _tag()).encode(),
        di + "/top_level.txt": (NAME + "\n").encode(),
    }


def _package_files(version, soname, lib):
    files = {}
    pkg = os.path.join(HERE, NAME)
    for f in sorted(os.listdir(pkg)):
        if f.endswith(".py") and f != "_build.py":
            with open(os.path.join(pkg, f), "rb") as fh:
                files[NAME + "/" + f] = fh.read()
    files[NAME + "/_build.py"] = (
        "# Written by the build backend from dkms.conf.\n"
        "VERSION = %r\nSONAME = %r\n" % (version, soname)).encode()
    with open(lib, "rb") as fh:
        files[NAME + "/" + soname] = fh.read()
    return files


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    version, _ = _version()
    for arc, data in _meta_files(version).items():
        path = os.path.join(metadata_directory, arc)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)
    return _dist_info(version)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    version, soname = _version()
    tmp = tempfile.mkdtemp(prefix="carveout-build-")
    try:
        files = _package_files(version, soname, _build_lib(tmp, version))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    files.update(_meta_files(version))
    name = "%s-%s-%s.whl" % (NAME, version, _tag())
    record = _dist_info(version) + "/RECORD"
    lines = [_record_line(arc, data) for arc, data in files.items()]
    lines.append(record + ",,")
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w",
                         zipfile.ZIP_DEFLATED) as z:
        for arc, data in files.items():
            info = zipfile.ZipInfo(arc, (1980, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if arc.endswith(soname) else
                                  0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
        z.writestr(record, "\n".join(lines) + "\n")
    return name
