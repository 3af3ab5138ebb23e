#!/usr/bin/env python3
"""End-to-end tests of `ecsrev log`: order, summaries, filters, -p, JSON Lines."""
import copy
import json
import os
import shutil
import subprocess
import tempfile
import unittest

BIN = os.environ.get("ECSREV_BIN", "ecsrev")
DATA = os.environ.get("ECSREV_TEST_DATA", "tests/data")
PREFIX = "arn:aws:ecs:us-east-1:123456789012:service-revision/prod/"
T0 = 1767225600  # 2026-01-01T00:00:00Z
DAY = 86400


def base_revision():
    with open(os.path.join(DATA, "diff", "images", "a.json"), encoding="utf-8") as f:
        return json.load(f)


def history():
    """prod/web: five revisions a day apart, each with a known change; prod/api: two."""
    web = []
    r = base_revision()
    steps = [
        lambda d: None,
        lambda d: d["containerImages"][0].update(image=d["containerImages"][0]["image"]
                                                 .replace("1.4.2", "1.4.3")),
        lambda d: None,  # same configuration, new revision
        lambda d: (d["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"]
                   .append("sg-0fe333"),
                   d["networkConfiguration"]["awsvpcConfiguration"]
                   .update(assignPublicIp="ENABLED")),
        lambda d: d.update(taskDefinition=d["taskDefinition"].replace("web:41", "web:42")),
    ]
    for i, step in enumerate(steps):
        step(r)
        d = copy.deepcopy(r)
        d["serviceRevisionArn"] = PREFIX + "web/%d" % (100 + i)
        d["createdAt"] = T0 + i * DAY
        web.append(d)
    api = []
    for i in range(2):
        d = base_revision()
        d["serviceArn"] = d["serviceArn"].replace("/web", "/api")
        d["serviceRevisionArn"] = PREFIX + "api/%d" % (200 + i)
        d["createdAt"] = T0 + i * DAY + 3600
        d["guardDutyEnabled"] = bool(i)
        api.append(d)
    return web, api


SUMMARIES = {
    "104": "task-definition: web:41\u2192web:42",
    "103": "networking: assignPublicIp DISABLED\u2192ENABLED, +sg-0fe333",
    "102": "no configuration change",
    "101": "images: web 1.4.2\u21921.4.3",
    "100": "initial revision",
}


class LogTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ecsrev-log-")
        cls.env = dict(os.environ, ECSREV_STORE=os.path.join(cls.tmp, "store"))
        cls.env.pop("NO_COLOR", None)
        web, api = history()
        path = os.path.join(cls.tmp, "history.json")
        with open(path, "w", encoding="utf-8") as f:
            # stored out of order on purpose: log sorts by createdAt
            json.dump({"serviceRevisions": [web[3], api[1], web[0], web[4], web[1], api[0],
                                            web[2]]}, f)
        p = subprocess.run([BIN, "import", "--quiet", path], capture_output=True, text=True,
                           env=cls.env, timeout=60)
        assert p.returncode == 0, p.stderr

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def run_bin(self, *args):
        p = subprocess.run([BIN] + list(args), capture_output=True, text=True, env=self.env,
                           timeout=120)
        return p.returncode, p.stdout, p.stderr

    def entries(self, *args):
        rc, out, err = self.run_bin("log", "--format", "json", *args)
        self.assertEqual(rc, 0, err)
        return [json.loads(line) for line in out.splitlines()]

    def test_order_and_summaries(self):
        got = self.entries("--service", "web", "--cluster", "prod")
        self.assertEqual([e["id"] for e in got], ["104", "103", "102", "101", "100"])
        for e in got:
            self.assertEqual(e["schema"], 1)
            self.assertEqual(e["summary"], SUMMARIES[e["id"]], e["id"])
            self.assertEqual(e["service"], "arn:aws:ecs:us-east-1:123456789012:service/prod/web")
            self.assertNotIn("changes", e)
        self.assertEqual(got[0]["createdAt"], "2026-01-05T00:00:00.000Z")
        self.assertEqual(got[0]["previous"], PREFIX + "web/103")
        self.assertTrue(got[4]["initial"])
        self.assertIsNone(got[4]["previous"])
        self.assertFalse(got[2]["configChanged"])
        self.assertTrue(got[3]["configChanged"])
        self.assertTrue(got[0]["taskDefinition"].endswith("task-definition/web:42"))

    def test_text(self):
        rc, out, err = self.run_bin("log", "--service", "web", "--cluster", "prod")
        self.assertEqual(rc, 0, err)
        self.assertNotIn("\033", out)
        blocks = out.strip("\n").split("\n\n")
        self.assertEqual(len(blocks), 5)
        self.assertEqual(blocks[0].splitlines(), [
            "revision " + PREFIX + "web/104",
            "created  2026-01-05T00:00:00.000Z",
            "task     web:42",
            "changes  " + SUMMARIES["104"],
        ])
        self.assertIn("changes  initial revision", blocks[4])

    def test_patch(self):
        rc, out, err = self.run_bin("log", "-p", "--service", "web", "--cluster", "prod",
                                    "--color=never")
        self.assertEqual(rc, 0, err)
        self.assertIn("    images (1)\n    "
                      "  ~ containerImages[web].image\n", out)
        self.assertIn("securityGroups[sg-0fe333]", out)
        got = self.entries("-p", "--service", "web", "--cluster", "prod")
        by_id = {e["id"]: e for e in got}
        self.assertEqual(by_id["104"]["changes"], [{
            "category": "task-definition", "path": "taskDefinition", "op": "changed",
            "old": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:41",
            "new": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:42"}])
        self.assertEqual(by_id["102"]["changes"], [])
        self.assertEqual(len(by_id["103"]["changes"]), 2)

    def test_since_until(self):
        got = self.entries("--service", "web", "--cluster", "prod", "--since", "2026-01-03")
        self.assertEqual([e["id"] for e in got], ["104", "103", "102"])
        # the oldest entry in range is still compared with the revision before it
        self.assertEqual(got[2]["summary"], "no configuration change")
        self.assertFalse(got[2]["initial"])
        got = self.entries("--service", "web", "--cluster", "prod", "--until",
                           "2026-01-02T00:00:00Z")
        self.assertEqual([e["id"] for e in got], ["101", "100"])
        got = self.entries("--service", "web", "--cluster", "prod", "--since", "2026-01-02",
                           "--until", "2026-01-02T12:00:00Z")
        self.assertEqual([e["id"] for e in got], ["101"])
        self.assertEqual(got[0]["summary"], SUMMARIES["101"])
        got = self.entries("--service", "web", "--cluster", "prod", "--since", "2030-01-01")
        self.assertEqual(got, [])

    def test_category(self):
        got = self.entries("--service", "web", "--cluster", "prod", "--category", "networking")
        self.assertEqual([e["id"] for e in got], ["103", "100"])
        self.assertEqual(got[0]["summary"], "networking: assignPublicIp DISABLED\u2192ENABLED, "
                                            "+sg-0fe333")
        got = self.entries("--service", "web", "--cluster", "prod", "--category",
                           "images,task-definition")
        self.assertEqual([e["id"] for e in got], ["104", "101", "100"])

    def test_all_services(self):
        got = self.entries()
        ids = [e["id"] for e in got]
        self.assertEqual(ids, ["201", "200", "104", "103", "102", "101", "100"])
        self.assertEqual(got[0]["summary"], "security: guardDutyEnabled false\u2192true")
        rc, out, err = self.run_bin("log")
        self.assertEqual(rc, 0, err)
        self.assertTrue(out.startswith("service arn:aws:ecs:us-east-1:123456789012:service/prod/api"
                                       "\n\n"))
        self.assertIn("\nservice arn:aws:ecs:us-east-1:123456789012:service/prod/web\n", out)

    def test_errors(self):
        self.assertEqual(self.run_bin("log", "--service", "nope", "--cluster", "prod")[0], 2)
        rc, _, err = self.run_bin("log", "--since", "yesterday-ish")
        self.assertEqual(rc, 2)
        self.assertIn("yesterday-ish", err)
        self.assertEqual(self.run_bin("log", "--format", "markdown")[0], 2)
        self.assertEqual(self.run_bin("log", "--category", "nope")[0], 2)
        self.assertEqual(self.run_bin("log", "extra")[0], 2)
        env = dict(self.env, ECSREV_STORE=os.path.join(self.tmp, "no-such-store"))
        p = subprocess.run([BIN, "log"], capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(p.returncode, 2)

    def test_relative_since(self):
        # everything is in the past, so "since 100000d ago" keeps all
        got = self.entries("--service", "web", "--cluster", "prod", "--since", "100000d")
        self.assertEqual(len(got), 5)


if __name__ == "__main__":
    unittest.main()
