"""End-to-end tests of `ecsrev audit` against a real store in a temp folder.

Revisions are made from tests/data/audit/base.json (which no rule reports)
with one change each, imported with `ecsrev import`, then audited. Reports
are checked structurally: JSON by schema, SARIF 2.1.0 by the members code
scanning needs, JUnit by parsing it with xml.etree.
"""
import copy
import json
import os
import sys
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ecsrevtest import CliTest, data, SOURCE  # noqa: E402

with open(data("audit", "base.json")) as f:
    BASE = json.load(f)

SERVICE = BASE["serviceArn"]
REV_PREFIX = BASE["serviceRevisionArn"][:-19]
T0 = BASE["createdAt"]  # 2026-01-01T00:00:00Z


def revision(n, edit=None, service="api", cluster="prod"):
    """Revision number n of cluster/service, created n hours after T0."""
    d = copy.deepcopy(BASE)
    d["serviceRevisionArn"] = "arn:aws:ecs:us-east-1:123456789012:service-revision/%s/%s/%019d" % (
        cluster, service, n)
    d["serviceArn"] = "arn:aws:ecs:us-east-1:123456789012:service/%s/%s" % (cluster, service)
    d["clusterArn"] = "arn:aws:ecs:us-east-1:123456789012:cluster/%s" % cluster
    d["createdAt"] = T0 + 3600 * n
    if edit:
        edit(d)
    return d


def public_ip(d):
    d["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] = "ENABLED"


def add_sg(d):
    d["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"].append("sg-0new")


def unencrypted(d):
    d["volumeConfigurations"][0]["managedEBSVolume"]["encrypted"] = False


class AuditTest(CliTest):
    def load(self, *revs):
        path = self.write("revs-%d.json" % len(os.listdir(self.tmp)),
                          json.dumps({"serviceRevisions": list(revs), "failures": []}))
        self.ok("import", "--quiet", path)

    def audit_json(self, *args, code=None):
        r = self.run_cli("audit", "--format", "json", *args)
        if code is not None:
            self.assertEqual(r.code, code, r)
        doc = r.json()
        self.assertEqual(doc["schema"], 1)
        return doc

    def rule_ids(self, doc):
        return sorted(f["ruleId"] for f in doc["findings"])

    # ---- selection and exit status ----

    def test_no_store_is_trouble(self):
        r = self.fails(2, "audit")
        self.assertIn("ecsrev: ", r.err)

    def test_clean_service(self):
        self.load(revision(1))
        r = self.ok("audit")
        self.assertIn("0 findings", r.out)
        doc = self.audit_json(code=0)
        self.assertEqual(doc["summary"]["total"], 0)
        self.assertEqual(doc["summary"]["services"], 1)
        self.assertEqual(doc["summary"]["revisions"], 1)

    def test_findings_exit_1_and_fail_on(self):
        self.load(revision(1), revision(2, public_ip))
        doc = self.audit_json(code=1)
        self.assertEqual(self.rule_ids(doc), ["ECS.2", "ECSREV-CHANGE-EXPOSURE"])
        for f in doc["findings"]:
            self.assertEqual(f["revision"], REV_PREFIX + "%019d" % 2)
            self.assertEqual(f["service"], SERVICE)
            self.assertEqual(f["createdAt"], "2026-01-01T02:00:00.000Z")
            self.assertEqual(f["path"], "networkConfiguration.awsvpcConfiguration.assignPublicIp")
            self.assertEqual(f["value"], "ENABLED")
            self.assertTrue(f["remediation"])
        ecs2 = [f for f in doc["findings"] if f["ruleId"] == "ECS.2"][0]
        self.assertEqual(ecs2["controlId"], "ECS.2")
        self.assertEqual(ecs2["severity"], "high")
        self.assertIsNone(ecs2["previousRevision"])
        change = [f for f in doc["findings"] if f["ruleId"] == "ECSREV-CHANGE-EXPOSURE"][0]
        self.assertEqual(change["previousRevision"], REV_PREFIX + "%019d" % 1)
        self.assertEqual(doc["summary"]["high"], 1)
        self.assertEqual(doc["summary"]["medium"], 1)
        # exit status follows --fail-on
        self.assertEqual(self.run_cli("audit", "--fail-on", "high").code, 1)
        self.assertEqual(self.run_cli("audit", "--fail-on", "critical").code, 0)
        self.assertEqual(self.run_cli("audit", "--fail-on", "low").code, 1)

    def test_latest_only_by_default(self):
        self.load(revision(1, public_ip), revision(2))
        doc = self.audit_json(code=0)
        self.assertEqual(doc["summary"]["revisions"], 1)
        doc = self.audit_json("--all-revisions", code=1)
        self.assertEqual(doc["summary"]["revisions"], 2)
        self.assertEqual([f["revision"][-1] for f in doc["findings"]], ["1"])
        # --since after the bad revision: only the good one is audited
        doc = self.audit_json("--since", "2026-01-01T01:30:00Z", code=0)
        self.assertEqual(doc["summary"]["revisions"], 1)
        doc = self.audit_json("--since", "2026-01-01", code=1)
        self.assertEqual(doc["summary"]["revisions"], 2)

    def test_change_sequence_names_revisions(self):
        self.load(revision(1), revision(2, add_sg), revision(3, public_ip), revision(4, unencrypted))
        doc = self.audit_json("--all-revisions", code=1)
        changes = [(f["ruleId"], f["revision"][-1], (f["previousRevision"] or "-")[-1])
                   for f in doc["findings"] if f["ruleId"].startswith("ECSREV-CHANGE-")]
        self.assertEqual(sorted(changes), [
            ("ECSREV-CHANGE-ENCRYPTION-REMOVED", "4", "3"),
            ("ECSREV-CHANGE-EXPOSURE", "2", "1"),
            ("ECSREV-CHANGE-EXPOSURE", "3", "2"),
        ])
        # latest only: revision 4 against revision 3
        doc = self.audit_json(code=1)
        self.assertEqual(self.rule_ids(doc),
                         ["ECSREV-CHANGE-ENCRYPTION-REMOVED", "ECSREV-EBS-UNENCRYPTED"])

    def test_service_and_cluster_selection(self):
        self.load(revision(1, public_ip, cluster="prod"), revision(2, cluster="staging"))
        doc = self.audit_json(code=1)
        self.assertEqual(doc["summary"]["services"], 2)
        doc = self.audit_json("--cluster", "staging", code=0)
        self.assertEqual(doc["summary"]["services"], 1)
        doc = self.audit_json("--service", "api", "--cluster", "prod", code=1)
        self.assertEqual(doc["summary"]["services"], 1)
        doc = self.audit_json("--service", "arn:aws:ecs:us-east-1:123456789012:service/staging/api",
                              code=0)
        self.assertEqual(doc["summary"]["services"], 1)
        self.fails(2, "audit", "--service", "nope")

    # ---- rules file ----

    def test_rules_file_exception_and_severity(self):
        self.load(revision(1, public_ip))
        rules = self.write("rules.json", json.dumps({
            "rules": {"ECS.2": {"severity": "low"}},
            "exceptions": [{"rule": "ECS.2", "service": "prod/api", "reason": "CHG-42",
                            "expires": "2099-01-01"}]}))
        doc = self.audit_json("--rules", rules, code=0)
        self.assertEqual(doc["summary"]["suppressed"], 1)
        self.assertEqual(doc["findings"][0]["severity"], "low")
        self.assertEqual(doc["findings"][0]["suppressed"], {"reason": "CHG-42"})
        # an expired exception no longer applies
        expired = self.write("expired.json", json.dumps({
            "exceptions": [{"rule": "ECS.2", "service": "api", "reason": "old",
                            "expires": "2020-01-01"}]}))
        doc = self.audit_json("--rules", expired, code=1)
        self.assertEqual(doc["summary"]["expiredExceptions"], 1)
        self.assertIsNone(doc["findings"][0]["suppressed"])
        disabled = self.write("off.json", json.dumps({"rules": {"ECS.2": {"enabled": False}}}))
        self.audit_json("--rules", disabled, code=0)

    def test_rules_file_custom_and_allow(self):
        self.load(revision(1, lambda d: d["containerImages"][0].update(image="ghcr.io/acme/api:2")))
        self.audit_json(code=0)
        doc = self.audit_json("--rules", data("audit", "rules", "allow.json"), code=1)
        self.assertEqual(self.rule_ids(doc), ["ECSREV-IMAGE-REGISTRY-NOT-ALLOWED"])
        doc = self.audit_json("--rules", data("audit", "rules", "full.json"), code=1)
        self.assertIn("CUSTOM-WEB-FROM-ECR", self.rule_ids(doc))
        self.assertIn("CUSTOM-WEB-FROM-ECR", [r["id"] for r in doc["rules"]])

    def test_rules_file_errors(self):
        self.load(revision(1))
        r = self.fails(2, "audit", "--rules", data("audit", "rules", "invalid",
                                                    "custom-unknown-op.json"))
        self.assertIn("custom[2] (CUSTOM-1): unknown op 'eq'", r.err)
        self.assertIn("custom-unknown-op.json", r.err)
        self.assertEqual(r.out, "")
        r = self.fails(2, "audit", "--rules", data("audit", "rules", "invalid",
                                                    "unknown-rule.json"))
        self.assertIn("unknown rule 'ECS.99'", r.err)
        self.fails(2, "audit", "--rules", os.path.join(self.tmp, "missing.json"))

    def test_usage_errors(self):
        self.load(revision(1))
        self.fails(2, "audit", "--format", "xml")
        self.fails(2, "audit", "--fail-on", "severe")
        self.fails(2, "audit", "--since", "yesterday-ish")
        self.fails(2, "audit", "--fetch")
        self.fails(2, "audit", "extra")
        self.assertEqual(self.run_cli("audit", "--help").code, 0)

    # ---- formats ----

    def load_mixed(self):
        self.load(revision(1), revision(2, add_sg),
                  revision(1, public_ip, service="web"))

    def test_sarif(self):
        self.load_mixed()
        r = self.run_cli("audit", "--format", "sarif")
        self.assertEqual(r.code, 1, r)
        doc = r.json()
        self.assertEqual(doc["version"], "2.1.0")
        self.assertIn("sarif", doc["$schema"])
        self.assertEqual(len(doc["runs"]), 1)
        run = doc["runs"][0]
        driver = run["tool"]["driver"]
        self.assertEqual(driver["name"], "ecsrev")
        ids = [rule["id"] for rule in driver["rules"]]
        self.assertEqual(len(ids), len(set(ids)))
        self.assertIn("ECS.2", ids)
        for rule in driver["rules"]:
            self.assertTrue(rule["shortDescription"]["text"])
            self.assertTrue(rule["help"]["text"])
            self.assertIn(rule["defaultConfiguration"]["level"], ("error", "warning", "note"))
            self.assertIn(rule["properties"]["severity"], ("low", "medium", "high", "critical"))
        self.assertEqual(len(run["results"]), 2)
        for res in run["results"]:
            self.assertIn(res["ruleId"], ids)
            self.assertEqual(ids[res["ruleIndex"]], res["ruleId"])
            self.assertIn(res["level"], ("error", "warning", "note"))
            self.assertTrue(res["message"]["text"])
            loc = res["locations"][0]
            uri = loc["physicalLocation"]["artifactLocation"]["uri"]
            self.assertTrue(uri.startswith("arn:aws:ecs:"), uri)
            self.assertEqual(res["properties"]["revision"], uri)
            self.assertTrue(loc["logicalLocations"][0]["fullyQualifiedName"].startswith(uri))
        levels = sorted(res["level"] for res in run["results"])
        self.assertEqual(levels, ["error", "warning"])  # web: ECS.2; api: exposure change

    def test_junit(self):
        self.load_mixed()
        r = self.run_cli("audit", "--format", "junit")
        self.assertEqual(r.code, 1, r)
        root = ET.fromstring(r.out.encode())
        self.assertEqual(root.tag, "testsuites")
        suites = root.findall("testsuite")
        self.assertEqual(len(suites), 2)
        rules = len(self.audit_json()["rules"])
        cases = root.findall("./testsuite/testcase")
        self.assertEqual(len(cases), 2 * rules)
        self.assertEqual(int(root.get("tests")), 2 * rules)
        failed = [(c.get("classname"), c.get("name").split(":")[0])
                  for c in cases if c.find("failure") is not None]
        self.assertEqual(sorted(failed), [
            ("arn:aws:ecs:us-east-1:123456789012:service/prod/api", "ECSREV-CHANGE-EXPOSURE"),
            ("arn:aws:ecs:us-east-1:123456789012:service/prod/web", "ECS.2"),
        ])
        self.assertEqual(int(root.get("failures")), 2)
        for s in suites:
            self.assertEqual(int(s.get("tests")), rules)
            self.assertEqual(int(s.get("failures")),
                             len([c for c in s.findall("testcase") if c.find("failure") is not None]))
        failure = [c for c in cases if c.find("failure") is not None][0].find("failure")
        self.assertIn(failure.get("type"), ("low", "medium", "high", "critical"))
        self.assertIn("Remediation:", failure.text)

    def test_text_and_markdown(self):
        self.load_mixed()
        r = self.run_cli("audit")
        self.assertEqual(r.code, 1, r)
        web = r.out.index("service/prod/web\n")
        api = r.out.index("service/prod/api\n")
        self.assertLess(api, web)  # grouped by service
        web_part = r.out[web:]
        self.assertLess(web_part.index("high"), web_part.index("medium"))  # most severe first
        self.assertIn("fix: ", r.out)
        r = self.run_cli("audit", "--format", "markdown")
        self.assertEqual(r.code, 1, r)
        self.assertTrue(r.out.startswith("# ecsrev audit report"))
        self.assertIn("| Severity | Rule | Revision | Path | Value | Message |", r.out)
        self.assertIn("## arn:aws:ecs:us-east-1:123456789012:service/prod/web", r.out)

    # ---- --fetch ----

    def test_fetch_then_audit(self):
        if self.run_cli("fetch", "--help").code != 0:
            self.skipTest("fetch is not in this build")
        sys.path.insert(0, os.path.join(SOURCE, "tests", "support"))
        from fake_ecs_harness import FakeEcs, scenario_path
        with FakeEcs(scenario_path("basic.json")) as ecs:
            env = ecs.env(dict(self.env))
            r = self.run_cli("audit", "--fetch", "--cluster", "prod", "--service", "web",
                             "--format", "json", env=env)
        self.assertIn(r.code, (0, 1), r)
        doc = json.loads(r.out)  # nothing but the report on stdout
        self.assertEqual(doc["summary"]["services"], 1)
        self.assertIn("ECSREV-GUARDDUTY-OFF", [f["ruleId"] for f in doc["findings"]])

    def test_fetch_with_profile_region_and_endpoint(self):
        if self.run_cli("fetch", "--help").code != 0:
            self.skipTest("fetch is not in this build")
        sys.path.insert(0, os.path.join(SOURCE, "tests", "support"))
        from fake_ecs_harness import DEFAULT_AKID, DEFAULT_SECRET, FakeEcs, scenario_path
        config = self.write("config", "[profile audit]\naws_access_key_id = %s\n"
                                      "aws_secret_access_key = %s\n" % (DEFAULT_AKID,
                                                                         DEFAULT_SECRET))
        with FakeEcs(scenario_path("basic.json")) as ecs:
            env = ecs.env(dict(self.env), with_credentials=False)
            # nothing in the environment points at the fake: the options must reach fetch
            for key in ("AWS_ENDPOINT_URL", "AWS_REGION"):
                env.pop(key)
            env["AWS_CONFIG_FILE"] = config
            r = self.run_cli("audit", "--fetch", "--cluster", "prod", "--service", "web",
                             "--profile", "audit", "--region", "us-east-1",
                             "--endpoint-url", ecs.url, "--format", "json", env=env)
            self.assertIn(r.code, (0, 1), r)
            self.assertEqual(json.loads(r.out)["summary"]["services"], 1)
            self.assertGreater(ecs.stats()["calls"].get("DescribeServiceRevisions", 0), 0)
        r = self.fails(2, "audit", "--profile", "audit")
        self.assertIn("--profile goes with --fetch", r.err)

    def test_all_services_flag(self):
        # the README's scheduled audit spells the default out, as fetch does
        self.ok("import", "--quiet", data("revisions", "full-api.json"))
        a = self.run_cli("audit", "--format", "json")
        b = self.run_cli("audit", "--all-services", "--format", "json")
        self.assertEqual(a.code, b.code, b)
        self.assertEqual(json.loads(a.out)["summary"], json.loads(b.out)["summary"])
        r = self.fails(2, "audit", "--all-services", "--service", "web")
        self.assertIn("--all-services and --service exclude each other", r.err)


if __name__ == "__main__":
    unittest.main()
