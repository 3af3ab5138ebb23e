"""Helpers for Python tests that drive tests/support/fake_ecs.py.

Standard library only. Typical use in a tests/cli/test_*.py file:

    sys.path.insert(0, os.path.join(os.environ["ECSREV_SOURCE_DIR"], "tests", "support"))
    from fake_ecs_harness import FakeEcs, scenario_path

    with FakeEcs(scenario_path("bulk45.json")) as ecs:
        ecs.fault("DescribeServiceRevisions", "throttle", count=2)
        ... run ecsrev fetch --endpoint-url ecs.url ... with ecs.env() ...
        assert ecs.stats()["calls"]["DescribeServiceRevisions"] == 5

FakeEcs starts the server on a free port, waits until it listens, and kills it
on exit. sign_headers()/call() are a small independent SigV4 signer for talking
to the server directly.
"""

import datetime
import hashlib
import hmac
import http.client
import json
import ssl
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "fake_ecs.py")
SCENARIOS = os.path.join(os.path.dirname(HERE), "data", "scenarios")
TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113."
DEFAULT_AKID = "AKIDEXAMPLE"
DEFAULT_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def scenario_path(name):
    """Absolute path of tests/data/scenarios/<name>."""
    return os.path.join(SCENARIOS, name)


class FakeEcs:
    """A fake_ecs.py subprocess on 127.0.0.1 (context manager)."""

    def __init__(self, scenario, *, region=None, access_key_id=None,
                 secret_access_key=None, session_token=None, latency_ms=None,
                 log=None, extra_args=(), start_timeout=15.0, tls=None):
        self.scenario = scenario
        self.region = region
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.session_token = session_token
        self.latency_ms = latency_ms
        self.log = log
        self.extra_args = list(extra_args)
        self.start_timeout = start_timeout
        self.tls = tls  # (certificate, key) PEM paths: serve HTTPS
        self.proc = None
        self.port = None
        self.url = None
        self._tmp = None

    def start(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="fake-ecs-")
        port_file = os.path.join(self._tmp.name, "port")
        cmd = [sys.executable, SERVER, "--scenario", self.scenario, "--port", "0",
               "--port-file", port_file]
        if self.region:
            cmd += ["--region", self.region]
        if self.access_key_id:
            cmd += ["--access-key-id", self.access_key_id,
                    "--secret-access-key", self.secret_access_key]
            if self.session_token:
                cmd += ["--session-token", self.session_token]
        if self.latency_ms:
            cmd += ["--latency-ms", str(self.latency_ms)]
        if self.log:
            cmd += ["--log", self.log]
        if self.tls:
            cmd += ["--tls-cert", self.tls[0], "--tls-key", self.tls[1]]
        cmd += self.extra_args
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if os.path.exists(port_file):
                with open(port_file, encoding="ascii") as fh:
                    self.port = int(fh.read().strip())
                break
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace")
                raise RuntimeError(f"fake_ecs exited with {self.proc.returncode}: {err}")
            time.sleep(0.02)
        else:
            self.stop()
            raise RuntimeError("fake_ecs did not start in time")
        self.url = f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"
        return self

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            for stream in (self.proc.stdout, self.proc.stderr):
                if stream:
                    stream.close()
            self.proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---- control API -------------------------------------------------

    def _http(self, method, path, body=None):
        if self.tls:
            ctx = ssl.create_default_context(cafile=self.tls[0])
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30, context=ctx)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            data = json.dumps(body).encode() if body is not None else None
            conn.request(method, path, body=data,
                         headers={"Content-Type": "application/json"} if data else {})
            resp = conn.getresponse()
            payload = json.loads(resp.read() or b"null")
            if resp.status != 200:
                raise RuntimeError(f"{path}: HTTP {resp.status}: {payload}")
            return payload
        finally:
            conn.close()

    def control(self, action, **kw):
        """POST /__control {"action": action, **kw}; returns the answer."""
        return self._http("POST", "/__control", dict(kw, action=action))

    def fault(self, operation="*", type="throttle", **kw):
        """Add a fault rule (see tests/support/README.md); returns its id."""
        return self.control("fault", operation=operation, type=type, **kw)["id"]

    def reset(self):
        self.control("reset")

    def stats(self):
        """GET /__stats as a dict."""
        return self._http("GET", "/__stats")

    def env(self, base=None, *, with_credentials=True):
        """Environment for a client: endpoint, region and dummy credentials."""
        env = dict(os.environ if base is None else base)
        for key in list(env):
            if key.startswith("AWS_"):
                del env[key]
        env["AWS_ENDPOINT_URL"] = self.url
        env["AWS_REGION"] = self.region or "us-east-1"
        env["AWS_EC2_METADATA_DISABLED"] = "true"
        env["AWS_CONFIG_FILE"] = os.devnull
        env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
        if with_credentials:
            env["AWS_ACCESS_KEY_ID"] = self.access_key_id or DEFAULT_AKID
            env["AWS_SECRET_ACCESS_KEY"] = self.secret_access_key or DEFAULT_SECRET
            if self.session_token:
                env["AWS_SESSION_TOKEN"] = self.session_token
        return env


# --------------------------------------------------------------------------
# A small SigV4 signer (independent from the server's verifier)
# --------------------------------------------------------------------------

def _h(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def sign_headers(host, operation, body, access_key_id, secret_access_key, region,
                 session_token=None, amz_date=None, service="ecs", extra=None):
    """Headers (dict) for POST / of an ECS JSON 1.1 call, SigV4-signed.

    extra: more headers to send and sign, values sent exactly as given (the
    signature uses them trimmed with inner runs of spaces collapsed).
    """
    if amz_date is None:
        amz_date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    headers = {
        "content-type": "application/x-amz-json-1.1",
        "host": host,
        "x-amz-date": amz_date,
        "x-amz-target": TARGET_PREFIX + operation,
    }
    if session_token:
        headers["x-amz-security-token"] = session_token
    for name, value in (extra or {}).items():
        headers[name.lower()] = value
    names = sorted(headers)
    canonical = "\n".join([
        "POST", "/", "",
        "".join(f"{n}:{' '.join(headers[n].split())}\n" for n in names),
        ";".join(names),
        hashlib.sha256(body).hexdigest()])
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = _h(("AWS4" + secret_access_key).encode(), amz_date[:8])
    for part in (region, service, "aws4_request"):
        key = _h(key, part)
    sig = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={access_key_id}/{scope}, "
                                f"SignedHeaders={';'.join(names)}, Signature={sig}")
    return headers


def call(port, operation, params, access_key_id=DEFAULT_AKID,
         secret_access_key=DEFAULT_SECRET, region="us-east-1", session_token=None,
         amz_date=None, conn=None, timeout=30, extra=None, body=None):
    """Signed call; returns (status, headers dict lower-case, parsed JSON or raw bytes).

    body: raw bytes to send instead of json.dumps(params).
    """
    if body is None:
        body = json.dumps(params).encode()
    host = f"127.0.0.1:{port}"
    headers = sign_headers(host, operation, body, access_key_id, secret_access_key,
                           region, session_token, amz_date, extra=extra)
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/", body=body, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = raw
        return resp.status, hdrs, payload
    finally:
        if own:
            conn.close()
