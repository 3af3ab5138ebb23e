"""Smoke test of the benchmark (issue 6): keeps bench/ working, never times anything.

A few hundred synthetic revisions go through bench/gen_revisions.py, ecsrev
import, log -p --format json, diff and verify, and bench/bench.py runs its
--smoke mode (tiny inputs, no peers, no docs written). Assertions are about
results and shapes only: never about speed. Python 3 standard library only.
"""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from ecsrevtest import BIN, SOURCE, CliTest  # noqa: E402

GEN = os.path.join(SOURCE, "bench", "gen_revisions.py")
BENCH = os.path.join(SOURCE, "bench", "bench.py")
N = 300
SERVICES = 6


def gen(*args):
    return subprocess.run([sys.executable, GEN] + list(args), capture_output=True, check=True,
                          timeout=120).stdout


def normalized(value):
    """Order-free form: members sorted, arrays sorted (every array the generator writes is a set or keyed)."""
    if isinstance(value, dict):
        return {k: normalized(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        items = [normalized(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    return value


def config(rev):
    return normalized({k: v for k, v in rev.items() if k not in ("serviceRevisionArn", "createdAt")})


class GeneratorTest(unittest.TestCase):
    def test_deterministic_and_seeded(self):
        a = gen("--revisions", "50", "--services", "3")
        self.assertEqual(a, gen("--revisions", "50", "--services", "3"))
        self.assertNotEqual(a, gen("--revisions", "50", "--services", "3", "--seed", "other"))
        self.assertEqual(len(a.splitlines()), 50)

    def test_shape_sizes_and_forms(self):
        sizes = {}
        for size in ("small", "medium", "large"):
            lines = gen("--revisions", "60", "--services", "3", "--size", size).splitlines()
            revs = [json.loads(l) for l in lines]
            for r in revs:
                for key in ("serviceRevisionArn", "serviceArn", "clusterArn", "taskDefinition",
                            "containerImages", "createdAt", "networkConfiguration", "loadBalancers"):
                    self.assertIn(key, r)
                self.assertTrue(r["serviceRevisionArn"].startswith(r["serviceArn"].replace(":service/", ":service-revision/") + "/"))
                for img in r["containerImages"]:
                    self.assertRegex(img["imageDigest"], r"^sha256:[0-9a-f]{64}$")
            sizes[size] = sum(len(l) for l in lines) / len(lines)
        self.assertLess(sizes["small"], sizes["medium"])
        self.assertLess(sizes["medium"], sizes["large"])
        self.assertTrue(3000 <= sizes["medium"] <= 4500, sizes)
        nd = [json.loads(l) for l in gen("--revisions", "20", "--services", "2").splitlines()]
        desc = json.loads(gen("--revisions", "20", "--services", "2", "--format", "describe"))
        self.assertEqual(desc["serviceRevisions"], nd)
        iso = json.loads(gen("--revisions", "20", "--services", "2", "--format", "describe", "--timestamps", "iso"))
        self.assertIsInstance(iso["serviceRevisions"][0]["createdAt"], str)
        scen = json.loads(gen("--revisions", "20", "--services", "1", "--format", "scenario",
                              "--clusters", "prod", "--service-prefix", "bulk"))
        svc = scen["clusters"]["prod"]["services"]["bulk"]
        self.assertEqual(len(svc["revisions"]), 20)
        self.assertEqual(len(svc["deployments"]), 20)


class PipelineTest(CliTest):
    def test_import_log_diff_verify(self):
        data = self.write("revs.ndjson", gen("--revisions", str(N), "--services", str(SERVICES)).decode())
        revs = [json.loads(l) for l in open(data)]
        r = self.ok("import", "--format", "json", data)
        self.assertEqual(r.json()["new"], N, r)
        self.assertEqual(self.ok("import", "--format", "json", data).json()["new"], 0)

        # expected history: per service, by createdAt, config changed or not
        by_service = {}
        for rev in revs:
            by_service.setdefault(rev["serviceArn"], []).append(rev)
        expected = {}
        pairs = []
        for lst in by_service.values():
            lst.sort(key=lambda x: x["createdAt"])
            expected[lst[0]["serviceRevisionArn"]] = None
            for prev, cur in zip(lst, lst[1:]):
                changed = config(prev) != config(cur)
                expected[cur["serviceRevisionArn"]] = changed
                pairs.append((prev["serviceRevisionArn"], cur["serviceRevisionArn"], changed,
                              prev["taskDefinition"] != cur["taskDefinition"]))

        r = self.ok("log", "-p", "--format", "json")
        entries = [json.loads(l) for l in r.out.splitlines() if l.strip()]
        self.assertEqual(len(entries), N)
        for e in entries:
            want = expected[e["revision"]]
            if want is None:
                self.assertTrue(e["initial"], e)
            else:
                self.assertEqual(e["configChanged"], want, e)
                self.assertEqual(bool(e["changes"]), want, e)
        self.assertTrue(any(p[2] for p in pairs) and any(not p[2] for p in pairs),
                        "the generator should make both changed and unchanged deployments")

        changed = next(p for p in pairs if p[2] and p[3])
        r = self.fails(1, "diff", "--format", "json", changed[0], changed[1])
        doc = r.json()
        self.assertFalse(doc["identical"])
        self.assertIn("task-definition", {c["category"] for c in doc["changes"]})
        same = next(p for p in pairs if not p[2])
        self.ok("diff", "--quiet", same[0], same[1])
        self.ok("show", changed[1].rsplit("/", 1)[1])
        self.ok("verify")

    def test_bench_smoke_mode(self):
        out = os.path.join(self.tmp, "bench")
        doc = os.path.join(self.tmp, "PERFORMANCE.md")
        env = dict(self.env)
        env.pop("ECSREV_STORE", None)
        proc = subprocess.run([sys.executable, BENCH, "--bin", BIN, "--smoke", "--reps", "1", "--no-pin",
                               "--out", out, "--doc", doc, "--only", "ingest,diff,fetch,latency,verify"],
                              capture_output=True, text=True, env=env, timeout=240)
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        with open(os.path.join(out, "results.json")) as f:
            res = json.load(f)
        self.assertFalse([n for n in res["notes"] if "FAILED" in n], res["notes"])
        self.assertEqual(res["ingest"]["n"], N)
        self.assertIsNone(res["ingest"]["jq"])  # peers are never run in smoke mode
        self.assertEqual(res["diff"]["entries"], N)
        self.assertNotIn("peer", res["diff"])
        self.assertIn("ecsrev", res["fetch"])
        self.assertEqual(res["fetch"]["calls"].get("DescribeServiceRevisions"), 3)  # 45 revisions
        labels = [r["label"] for r in res["latency"]["rows"]]
        self.assertIn("ecsrev show ID", labels)
        self.assertIn("ecsrev diff A B", labels)
        self.assertEqual(res["verify"]["n"], N)
        with open(doc) as f:
            text = f.read()
        self.assertIn("BEGIN GENERATED", text)
        self.assertIn("END GENERATED", text)
        # rewriting keeps the hand-written part outside the markers
        with open(doc, "a") as f:
            f.write("\nhand-written tail\n")
        proc = subprocess.run([sys.executable, BENCH, "--bin", BIN, "--smoke", "--reps", "1", "--no-pin",
                               "--out", out, "--doc", doc, "--only", "verify"],
                              capture_output=True, text=True, env=env, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        with open(doc) as f:
            text = f.read()
        self.assertIn("hand-written tail", text)
        self.assertEqual(text.count("BEGIN GENERATED"), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
