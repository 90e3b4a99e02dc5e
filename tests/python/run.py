#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Runs the Python package's tests (test_*.py here) with unittest and
prints TAP as the VM runner reads it: one line per test, failures with
their traceback as comments, and a last "# Totals: pass:X fail:Y skip:Z".
Exit status 0 when nothing failed.

Usage: run.py [NAME...]   (NAME: a test method name to run alone)
"""
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


class TapResult(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.n = 0
        self.counts = {"pass": 0, "fail": 0, "skip": 0}
        self.t0 = 0.0

    def _name(self, test):
        return "%s.%s" % (type(test).__name__, test._testMethodName)

    def _line(self, ok, test, extra=""):
        self.n += 1
        print("%s %d - %s%s" % ("ok" if ok else "not ok", self.n,
                                self._name(test), extra))
        print("# %.1f s" % (time.monotonic() - self.t0), flush=True)

    def startTest(self, test):
        super().startTest(test)
        self.t0 = time.monotonic()

    def addSuccess(self, test):
        super().addSuccess(test)
        self.counts["pass"] += 1
        self._line(True, test)

    def _bad(self, test, err):
        self.counts["fail"] += 1
        for line in self._exc_info_to_string(err, test).splitlines():
            print("# " + line)
        self._line(False, test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._bad(test, err)

    def addError(self, test, err):
        super().addError(test, err)
        self._bad(test, err)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.counts["skip"] += 1
        self._line(True, test, " # SKIP " + reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._bad(test, err)

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.counts["fail"] += 1
        self._line(False, test, " # unexpected success")


def main(argv):
    sys.path.insert(0, HERE)
    loader = unittest.TestLoader()
    suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    if argv:
        keep = unittest.TestSuite()

        def walk(s):
            for t in s:
                if isinstance(t, unittest.TestSuite):
                    walk(t)
                elif t._testMethodName in argv:
                    keep.addTest(t)
        walk(suite)
        suite = keep
    print("TAP version 13")
    print("1..%d" % suite.countTestCases(), flush=True)
    result = TapResult()
    t0 = time.monotonic()
    suite.run(result)
    c = result.counts
    print("# all tests: %.1f s" % (time.monotonic() - t0))
    print("# Totals: pass:%d fail:%d skip:%d" % (c["pass"], c["fail"],
                                                  c["skip"]))
    return 1 if c["fail"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
