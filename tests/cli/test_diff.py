#!/usr/bin/env python3
"""End-to-end tests of `ecsrev diff` against the real binary and a temporary store.

Golden cases: tests/data/diff/<case>/{a.json,b.json,expected.json}; the
expected changes are hand-written in tests/data/diff/make_cases.py.
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

BIN = os.environ.get("ECSREV_BIN", "ecsrev")
DATA = os.path.join(os.environ.get("ECSREV_TEST_DATA", "tests/data"), "diff")
CASES = sorted(d for d in os.listdir(DATA) if os.path.isdir(os.path.join(DATA, d)))
ARN_A = "arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/4980306466373577095"
ARN_B = "arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/5613047295846107342"


def case_path(case, name):
    return os.path.join(DATA, case, name)


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def pointer_tokens(ptr):
    if ptr == "":
        return []
    assert ptr.startswith("/"), ptr
    return [t.replace("~1", "/").replace("~0", "~") for t in ptr[1:].split("/")]


def apply_patch(doc, ops):
    """A minimal RFC 6902 implementation (add, remove, replace) for checking patches."""
    for op in ops:
        tokens = pointer_tokens(op["path"])
        if not tokens:
            assert op["op"] == "replace"
            doc = op["value"]
            continue
        parent = doc
        for t in tokens[:-1]:
            parent = parent[int(t)] if isinstance(parent, list) else parent[t]
        last = tokens[-1]
        if isinstance(parent, list):
            if op["op"] == "add":
                idx = len(parent) if last == "-" else int(last)
                if idx > len(parent):
                    raise ValueError("add past the end: %s" % op["path"])
                parent.insert(idx, op["value"])
            elif op["op"] == "remove":
                del parent[int(last)]
            elif op["op"] == "replace":
                parent[int(last)] = op["value"]
            else:
                raise ValueError(op["op"])
        else:
            if op["op"] in ("remove", "replace") and last not in parent:
                raise ValueError("no member %s" % op["path"])
            if op["op"] == "remove":
                del parent[last]
            elif op["op"] in ("add", "replace"):
                parent[last] = op["value"]
            else:
                raise ValueError(op["op"])
    return doc


class DiffTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ecsrev-diff-")
        self.store = os.path.join(self.tmp, "store")
        self.env = dict(os.environ)
        self.env.pop("NO_COLOR", None)
        self.env["ECSREV_STORE"] = self.store

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_bin(self, *args, stdin=None, env=None):
        p = subprocess.run([BIN] + list(args), input=stdin, capture_output=True, text=True,
                           env=env or self.env, timeout=120)
        return p.returncode, p.stdout, p.stderr

    def write(self, name, doc):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f)
        return path

    def import_files(self, *paths):
        rc, out, err = self.run_bin("import", "--quiet", *paths)
        self.assertEqual(rc, 0, err)

    # ---- golden cases, files only (no store exists) ----

    def test_golden_json(self):
        self.assertGreaterEqual(len(CASES), 15)
        for case in CASES:
            with self.subTest(case=case):
                want = load(case_path(case, "expected.json"))
                rc, out, err = self.run_bin("diff", "--format", "json", case_path(case, "a.json"),
                                            case_path(case, "b.json"))
                self.assertEqual(rc, 0 if want["identical"] else 1, err)
                got = json.loads(out)
                self.assertEqual(got["schema"], 1)
                self.assertEqual(got["identical"], want["identical"])
                self.assertEqual(got["changes"], want["changes"])
                self.assertEqual(got["from"]["arn"], ARN_A)
                self.assertEqual(got["to"]["arn"], ARN_B)
                self.assertEqual(got["to"]["createdAt"], "2024-11-21T10:15:30.500Z")
                self.assertRegex(got["from"]["configHash"], "^[0-9a-f]{32}$")
                same = got["from"]["configHash"] == got["to"]["configHash"]
                self.assertEqual(same, want["identical"])

    def test_every_category_has_a_case(self):
        cats = set()
        for case in CASES:
            for ch in load(case_path(case, "expected.json"))["changes"]:
                cats.add(ch["category"])
        self.assertEqual(cats, {"images", "task-definition", "networking", "load-balancers",
                                "volumes", "service-connect", "service-discovery", "vpc-lattice",
                                "compute", "security", "managed-resources", "other"})

    # ---- patch: applying it to A's canonical document gives B's ----

    def test_patch_applies(self):
        for case in CASES:
            with self.subTest(case=case):
                store = os.path.join(self.tmp, "s-" + case)
                env = dict(self.env, ECSREV_STORE=store)
                a, b = case_path(case, "a.json"), case_path(case, "b.json")
                rc, _, err = self.run_bin("import", "--quiet", a, b, env=env)
                self.assertEqual(rc, 0, err)
                rc, out_a, err = self.run_bin("show", ARN_A, env=env)
                self.assertEqual(rc, 0, err)
                rc, out_b, err = self.run_bin("show", ARN_B.rsplit("/", 1)[1], env=env)
                self.assertEqual(rc, 0, err)
                rc, patch, err = self.run_bin("diff", "--format", "patch", ARN_A,
                                              ARN_B.rsplit("/", 1)[1], env=env)
                self.assertIn(rc, (0, 1), err)
                ops = json.loads(patch)
                self.assertTrue(all(o["op"] in ("add", "remove", "replace") for o in ops))
                doc_a, doc_b = json.loads(out_a), json.loads(out_b)
                self.assertNotEqual(doc_a, doc_b)  # the ARNs differ at least
                self.assertEqual(apply_patch(doc_a, ops), doc_b)
                # the same patch from the files themselves
                rc, patch2, err = self.run_bin("diff", "--format", "patch", a, b,
                                               env=dict(self.env, ECSREV_STORE=self.store))
                self.assertEqual(patch2, patch)

    def test_patch_identical_is_empty(self):
        a = case_path("images", "a.json")
        rc, out, err = self.run_bin("diff", "--format", "patch", a, a)
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out), [])

    # ---- exit codes and errors ----

    def test_exit_codes(self):
        a, b = case_path("images", "a.json"), case_path("images", "b.json")
        self.assertEqual(self.run_bin("diff", a, b)[0], 1)
        self.assertEqual(self.run_bin("diff", a, a)[0], 0)
        self.assertEqual(self.run_bin("diff", case_path("identity-only", "a.json"),
                                      case_path("identity-only", "b.json"))[0], 0)
        rc, out, err = self.run_bin("diff", a, os.path.join(self.tmp, "missing.json"))
        self.assertEqual(rc, 2)
        self.assertEqual(out, "")
        self.assertIn("ecsrev: ", err)
        bad = os.path.join(self.tmp, "bad.json")
        with open(bad, "w") as f:
            f.write('{"serviceArn": ')
        rc, out, err = self.run_bin("diff", a, bad)
        self.assertEqual(rc, 2)
        self.assertIn("bad.json", err)
        self.assertEqual(self.run_bin("diff", "--format", "yaml", a, b)[0], 2)
        self.assertEqual(self.run_bin("diff", "--category", "imagez", a, b)[0], 2)
        self.assertEqual(self.run_bin("diff", a)[0], 2)
        self.assertEqual(self.run_bin("diff", "--color=sometimes", a, b)[0], 2)

    def test_unknown_stored_revision(self):
        self.import_files(case_path("images", "a.json"))
        rc, out, err = self.run_bin("diff", ARN_A, "1234567")
        self.assertEqual(rc, 2)
        self.assertIn("1234567", err)

    def test_quiet(self):
        a, b = case_path("networking", "a.json"), case_path("networking", "b.json")
        self.assertEqual(self.run_bin("diff", "--quiet", a, b), (1, "", ""))
        self.assertEqual(self.run_bin("diff", "-q", a, a), (0, "", ""))

    def test_category_filter(self):
        a, b = case_path("images", "a.json"), case_path("images", "b.json")
        rc, out, _ = self.run_bin("diff", "--format", "json", "--category", "networking,compute",
                                  a, b)
        self.assertEqual(rc, 0)
        self.assertEqual(json.loads(out)["changes"], [])
        self.assertTrue(json.loads(out)["identical"])
        rc, out, _ = self.run_bin("diff", "--format", "json", "--category", "images", a, b)
        self.assertEqual(rc, 1)
        self.assertEqual(len(json.loads(out)["changes"]), 3)
        self.assertEqual(self.run_bin("diff", "--format", "patch", "--category", "images",
                                      a, b)[0], 2)

    # ---- stored revisions, files, stdin ----

    def test_stored_against_file(self):
        self.import_files(case_path("networking", "a.json"))
        desired = load(case_path("networking", "b.json"))
        del desired["serviceRevisionArn"]
        del desired["createdAt"]
        spec = self.write("desired.json", desired)
        rc, out, err = self.run_bin("diff", "--format", "json", ARN_A.rsplit("/", 1)[1], spec)
        self.assertEqual(rc, 1, err)
        got = json.loads(out)
        self.assertEqual(got["to"]["arn"], None)
        self.assertEqual(got["to"]["createdAt"], None)
        self.assertEqual(got["changes"], load(case_path("networking", "expected.json"))["changes"])
        rc, out, err = self.run_bin("diff", ARN_A, spec)
        self.assertIn("to   " + spec, out)
        # stdin as B
        with open(spec, encoding="utf-8") as f:
            rc, out2, err = self.run_bin("diff", "--format", "json", ARN_A, "-", stdin=f.read())
        self.assertEqual(rc, 1, err)
        self.assertEqual(json.loads(out2)["changes"], got["changes"])
        self.assertEqual(self.run_bin("diff", "-", "-", stdin="{}")[0], 2)

    def test_service_latest_two(self):
        base = load(case_path("images", "a.json"))
        revs = []
        for i, tag in enumerate(["1.0.0", "1.0.1", "1.0.2"]):
            r = json.loads(json.dumps(base))
            r["serviceRevisionArn"] = ARN_A.rsplit("/", 1)[0] + "/%d" % (1000 + i)
            r["createdAt"] = 1732000000 + i * 3600
            r["containerImages"][0]["image"] = "repo/web:" + tag
            revs.append(r)
        path = self.write("history.json", {"serviceRevisions": revs})
        self.import_files(path)
        for svc in (["--service", "web", "--cluster", "prod"],
                    ["--service", "arn:aws:ecs:us-east-1:123456789012:service/prod/web"]):
            rc, out, err = self.run_bin("diff", "--format", "json", *svc)
            self.assertEqual(rc, 1, err)
            got = json.loads(out)
            self.assertTrue(got["from"]["arn"].endswith("/1001"))
            self.assertTrue(got["to"]["arn"].endswith("/1002"))
            self.assertEqual(got["changes"], [{"category": "images",
                                               "path": "containerImages[web].image",
                                               "op": "changed", "old": "repo/web:1.0.1",
                                               "new": "repo/web:1.0.2"}])
        rc, out, err = self.run_bin("diff", "--service", "nope", "--cluster", "prod")
        self.assertEqual(rc, 2)
        self.assertEqual(self.run_bin("diff", "--service", "web", "--cluster", "prod", ARN_A)[0],
                         2)

    def test_service_needs_two(self):
        self.import_files(case_path("images", "a.json"))
        rc, out, err = self.run_bin("diff", "--service", "web", "--cluster", "prod")
        self.assertEqual(rc, 2)
        self.assertIn("two", err)

    # ---- output forms ----

    def test_text_output(self):
        a, b = case_path("networking", "a.json"), case_path("networking", "b.json")
        rc, out, _ = self.run_bin("diff", a, b)
        self.assertEqual(rc, 1)
        self.assertNotIn("\033", out)
        lines = out.splitlines()
        self.assertEqual(lines[0], "from " + ARN_A + "  2024-11-20T10:15:30.123Z")
        self.assertIn("networking (3)", lines)
        self.assertIn("  ~ networkConfiguration.awsvpcConfiguration.assignPublicIp: "
                      "\"DISABLED\" \u2192 \"ENABLED\"", lines)
        self.assertIn("  - networkConfiguration.awsvpcConfiguration.securityGroups[sg-0aa111]",
                      lines)
        self.assertIn("  + networkConfiguration.awsvpcConfiguration.securityGroups[sg-0fe333]",
                      lines)
        rc, out, _ = self.run_bin("diff", "--color=always", a, b)
        self.assertIn("\033[", out)
        rc, out, _ = self.run_bin("diff", "--color=never", a, b)
        self.assertNotIn("\033", out)
        rc, out, _ = self.run_bin("diff", a, a)
        self.assertIn("no configuration change", out)

    def test_markdown_output(self):
        a, b = case_path("images", "a.json"), case_path("images", "b.json")
        rc, out, _ = self.run_bin("diff", "--format", "markdown", "--color=always", a, b)
        self.assertEqual(rc, 1)
        self.assertNotIn("\033", out)
        self.assertTrue(out.startswith("### ECS service revision diff\n"))
        self.assertIn("**Summary:** images: web 1.4.2\u21921.4.3, +worker\n", out)
        self.assertIn("#### images\n\n| Change | Path | Old | New |\n|---|---|---|---|\n", out)
        self.assertIn("| added | `containerImages[worker]` |  | `{\"containerName\":\"worker\","
                      "\"image\":\"123456789012.dkr.ecr.us-east-1.amazonaws.com/worker:2.0.0\"}`"
                      " |\n", out)
        rows = [l for l in out.splitlines() if l.startswith("| ") and "`" in l]
        self.assertEqual(len(rows), 3)
        rc, out, _ = self.run_bin("diff", "--format", "markdown", a, a)
        self.assertEqual(rc, 0)
        self.assertIn("_No configuration change._", out)

    def test_help(self):
        rc, out, _ = self.run_bin("diff", "--help")
        self.assertEqual(rc, 0)
        self.assertIn("--category", out)


if __name__ == "__main__":
    unittest.main()
