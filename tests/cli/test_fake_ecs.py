#!/usr/bin/env python3
"""Tests of the fake ECS endpoint (tests/support/fake_ecs.py) itself.

Standard library only; botocore and the aws CLI are used when present and the
tests that need them are skipped otherwise. Every server runs on 127.0.0.1 on a
free port and is killed in tearDown.
"""

import concurrent.futures
import datetime
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

SOURCE_DIR = os.environ.get(
    "ECSREV_SOURCE_DIR",
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SUPPORT = os.path.join(SOURCE_DIR, "tests", "support")
sys.path.insert(0, SUPPORT)

import fake_ecs  # noqa: E402
from fake_ecs_harness import (DEFAULT_AKID, DEFAULT_SECRET, FakeEcs, call,  # noqa: E402
                              scenario_path, sign_headers)

SHARED_AWS = os.path.normpath(os.path.join(SOURCE_DIR, "..", "shared", "aws"))
WORKED = os.path.join(SHARED_AWS, "ecs-sigv4-worked-examples.json")
TESTSUITE = os.path.join(SHARED_AWS, "sigv4-testsuite", "botocore-aws4_testsuite")
EXAMPLES = os.path.join(SOURCE_DIR, "examples")
ACCOUNT = "123456789012"
REV = f"arn:aws:ecs:us-east-1:{ACCOUNT}:service-revision/prod/web/"
DEP = f"arn:aws:ecs:us-east-1:{ACCOUNT}:service-deployment/prod/web/"

try:
    import botocore.session  # noqa: F401
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    HAVE_BOTOCORE = True
except ImportError:
    HAVE_BOTOCORE = False


def epoch(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# --------------------------------------------------------------------------
# The verifier on its own (no server)
# --------------------------------------------------------------------------

class VerifierTest(unittest.TestCase):
    NOW = epoch("2015-08-30T12:36:00Z")

    def example_request(self, ex):
        headers = [(k, v) for k, v in ex["request_headers"].items()]
        headers.append(("Host", "ecs.us-west-2.amazonaws.com"))
        headers.append(("X-Amz-Date", ex["x_amz_date"]))
        if ex["session_token"]:
            headers.append(("X-Amz-Security-Token", ex["session_token"]))
        headers.append(("Authorization", ex["authorization"]))
        creds = [{"accessKeyId": ex["access_key_id"],
                  "secretAccessKey": ex["secret_access_key"],
                  "sessionToken": ex["session_token"]}]
        return headers, ex["body"].encode(), creds

    @unittest.skipUnless(os.path.exists(WORKED), "worked examples not present")
    def test_worked_examples_accepted_and_tampering_rejected(self):
        with open(WORKED, encoding="utf-8") as fh:
            examples = json.load(fh)["examples"]
        self.assertEqual(len(examples), 2)
        for ex in examples:
            with self.subTest(ex["name"]):
                headers, body, creds = self.example_request(ex)
                # pieces reproduced exactly
                self.assertEqual(fake_ecs.signing_key(
                    ex["secret_access_key"], ex["x_amz_date"][:8], ex["region"],
                    "ecs").hex(), ex["signing_key_hex"])
                self.assertEqual(fake_ecs.canonical_request(
                    "POST", "/", "", headers, ex["signed_headers"].split(";"), body),
                    ex["canonical_request"])
                self.assertEqual(fake_ecs.verify_sigv4(
                    "POST", "/", headers, body, creds, ex["region"], self.NOW, 900),
                    "AKIDEXAMPLE")
                # the harness signer reproduces the same Authorization header
                signed = sign_headers("ecs.us-west-2.amazonaws.com",
                                      ex["request_headers"]["X-Amz-Target"].split(".")[1],
                                      body, ex["access_key_id"], ex["secret_access_key"],
                                      ex["region"], ex["session_token"], ex["x_amz_date"])
                self.assertEqual(signed["authorization"], ex["authorization"])
                # one changed byte anywhere → rejected
                with self.assertRaises(fake_ecs.ApiError) as cm:
                    fake_ecs.verify_sigv4("POST", "/", headers, body + b" ", creds,
                                          ex["region"], self.NOW, 900)
                self.assertEqual(cm.exception.error_type, "InvalidSignatureException")
                self.assertEqual(cm.exception.status, 403)
                self.assertIn(ex["canonical_request"].split("\n")[-2],
                              cm.exception.message)
                wrong = [dict(c, secretAccessKey="x" + c["secretAccessKey"]) for c in creds]
                with self.assertRaises(fake_ecs.ApiError) as cm:
                    fake_ecs.verify_sigv4("POST", "/", headers, body, wrong,
                                          ex["region"], self.NOW, 900)
                self.assertEqual(cm.exception.error_type, "InvalidSignatureException")
                self.assertNotIn(ex["secret_access_key"], cm.exception.message)

    @unittest.skipUnless(os.path.exists(WORKED), "worked examples not present")
    def test_scope_time_and_token_checks(self):
        with open(WORKED, encoding="utf-8") as fh:
            with_token = json.load(fh)["examples"][1]
        headers, body, creds = self.example_request(with_token)

        def reason(headers=headers, creds=creds, region="us-west-2", now=self.NOW):
            try:
                fake_ecs.verify_sigv4("POST", "/", headers, body, creds, region, now, 900)
            except fake_ecs.ApiError as err:
                return err.error_type, err.message
            return None, None

        self.assertEqual(reason(), (None, None))
        self.assertIn("valid region", reason(region="us-east-1")[1])
        self.assertIn("Signature expired", reason(now=self.NOW + 901)[1])
        self.assertIn("not yet current", reason(now=self.NOW - 901)[1])
        self.assertEqual(reason(now=self.NOW + 899), (None, None))
        no_token = [h for h in headers if h[0] != "X-Amz-Security-Token"]
        self.assertEqual(reason(headers=no_token)[0], "UnrecognizedClientException")
        other = [dict(c, sessionToken="other") for c in creds]
        self.assertEqual(reason(creds=other)[0], "UnrecognizedClientException")
        unknown = [dict(c, accessKeyId="AKIDOTHER") for c in creds]
        self.assertEqual(reason(creds=unknown)[0], "UnrecognizedClientException")
        no_auth = [h for h in headers if h[0] != "Authorization"]
        self.assertEqual(reason(headers=no_auth)[0], "MissingAuthenticationTokenException")
        garbled = [(n, v.replace("Signature=", "Sig=")) for n, v in headers]
        self.assertEqual(reason(headers=garbled)[0], "InvalidSignatureException")

    @unittest.skipUnless(os.path.isdir(TESTSUITE), "sigv4 testsuite not present")
    def test_official_testsuite_signed_requests(self):
        creds = [{"accessKeyId": "AKIDEXAMPLE",
                  "secretAccessKey": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                  "sessionToken": None}]
        checked = 0
        for case in sorted(os.listdir(TESTSUITE)):
            sreq = os.path.join(TESTSUITE, case, case + ".sreq")
            if not os.path.exists(sreq):
                continue
            with open(sreq, "rb") as fh:
                raw = fh.read()
            head, _, body = raw.partition(b"\n\n")
            lines = head.decode("utf-8").split("\n")
            # the .sreq Authorization lines are not all right; .authz is the reference
            with open(os.path.join(TESTSUITE, case, case + ".authz"), encoding="utf-8") as fh:
                authz = fh.read().strip()
            lines = [x for x in lines if not x.lower().startswith("authorization:")]
            lines.append("Authorization: " + authz)
            if any(line[:1] in (" ", "\t") for line in lines[1:]):
                continue  # folded header lines: not HTTP/1.1 we can receive
            method, rest = lines[0].split(" ", 1)
            target = rest.rsplit(" ", 1)[0]
            headers = [tuple(x.strip() if i == 0 else x.lstrip()
                             for i, x in enumerate(line.split(":", 1))) for line in lines[1:]]
            case_creds = creds
            token = dict((n.lower(), v) for n, v in headers).get("x-amz-security-token")
            if token:
                case_creds = [dict(creds[0], sessionToken=token.strip())]
            if any(ord(c) > 127 for c in target):
                continue  # raw UTF-8 in the request line: never on the wire
            with self.subTest(case):
                fake_ecs.verify_sigv4(method, target, headers, body, case_creds,
                                      "us-east-1", self.NOW, 900, service="service")
                checked += 1
        self.assertGreaterEqual(checked, 20)

    @unittest.skipUnless(HAVE_BOTOCORE, "botocore not installed")
    def test_botocore_signatures_accepted(self):
        for token in (None, "FQoGZXIvYXdzEXAMPLE//token+with/slashes="):
            with self.subTest(token=token):
                body = json.dumps({"serviceRevisionArns": [REV + "1"]}).encode()
                req = AWSRequest(method="POST", url="http://127.0.0.1:4566/", data=body,
                                 headers={"Content-Type": "application/x-amz-json-1.1",
                                          "X-Amz-Target": "AmazonEC2ContainerServiceV20141113."
                                                          "DescribeServiceRevisions"})
                SigV4Auth(Credentials("AKIDEXAMPLE", "secret/with+chars", token),
                          "ecs", "us-east-1").add_auth(req)
                headers = list(req.headers.items()) + [("Host", "127.0.0.1:4566")]
                creds = [{"accessKeyId": "AKIDEXAMPLE", "secretAccessKey": "secret/with+chars",
                          "sessionToken": token}]
                fake_ecs.verify_sigv4("POST", "/", headers, body, creds, "us-east-1",
                                      time.time(), 900)
                with self.assertRaises(fake_ecs.ApiError):
                    fake_ecs.verify_sigv4("POST", "/", headers, body.replace(b"1", b"2"),
                                          creds, "us-east-1", time.time(), 900)


class ScenarioLoadingTest(unittest.TestCase):
    def run_server(self, text):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "s.json")
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
            return subprocess.run([sys.executable, os.path.join(SUPPORT, "fake_ecs.py"),
                                   "--scenario", path, "--port", "0"],
                                  capture_output=True, text=True, timeout=30)

    def test_bad_scenarios_exit_2_with_one_line(self):
        cases = {
            "{": "bad JSON",
            "[]": "must be a JSON object",
            '{"clusters": {"c": {"services": {"s": {"revisions": [{"taskDefinition": "x"}]}}}}}':
                "serviceRevisionArn missing",
            '{"clusters": {"c": {"services": {"s": {"revisions": [{"serviceRevisionArn": "1",'
            ' "createdAt": "yesterday"}]}}}}}': "bad ISO 8601",
            '{"faults": [{"type": "explode"}]}': "type must be one of",
            '{"account": "12"}': "account must be 12 digits",
        }
        for text, needle in cases.items():
            with self.subTest(text):
                proc = self.run_server(text)
                self.assertEqual(proc.returncode, 2)
                self.assertIn(needle, proc.stderr)
                self.assertEqual(len(proc.stderr.strip().splitlines()), 1)
                self.assertEqual(proc.stdout, "")

    def test_timestamps_served_as_epoch_numbers(self):
        world, _, _ = fake_ecs.load_scenario(scenario_path("basic.json"))
        rev = world.revisions[REV + "1000000000000000001"]
        self.assertEqual(rev["createdAt"], epoch("2026-03-01T10:00:00.125Z"))
        self.assertEqual(rev["serviceArn"], f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/prod/web")
        dep = world.deployments[DEP + "WebDeploy000000000003"]
        self.assertEqual(dep["rollback"]["serviceRevisionArn"], REV + "1000000000000000002")
        self.assertEqual(dep["rollback"]["startedAt"], epoch("2026-03-03T10:08:00Z"))

    def test_generate_is_deterministic_and_chained(self):
        a, _, _ = fake_ecs.load_scenario(scenario_path("bulk45.json"))
        b, _, _ = fake_ecs.load_scenario(scenario_path("bulk45.json"))
        self.assertEqual(sorted(a.revisions), sorted(b.revisions))
        svc = a.clusters["prod"].services["bulk"]
        self.assertEqual(len(svc.revisions), 45)
        self.assertEqual(len(svc.deployments), 45)
        newest, older = svc.deployments[0], svc.deployments[1]
        self.assertEqual(newest["sourceServiceRevisions"][0]["arn"],
                         older["targetServiceRevision"]["arn"])
        self.assertEqual(svc.deployments[-1]["sourceServiceRevisions"], [])


# --------------------------------------------------------------------------
# The running server
# --------------------------------------------------------------------------

class ServerTest(unittest.TestCase):
    SCENARIO = "basic.json"
    KW = {}

    def setUp(self):
        self.ecs = FakeEcs(scenario_path(self.SCENARIO), **self.KW).start()
        self.addCleanup(self.ecs.stop)

    def call(self, op, params, **kw):
        return call(self.ecs.port, op, params, **kw)

    def ok(self, op, params, **kw):
        status, headers, body = self.call(op, params, **kw)
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["content-type"], "application/x-amz-json-1.1")
        self.assertIn("x-amzn-requestid", headers)
        return body

    def error(self, op, params, status=400, **kw):
        got, headers, body = self.call(op, params, **kw)
        self.assertEqual(got, status, body)
        self.assertEqual(headers.get("x-amzn-errortype"), body["__type"])
        self.assertIsInstance(body["message"], str)
        return body["__type"]


class ProtocolTest(ServerTest):
    def test_startup_line_and_health(self):
        proc = subprocess.Popen([sys.executable, os.path.join(SUPPORT, "fake_ecs.py"),
                                 "--scenario", scenario_path("basic.json")],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            line = proc.stdout.readline()
            self.assertRegex(line, r"^listening on http://127\.0\.0\.1:\d+\n$")
            port = int(line.rsplit(":", 1)[1])
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/__health")
            self.assertEqual(conn.getresponse().read(), b"ok\n")
            conn.close()
        finally:
            proc.kill()
            proc.wait(timeout=10)
            proc.stdout.close()

    def test_list_services_and_cluster_errors(self):
        body = self.ok("ListServices", {"cluster": "prod"})
        self.assertEqual(body["serviceArns"], [
            f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/prod/web",
            f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/prod/worker"])
        self.assertNotIn("nextToken", body)
        arn = self.ok("ListServices", {"cluster": f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/prod"})
        self.assertEqual(arn["serviceArns"], body["serviceArns"])
        self.assertEqual(self.ok("ListServices", {"cluster": "staging"}), {"serviceArns": []})
        self.assertEqual(self.error("ListServices", {"cluster": "nope"}),
                         "ClusterNotFoundException")
        self.assertEqual(self.error("ListServices", {}), "ClusterNotFoundException")

    def test_list_deployments_newest_first_paginated(self):
        seen, token, pages = [], None, 0
        while True:
            params = {"cluster": "prod", "service": "web", "maxResults": 2}
            if token:
                params["nextToken"] = token
            body = self.ok("ListServiceDeployments", params)
            pages += 1
            seen += body["serviceDeployments"]
            token = body.get("nextToken")
            if not token:
                break
        self.assertEqual(pages, 2)
        self.assertEqual([d["serviceDeploymentArn"].rsplit("/", 1)[1] for d in seen],
                         ["WebDeploy000000000003", "WebDeploy000000000002",
                          "WebDeploy000000000001"])
        first = seen[0]
        self.assertEqual(first["targetServiceRevisionArn"], REV + "1000000000000000003")
        self.assertEqual(first["status"], "ROLLBACK_SUCCESSFUL")
        self.assertIsInstance(first["createdAt"], float)
        self.assertEqual(first["createdAt"], epoch("2026-03-03T10:00:00Z"))
        self.assertEqual(set(first) - set(fake_ecs.BRIEF_KEYS), set())

    def test_list_deployments_filters_and_errors(self):
        def arns(params):
            body = self.ok("ListServiceDeployments", dict(params, cluster="prod"))
            return [d["serviceDeploymentArn"][-1] for d in body["serviceDeployments"]]

        self.assertEqual(arns({"service": "web"}), ["3", "2", "1"])
        self.assertEqual(arns({"service": "web",
                               "createdAt": {"after": epoch("2026-03-02T00:00:00Z")}}),
                         ["3", "2"])
        self.assertEqual(arns({"service": "web",
                               "createdAt": {"before": epoch("2026-03-02T12:00:00Z")}}),
                         ["2", "1"])
        self.assertEqual(arns({"service": "web", "status": ["SUCCESSFUL"]}), ["2", "1"])
        by_arn = self.ok("ListServiceDeployments", {
            "service": f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/prod/web"})
        self.assertEqual(len(by_arn["serviceDeployments"]), 3)
        self.assertEqual(self.error("ListServiceDeployments", {"service": "web"}),
                         "ClusterNotFoundException")
        self.assertEqual(self.error("ListServiceDeployments",
                                    {"cluster": "prod", "service": "nope"}),
                         "ServiceNotFoundException")
        self.assertEqual(self.error("ListServiceDeployments", {"cluster": "prod"}),
                         "InvalidParameterException")
        for bad in (0, 101, "5"):
            self.assertEqual(self.error("ListServiceDeployments",
                                        {"cluster": "prod", "service": "web",
                                         "maxResults": bad}), "InvalidParameterException")
        self.assertEqual(self.error("ListServiceDeployments",
                                    {"cluster": "prod", "service": "web",
                                     "nextToken": "garbage"}), "InvalidParameterException")
        token = self.ok("ListServiceDeployments", {"cluster": "prod", "service": "web",
                                                   "maxResults": 1})["nextToken"]
        self.assertEqual(self.error("ListServiceDeployments",
                                    {"cluster": "prod", "service": "worker",
                                     "nextToken": token}), "InvalidParameterException")

    def test_describe_deployments(self):
        body = self.ok("DescribeServiceDeployments", {"serviceDeploymentArns": [
            DEP + "WebDeploy000000000003", DEP + "Nope"]})
        self.assertEqual(body["failures"], [{"arn": DEP + "Nope", "reason": "MISSING"}])
        dep = body["serviceDeployments"][0]
        self.assertEqual(dep["sourceServiceRevisions"][0]["arn"], REV + "1000000000000000002")
        self.assertEqual(dep["targetServiceRevision"]["arn"], REV + "1000000000000000003")
        self.assertEqual(dep["rollback"]["serviceRevisionArn"], REV + "1000000000000000002")
        self.assertEqual(dep["deploymentCircuitBreaker"]["status"], "TRIGGERED")
        self.assertEqual(self.error("DescribeServiceDeployments",
                                    {"serviceDeploymentArns": [DEP + "x"] * 21}),
                         "InvalidParameterException")
        self.assertEqual(self.error("DescribeServiceDeployments", {}),
                         "InvalidParameterException")

    def test_describe_revisions_batches_and_failures(self):
        arns = [REV + "1000000000000000002", REV + "404", REV + "1000000000000000001"]
        body = self.ok("DescribeServiceRevisions", {"serviceRevisionArns": arns})
        got = body["serviceRevisions"]
        self.assertEqual([r["serviceRevisionArn"] for r in got], [arns[0], arns[2]])
        self.assertEqual(got[0]["futureMember"], {"passedThrough": True})
        self.assertEqual(got[0]["createdAt"], 1772445600.5)
        self.assertEqual(got[1]["createdAt"], epoch("2026-03-01T10:00:00.125Z"))
        self.assertEqual(body["failures"], [{
            "arn": REV + "404", "reason": "MISSING",
            "detail": "The specified service revision does not exist."}])
        twenty = [REV + str(i) for i in range(20)]
        self.assertEqual(len(self.ok("DescribeServiceRevisions",
                                     {"serviceRevisionArns": twenty})["failures"]), 20)
        self.assertEqual(self.error("DescribeServiceRevisions",
                                    {"serviceRevisionArns": twenty + [REV + "x"]}),
                         "InvalidParameterException")
        self.assertEqual(self.error("DescribeServiceRevisions", {"serviceRevisionArns": []}),
                         "InvalidParameterException")

    def test_unknown_operation_and_bad_body(self):
        self.assertEqual(self.error("DeleteCluster", {"cluster": "prod"}),
                         "UnknownOperationException")
        status, headers, _ = self.call("ListServices", None, body=b"{not json")
        self.assertEqual((status, headers["x-amzn-errortype"]), (400, "SerializationException"))
        status, _, _ = self.call("ListServices", None, body=b"[1]")
        self.assertEqual(status, 400)

    def test_keep_alive_and_content_length(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.ecs.port, timeout=10)
        try:
            for _ in range(5):
                status, headers, _ = call(self.ecs.port, "ListServices", {"cluster": "prod"},
                                          conn=conn)
                self.assertEqual(status, 200)
                self.assertIn("content-length", headers)
            status, headers, _ = call(self.ecs.port, "ListServices", {"cluster": "x"},
                                      conn=conn)
            self.assertEqual(status, 400)
            self.assertIn("content-length", headers)
        finally:
            conn.close()
        stats = self.ecs.stats()
        self.assertEqual(stats["connections"], 2)  # the 6 calls + the stats request
        self.assertEqual(stats["calls"]["ListServices"], 6)

    def test_expect_100_continue_and_chunked(self):
        body = json.dumps({"serviceRevisionArns": [REV + str(10 ** 18 + 100 + i)
                                                   for i in range(20)]}).encode()
        self.assertGreater(len(body), 1024)
        headers = sign_headers(f"127.0.0.1:{self.ecs.port}", "DescribeServiceRevisions", body,
                               DEFAULT_AKID, DEFAULT_SECRET, "us-east-1")
        for mode in ("expect", "chunked"):
            with self.subTest(mode):
                sock = socket.create_connection(("127.0.0.1", self.ecs.port), timeout=10)
                try:
                    head = "POST / HTTP/1.1\r\n" + "".join(
                        f"{k}: {v}\r\n" for k, v in headers.items())
                    if mode == "expect":
                        head += f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n"
                        sock.sendall(head.encode())
                        self.assertTrue(sock.recv(100).startswith(b"HTTP/1.1 100"))
                        sock.sendall(body)
                    else:
                        head += "Transfer-Encoding: chunked\r\n\r\n"
                        half = len(body) // 2
                        sock.sendall(head.encode() + b"%x\r\n" % half + body[:half] + b"\r\n" +
                                     b"%x\r\n" % (len(body) - half) + body[half:] +
                                     b"\r\n0\r\n\r\n")
                    resp = http.client.HTTPResponse(sock)
                    resp.begin()
                    self.assertEqual(resp.status, 200)
                    self.assertEqual(resp.read().count(b"MISSING"), 20)
                finally:
                    sock.close()


class AuthTest(ServerTest):
    def test_wrong_secret_rejected_without_leaking(self):
        status, headers, body = self.call("ListServices", {"cluster": "prod"},
                                          secret_access_key="not-the-secret")
        self.assertEqual(status, 403)
        self.assertEqual(headers["x-amzn-errortype"], "InvalidSignatureException")
        self.assertEqual(body["__type"], "InvalidSignatureException")
        self.assertIn("signature we calculated does not match", body["message"])
        self.assertNotIn(DEFAULT_SECRET, json.dumps(body))
        self.assertNotIn("not-the-secret", json.dumps(body))
        stats = self.ecs.stats()
        self.assertEqual(stats["authFailures"], 1)
        self.assertEqual(stats["calls"], {"ListServices": 1})
        self.assertEqual(stats["succeeded"], {})

    def test_other_auth_failures(self):
        def err(**kw):
            status, headers, body = self.call("ListServices", {"cluster": "prod"}, **kw)
            self.assertEqual(status, 403)
            return headers["x-amzn-errortype"]

        self.assertEqual(err(access_key_id="AKIDUNKNOWN"), "UnrecognizedClientException")
        self.assertEqual(err(region="us-west-2"), "InvalidSignatureException")
        old = (datetime.datetime.now(datetime.timezone.utc) -
               datetime.timedelta(minutes=16)).strftime("%Y%m%dT%H%M%SZ")
        self.assertEqual(err(amz_date=old), "InvalidSignatureException")
        self.assertEqual(err(session_token="unexpected"), "UnrecognizedClientException")
        conn = http.client.HTTPConnection("127.0.0.1", self.ecs.port, timeout=10)
        conn.request("POST", "/", body=b"{}", headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListServices"})
        resp = conn.getresponse()
        self.assertEqual(resp.status, 403)
        self.assertEqual(resp.getheader("X-Amzn-Errortype"),
                         "MissingAuthenticationTokenException")
        self.assertEqual(json.loads(resp.read())["message"], "Missing Authentication Token")
        conn.close()
        self.assertEqual(self.ecs.stats()["authFailures"], 5)

    def test_signed_header_values_trimmed_and_collapsed(self):
        status, _, _ = self.call("ListServices", {"cluster": "prod"},
                                 extra={"X-Amz-Meta-Note": "  a   b  c "})
        self.assertEqual(status, 200)

    def test_credentials_replaced_by_control(self):
        self.ecs.control("credentials", accessKeyId="AKIDNEW", secretAccessKey="s3cr3t",
                         sessionToken="tok")
        self.assertEqual(self.call("ListServices", {"cluster": "prod"})[0], 403)
        self.assertEqual(self.call("ListServices", {"cluster": "prod"},
                                   access_key_id="AKIDNEW", secret_access_key="s3cr3t")[0], 403)
        self.assertEqual(self.call("ListServices", {"cluster": "prod"}, access_key_id="AKIDNEW",
                                   secret_access_key="s3cr3t", session_token="tok")[0], 200)


class SessionTokenTest(ServerTest):
    SCENARIO = "session-token.json"

    def test_token_required_and_region_from_scenario(self):
        with open(scenario_path(self.SCENARIO), encoding="utf-8") as fh:
            creds = json.load(fh)["credentials"]
        kw = {"access_key_id": creds["accessKeyId"],
              "secret_access_key": creds["secretAccessKey"], "region": "eu-west-1"}
        self.assertEqual(self.call("ListServices", {}, **kw)[0], 403)
        body = self.ok("ListServices", {}, session_token=creds["sessionToken"], **kw)
        self.assertEqual(body["serviceArns"],
                         ["arn:aws:ecs:eu-west-1:210987654321:service/default/svc"])


class FaultTest(ServerTest):
    def test_throttle_then_success(self):
        self.ecs.fault("DescribeServiceRevisions", "throttle", count=2)
        params = {"serviceRevisionArns": [REV + "1000000000000000001"]}
        for _ in range(2):
            self.assertEqual(self.error("DescribeServiceRevisions", params),
                             "ThrottlingException")
        self.assertEqual(len(self.ok("DescribeServiceRevisions", params)["serviceRevisions"]), 1)
        self.ok("ListServices", {"cluster": "prod"})
        stats = self.ecs.stats()
        self.assertEqual(stats["calls"]["DescribeServiceRevisions"], 3)
        self.assertEqual(stats["succeeded"]["DescribeServiceRevisions"], 1)
        self.assertEqual(stats["faults"], {"DescribeServiceRevisions": 2})
        self.assertEqual(stats["revisionArnsRequested"], [REV + "1000000000000000001"] * 3)
        self.assertEqual(stats["pendingFaults"], [])
        self.assertEqual([r["fault"] for r in stats["requests"]],
                         ["throttle", "throttle", None, None])

    def test_http_statuses(self):
        for status, etype in ((500, "ServerException"), (503, "ServiceUnavailableException"),
                              (429, "TooManyRequestsException"), (502, None), (504, None)):
            with self.subTest(status):
                self.ecs.fault("ListServices", "http", status=status)
                got, headers, body = self.call("ListServices", {"cluster": "prod"})
                self.assertEqual(got, status)
                self.assertEqual(headers.get("x-amzn-errortype"), etype)
                if etype is None:
                    self.assertEqual(headers["content-type"], "text/html")
                    self.assertIsInstance(body, bytes)
                self.ok("ListServices", {"cluster": "prod"})

    def test_error_type_skip_and_wildcard(self):
        self.ecs.fault("*", "error", errorType="AccessDeniedException",
                       message="User is not authorized", skip=1, count=1)
        self.ok("ListServices", {"cluster": "prod"})
        self.assertEqual(self.error("ListServiceDeployments", {"cluster": "prod",
                                                               "service": "web"}),
                         "AccessDeniedException")
        self.ok("ListServices", {"cluster": "prod"})
        self.ecs.fault("ListServices", "throttle", count=-1, errorType="RequestLimitExceeded")
        for _ in range(3):
            self.assertEqual(self.error("ListServices", {"cluster": "prod"}),
                             "RequestLimitExceeded")
        self.ok("ListServiceDeployments", {"cluster": "prod", "service": "web"})
        self.ecs.control("clearFaults")
        self.ok("ListServices", {"cluster": "prod"})

    def test_malformed_bodies(self):
        for variant in ("html", "truncated", "garbage", "empty"):
            with self.subTest(variant):
                self.ecs.fault("ListServices", "malformed", variant=variant)
                status, _, body = self.call("ListServices", {"cluster": "prod"})
                self.assertEqual(status, 200)
                self.assertIsInstance(body, bytes)  # not valid JSON
        self.ecs.fault("ListServices", "malformed", variant="cut")
        with self.assertRaises(http.client.IncompleteRead):
            self.call("ListServices", {"cluster": "prod"})
        self.ok("ListServices", {"cluster": "prod"})

    def test_dropped_connections(self):
        self.ecs.fault("ListServices", "drop")
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.call("ListServices", {"cluster": "prod"})
        self.ecs.fault("ListServices", "drop", variant="reset")
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.call("ListServices", {"cluster": "prod"})
        self.ok("ListServices", {"cluster": "prod"})
        self.assertEqual(self.ecs.stats()["faults"], {"ListServices": 2})

    def test_delay_and_hang(self):
        self.ecs.fault("ListServices", "delay", delayMs=300)
        start = time.monotonic()
        self.ok("ListServices", {"cluster": "prod"})
        self.assertGreaterEqual(time.monotonic() - start, 0.3)
        self.ecs.fault("ListServices", "hang", delayMs=60000)
        start = time.monotonic()
        with self.assertRaises((socket.timeout, TimeoutError)):
            call(self.ecs.port, "ListServices", {"cluster": "prod"}, timeout=0.5)
        self.assertLess(time.monotonic() - start, 5)
        self.ok("ListServices", {"cluster": "prod"})  # the server is still responsive

    def test_global_latency_and_in_flight(self):
        self.ecs.control("latency", ms=250)
        start = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda _: self.call("ListServices", {"cluster": "prod"})[0],
                                    range(4)))
        elapsed = time.monotonic() - start
        self.assertEqual(results, [200] * 4)
        self.assertGreaterEqual(elapsed, 0.25)  # the latency is there
        # Served concurrently: the server saw requests in flight together (no
        # bound on elapsed time, which a loaded CI machine can stretch).
        stats = self.ecs.stats()
        self.assertGreaterEqual(stats["maxInFlight"], 2)
        self.assertLessEqual(stats["maxInFlight"], 4)
        self.ecs.control("reset")
        self.assertEqual(self.ecs.stats()["calls"], {})

    def test_bad_control_requests(self):
        for body in ({"action": "fault", "type": "nope"}, {"action": "what"},
                     {"action": "fault", "type": "http"}, {"action": "latency", "ms": -1}):
            with self.subTest(body):
                with self.assertRaises(RuntimeError):
                    self.ecs.control(**body)


class ScenarioFaultsTest(ServerTest):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        with open(scenario_path("basic.json"), encoding="utf-8") as fh:
            data = json.load(fh)
        data["faults"] = [{"operation": "ListServices", "type": "http", "status": 503,
                           "count": 1}]
        self.log = os.path.join(tmp.name, "log")
        path = os.path.join(tmp.name, "s.json")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        self.ecs = FakeEcs(path, latency_ms=10, log=self.log).start()
        self.addCleanup(self.ecs.stop)

    def test_faults_from_scenario_and_log(self):
        self.assertEqual(self.error("ListServices", {"cluster": "prod"}, status=503),
                         "ServiceUnavailableException")
        self.ok("ListServices", {"cluster": "prod"})
        self.call("ListServices", {"cluster": "prod"}, secret_access_key="bad")
        time.sleep(0.1)
        with open(self.log, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
        self.assertEqual(len(lines), 3)
        self.assertIn("fault=http", lines[0])
        self.assertIn("error=InvalidSignatureException", lines[2])
        text = "\n".join(lines)
        self.assertNotIn(DEFAULT_SECRET, text)
        self.assertNotIn("Signature=", text)


class BulkTest(ServerTest):
    SCENARIO = "bulk45.json"

    def fetch_all(self):
        """A minimal fetcher: list every page, describe in batches of 20."""
        deployments, token = [], None
        while True:
            params = {"cluster": "prod", "service": "bulk"}
            if token:
                params["nextToken"] = token
            body = self.ok("ListServiceDeployments", params)
            deployments += [d["serviceDeploymentArn"] for d in body["serviceDeployments"]]
            token = body.get("nextToken")
            if not token:
                break
        revs = []
        for i in range(0, len(deployments), 20):
            body = self.ok("DescribeServiceDeployments",
                           {"serviceDeploymentArns": deployments[i:i + 20]})
            self.assertEqual(body["failures"], [])
            for dep in body["serviceDeployments"]:
                revs += [s["arn"] for s in dep["sourceServiceRevisions"]]
                revs.append(dep["targetServiceRevision"]["arn"])
        revs = sorted(set(revs))
        got = []
        for i in range(0, len(revs), 20):
            got += self.ok("DescribeServiceRevisions",
                           {"serviceRevisionArns": revs[i:i + 20]})["serviceRevisions"]
        return deployments, revs, got

    def test_45_revisions_three_batches(self):
        deployments, revs, got = self.fetch_all()
        self.assertEqual(len(deployments), 45)
        self.assertEqual(len(revs), 45)
        self.assertEqual(len(got), 45)
        stats = self.ecs.stats()
        self.assertEqual(stats["calls"], {"ListServiceDeployments": 3,
                                          "DescribeServiceDeployments": 3,
                                          "DescribeServiceRevisions": 3})
        self.assertEqual(sorted(stats["revisionArnsRequested"]), revs)
        self.assertEqual([r["arns"] for r in stats["requests"]], [0, 0, 0, 20, 20, 5, 20, 20, 5])

    def test_generate_appends_new_deployments(self):
        before = self.fetch_all()[0]
        self.assertEqual(self.ecs.control("generate", cluster="prod", service="bulk",
                                          revisions=2)["generated"], 2)
        after = self.fetch_all()[0]
        self.assertEqual(after[2:], before)
        body = self.ok("DescribeServiceDeployments", {"serviceDeploymentArns": after[:2]})
        newest = body["serviceDeployments"][0]
        older_target = body["serviceDeployments"][1]["targetServiceRevision"]["arn"]
        self.assertEqual(newest["sourceServiceRevisions"][0]["arn"], older_target)


class ManyServicesTest(ServerTest):
    SCENARIO = "many-services.json"

    def test_list_services_pages(self):
        sizes, token, names = [], None, []
        while True:
            params = {"cluster": "prod"}
            if token:
                params["nextToken"] = token
            body = self.ok("ListServices", params)
            sizes.append(len(body["serviceArns"]))
            names += body["serviceArns"]
            token = body.get("nextToken")
            if not token:
                break
        self.assertEqual(sizes, [10, 10, 5])
        self.assertEqual(len(set(names)), 25)


@unittest.skipUnless(HAVE_BOTOCORE, "botocore not installed")
class BotocoreClientTest(ServerTest):
    SCENARIO = "session-token.json"

    def test_botocore_client_end_to_end(self):
        with open(scenario_path(self.SCENARIO), encoding="utf-8") as fh:
            creds = json.load(fh)["credentials"]
        session = botocore.session.Session()
        client = session.create_client(
            "ecs", region_name="eu-west-1", endpoint_url=self.ecs.url,
            aws_access_key_id=creds["accessKeyId"],
            aws_secret_access_key=creds["secretAccessKey"],
            aws_session_token=creds["sessionToken"])
        pages = client.get_paginator("list_services").paginate(cluster="default")
        self.assertEqual(sum(len(p["serviceArns"]) for p in pages), 1)
        deps = client.list_service_deployments(service="svc")["serviceDeployments"]
        self.assertEqual(len(deps), 3)
        arns = [d["targetServiceRevisionArn"] for d in deps]
        revs = client.describe_service_revisions(serviceRevisionArns=arns)
        self.assertEqual(len(revs["serviceRevisions"]), 3)
        self.assertIsInstance(revs["serviceRevisions"][0]["createdAt"], datetime.datetime)
        self.assertEqual(self.ecs.stats()["authFailures"], 0)


class ExamplesTest(unittest.TestCase):
    def test_demo_scenario_story(self):
        world, _, _ = fake_ecs.load_scenario(os.path.join(EXAMPLES, "demo-scenario.json"))
        web = world.clusters["prod"].services["web"]
        api = world.clusters["prod"].services["api"]
        self.assertEqual((len(web.revisions), len(web.deployments)), (6, 6))
        self.assertEqual((len(api.revisions), len(api.deployments)), (3, 3))
        revs = [web.revisions[d["targetServiceRevision"]["arn"]]
                for d in reversed(web.deployments)]
        net = [r["networkConfiguration"]["awsvpcConfiguration"] for r in revs]
        self.assertEqual([n["assignPublicIp"] for n in net], ["DISABLED"] * 3 + ["ENABLED"] * 3)
        self.assertEqual([len(n["securityGroups"]) for n in net], [1, 1, 2, 2, 2, 2])
        self.assertEqual([r["loadBalancers"][0]["containerPort"] for r in revs],
                         [8080] * 4 + [8443] * 2)
        ebs = [r["volumeConfigurations"][0]["managedEBSVolume"] for r in revs]
        self.assertEqual([(e["sizeInGiB"], e["encrypted"]) for e in ebs],
                         [(20, True)] * 5 + [(50, False)])
        self.assertEqual(api.deployments[0]["status"], "ROLLBACK_SUCCESSFUL")
        for rev in list(web.revisions.values()) + list(api.revisions.values()):
            self.assertGreater(len(json.dumps(rev)), 2500)

    def test_examples_are_fresh(self):
        proc = subprocess.run([sys.executable, os.path.join(SOURCE_DIR, "scripts",
                                                            "gen-examples.py"), "--check"],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)

    @unittest.skipUnless(shutil.which("sh"), "no sh")
    def test_demo_server_script(self):
        probe = ("import os, sys; sys.path.insert(0, %r); from fake_ecs_harness import call; "
                 "port = int(os.environ['AWS_ENDPOINT_URL_ECS'].rsplit(':', 1)[1]); "
                 "st, _, body = call(port, 'ListServices', {'cluster': 'prod'}, "
                 "os.environ['AWS_ACCESS_KEY_ID'], os.environ['AWS_SECRET_ACCESS_KEY'], "
                 "os.environ['AWS_REGION']); print(st, len(body['serviceArns'])); "
                 "sys.exit(7)") % SUPPORT
        proc = subprocess.run(["sh", os.path.join(SOURCE_DIR, "scripts", "demo-server.sh"),
                               sys.executable, "-c", probe],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 7, proc.stderr)
        self.assertEqual(proc.stdout, "200 2\n")


# --------------------------------------------------------------------------
# The real AWS CLI against the server
# --------------------------------------------------------------------------

@unittest.skipUnless(shutil.which("aws"), "aws CLI not on PATH")
class AwsCliTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.ecs = FakeEcs(os.path.join(EXAMPLES, "demo-scenario.json")).start()
        self.addCleanup(self.ecs.stop)
        config = os.path.join(self.tmp.name, "config")
        with open(config, "w", encoding="utf-8") as fh:
            fh.write("[default]\ncli_timestamp_format = iso8601\n"
                     "retry_mode = standard\nmax_attempts = 1\n")
        self.env = self.ecs.env()
        del self.env["AWS_ENDPOINT_URL"]
        self.env.update({"AWS_CONFIG_FILE": config, "TZ": "UTC", "HOME": self.tmp.name,
                         "AWS_PAGER": ""})

    def aws(self, *args, secret=None):
        env = dict(self.env)
        if secret:
            env["AWS_SECRET_ACCESS_KEY"] = secret
        return subprocess.run(["aws", "ecs", *args, "--endpoint-url", self.ecs.url,
                               "--region", "us-east-1", "--output", "json"],
                              env=env, capture_output=True, text=True, timeout=120)

    def test_describe_service_revisions_matches_examples(self):
        with open(os.path.join(EXAMPLES, "revisions-web.json"), encoding="utf-8") as fh:
            expected = json.load(fh)
        arns = [r["serviceRevisionArn"] for r in expected["serviceRevisions"]]
        proc = self.aws("describe-service-revisions", "--service-revision-arns", *arns)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        got = json.loads(proc.stdout)
        self.assertEqual(got["failures"], [])
        self.assertEqual(len(got["serviceRevisions"]), len(arns))
        # an older CLI drops members its model does not know yet (e.g. monitoring)
        known = self.cli_revision_members()
        for want, have in zip(expected["serviceRevisions"], got["serviceRevisions"]):
            if known is not None:
                want = {k: v for k, v in want.items() if k in known}
            self.assertEqual(have, want)
        self.assertIn("createdAt", got["serviceRevisions"][0])
        self.assertRegex(got["serviceRevisions"][0]["createdAt"],
                         r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")

    @staticmethod
    def cli_revision_members():
        """Members of ServiceRevision in the botocore model, if importable."""
        if not HAVE_BOTOCORE:
            return None
        model = botocore.session.get_session().get_service_model("ecs")
        return set(model.shape_for("ServiceRevision").members)

    def test_list_paginates_and_missing_failures(self):
        proc = self.aws("list-service-deployments", "--cluster", "prod", "--service", "web",
                        "--max-results", "2")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        listed = json.loads(proc.stdout)["serviceDeployments"]
        calls = self.ecs.stats()["calls"]["ListServiceDeployments"]
        self.assertGreaterEqual(len(listed), 2)
        self.assertGreaterEqual(calls, 1)
        missing = "arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/1"
        proc = self.aws("describe-service-revisions", "--service-revision-arns", missing)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(json.loads(proc.stdout)["failures"][0]["reason"], "MISSING")

    def test_wrong_secret_rejected(self):
        proc = self.aws("list-services", "--cluster", "prod", secret="wrong-secret")
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("InvalidSignatureException", proc.stderr)
        self.assertGreaterEqual(self.ecs.stats()["authFailures"], 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
