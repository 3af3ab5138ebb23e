"""End-to-end tests of `ecsrev fetch` against tests/support/fake_ecs.py.

Every test starts the fake ECS endpoint on 127.0.0.1 (free port), runs the
real binary with its own store in a temporary folder, and checks what the
server saw (/__stats) and what the store holds (`ecsrev stats`/`export`).
Credential sources that need HTTP (container credentials, IMDSv2) are served
by a tiny loopback server inside the test. Nothing reaches the internet.
"""
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ecsrevtest import CliTest, SOURCE, data  # noqa: E402

sys.path.insert(0, os.path.join(SOURCE, "tests", "support"))
from fake_ecs_harness import (DEFAULT_AKID, DEFAULT_SECRET, FakeEcs,  # noqa: E402
                              scenario_path)

ACCT = "123456789012"
REV = "arn:aws:ecs:us-east-1:%s:service-revision/prod/web/" % ACCT
TEMP_AKID = "ASIATEMPEXAMPLE00001"
TEMP_SECRET = "tempSecretForLoopbackTests/0123456789abcd"
TEMP_TOKEN = "IQoJTEMPsessionTOKENforLoopback//////////wEaCXVz=="


class FetchTest(CliTest):
    """Helpers: self.fetch(ecs, ...) runs `ecsrev fetch` against a FakeEcs."""

    def fetch(self, ecs, *args, env=None, drop=(), timeout=120):
        e = ecs.env(self.env)
        for k in drop:
            e.pop(k, None)
        if env:
            e.update(env)
        return self.run_cli("fetch", "--store", self.store, "--endpoint-url", ecs.url, *args,
                            env=e, timeout=timeout)

    def stored(self):
        r = self.ok("stats", "--store", self.store, "--format", "json")
        return r.json()["revisions"]

    def export(self):
        return self.ok("export", "--store", self.store).out

    def assertSummary(self, r, new, already, failed):
        self.assertIn("fetched %d new revision%s (%d already stored, %d failed)"
                      % (new, "" if new == 1 else "s", already, failed), r.out, r)


class BatchingTest(FetchTest):
    def test_45_revisions_3_batches(self):
        with FakeEcs(scenario_path("bulk45.json")) as ecs:
            r = self.fetch(ecs, "--cluster", "prod", "--service", "bulk")
            self.assertEqual(r.code, 0, r)
            self.assertSummary(r, 45, 0, 0)
            st = ecs.stats()
            self.assertEqual(st["calls"]["DescribeServiceRevisions"], 3)
            self.assertEqual(st["calls"]["DescribeServiceDeployments"], 3)
            self.assertEqual(st["authFailures"], 0)
            arns = st["revisionArnsRequested"]
            self.assertEqual(len(arns), 45)
            self.assertEqual(len(set(arns)), 45)
            sizes = sorted(q["arns"] for q in st["requests"]
                           if q["operation"] == "DescribeServiceRevisions")
            self.assertEqual(sizes, [5, 20, 20])
        self.assertEqual(self.stored(), 45)

    def test_pagination_and_concurrency_give_identical_stores(self):
        exports = {}
        for conc in ("1", "8"):
            store = os.path.join(self.tmp, "store-c" + conc)
            with FakeEcs(scenario_path("bulk1000.json"), latency_ms=2) as ecs:
                e = ecs.env(self.env)
                r = self.run_cli("fetch", "--store", store, "--endpoint-url", ecs.url,
                                 "--cluster", "prod", "--service", "bulk",
                                 "--concurrency", conc, env=e)
                self.assertEqual(r.code, 0, r)
                self.assertSummary(r, 1000, 0, 0)
                st = ecs.stats()
                # 1000 deployments at 100 per page
                self.assertEqual(st["calls"]["ListServiceDeployments"], 10)
                self.assertEqual(st["calls"]["DescribeServiceRevisions"], 50)
                self.assertLessEqual(st["maxInFlight"], int(conc))
                conns = st["connections"] - 1  # minus the /__stats request itself
                if conc == "1":
                    self.assertEqual(st["maxInFlight"], 1)
                    self.assertEqual(conns, 1)  # one kept-alive connection
                else:
                    self.assertGreater(st["maxInFlight"], 1)
                    self.assertLessEqual(conns, 8)
            exports[conc] = self.ok("export", "--store", store).out
        self.assertEqual(len(exports["1"].splitlines()), 1000)
        self.assertEqual(exports["1"], exports["8"])

    def test_incremental_refetch_skips_stored(self):
        with FakeEcs(scenario_path("bulk45.json")) as ecs:
            self.assertEqual(self.fetch(ecs, "--cluster", "prod", "--service", "bulk").code, 0)
            ecs.control("generate", cluster="prod", service="bulk", revisions=5)
            ecs.reset()
            r = self.fetch(ecs, "--cluster", "prod", "--service", "bulk")
            self.assertEqual(r.code, 0, r)
            self.assertSummary(r, 5, 45, 0)
            st = ecs.stats()
            self.assertEqual(st["calls"]["DescribeServiceRevisions"], 1)
            self.assertEqual(len(st["revisionArnsRequested"]), 5)
            ecs.reset()
            r = self.fetch(ecs, "--cluster", "prod", "--service", "bulk")
            self.assertEqual(r.code, 0, r)
            self.assertSummary(r, 0, 50, 0)
            self.assertNotIn("DescribeServiceRevisions", ecs.stats()["calls"])
        self.assertEqual(self.stored(), 50)

    def test_explicit_arns(self):
        with FakeEcs(scenario_path("basic.json")) as ecs:
            r = self.fetch(ecs, REV + "1000000000000000001", REV + "1000000000000000002",
                           REV + "1000000000000000001")
            self.assertEqual(r.code, 0, r)
            self.assertSummary(r, 2, 0, 0)
            st = ecs.stats()
            self.assertEqual(sorted(st["calls"]), ["DescribeServiceRevisions"])
            self.assertEqual(len(st["revisionArnsRequested"]), 2)
            r = self.fetch(ecs, "not-an-arn")
            self.assertEqual(r.code, 2, r)
            self.assertIn("'not-an-arn' is not a service revision ARN", r.err)

    def test_all_services_and_json_summary(self):
        with FakeEcs(scenario_path("many-services.json")) as ecs:
            r = self.fetch(ecs, "--cluster", "prod", "--all-services", "--format", "json")
            self.assertEqual(r.code, 0, r)
            doc = r.json()
            self.assertEqual(doc["schema"], 1)
            self.assertEqual(doc["new"], 25)
            self.assertEqual(doc["services"], 25)
            self.assertEqual(doc["failed"], 0)
            self.assertIsNone(doc["error"])
            st = ecs.stats()
            self.assertEqual(st["calls"]["ListServices"], 1)
            self.assertEqual(st["calls"]["ListServiceDeployments"], 25)
        self.assertEqual(self.stored(), 25)

    def test_since_limits_deployments(self):
        with FakeEcs(scenario_path("basic.json")) as ecs:
            r = self.fetch(ecs, "--cluster", "prod", "--service", "web",
                           "--since", "2026-03-02T00:00:00Z")
            self.assertEqual(r.code, 0, r)
            all_r = None
            st = ecs.stats()
            since_deps = len(st["deploymentArnsRequested"])
            ecs.reset()
            all_r = self.fetch(ecs, "--cluster", "prod", "--service", "web",
                               "--store", os.path.join(self.tmp, "s2"))
            self.assertEqual(all_r.code, 0, all_r)
            self.assertLess(since_deps, len(ecs.stats()["deploymentArnsRequested"]))
            self.assertGreater(since_deps, 0)

    def test_usage_errors(self):
        r = self.run_cli("fetch", "--store", self.store)
        self.assertEqual(r.code, 2, r)
        self.assertIn("nothing to fetch", r.err)
        r = self.run_cli("fetch", "--service", "x", "--format", "yaml")
        self.assertEqual(r.code, 2, r)
        r = self.run_cli("fetch", "--service", "x", "--concurrency", "0")
        self.assertEqual(r.code, 2, r)


class RetryTest(FetchTest):
    def test_throttling_then_success(self):
        with FakeEcs(scenario_path("bulk45.json")) as ecs:
            ecs.fault("DescribeServiceRevisions", "throttle", count=2)
            r = self.fetch(ecs, "--cluster", "prod", "--service", "bulk", "-v")
            self.assertEqual(r.code, 0, r)
            self.assertSummary(r, 45, 0, 0)
            self.assertEqual(ecs.stats()["calls"]["DescribeServiceRevisions"], 5)
            self.assertIn("ThrottlingException", r.err)
            self.assertIn("retrying in", r.err)
        self.assertEqual(self.stored(), 45)

    def test_5xx_then_success(self):
        with FakeEcs(scenario_path("bulk45.json")) as ecs:
            ecs.fault("ListServiceDeployments", "http", status=503, count=1)
            ecs.fault("DescribeServiceDeployments", "http", status=502, count=1)
            ecs.fault("DescribeServiceRevisions", "http", status=500, count=1)
            r = self.fetch(ecs, "--cluster", "prod", "--service", "bulk")
            self.assertEqual(r.code, 0, r)
            st = ecs.stats()
            self.assertEqual(st["calls"]["ListServiceDeployments"], 2)
            self.assertEqual(st["calls"]["DescribeServiceDeployments"], 4)
            self.assertEqual(st["calls"]["DescribeServiceRevisions"], 4)
        self.assertEqual(self.stored(), 45)

    def test_malformed_and_dropped_then_success(self):
        with FakeEcs(scenario_path("bulk45.json")) as ecs:
            ecs.fault("DescribeServiceRevisions", "malformed", variant="truncated", count=1)
            ecs.fault("DescribeServiceRevisions", "malformed", variant="cut", count=1)
            ecs.fault("DescribeServiceDeployments", "drop", count=1)
            r = self.fetch(ecs, "--cluster", "prod", "--service", "bulk")
            self.assertEqual(r.code, 0, r)
            self.assertSummary(r, 45, 0, 0)
        self.assertEqual(self.stored(), 45)

    def test_retries_exhausted(self):
        with FakeEcs(scenario_path("bulk45.json")) as ecs:
            ecs.fault("DescribeServiceRevisions", "http", status=500, count=-1)
            r = self.fetch(ecs, "--cluster", "prod", "--service", "bulk", "--concurrency", "1")
            self.assertEqual(r.code, 2, r)
            self.assertIn("ecsrev: DescribeServiceRevisions: ServerException", r.err)
            self.assertIn("(after 3 attempts)", r.err)
            self.assertSummary(r, 0, 0, 0)
        self.assertEqual(self.stored(), 0)

    def test_max_attempts_from_env_and_option(self):
        with FakeEcs(scenario_path("basic.json")) as ecs:
            ecs.fault("ListServiceDeployments", "throttle", count=-1)
            r = self.fetch(ecs, "--cluster", "prod", "--service", "web",
                           env={"AWS_MAX_ATTEMPTS": "2"})
            self.assertEqual(r.code, 2, r)
            self.assertIn("ListServiceDeployments: ThrottlingException: Rate exceeded "
                          "(after 2 attempts)", r.err)
            self.assertEqual(ecs.stats()["calls"]["ListServiceDeployments"], 2)
            ecs.control("resetStats")
            r = self.fetch(ecs, "--cluster", "prod", "--service", "web", "--max-attempts", "1",
                           env={"AWS_MAX_ATTEMPTS": "5"})
            self.assertEqual(r.code, 2, r)
            self.assertEqual(ecs.stats()["calls"]["ListServiceDeployments"], 1)

    def test_access_denied_is_not_retried(self):
        with FakeEcs(scenario_path("basic.json")) as ecs:
            ecs.fault("DescribeServiceRevisions", "error", errorType="AccessDeniedException",
                      message="User: arn:aws:iam::123456789012:user/x is not authorized",
                      count=-1)
            r = self.fetch(ecs, "--cluster", "prod", "--service", "web")
            self.assertEqual(r.code, 2, r)
            self.assertIn("ecsrev: DescribeServiceRevisions: AccessDeniedException: User: "
                          "arn:aws:iam::123456789012:user/x is not authorized", r.err)
            self.assertEqual(ecs.stats()["calls"]["DescribeServiceRevisions"], 1)

    def test_timeout_when_server_hangs(self):
        with FakeEcs(scenario_path("basic.json")) as ecs:
            ecs.fault("ListServiceDeployments", "hang", delayMs=60000, count=-1)
            t0 = time.monotonic()
            r = self.fetch(ecs, "--cluster", "prod", "--service", "web", "--read-timeout", "1",
                           "--max-attempts", "2", timeout=60)
            elapsed = time.monotonic() - t0
            self.assertEqual(r.code, 2, r)
            self.assertIn("ListServiceDeployments:", r.err)
            self.assertIn("(after 2 attempts)", r.err)
            self.assertIn("read timeout", r.err)
            # two attempts of ~1 s + one backoff <= 1 s
            self.assertLess(elapsed, 6, r)

    def test_connection_refused(self):
        with FakeEcs(scenario_path("basic.json")) as ecs:
            dead = "http://127.0.0.1:1"
            r = self.fetch(ecs, "--cluster", "prod", "--service", "web", "--endpoint-url", dead,
                           "--max-attempts", "2")
            self.assertEqual(r.code, 2, r)
            self.assertIn("ListServiceDeployments: http://127.0.0.1:1/", r.err)


class LibcurlTest(CliTest):
    """libcurl is loaded at run time, only by the commands that talk to the network."""

    def test_local_commands_never_load_libcurl_and_fetch_says_when_it_cannot(self):
        libdir = os.path.join(self.tmp, "lib")
        os.mkdir(libdir)
        with open(os.path.join(libdir, "libcurl.so.4"), "wb") as fh:
            fh.write(b"not a shared library")
        env = {"LD_LIBRARY_PATH": libdir}
        # found first by the dynamic linker, and never touched by local commands
        self.ok("--version", env=env)
        self.ok("import", data("revisions", "single.json"), env=env)
        self.ok("show", "--format", "text", json.loads(self.ok("export").out)["serviceRevisionArn"],
                env=env)
        r = self.fails(2, "fetch", "--cluster", "prod", "--service", "web", "--region",
                       "us-east-1", env=env)
        lines = [l for l in r.err.splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, r)
        self.assertIn("cannot load libcurl (libcurl.so.4)", lines[0])


class FailureTest(FetchTest):
    def test_missing_revision_exit_1(self):
        with FakeEcs(scenario_path("missing.json")) as ecs:
            r = self.fetch(ecs, "--cluster", "prod", "--service", "web")
            self.assertEqual(r.code, 1, r)
            self.assertIn("9000000000000000003: MISSING", r.err)
            self.assertIn("1 failed)", r.out)
            n = self.stored()
            self.assertGreater(n, 0)
            r = self.fetch(ecs, "--cluster", "prod", "--service", "web", "--format", "json")
            self.assertEqual(r.code, 1, r)
            doc = r.json()
            self.assertEqual(doc["failed"], 1)
            self.assertEqual(doc["failures"][0]["reason"], "MISSING")
            self.assertTrue(doc["failures"][0]["arn"].endswith("9000000000000000003"))

    def test_wrong_secret(self):
        secret = "wrongSecretThatMustNeverBePrinted0123456"
        with FakeEcs(scenario_path("basic.json")) as ecs:
            r = self.fetch(ecs, "--cluster", "prod", "--service", "web", "-v",
                           env={"AWS_SECRET_ACCESS_KEY": secret})
            self.assertEqual(r.code, 2, r)
            self.assertIn("InvalidSignatureException", r.err)
            self.assertNotIn(secret, r.out + r.err)
            self.assertNotIn("Signature=", r.out + r.err)
            st = ecs.stats()
            self.assertEqual(st["authFailures"], 1)  # never retried
        self.assertEqual(self.stored(), 0)


class CredentialTest(FetchTest):
    """Each credential source end to end."""

    def fake(self, scenario="basic.json"):
        return FakeEcs(scenario_path(scenario), access_key_id=TEMP_AKID,
                       secret_access_key=TEMP_SECRET, session_token=TEMP_TOKEN)

    def no_env_creds(self):
        return ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")

    def check_ok(self, r):
        self.assertEqual(r.code, 0, r)
        self.assertSummary(r, 3, 0, 0)
        for s in (TEMP_SECRET, TEMP_TOKEN):
            self.assertNotIn(s, r.out + r.err)

    def test_environment_with_session_token(self):
        with self.fake() as ecs:
            r = self.fetch(ecs, "--cluster", "prod", "--service", "web", "-v")
            self.check_ok(r)
            self.assertIn("credentials from environment", r.err)
            r = self.fetch(ecs, "--cluster", "prod", "--service", "web",
                           drop=("AWS_SESSION_TOKEN",), env={"ECSREV_STORE": self.store + "2"})
            self.assertEqual(r.code, 2, r)
            self.assertIn("UnrecognizedClientException", r.err)

    def test_profile_credentials_file_and_config_region(self):
        creds = self.write("credentials", "[dev]\naws_access_key_id = %s\n"
                           "aws_secret_access_key = %s\naws_session_token = %s\n"
                           % (TEMP_AKID, TEMP_SECRET, TEMP_TOKEN))
        config = self.write("config", "[profile dev]\nregion = us-east-1\n")
        with self.fake() as ecs:
            env = {"AWS_SHARED_CREDENTIALS_FILE": creds, "AWS_CONFIG_FILE": config}
            r = self.fetch(ecs, "--cluster", "prod", "--service", "web", "--profile", "dev",
                           "-v", drop=self.no_env_creds() + ("AWS_REGION",), env=env)
            self.check_ok(r)
            self.assertIn("credentials from profile dev", r.err)
            r = self.fetch(ecs, "--cluster", "prod", "--service", "web", "--profile", "nope",
                           drop=self.no_env_creds(), env=env)
            self.assertEqual(r.code, 2, r)
            self.assertIn("profile 'nope' not found", r.err)

    def test_credential_process(self):
        script = self.write("creds.py", "import json\nprint(json.dumps({'Version': 1, "
                            "'AccessKeyId': %r, 'SecretAccessKey': %r, 'SessionToken': %r, "
                            "'Expiration': '2099-01-01T00:00:00Z'}))\n"
                            % (TEMP_AKID, TEMP_SECRET, TEMP_TOKEN))
        config = self.write("config", "[profile proc]\ncredential_process = %s %s\n"
                            % (sys.executable, script))
        with self.fake() as ecs:
            r = self.fetch(ecs, "--cluster", "prod", "--service", "web", "-v",
                           drop=self.no_env_creds(),
                           env={"AWS_CONFIG_FILE": config, "AWS_PROFILE": "proc"})
            self.check_ok(r)
            self.assertIn("credentials from process", r.err)

    def test_expired_token_fetches_credentials_again(self):
        # The endpoint says ExpiredTokenException although the credentials claim to be good
        # until 2099: ecsrev asks the credential process again and retries the request.
        calls = os.path.join(self.tmp, "calls")
        script = self.write("creds.py", "import json\nopen(%r, 'a').write('x')\n"
                            "print(json.dumps({'Version': 1, "
                            "'AccessKeyId': %r, 'SecretAccessKey': %r, 'SessionToken': %r, "
                            "'Expiration': '2099-01-01T00:00:00Z'}))\n"
                            % (calls, TEMP_AKID, TEMP_SECRET, TEMP_TOKEN))
        config = self.write("config", "[profile proc]\ncredential_process = %s %s\n"
                            % (sys.executable, script))
        with self.fake() as ecs:
            ecs.fault("ListServiceDeployments", "error", errorType="ExpiredTokenException",
                      count=1)
            r = self.fetch(ecs, "--cluster", "prod", "--service", "web", "-v",
                           drop=self.no_env_creds(),
                           env={"AWS_CONFIG_FILE": config, "AWS_PROFILE": "proc"})
            self.check_ok(r)
            self.assertIn("ExpiredTokenException", r.err)
            with open(calls) as fh:
                self.assertEqual(fh.read(), "xx")  # once at the start, once after the answer
            # An endpoint that keeps saying so: one renewal per request, then the error.
            ecs.fault("ListServiceDeployments", "error", errorType="ExpiredTokenException",
                      count=-1)
            r = self.fetch(ecs, "--cluster", "prod", "--service", "web",
                           drop=self.no_env_creds(),
                           env={"AWS_CONFIG_FILE": config, "AWS_PROFILE": "proc"})
            self.assertEqual(r.code, 2, r)
            self.assertIn("ExpiredTokenException", r.err)

    def make_cert(self, name):
        """A self-signed certificate for 127.0.0.1 (subjectAltName) made by openssl(1)."""
        cert = os.path.join(self.tmp, name + ".pem")
        key = os.path.join(self.tmp, name + ".key")
        r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-keyout", key, "-out", cert, "-days", "2", "-subj",
                            "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
        if r.returncode != 0:
            self.skipTest("openssl could not make a certificate: %s" % r.stderr[-200:])
        return cert, key

    @unittest.skipIf(shutil.which("openssl") is None, "openssl(1) not installed")
    def test_tls_endpoint(self):
        cert, key = self.make_cert("server")
        other, _ = self.make_cert("other")
        with FakeEcs(scenario_path("basic.json"), access_key_id=TEMP_AKID,
                     secret_access_key=TEMP_SECRET, session_token=TEMP_TOKEN,
                     tls=(cert, key)) as ecs:
            self.assertTrue(ecs.url.startswith("https://"))
            # trusted through AWS_CA_BUNDLE: a normal fetch over TLS
            r = self.fetch(ecs, "--cluster", "prod", "--service", "web",
                           env={"AWS_CA_BUNDLE": cert})
            self.check_ok(r)
            # a certificate nobody vouches for: refused, one line, nothing stored
            store = self.store
            self.store = os.path.join(self.tmp, "untrusted")
            r = self.fetch(ecs, "--cluster", "prod", "--service", "web",
                           env={"AWS_CA_BUNDLE": other})
            self.assertEqual(r.code, 2, r)
            self.assertEqual(len([l for l in r.err.splitlines() if l.strip()]), 1, r)
            self.assertRegex(r.err.lower(), "certificate|ssl|tls")
            self.store = store

    def serve(self, handler_cls):
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_cls)
        srv.hits = []
        t = threading.Thread(target=srv.serve_forever, daemon=True)
        t.start()
        self.addCleanup(srv.server_close)
        self.addCleanup(srv.shutdown)
        return srv

    def creds_json(self):
        return json.dumps({"Code": "Success", "AccessKeyId": TEMP_AKID,
                           "SecretAccessKey": TEMP_SECRET, "Token": TEMP_TOKEN,
                           "Expiration": "2099-01-01T00:00:00Z"}).encode()

    def test_container_credentials(self):
        test = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                self.server.hits.append((self.path, self.headers.get("Authorization")))
                ok = self.path == "/creds" and self.headers.get("Authorization") == "tok-123"
                body = test.creds_json() if ok else b'{"message":"denied"}'
                self.send_response(200 if ok else 403)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        srv = self.serve(H)
        uri = "http://127.0.0.1:%d/creds" % srv.server_address[1]
        with self.fake() as ecs:
            r = self.fetch(ecs, "--cluster", "prod", "--service", "web", "-v",
                           drop=self.no_env_creds(),
                           env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": uri,
                                "AWS_CONTAINER_AUTHORIZATION_TOKEN": "tok-123"})
            self.check_ok(r)
            self.assertIn("credentials from container", r.err)
            self.assertNotIn("tok-123", r.out + r.err)
            self.assertEqual(srv.hits[0], ("/creds", "tok-123"))

    def test_imdsv2(self):
        test = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def reply(self, status, body):
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_PUT(self):
                self.server.hits.append(("PUT", self.path))
                if (self.path == "/latest/api/token"
                        and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")):
                    self.reply(200, b"imds-token-xyz")
                else:
                    self.reply(400, b"")

            def do_GET(self):
                self.server.hits.append(("GET", self.path))
                if self.headers.get("X-aws-ec2-metadata-token") != "imds-token-xyz":
                    self.reply(401, b"")
                elif self.path == "/latest/meta-data/iam/security-credentials/":
                    self.reply(200, b"my-role")
                elif self.path == "/latest/meta-data/iam/security-credentials/my-role":
                    self.reply(200, test.creds_json())
                else:
                    self.reply(404, b"")

        srv = self.serve(H)
        endpoint = "http://127.0.0.1:%d" % srv.server_address[1]
        with self.fake() as ecs:
            r = self.fetch(ecs, "--cluster", "prod", "--service", "web", "-v",
                           drop=self.no_env_creds() + ("AWS_EC2_METADATA_DISABLED",),
                           env={"AWS_EC2_METADATA_SERVICE_ENDPOINT": endpoint})
            self.check_ok(r)
            self.assertIn("credentials from imds", r.err)
            self.assertIn(("PUT", "/latest/api/token"), srv.hits)

    def test_no_credentials(self):
        with FakeEcs(scenario_path("basic.json")) as ecs:
            r = self.fetch(ecs, "--cluster", "prod", "--service", "web",
                           drop=self.no_env_creds())
            self.assertEqual(r.code, 2, r)
            self.assertIn("no AWS credentials found", r.err)
            self.assertEqual(ecs.stats()["calls"], {})


class RegionEndpointTest(FetchTest):
    def test_region_sources(self):
        with FakeEcs(scenario_path("bulk45.json"), region="eu-west-1") as ecs:
            args = ("--cluster", "prod", "--service", "bulk")
            r = self.fetch(ecs, *args, "--region", "eu-west-1", env={"AWS_REGION": "us-east-1"})
            self.assertEqual(r.code, 0, r)
            r = self.fetch(ecs, *args, env={"AWS_REGION": "us-east-1"})
            self.assertEqual(r.code, 2, r)
            self.assertIn("InvalidSignatureException", r.err)
            r = self.fetch(ecs, *args, drop=("AWS_REGION",),
                           env={"AWS_DEFAULT_REGION": "eu-west-1"})
            self.assertEqual(r.code, 0, r)
            r = self.fetch(ecs, *args, drop=("AWS_REGION",))
            self.assertEqual(r.code, 2, r)
            self.assertIn("no region", r.err)

    def test_endpoint_sources(self):
        with FakeEcs(scenario_path("basic.json")) as ecs:
            args = ("fetch", "--store", self.store, "--cluster", "prod", "--service", "web")
            env = ecs.env(self.env)
            env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:1"
            env["AWS_ENDPOINT_URL_ECS"] = ecs.url
            r = self.run_cli(*args, env=env)
            self.assertEqual(r.code, 0, r)
            del env["AWS_ENDPOINT_URL_ECS"]
            r = self.run_cli(*args, "--max-attempts", "1", env=env)
            self.assertEqual(r.code, 2, r)
            r = self.run_cli(*args, "--endpoint-url", ecs.url, env=env)
            self.assertEqual(r.code, 0, r)
            r = self.run_cli(*args, "--endpoint-url", "ftp://x", env=env)
            self.assertEqual(r.code, 2, r)

    def test_default_endpoint_per_partition(self):
        # No credentials: fails before any connection, after printing the endpoint.
        env = {"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull,
               "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
        for region, url in (("us-west-2", "https://ecs.us-west-2.amazonaws.com"),
                            ("cn-north-1", "https://ecs.cn-north-1.amazonaws.com.cn")):
            r = self.run_cli("fetch", "--store", self.store, "--service", "web",
                             "--region", region, "-v", env=env)
            self.assertEqual(r.code, 2, r)
            self.assertIn("endpoint %s" % url, r.err)
            self.assertIn("no AWS credentials found", r.err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
