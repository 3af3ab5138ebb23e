"""Shared helpers for the CLI tests (Python 3 standard library only).

Each test gets a fresh temporary folder with its own store; the binary under
test comes from ECSREV_BIN (set by ctest), fixtures from ECSREV_TEST_DATA.

With ECSREV_VALGRIND=1 (scripts/valgrind.sh) run_cli() runs the binary under
valgrind (VALGRIND below: exit 99 on any memory error or definite leak) and
multiplies its timeouts by VALGRIND_SLOWDOWN. Tests that start the binary
themselves can use command() and scaled_timeout() to get the same.
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

BIN = os.environ.get("ECSREV_BIN", "ecsrev")
DATA = os.environ.get("ECSREV_TEST_DATA",
                      os.path.join(os.path.dirname(__file__), "..", "data"))
SOURCE = os.environ.get("ECSREV_SOURCE_DIR",
                        os.path.join(os.path.dirname(__file__), "..", ".."))

VALGRIND = ["valgrind", "--error-exitcode=99", "--leak-check=full",
            "--errors-for-leak-kinds=definite", "--quiet"]
VALGRIND_ON = os.environ.get("ECSREV_VALGRIND") == "1"
VALGRIND_SLOWDOWN = 10


def command(*args):
    """argv list running the binary under test with args (under valgrind if on)."""
    return (VALGRIND if VALGRIND_ON else []) + [BIN] + list(args)


def scaled_timeout(seconds):
    """A timeout for one run of the binary, longer under valgrind."""
    if VALGRIND_ON and seconds is not None:
        return seconds * VALGRIND_SLOWDOWN
    return seconds


def data(*parts):
    return os.path.join(DATA, *parts)


class Result:
    def __init__(self, proc):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return "exit %d\nstdout: %s\nstderr: %s" % (self.code, self.out[:2000], self.err[:2000])


class CliTest(unittest.TestCase):
    """Base class: self.tmp (folder), self.store (store path), self.run_cli()."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ecsrev-cli-")
        self.store = os.path.join(self.tmp, "store")
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("AWS_") and k not in ("ECSREV_STORE", "NO_COLOR")}
        self.env["ECSREV_STORE"] = self.store
        self.env["HOME"] = self.tmp

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_cli(self, *args, stdin=None, env=None, timeout=120, binary=False):
        e = dict(self.env)
        if env:
            e.update(env)
        proc = subprocess.run(command(*args), input=stdin, capture_output=True,
                              env=e, timeout=scaled_timeout(timeout), text=not binary)
        return Result(proc)

    def ok(self, *args, **kw):
        r = self.run_cli(*args, **kw)
        self.assertEqual(r.code, 0, r)
        return r

    def fails(self, code, *args, **kw):
        r = self.run_cli(*args, **kw)
        self.assertEqual(r.code, code, r)
        if code == 2:
            lines = [l for l in r.err.splitlines() if l.strip()]
            self.assertTrue(lines, "no error message: %r" % r)
            self.assertTrue(lines[0].startswith("ecsrev: "), r)
        return r

    def write(self, name, content, mode="w"):
        path = os.path.join(self.tmp, name)
        with open(path, mode) as f:
            f.write(content)
        return path
