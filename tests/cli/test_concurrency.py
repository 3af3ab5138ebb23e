"""Concurrent use (issue 7, point 5): several writers and readers on one store.

Two importers (different and overlapping files) and, when the fake endpoint
is available, a fetch, all write into the same store at once, while readers
(`log`, `export`, `stats`, `diff`, `audit`, `verify`) run in a loop. Checks:
every writer succeeds, no reader ever fails or waits long, no revision is
lost or duplicated (the final store holds exactly the union), and the store
verifies at the end.

Standard library only.
"""
import copy
import json
import os
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ecsrevtest import BIN, CliTest, SOURCE, data  # noqa: E402

sys.path.insert(0, os.path.join(SOURCE, "tests", "support"))
try:
    from fake_ecs_harness import FakeEcs, scenario_path  # noqa: E402
except ImportError:  # pragma: no cover
    FakeEcs = None

BULK_SERVICE = "arn:aws:ecs:us-east-1:123456789012:service/prod/bulk"
READER_MAX_S = 10.0  # a reader taking longer than this counts as blocked


def make_files(folder, prefix, first, n_files, per_file):
    """Files of synthetic revisions numbered first .. first + n_files*per_file - 1."""
    with open(data("revisions", "single.json"), encoding="utf-8") as fh:
        template = json.load(fh)
    paths = []
    for f in range(n_files):
        revs = []
        for i in range(per_file):
            k = first + f * per_file + i
            rev = copy.deepcopy(template)
            svc = "svc%d" % (k % 5)
            rev["serviceRevisionArn"] = (
                "arn:aws:ecs:us-east-1:123456789012:service-revision/prod/%s/%d"
                % (svc, 2 * 10**12 + k))
            rev["serviceArn"] = "arn:aws:ecs:us-east-1:123456789012:service/prod/" + svc
            rev["createdAt"] = 1710000000 + k * 30
            rev["taskDefinition"] = rev["taskDefinition"].rsplit(":", 1)[0] + ":%d" % k
            revs.append(rev)
        path = os.path.join(folder, "%s%03d.json" % (prefix, f))
        with open(path, "w", encoding="utf-8") as fh:
            json.dump({"serviceRevisions": revs}, fh)
        paths.append(path)
    return paths


class Readers:
    """Threads that run read-only commands in a loop until stopped."""

    def __init__(self, env, commands):
        self.env = env
        self.commands = commands
        self.stop = threading.Event()
        self.failures = []
        self.runs = 0
        self.slowest = 0.0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.loop, args=(i,), daemon=True)
                        for i in range(len(commands))]

    def loop(self, i):
        argv, ok_codes = self.commands[i]
        while not self.stop.is_set():
            t0 = time.monotonic()
            try:
                p = subprocess.run([BIN] + argv, env=self.env, capture_output=True, text=True,
                                   timeout=60)
                code, err = p.returncode, (p.stderr + p.stdout)[:500]
            except subprocess.TimeoutExpired:
                code, err = None, "timed out after 60 s"
            took = time.monotonic() - t0
            with self.lock:
                self.runs += 1
                self.slowest = max(self.slowest, took)
                if code not in ok_codes:
                    self.failures.append("%s: exit %s: %s" % (" ".join(argv), code, err[:500]))

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=120)


class ConcurrencyTest(CliTest):
    def setUp(self):
        super().setUp()
        # Two revisions of one service, so diff has something to compare from the start.
        self.ok("import", data("revisions", "full-api.json"))
        self.base = self.ok("export").out.splitlines()
        self.arns = [json.loads(l)["serviceRevisionArn"] for l in self.base]

    def reader_commands(self):
        return [
            (["log"], (0,)),
            (["log", "--format", "json", "-p"], (0,)),
            (["export"], (0,)),
            (["stats", "--format", "json"], (0,)),
            (["diff", self.arns[0], self.arns[1]], (0, 1)),
            (["audit"], (0, 1)),
        ]

    def start_writer(self, argv, env=None):
        return subprocess.Popen([BIN] + argv, env=env or self.env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def finish(self, proc, what):
        out, err = proc.communicate(timeout=300)
        self.assertEqual(proc.returncode, 0, "%s failed (exit %d): %s" % (what, proc.returncode,
                                                                          err))
        return out

    def expected_union(self, groups, fetched_store=None):
        """Export of a store that received the same data one writer after the other."""
        ref = os.path.join(self.tmp, "reference")
        self.ok("import", "-q", "--store", ref, data("revisions", "full-api.json"))
        for files in groups:
            self.ok("import", "-q", "--store", ref, *files)
        lines = set(self.ok("export", "--store", ref).out.splitlines())
        if fetched_store:
            lines |= set(self.ok("export", "--store", fetched_store).out.splitlines())
        return lines

    def check_final(self, expected, readers):
        self.assertEqual(readers.failures, [], "readers failed during the writes")
        self.assertGreater(readers.runs, len(readers.commands), "the readers hardly ran")
        self.assertLess(readers.slowest, READER_MAX_S, "a reader was blocked")
        self.ok("verify")
        lines = self.ok("export").out.splitlines()
        self.assertEqual(len(lines), len(set(lines)), "duplicated revisions")
        self.assertEqual(set(lines), expected, "lost or foreign revisions")
        stats = self.ok("stats", "--format", "json").json()
        self.assertEqual(stats["revisions"], len(expected))

    def test_two_importers_and_readers(self):
        a = make_files(self.tmp, "a", 0, 20, 40)          # revisions 0..799
        b = make_files(self.tmp, "b", 400, 20, 40)        # revisions 400..1199: half overlap
        b_rev = list(reversed(b))
        with Readers(self.env, self.reader_commands()) as readers:
            w1 = self.start_writer(["import", "-q"] + a + b_rev[:5])
            w2 = self.start_writer(["import", "-q"] + b_rev + a[:5])
            self.finish(w1, "importer 1")
            self.finish(w2, "importer 2")
        self.check_final(self.expected_union([a, b]), readers)

    def test_large_imports_of_the_same_revisions_one_bad(self):
        """Two large imports (staged bodies) of the same revisions at once; the second
        file ends with a bad line. Taking its staged bodies back must not take away
        bodies the good import counts on: the good one stores everything."""
        lines = []
        with open(make_files(self.tmp, "big", 0, 1, 4000)[0], encoding="utf-8") as fh:
            for rev in json.load(fh)["serviceRevisions"]:
                rev["padding"] = "x" * 1500  # > 6 MiB in all: the import stages
                lines.append(json.dumps(rev))
        good = os.path.join(self.tmp, "good.jsonl")
        bad = os.path.join(self.tmp, "bad.jsonl")
        with open(good, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        with open(bad, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + '\n{"serviceRevisionArn": 5}\n')
        for _ in range(2):
            w1 = self.start_writer(["import", "-q", good])
            w2 = self.start_writer(["import", "-q", bad])
            self.finish(w1, "good importer")
            _, err = w2.communicate(timeout=300)
            self.assertEqual(w2.returncode, 2, err)
            self.assertIn("line 4001", err)
        self.ok("verify")
        stats = self.ok("stats", "--format", "json").json()
        self.assertEqual(stats["revisions"], len(self.arns) + 4000)

    def test_verify_during_writes(self):
        """verify must see one consistent snapshot: a revision committed with its
        event is never reported as "not recorded by any event" while a writer runs."""
        a = make_files(self.tmp, "a", 0, 30, 40)
        with Readers(self.env, [(["verify"], (0,)), (["verify", "--format", "json"], (0,))]) \
                as readers:
            w1 = self.start_writer(["import", "-q"] + a)
            self.finish(w1, "importer")
        self.check_final(self.expected_union([a]), readers)

    @unittest.skipIf(FakeEcs is None, "tests/support/fake_ecs_harness.py not available")
    def test_fetch_and_import_and_readers(self):
        a = make_files(self.tmp, "a", 0, 25, 40)
        with FakeEcs(scenario_path("bulk1000.json"), latency_ms=10) as ecs:
            fenv = ecs.env(self.env)
            fenv["ECSREV_STORE"] = self.store
            fetched = os.path.join(self.tmp, "fetched")
            cenv = dict(fenv, ECSREV_STORE=fetched)
            r = self.run_cli("fetch", "-q", "--service", BULK_SERVICE, env=cenv)
            self.assertEqual(r.code, 0, r)
            with Readers(self.env, self.reader_commands()) as readers:
                w1 = self.start_writer(["fetch", "-q", "--concurrency", "4", "--service",
                                        BULK_SERVICE], env=fenv)
                w2 = self.start_writer(["import", "-q"] + a)
                self.finish(w1, "fetch")
                self.finish(w2, "import")
            self.check_final(self.expected_union([a], fetched), readers)


if __name__ == "__main__":
    unittest.main(verbosity=2)
