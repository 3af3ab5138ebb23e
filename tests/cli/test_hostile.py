"""Hostile endpoints: `ecsrev fetch` against a fake ECS that misbehaves.

Each test points the real binary (ECSREV_BIN) at tests/support/fake_ecs.py with
one kind of bad answer injected (garbage, huge, cut, reset, silent, slow, the
wrong JSON shape, duplicate or conflicting revisions) and small timeouts, and
checks that the fetch
  - ends in bounded wall time,
  - exits 2 (or 1 when the rest of the data is fine and the bad part is
    reported per ARN),
  - says what went wrong on stderr: one line "ecsrev: <Operation>: <problem>"
    (exit 2) or one line per ARN "ecsrev: <arn>: <REASON>: <detail>" (exit 1),
  - keeps its memory bounded (peak RSS of the child, from wait4()),
  - leaves a store that `ecsrev verify` accepts and whose `ecsrev export`
    holds only whole, valid revisions equal to what the endpoint really has;
    batches stored before the error stay stored.
Nothing reaches the internet; everything runs on 127.0.0.1.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ecsrevtest import BIN, SOURCE, CliTest  # noqa: E402

sys.path.insert(0, os.path.join(SOURCE, "tests", "support"))
from fake_ecs_harness import FakeEcs, call, scenario_path  # noqa: E402

SCENARIO = scenario_path("hostile-web.json")
TIMEOUTS = ("--read-timeout", "2", "--connect-timeout", "2", "--max-attempts", "2")
DSR = "DescribeServiceRevisions"
DSD = "DescribeServiceDeployments"
LSD = "ListServiceDeployments"


def _asan_build():
    try:
        with open(BIN, "rb") as fh:
            return b"__asan_init" in fh.read()
    except OSError:
        return False


# Peak RSS allowed for the fetch. ASan adds shadow memory and a quarantine of
# freed blocks, so its bound is looser; both stay far below what the unbounded
# cases used (0.5 GB for 8 huge answers at once, 2.3 GB for a 60 MB JSON array).
RSS_LIMIT_MB = 300 if _asan_build() else 200


class Run:
    """Outcome of one child process: code, out, err, seconds, rss_mb."""

    def __init__(self, code, out, err, seconds, rss_mb):
        self.code, self.out, self.err = code, out, err
        self.seconds, self.rss_mb = seconds, rss_mb

    def lines(self):
        return [line for line in self.err.splitlines() if line.strip()]

    def __repr__(self):
        return ("exit %s after %.1f s, peak RSS %d MB\nstdout: %s\nstderr: %s"
                % (self.code, self.seconds, self.rss_mb, self.out[:1500], self.err[:3000]))


def run_measured(args, env, limit=60.0):
    """Run a command, killing it after @limit seconds; peak RSS via wait4()."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)
        killed = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                break
            if time.monotonic() - start > limit and not killed:
                proc.kill()
                killed = True
            time.sleep(0.01)
        seconds = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        code = "killed after %.0f s" % limit if killed else proc.returncode
        return Run(code, out.read().decode(errors="replace"), err.read().decode(errors="replace"),
                   seconds, usage.ru_maxrss // 1024)


class HostileTest(CliTest):
    """self.hostile(...) runs one fetch against a misbehaving endpoint and checks it."""

    def fetch(self, ecs, *args, service="web", extra=TIMEOUTS, concurrency="1", limit=60.0):
        argv = [BIN, "fetch", "--store", self.store, "--endpoint-url", ecs.url,
                "--cluster", "prod"]
        if service:
            argv += ["--service", service]
        argv += ["--concurrency", concurrency] + list(extra) + list(args)
        return run_measured(argv, ecs.env(self.env), limit)

    def truth(self, ecs, service):
        """{arn: document} of every revision the endpoint really has for a service."""
        ecs.control("clearFaults")
        status, _, page = call(ecs.port, LSD, {"cluster": "prod", "service": service,
                                               "maxResults": 100})
        self.assertEqual(status, 200, page)
        deps = [d["serviceDeploymentArn"] for d in page["serviceDeployments"]]
        arns = set()
        for i in range(0, len(deps), 20):
            _, _, ans = call(ecs.port, DSD, {"serviceDeploymentArns": deps[i:i + 20]})
            for d in ans["serviceDeployments"]:
                arns.add(d["targetServiceRevision"]["arn"])
                arns.update(s["arn"] for s in d["sourceServiceRevisions"])
        docs = {}
        arns = sorted(arns)
        for i in range(0, len(arns), 20):
            _, _, ans = call(ecs.port, DSR, {"serviceRevisionArns": arns[i:i + 20]})
            docs.update((r["serviceRevisionArn"], r) for r in ans["serviceRevisions"])
        return docs

    def check_store(self, ecs, service, stored):
        """verify passes; export holds exactly @stored revisions, each equal to the real one."""
        truth = self.truth(ecs, service)
        if not os.path.exists(self.store):
            self.assertEqual(stored, 0)
            return []
        r = self.run_cli("verify", "--store", self.store)
        self.assertEqual(r.code, 0, r)
        r = self.run_cli("export", "--store", self.store)
        self.assertEqual(r.code, 0, r)
        docs = [json.loads(line) for line in r.out.splitlines()]
        for doc in docs:
            real = truth.get(doc["serviceRevisionArn"])
            self.assertIsNotNone(real, "stored a revision the endpoint does not have: %s"
                                 % doc["serviceRevisionArn"])
            for key in ("serviceArn", "clusterArn", "taskDefinition", "containerImages"):
                self.assertEqual(doc.get(key), real.get(key), key)
            self.assertNotIn("padding", doc)
        self.assertEqual(len(docs), stored, [d["serviceRevisionArn"] for d in docs])
        return [d["serviceRevisionArn"] for d in docs]

    def assertBounded(self, r, seconds, rss_mb=None):
        self.assertLess(r.seconds, seconds, r)
        self.assertLess(r.rss_mb, rss_mb or RSS_LIMIT_MB, r)

    def assertFatal(self, r, operation, *problems):
        """exit 2 and exactly one line: 'ecsrev: <operation>: ...<problems>...'."""
        self.assertEqual(r.code, 2, r)
        lines = r.lines()
        self.assertEqual(len(lines), 1, r)
        self.assertTrue(lines[0].startswith("ecsrev: %s: " % operation), r)
        for p in problems:
            self.assertIn(p, lines[0], r)

    def assertPartial(self, r, *failures):
        """exit 1 and one stderr line per failed ARN: (arn, REASON, text in the detail)."""
        self.assertEqual(r.code, 1, r)
        lines = r.lines()
        self.assertEqual(len(lines), len(failures), r)
        for arn, reason, detail in failures:
            match = [line for line in lines if line.startswith("ecsrev: %s: %s" % (arn, reason))]
            self.assertEqual(len(match), 1, "%s %s: %r" % (arn, reason, r))
            self.assertIn(detail, match[0], r)


# --------------------------------------------------------------------------
# Transport: garbage, huge, cut, reset, silent, slow
# --------------------------------------------------------------------------

class TransportTest(HostileTest):
    """bulk (45 revisions, 3 batches, --concurrency 1): batch 1 is answered
    properly, every later DescribeServiceRevisions call gets the fault. The
    fetch stops with exit 2 and batch 1 (20 revisions) stays stored, whole."""

    def second_batch_fails(self, fault, operation_problem, seconds=8, rss_mb=None,
                           extra=TIMEOUTS, **kw):
        with FakeEcs(SCENARIO) as ecs:
            ecs.fault(DSR, skip=1, count=-1, **fault)
            r = self.fetch(ecs, service="bulk", extra=extra, **kw)
            self.assertFatal(r, DSR, *operation_problem)
            self.assertBounded(r, seconds, rss_mb)
            self.check_store(ecs, "bulk", 20)
            return r

    def test_html_page(self):
        self.second_batch_fails({"type": "malformed", "variant": "html"},
                                ["malformed response (HTTP 200)", "(after 2 attempts)"])

    def test_binary_body(self):
        self.second_batch_fails({"type": "malformed", "variant": "binary"},
                                ["malformed response (HTTP 200): invalid UTF-8"])

    def test_garbage_and_empty(self):
        self.second_batch_fails({"type": "malformed", "variant": "garbage"},
                                ["malformed response"])
        shutil.rmtree(self.store)
        self.second_batch_fails({"type": "malformed", "variant": "empty"},
                                ["malformed response"])

    def test_huge_body_300mb_never_ending_json(self):
        r = self.second_batch_fails({"type": "malformed", "variant": "huge"},
                                    ["response larger than 64 MiB"])
        self.assertNotIn("after 2 attempts", r.err)  # over the cap: not retried

    def test_huge_content_length(self):
        # Content-Length: 300 MB announced: refused before reading the body.
        r = self.second_batch_fails({"type": "malformed", "variant": "hugeLength"},
                                    ["response larger than 64 MiB"], seconds=5)
        self.assertLess(r.rss_mb, 60 if RSS_LIMIT_MB == 200 else RSS_LIMIT_MB, r)

    def test_huge_bodies_in_parallel(self):
        # Every batch answered with a 300 MB body, 8 requests in flight: the
        # cap holds for all of them together, not 8 x 64 MiB.
        with FakeEcs(SCENARIO) as ecs:
            ecs.fault(DSR, "malformed", variant="huge", count=-1)
            r = self.fetch(ecs, service="bulk", concurrency="8")
            self.assertFatal(r, DSR, "larger than 64 MiB")
            self.assertBounded(r, 10)
            self.check_store(ecs, "bulk", 0)

    def test_huge_json_array(self):
        # 60 MB of valid JSON, [0,0,0,...]: 30 million tree nodes if parsed.
        self.second_batch_fails({"type": "malformed", "variant": "hugeArray"},
                                ["response too complex: more than 500000 JSON values"])

    def test_huge_header_block(self):
        self.second_batch_fails({"type": "malformed", "variant": "hugeHeaders"},
                                ["response headers larger than 64 KiB"])

    def test_cut_mid_body(self):
        self.second_batch_fails({"type": "malformed", "variant": "cut"},
                                ["transfer closed with", "(after 2 attempts)"])

    def test_reset_mid_body(self):
        self.second_batch_fails({"type": "malformed", "variant": "cutReset"},
                                ["(after 2 attempts)"])

    def test_connection_reset_before_answer(self):
        self.second_batch_fails({"type": "drop", "variant": "reset"}, ["(after 2 attempts)"])

    def test_connection_closed_before_answer(self):
        self.second_batch_fails({"type": "drop", "variant": "close"},
                                ["empty reply from server", "(after 2 attempts)"])

    def test_never_answers(self):
        # 2 attempts x 2 s read timeout + at most 1 s of backoff.
        r = self.second_batch_fails({"type": "hang"},
                                    ["no data for 2000 ms (read timeout)", "(after 2 attempts)"],
                                    seconds=9)
        self.assertGreater(r.seconds, 3.5, r)

    def test_one_byte_at_a_time(self):
        # A slow loris keeps the read timeout from firing; the total cap of
        # connect + 3 x read timeout (1 + 3 s) ends the request.
        r = self.second_batch_fails(
            {"type": "trickle", "intervalMs": 200},
            ["timed out"], seconds=8,
            extra=("--read-timeout", "1", "--connect-timeout", "1", "--max-attempts", "1"))
        self.assertGreater(r.seconds, 3.5, r)


# --------------------------------------------------------------------------
# The wrong JSON shape
# --------------------------------------------------------------------------

class ShapeTest(HostileTest):

    def test_revisions_not_an_array(self):
        with FakeEcs(SCENARIO) as ecs:
            ecs.fault(DSR, "shape", variant="notArray", skip=1, count=-1)
            r = self.fetch(ecs, service="bulk")
            self.assertFatal(r, DSR, "malformed response: serviceRevisions is not an array")
            self.assertBounded(r, 5)
            self.check_store(ecs, "bulk", 20)

    def test_failures_not_a_list(self):
        with FakeEcs(SCENARIO) as ecs:
            ecs.fault(DSR, "shape", variant="notArray", member="failures", skip=1, count=-1)
            r = self.fetch(ecs, service="bulk")
            self.assertFatal(r, DSR, "malformed response: failures is not an array")
            self.check_store(ecs, "bulk", 20)

    def test_revisions_double_encoded(self):
        # serviceRevisions: ["{\"serviceRevisionArn\": ...}", ...]: nothing
        # usable, every requested ARN is reported.
        with FakeEcs(SCENARIO) as ecs:
            ecs.fault(DSR, "shape", variant="elementNotObject", count=-1)
            r = self.fetch(ecs)
            arns = sorted(self.truth(ecs, "web"))
            self.assertPartial(r, *[(a, "NOT_RETURNED", DSR) for a in arns])
            self.assertBounded(r, 5)
            self.check_store(ecs, "web", 0)

    def test_revision_with_wrong_member_types(self):
        with FakeEcs(SCENARIO) as ecs:
            ecs.fault(DSR, "shape", variant="wrongTypes", index=2, count=-1)
            r = self.fetch(ecs)
            arns = sorted(self.truth(ecs, "web"))
            self.assertPartial(r, (arns[2], "INVALID", ""))
            stored = self.check_store(ecs, "web", 4)
            self.assertNotIn(arns[2], stored)

    def test_listing_without_deployment_arns(self):
        with FakeEcs(SCENARIO) as ecs:
            ecs.fault(LSD, "shape", variant="missingArns", count=-1)
            r = self.fetch(ecs)
            self.assertFatal(r, LSD, "entry without serviceDeploymentArn")
            self.check_store(ecs, "web", 0)

    def test_listing_with_wrong_types(self):
        with FakeEcs(SCENARIO) as ecs:
            ecs.fault(LSD, "shape", variant="wrongTypes", count=-1)
            r = self.fetch(ecs)
            self.assertFatal(r, LSD, "malformed response")
            self.check_store(ecs, "web", 0)

    def deployment_arns(self, ecs):
        _, _, page = call(ecs.port, LSD, {"cluster": "prod", "service": "web"})
        return sorted(d["serviceDeploymentArn"] for d in page["serviceDeployments"])

    def test_described_deployments_without_arns(self):
        with FakeEcs(SCENARIO) as ecs:
            deps = self.deployment_arns(ecs)
            ecs.fault(DSD, "shape", variant="missingArns", count=-1)
            r = self.fetch(ecs)
            self.assertPartial(r, *[(d, "NOT_RETURNED", DSD) for d in deps])
            self.check_store(ecs, "web", 0)

    def test_deployments_without_revision_arns(self):
        with FakeEcs(SCENARIO) as ecs:
            deps = self.deployment_arns(ecs)
            ecs.fault(DSD, "shape", variant="missingRevisionArns", count=-1)
            r = self.fetch(ecs)
            self.assertPartial(r, *[(d, "INVALID", "ServiceRevision") for d in deps])
            self.check_store(ecs, "web", 0)

    def test_deployment_with_wrong_member_types(self):
        # The newest deployment (target = revision 5, source = revision 4) is
        # unusable; the other four still name revisions 1..4.
        with FakeEcs(SCENARIO) as ecs:
            _, _, page = call(ecs.port, LSD, {"cluster": "prod", "service": "web"})
            newest = page["serviceDeployments"][0]["serviceDeploymentArn"]
            ecs.fault(DSD, "shape", variant="wrongTypes", count=-1)
            r = self.fetch(ecs)
            self.assertPartial(r, (newest, "INVALID", "sourceServiceRevisions: not an array"))
            self.check_store(ecs, "web", 4)

    def test_next_token_loops(self):
        # Every page of ListServiceDeployments carries the same nextToken.
        with FakeEcs(SCENARIO) as ecs:
            ecs.fault(LSD, "shape", variant="loopToken", count=-1)
            r = self.fetch(ecs)
            self.assertFatal(r, LSD, "nextToken repeats a token already used")
            self.assertBounded(r, 5)
            self.assertEqual(ecs.stats()["calls"][LSD], 2)
            self.check_store(ecs, "web", 0)

    def test_next_token_never_ends(self):
        # Every page brings a new nextToken (leading back to the first page):
        # no token repeats, yet the listing would never end.
        with FakeEcs(SCENARIO) as ecs:
            ecs.fault(LSD, "shape", variant="freshToken", count=-1)
            r = self.fetch(ecs)
            self.assertFatal(r, LSD, "still a nextToken after 1000 pages")
            self.assertBounded(r, 60)
            self.assertEqual(ecs.stats()["calls"][LSD], 1000)
            self.check_store(ecs, "web", 0)

    def test_list_services_token_loops(self):
        with FakeEcs(SCENARIO) as ecs:
            ecs.fault("ListServices", "shape", variant="loopToken", count=-1)
            r = self.fetch(ecs, "--all-services", service=None)
            self.assertFatal(r, "ListServices", "nextToken repeats a token already used")
            self.assertBounded(r, 5)
            self.assertEqual(ecs.stats()["calls"]["ListServices"], 2)


# --------------------------------------------------------------------------
# Duplicate and conflicting revisions
# --------------------------------------------------------------------------

class ConflictTest(HostileTest):

    def test_same_revision_twice_identical(self):
        with FakeEcs(SCENARIO) as ecs:
            ecs.fault(DSR, "shape", variant="duplicate", count=-1)
            r = self.fetch(ecs)
            self.assertEqual(r.code, 0, r)
            self.assertEqual(r.lines(), [], r)
            self.check_store(ecs, "web", 5)

    def test_same_revision_twice_different_content(self):
        with FakeEcs(SCENARIO) as ecs:
            ecs.fault(DSR, "shape", variant="conflict", index=1, count=-1)
            r = self.fetch(ecs)
            arns = sorted(self.truth(ecs, "web"))
            self.assertPartial(r, (arns[1], "CONFLICT", "twice with different content"))
            stored = self.check_store(ecs, "web", 4)
            self.assertNotIn(arns[1], stored)
            # a re-run against an honest endpoint completes the store
            r = self.fetch(ecs)
            self.assertEqual(r.code, 0, r)
            self.check_store(ecs, "web", 5)

    def test_revision_arn_other_than_requested(self):
        with FakeEcs(SCENARIO) as ecs:
            ecs.fault(DSR, "shape", variant="wrongArn", index=0, count=-1)
            r = self.fetch(ecs)
            arns = sorted(self.truth(ecs, "web"))
            lines = r.lines()
            self.assertEqual(r.code, 1, r)
            self.assertEqual(len(lines), 2, r)
            self.assertIn("ecsrev: %s: NOT_RETURNED: %s" % (arns[0], DSR), r.err)
            unexpected = [x for x in lines if ": UNEXPECTED: " in x]
            self.assertEqual(len(unexpected), 1, r)
            self.assertIn("not requested; not stored", unexpected[0])
            stored = self.check_store(ecs, "web", 4)
            self.assertNotIn(arns[0], stored)

    def test_revision_of_another_service(self):
        # The requested ARN, but serviceArn names prod/intruder.
        with FakeEcs(SCENARIO) as ecs:
            ecs.fault(DSR, "shape", variant="foreignService", index=3, count=-1)
            r = self.fetch(ecs)
            arns = sorted(self.truth(ecs, "web"))
            self.assertPartial(r, (arns[3], "INVALID", "serviceArn names another service"))
            self.check_store(ecs, "web", 4)

    def test_unrequested_revision_slipped_in(self):
        with FakeEcs(SCENARIO) as ecs:
            ecs.fault(DSR, "shape", variant="extraRevision", count=-1)
            r = self.fetch(ecs)
            self.assertEqual(r.code, 1, r)
            lines = r.lines()
            self.assertEqual(len(lines), 1, r)
            self.assertRegex(lines[0], r"^ecsrev: arn:aws:ecs:us-east-1:123456789012:"
                             r"service-revision/prod/intruder/\d+: UNEXPECTED: ")
            self.check_store(ecs, "web", 5)

    def test_scenario_with_conflict_and_intruder(self):
        with FakeEcs(scenario_path("hostile-conflict.json")) as ecs:
            r = self.fetch(ecs)
            self.assertEqual(r.code, 1, r)
            reasons = sorted(line.split(": ")[2] for line in r.lines())
            self.assertEqual(reasons, ["CONFLICT", "UNEXPECTED"], r)
            self.check_store(ecs, "web", 4)

    def test_enormous_revision(self):
        # A requested revision with a 60 MB string member: valid JSON, valid
        # document, refused as INVALID without copying it around.
        with FakeEcs(SCENARIO) as ecs:
            ecs.fault(DSR, "malformed", variant="hugeRevision", size=60000000, count=-1)
            r = self.fetch(ecs)
            arns = sorted(self.truth(ecs, "web"))
            self.assertPartial(r, (arns[0], "INVALID", "revision larger than 1 MiB"))
            self.assertBounded(r, 10)
            self.check_store(ecs, "web", 4)


if __name__ == "__main__":
    unittest.main(verbosity=2)
