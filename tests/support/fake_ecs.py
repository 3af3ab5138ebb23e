#!/usr/bin/env python3
"""Fake Amazon ECS endpoint for the ecsrev tests and the README demo.

Python 3 standard library only. Listens on 127.0.0.1, speaks AWS JSON 1.1 over
HTTP/1.1 with keep-alive, verifies the SigV4 signature of every API request with
its own implementation, serves a scenario loaded from a JSON file and injects
faults on demand (scenario "faults" or POST /__control). GET /__stats reports
per-operation counters and the ARNs requested.

Operations: ListServices, ListServiceDeployments, DescribeServiceDeployments,
DescribeServiceRevisions; and, on the same port, the two STS calls of role
credentials (AssumeRole, SigV4-checked for service "sts", and
AssumeRoleWithWebIdentity), AWS Query protocol with XML answers, and the IAM
Identity Center portal's GetRoleCredentials (GET /federation/credentials).
Credentials STS or the portal issue are accepted by every later call. See tests/support/README.md for the command line, the
scenario format, the control API and the stats format.
"""

import argparse
import ssl
import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import select
import socket
import struct
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113."
JSON_CT = "application/x-amz-json-1.1"
SIGNING_SERVICE = "ecs"
DEFAULT_AKID = "AKIDEXAMPLE"
DEFAULT_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
MAX_BODY = 1 << 20
MAX_ARNS = 20
TIMESTAMP_KEYS = frozenset(
    ("createdAt", "updatedAt", "startedAt", "finishedAt", "stoppedAt", "expiresAt"))
OPERATIONS = ("ListServices", "ListServiceDeployments",
              "DescribeServiceDeployments", "DescribeServiceRevisions")


class ScenarioError(Exception):
    """A scenario file or control request that cannot be used."""


class ApiError(Exception):
    """An error answered the way the real service does."""

    def __init__(self, error_type, message, status=400):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.status = status


# --------------------------------------------------------------------------
# Timestamps and ARNs
# --------------------------------------------------------------------------

def to_epoch(value, where):
    """ISO 8601 string or epoch number -> epoch seconds (float, ms precision)."""
    if isinstance(value, bool):
        raise ScenarioError(f"{where}: timestamp must be a string or a number")
    if isinstance(value, (int, float)):
        return round(float(value), 3)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z") or text.endswith("z"):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.datetime.fromisoformat(text)
        except ValueError:
            raise ScenarioError(f"{where}: bad ISO 8601 timestamp {value!r}") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=datetime.timezone.utc)
        return round(parsed.timestamp(), 3)
    raise ScenarioError(f"{where}: timestamp must be a string or a number")


def convert_timestamps(node, where):
    """Return a copy of node with every timestamp member as epoch seconds."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in TIMESTAMP_KEYS and value is not None:
                out[key] = to_epoch(value, f"{where}.{key}")
            else:
                out[key] = convert_timestamps(value, f"{where}.{key}")
        return out
    if isinstance(node, list):
        return [convert_timestamps(v, f"{where}[{i}]") for i, v in enumerate(node)]
    return node


def partition_of(region):
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("us-iso-"):
        return "aws-iso"
    if region.startswith("us-isob-"):
        return "aws-iso-b"
    return "aws"


def stable_digits(text, n=19):
    """Deterministic decimal id (like real service-revision ids)."""
    num = int(hashlib.sha256(text.encode()).hexdigest(), 16)
    low = 10 ** (n - 1)
    return str(low + num % (9 * low))


def stable_token(text, n=21):
    """Deterministic alphanumeric id (like real service-deployment ids)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    num = int(hashlib.sha256(text.encode()).hexdigest(), 16)
    out = []
    for _ in range(n):
        num, rem = divmod(num, len(alphabet))
        out.append(alphabet[rem])
    return "".join(out)


# --------------------------------------------------------------------------
# The world: clusters, services, revisions, deployments
# --------------------------------------------------------------------------

class Service:
    def __init__(self, cluster, name, arn):
        self.cluster = cluster
        self.name = name
        self.arn = arn
        self.revisions = {}       # ARN -> wire document
        self.deployments = []     # wire documents (full ServiceDeployment)
        self.generated = 0


class Cluster:
    def __init__(self, name, arn):
        self.name = name
        self.arn = arn
        self.services = {}


class World:
    """Everything the fake serves. Callers hold STATE.lock."""

    def __init__(self, region, account):
        self.region = region
        self.account = account
        self.partition = partition_of(region)
        self.clusters = {}
        self.revisions = {}       # every revision ARN -> document
        self.deployments = {}     # every deployment ARN -> document

    def arn(self, resource):
        return f"arn:{self.partition}:ecs:{self.region}:{self.account}:{resource}"

    def cluster(self, name, create=False):
        if name not in self.clusters:
            if not create:
                return None
            self.clusters[name] = Cluster(name, self.arn(f"cluster/{name}"))
        return self.clusters[name]

    def service(self, cluster_name, name, create=False):
        cluster = self.cluster(cluster_name, create)
        if cluster is None:
            return None
        if name not in cluster.services:
            if not create:
                return None
            cluster.services[name] = Service(
                cluster, name, self.arn(f"service/{cluster_name}/{name}"))
        return cluster.services[name]

    def expand(self, ref, kind, svc):
        if ref.startswith("arn:"):
            return ref
        return self.arn(f"{kind}/{svc.cluster.name}/{svc.name}/{ref}")

    # ---- loading -------------------------------------------------------

    def add_revision(self, svc, doc, where):
        if not isinstance(doc, dict):
            raise ScenarioError(f"{where}: a revision must be a JSON object")
        ref = doc.get("serviceRevisionArn")
        if not isinstance(ref, str) or not ref:
            raise ScenarioError(f"{where}: serviceRevisionArn missing")
        doc = convert_timestamps(doc, where)
        doc["serviceRevisionArn"] = self.expand(ref, "service-revision", svc)
        doc.setdefault("serviceArn", svc.arn)
        doc.setdefault("clusterArn", svc.cluster.arn)
        if doc["serviceRevisionArn"] in self.revisions:
            raise ScenarioError(f"{where}: duplicate revision {doc['serviceRevisionArn']}")
        svc.revisions[doc["serviceRevisionArn"]] = doc
        self.revisions[doc["serviceRevisionArn"]] = doc

    def _summary(self, value, svc, where):
        if isinstance(value, str):
            value = {"arn": value}
        if not isinstance(value, dict) or not isinstance(value.get("arn"), str):
            raise ScenarioError(f"{where}: a revision summary needs an arn")
        value = dict(value)
        value["arn"] = self.expand(value["arn"], "service-revision", svc)
        return value

    def add_deployment(self, svc, doc, where):
        if not isinstance(doc, dict):
            raise ScenarioError(f"{where}: a deployment must be a JSON object")
        doc = convert_timestamps(doc, where)
        ref = doc.get("serviceDeploymentArn") or doc.pop("id", None)
        if not isinstance(ref, str) or not ref:
            raise ScenarioError(f"{where}: serviceDeploymentArn missing")
        doc.pop("id", None)
        doc["serviceDeploymentArn"] = self.expand(ref, "service-deployment", svc)
        doc.setdefault("serviceArn", svc.arn)
        doc.setdefault("clusterArn", svc.cluster.arn)
        if "createdAt" not in doc:
            raise ScenarioError(f"{where}: createdAt missing")
        doc.setdefault("status", "SUCCESSFUL")
        sources = doc.get("sourceServiceRevisions", [])
        if not isinstance(sources, list):
            raise ScenarioError(f"{where}: sourceServiceRevisions must be a list")
        doc["sourceServiceRevisions"] = [
            self._summary(s, svc, f"{where}.sourceServiceRevisions[{i}]")
            for i, s in enumerate(sources)]
        if "targetServiceRevision" in doc:
            doc["targetServiceRevision"] = self._summary(
                doc["targetServiceRevision"], svc, f"{where}.targetServiceRevision")
        rollback = doc.get("rollback")
        if isinstance(rollback, dict) and isinstance(rollback.get("serviceRevisionArn"), str):
            rollback = dict(rollback)
            rollback["serviceRevisionArn"] = self.expand(
                rollback["serviceRevisionArn"], "service-revision", svc)
            doc["rollback"] = rollback
        arn = doc["serviceDeploymentArn"]
        if arn in self.deployments:
            raise ScenarioError(f"{where}: duplicate deployment {arn}")
        svc.deployments.append(doc)
        svc.deployments.sort(key=lambda d: d["createdAt"], reverse=True)
        self.deployments[arn] = doc

    def generate(self, spec, where, cluster_name=None, service_name=None):
        if not isinstance(spec, dict):
            raise ScenarioError(f"{where}: generate must be an object")
        cluster_name = cluster_name or spec.get("cluster", "default")
        service_name = service_name or spec.get("service")
        count = spec.get("revisions")
        if not isinstance(service_name, str) or not service_name:
            raise ScenarioError(f"{where}: generate needs a service")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0 or count > 100000:
            raise ScenarioError(f"{where}: generate.revisions must be an integer 0..100000")
        with_deployments = spec.get("deployments", True)
        interval = float(spec.get("intervalSeconds", 3600))
        svc = self.service(cluster_name, service_name, create=True)
        if "start" in spec:
            start = to_epoch(spec["start"], f"{where}.start")
        elif svc.deployments:
            start = svc.deployments[0]["createdAt"] + interval
        else:
            start = to_epoch("2026-01-01T00:00:00Z", where)
        previous = None
        if svc.deployments and "targetServiceRevision" in svc.deployments[0]:
            previous = svc.deployments[0]["targetServiceRevision"]["arn"]
        base = svc.generated
        for k in range(count):
            i = base + k
            seed = f"{cluster_name}/{service_name}/{i}"
            created = round(start + k * interval, 3)
            rev = synthetic_revision(self, svc, i, seed, created)
            self.add_revision(svc, rev, f"{where}.revision[{i}]")
            if with_deployments:
                dep = {
                    "serviceDeploymentArn": stable_token("dep/" + seed),
                    "createdAt": created,
                    "startedAt": round(created + 0.4, 3),
                    "finishedAt": round(created + 312.25, 3),
                    "updatedAt": round(created + 312.25, 3),
                    "status": "SUCCESSFUL",
                    "sourceServiceRevisions": (
                        [{"arn": previous, "requestedTaskCount": 0,
                          "runningTaskCount": 0, "pendingTaskCount": 0}]
                        if previous else []),
                    "targetServiceRevision": {
                        "arn": rev["serviceRevisionArn"], "requestedTaskCount": 2,
                        "runningTaskCount": 2, "pendingTaskCount": 0},
                    "deploymentConfiguration": {
                        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
                        "maximumPercent": 200, "minimumHealthyPercent": 100,
                        "strategy": "ROLLING", "bakeTimeInMinutes": 0},
                }
                self.add_deployment(svc, dep, f"{where}.deployment[{i}]")
            previous = rev["serviceRevisionArn"]
        svc.generated = base + count
        return count


def synthetic_revision(world, svc, i, seed, created):
    digest = hashlib.sha256(("image/" + seed).encode()).hexdigest()
    repo = f"{world.account}.dkr.ecr.{world.region}.amazonaws.com/{svc.name}"
    return {
        "serviceRevisionArn": stable_digits("rev/" + seed),
        "serviceArn": svc.arn,
        "clusterArn": svc.cluster.arn,
        "taskDefinition": world.arn(f"task-definition/{svc.name}:{i + 1}"),
        "launchType": "FARGATE",
        "platformVersion": "1.4.0",
        "platformFamily": "Linux",
        "loadBalancers": [],
        "serviceRegistries": [],
        "networkConfiguration": {"awsvpcConfiguration": {
            "subnets": ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"],
            "securityGroups": ["sg-0123456789abcdef0"],
            "assignPublicIp": "DISABLED"}},
        "containerImages": [{
            "containerName": svc.name,
            "imageDigest": "sha256:" + digest,
            "image": f"{repo}:1.0.{i}"}],
        "guardDutyEnabled": False,
        "createdAt": created,
    }


def load_scenario(path, region_override=None, account_override=None):
    """Read a scenario file; returns (world, credentials list, faults list)."""
    try:
        with open(path, "r", encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"{path}:{exc.lineno}:{exc.colno}: bad JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: the scenario must be a JSON object")
    region = region_override or data.get("region", "us-east-1")
    account = account_override or data.get("account", "123456789012")
    if not isinstance(region, str) or not re.fullmatch(r"[a-z0-9-]+", region):
        raise ScenarioError(f"{path}: bad region {region!r}")
    if not isinstance(account, str) or not re.fullmatch(r"\d{12}", account):
        raise ScenarioError(f"{path}: account must be 12 digits")
    world = World(region, account)
    clusters = data.get("clusters", {})
    if not isinstance(clusters, dict):
        raise ScenarioError(f"{path}: clusters must be an object (name -> cluster)")
    for cname, cdoc in clusters.items():
        where = f"{path}: clusters.{cname}"
        world.cluster(cname, create=True)
        services = (cdoc or {}).get("services", {})
        if not isinstance(services, dict):
            raise ScenarioError(f"{where}.services must be an object (name -> service)")
        for sname, sdoc in services.items():
            swhere = f"{where}.services.{sname}"
            sdoc = sdoc or {}
            svc = world.service(cname, sname, create=True)
            for i, rev in enumerate(sdoc.get("revisions", [])):
                world.add_revision(svc, rev, f"{swhere}.revisions[{i}]")
            for i, dep in enumerate(sdoc.get("deployments", [])):
                world.add_deployment(svc, dep, f"{swhere}.deployments[{i}]")
            if "generate" in sdoc:
                world.generate(sdoc["generate"], f"{swhere}.generate", cname, sname)
    gens = data.get("generate", [])
    if isinstance(gens, dict):
        gens = [gens]
    for i, gen in enumerate(gens):
        world.generate(gen, f"{path}: generate[{i}]")
    creds = parse_credentials(data.get("credentials"), path)
    faults = data.get("faults", [])
    if not isinstance(faults, list):
        raise ScenarioError(f"{path}: faults must be a list")
    return world, creds, faults


def parse_credentials(value, where):
    if value is None:
        return []
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise ScenarioError(f"{where}: credentials must be an object or a list")
    out = []
    for item in value:
        akid = item.get("accessKeyId") if isinstance(item, dict) else None
        secret = item.get("secretAccessKey") if isinstance(item, dict) else None
        if not isinstance(akid, str) or not isinstance(secret, str) or not akid or not secret:
            raise ScenarioError(f"{where}: credentials need accessKeyId and secretAccessKey")
        token = item.get("sessionToken")
        if token is not None and not isinstance(token, str):
            raise ScenarioError(f"{where}: sessionToken must be a string or null")
        out.append({"accessKeyId": akid, "secretAccessKey": secret, "sessionToken": token})
    return out


# --------------------------------------------------------------------------
# SigV4 verification (independent of any SDK)
# --------------------------------------------------------------------------

AMZ_DATE_RE = re.compile(r"^\d{8}T\d{6}Z$")


def _hmac(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret, date, region, service):
    k = _hmac(("AWS4" + secret).encode("utf-8"), date)
    k = _hmac(k, region)
    k = _hmac(k, service)
    return _hmac(k, "aws4_request")


def canonical_uri(raw_path):
    """Normalised, percent-encoded path as SigV4 (non-S3) wants it."""
    segments = []
    for seg in raw_path.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if segments:
                segments.pop()
            continue
        segments.append(seg)
    path = "/" + "/".join(segments)
    if raw_path.endswith("/") and segments:
        path += "/"
    return urllib.parse.quote(path, safe="/~")


def canonical_query(raw_query):
    pairs = []
    if raw_query:
        for part in raw_query.split("&"):
            if not part:
                continue
            key, _, value = part.partition("=")
            key = urllib.parse.quote(urllib.parse.unquote(key), safe="-_.~")
            value = urllib.parse.quote(urllib.parse.unquote(value), safe="-_.~")
            pairs.append((key, value))
    pairs.sort()
    return "&".join(f"{k}={v}" for k, v in pairs)


def collapse(value):
    return re.sub(r" +", " ", value.strip())


def canonical_request(method, raw_path, raw_query, headers, signed, body):
    """headers: list of (name, value) as received. signed: lower-case names."""
    lines = []
    for name in signed:
        values = [collapse(v) for (n, v) in headers if n.lower() == name]
        lines.append(f"{name}:{','.join(values)}\n")
    return "\n".join([
        method,
        canonical_uri(raw_path),
        canonical_query(raw_query),
        "".join(lines),
        ";".join(signed),
        hashlib.sha256(body).hexdigest(),
    ])


def header(headers, name):
    for n, v in headers:
        if n.lower() == name:
            return v
    return None


def fmt_amz(dt):
    return dt.strftime("%Y%m%dT%H%M%SZ")


def verify_sigv4(method, target, headers, body, creds, region, now, max_skew,
                 service=SIGNING_SERVICE):
    """Check a request's SigV4 signature. Raises ApiError(403) when it is bad.

    target is the raw request target (path + optional query); headers a list
    of (name, value); creds a list of credential dicts; now an epoch float.
    Returns the access key id that signed.
    """
    auth = header(headers, "authorization")
    if auth is None:
        raise ApiError("MissingAuthenticationTokenException",
                       "Missing Authentication Token", 403)
    bad = "InvalidSignatureException"
    algo, _, rest = auth.strip().partition(" ")
    if algo != "AWS4-HMAC-SHA256":
        raise ApiError(bad, f"Unsupported authorization algorithm '{algo}'", 403)
    fields = {}
    for part in rest.split(","):
        key, eq, value = part.strip().partition("=")
        if eq:
            fields[key.strip()] = value.strip()
    missing = [k for k in ("Credential", "SignedHeaders", "Signature") if k not in fields]
    if missing:
        raise ApiError(bad, "Authorization header requires " + ", ".join(
            f"'{k}'" for k in missing) + " parameter(s). Authorization=" + algo, 403)
    scope_parts = fields["Credential"].split("/")
    if len(scope_parts) != 5:
        raise ApiError("IncompleteSignatureException",
                       "Credential must have exactly 5 slash-delimited elements, "
                       "e.g. keyid/date/region/service/term", 403)
    akid, sdate, sregion, sservice, term = scope_parts
    cred = next((c for c in creds if c["accessKeyId"] == akid), None)
    if cred is None:
        raise ApiError("UnrecognizedClientException",
                       "The security token included in the request is invalid.", 403)
    amz_date = header(headers, "x-amz-date")
    if amz_date is None or not AMZ_DATE_RE.match(amz_date.strip()):
        raise ApiError(bad, "Authorization header requires existence of either a "
                       "'X-Amz-Date' or a 'Date' header.", 403)
    amz_date = amz_date.strip()
    if sdate != amz_date[:8]:
        raise ApiError(bad, f"Date in Credential scope does not match YYYYMMDD from "
                       f"ISO-8601 version of date from HTTP: '{sdate}' != "
                       f"'{amz_date[:8]}', from '{amz_date}'.", 403)
    if sregion != region:
        raise ApiError(bad, f"Credential should be scoped to a valid region, not "
                       f"'{sregion}'. ", 403)
    if sservice != service:
        raise ApiError(bad, f"Credential should be scoped to correct service: "
                       f"'{service}'. ", 403)
    if term != "aws4_request":
        raise ApiError(bad, "Credential should be scoped with a valid terminator: "
                       "'aws4_request', not '" + term + "'. ", 403)
    try:
        when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc)
    except ValueError:
        raise ApiError(bad, f"Invalid X-Amz-Date '{amz_date}'", 403) from None
    now_dt = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
    skew = datetime.timedelta(seconds=max_skew)
    if when < now_dt - skew:
        raise ApiError(bad, f"Signature expired: {amz_date} is now earlier than "
                       f"{fmt_amz(now_dt - skew)} ({fmt_amz(now_dt)} - "
                       f"{max_skew // 60} min.)", 403)
    if when > now_dt + skew:
        raise ApiError(bad, f"Signature not yet current: {amz_date} is still later "
                       f"than {fmt_amz(now_dt + skew)} ({fmt_amz(now_dt)} + "
                       f"{max_skew // 60} min.)", 403)
    token = header(headers, "x-amz-security-token")
    if cred["sessionToken"] is not None:
        if token is None or not hmac.compare_digest(token.strip(), cred["sessionToken"]):
            raise ApiError("UnrecognizedClientException",
                           "The security token included in the request is invalid.", 403)
    elif token is not None:
        raise ApiError("UnrecognizedClientException",
                       "The security token included in the request is invalid.", 403)
    signed = fields["SignedHeaders"].split(";")
    if signed != sorted(signed) or any(s != s.lower() or not s for s in signed):
        raise ApiError(bad, "SignedHeaders must be lower-case, sorted and "
                       "';'-separated.", 403)
    if "host" not in signed:
        raise ApiError(bad, "'Host' or ':authority' must be a 'SignedHeader' in the "
                       "AWS Authorization.", 403)
    for name in signed:
        if header(headers, name) is None:
            raise ApiError(bad, f"Header '{name}' is listed in SignedHeaders but "
                           "missing from the request.", 403)
    path, _, query = target.partition("?")
    creq = canonical_request(method, path, query, headers, signed, body)
    scope = f"{sdate}/{sregion}/{sservice}/{term}"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(creq.encode("utf-8")).hexdigest()])
    key = signing_key(cred["secretAccessKey"], sdate, sregion, sservice)
    expect = hmac.new(key, sts.encode("utf-8"), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expect, fields["Signature"].lower()):
        raise ApiError(bad, "The request signature we calculated does not match the "
                       "signature you provided. Check your AWS Secret Access Key and "
                       "signing method. Consult the service documentation for details."
                       f"\n\nThe Canonical String for this request should have been\n"
                       f"'{creq}'\n\nThe String-to-Sign should have been\n'{sts}'\n", 403)
    return akid


# --------------------------------------------------------------------------
# Shared state: world, credentials, faults, stats
# --------------------------------------------------------------------------

FAULT_TYPES = ("throttle", "error", "http", "malformed", "drop", "delay", "hang",
               "trickle", "shape")
MALFORMED_VARIANTS = ("html", "truncated", "garbage", "empty", "cut", "binary", "huge",
                      "hugeLength", "hugeHeaders", "cutReset", "hugeArray",
                      "hugeRevision")
SHAPE_VARIANTS = ("notArray", "elementNotObject", "wrongTypes", "missingArns",
                  "missingRevisionArns", "loopToken", "freshToken", "duplicate", "conflict",
                  "wrongArn", "foreignService", "extraRevision")
HUGE_DEFAULT = 300 * 1000 * 1000
HUGE_ARRAY_DEFAULT = 60 * 1000 * 1000


def check_fault(rule, where="fault"):
    if not isinstance(rule, dict):
        raise ScenarioError(f"{where}: a fault rule must be an object")
    rule = dict(rule)
    rule.pop("action", None)
    ftype = rule.get("type")
    if ftype not in FAULT_TYPES:
        raise ScenarioError(f"{where}: type must be one of {', '.join(FAULT_TYPES)}")
    op = rule.setdefault("operation", "*")
    if not isinstance(op, str):
        raise ScenarioError(f"{where}: operation must be a string")
    for key, default in (("count", 1), ("skip", 0)):
        value = rule.setdefault(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < -1:
            raise ScenarioError(f"{where}: {key} must be an integer")
    if ftype == "http":
        status = rule.get("status")
        if not isinstance(status, int) or not 400 <= status <= 599:
            raise ScenarioError(f"{where}: http fault needs status 400..599")
    if ftype == "malformed":
        variant = rule.setdefault("variant", "html")
        if variant not in MALFORMED_VARIANTS:
            raise ScenarioError(f"{where}: malformed variant must be one of "
                                f"{', '.join(MALFORMED_VARIANTS)}")
        size = rule.setdefault("size", HUGE_ARRAY_DEFAULT if variant == "hugeArray"
                               else HUGE_DEFAULT)
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ScenarioError(f"{where}: size must be an integer >= 1")
    if ftype == "drop":
        if rule.setdefault("variant", "close") not in ("close", "reset"):
            raise ScenarioError(f"{where}: drop variant must be close or reset")
    if ftype in ("delay", "hang", "trickle"):
        delay = rule.setdefault("delayMs", 1000 if ftype == "delay" else 600000)
        if not isinstance(delay, (int, float)) or delay < 0:
            raise ScenarioError(f"{where}: delayMs must be a number >= 0")
    if ftype == "trickle":
        interval = rule.setdefault("intervalMs", 500)
        if not isinstance(interval, (int, float)) or interval <= 0:
            raise ScenarioError(f"{where}: intervalMs must be a number > 0")
    if ftype == "shape":
        variants = rule.get("variant")
        variants = variants if isinstance(variants, list) and variants else [variants]
        if any(v not in SHAPE_VARIANTS for v in variants):
            raise ScenarioError(f"{where}: shape variant must be one of "
                                f"{', '.join(SHAPE_VARIANTS)} (or a list of them)")
        index = rule.get("index")
        if index is not None and (not isinstance(index, int) or isinstance(index, bool)
                                  or index < 0):
            raise ScenarioError(f"{where}: index must be an integer >= 0")
        if not isinstance(rule.get("member", ""), str):
            raise ScenarioError(f"{where}: member must be a string")
    return rule


class State:
    def __init__(self, world, creds, latency_ms, max_skew):
        self.lock = threading.Lock()
        self.world = world
        self.creds = creds
        self.latency_ms = latency_ms
        self.max_skew = max_skew
        self.faults = []
        self.next_fault_id = 1
        self.stopping = threading.Event()
        self.log = None
        self.sts = {"roles": None, "webIdentityTokens": []}
        self.sso = {"tokens": [], "roles": None, "refreshTokens": []}
        self.reset_stats()

    def reset_stats(self):
        self.calls = {}
        self.succeeded = {}
        self.fault_counts = {}
        self.auth_failures = 0
        self.revision_arns = []
        self.deployment_arns = []
        self.requests = []
        self.connections = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.sts_calls = []
        self.sso_calls = []
        self.sso_token_calls = []

    def add_fault(self, rule, where="fault"):
        rule = check_fault(rule, where)
        with self.lock:
            rule["id"] = self.next_fault_id
            self.next_fault_id += 1
            self.faults.append(rule)
            return rule["id"]

    def take_fault(self, op):
        """First matching rule with calls left, or None. Caller holds lock."""
        for rule in self.faults:
            if rule["operation"] not in ("*", op) or rule["count"] == 0:
                continue
            if rule["skip"] > 0:
                rule["skip"] -= 1
                continue
            if rule["count"] > 0:
                rule["count"] -= 1
            return dict(rule)
        return None

    def stats(self):
        with self.lock:
            return {
                "calls": dict(self.calls),
                "succeeded": dict(self.succeeded),
                "faults": dict(self.fault_counts),
                "authFailures": self.auth_failures,
                "revisionArnsRequested": list(self.revision_arns),
                "deploymentArnsRequested": list(self.deployment_arns),
                "requests": list(self.requests),
                "connections": self.connections,
                "maxInFlight": self.max_in_flight,
                "stsCalls": [dict(c) for c in self.sts_calls],
                "ssoCalls": [dict(c) for c in self.sso_calls],
                "ssoTokenCalls": [dict(c) for c in self.sso_token_calls],
                "pendingFaults": [
                    {"id": r["id"], "operation": r["operation"], "type": r["type"],
                     "remaining": r["count"]}
                    for r in self.faults if r["count"] != 0],
            }


STATE = None


# --------------------------------------------------------------------------
# Operations
# --------------------------------------------------------------------------

def bump(table, key):
    table[key] = table.get(key, 0) + 1


def name_from(value, kind, world, what):
    """Name from a name or an ARN of the given resource kind."""
    if not isinstance(value, str) or not value:
        raise ApiError("InvalidParameterException", f"{what} must be a non-empty string.")
    if value.startswith("arn:"):
        match = re.fullmatch(r"arn:[a-z-]+:ecs:([a-z0-9-]+):(\d{12}):" + kind + r"/(.+)",
                             value)
        if not match:
            raise ApiError("InvalidParameterException", f"Invalid {what} ARN: {value}")
        return match.group(3)
    return value


def get_cluster(world, params):
    name = name_from(params.get("cluster", "default"), "cluster", world, "cluster")
    cluster = world.cluster(name)
    if cluster is None:
        raise ApiError("ClusterNotFoundException", "Cluster not found.")
    return cluster


def page_size(params, default):
    value = params.get("maxResults", default)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100:
        raise ApiError("InvalidParameterException",
                       "maxResults must be an integer between 1 and 100.")
    return value


def make_token(kind, key, offset):
    raw = json.dumps({"k": kind, "f": key, "o": offset}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def read_token(params, kind, key):
    token = params.get("nextToken")
    if token is None:
        return 0
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        if data["k"] != kind or data["f"] != key or not isinstance(data["o"], int):
            raise ValueError
        return data["o"]
    except (ValueError, KeyError, TypeError):
        raise ApiError("InvalidParameterException", "Invalid nextToken.") from None


def op_list_services(world, params):
    cluster = get_cluster(world, params)
    size = page_size(params, 10)
    arns = [s.arn for s in cluster.services.values()]
    key = hashlib.sha256(cluster.arn.encode()).hexdigest()[:16]
    offset = read_token(params, "ListServices", key)
    out = {"serviceArns": arns[offset:offset + size]}
    if offset + size < len(arns):
        out["nextToken"] = make_token("ListServices", key, offset + size)
    return out


def epoch_param(value, what):
    if isinstance(value, bool):
        raise ApiError("SerializationException", f"{what} must be a timestamp")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return to_epoch(value, what)
        except ScenarioError:
            pass
    raise ApiError("SerializationException", f"{what} must be a timestamp")


BRIEF_KEYS = ("serviceDeploymentArn", "serviceArn", "clusterArn", "startedAt",
              "createdAt", "finishedAt", "targetServiceRevisionArn", "status",
              "statusReason")


def op_list_service_deployments(world, params):
    if "service" not in params:
        raise ApiError("InvalidParameterException", "service must be specified.")
    service_param = params["service"]
    cluster_param = params.get("cluster")
    if isinstance(service_param, str) and service_param.startswith("arn:"):
        match = re.fullmatch(r"arn:[a-z-]+:ecs:[a-z0-9-]+:\d{12}:service/([^/]+)/([^/]+)",
                             service_param)
        if not match:
            raise ApiError("InvalidParameterException", f"Invalid service ARN: {service_param}")
        arn_cluster, service_name = match.groups()
        if cluster_param is None:
            cluster_param = arn_cluster
    else:
        service_name = name_from(service_param, "service", world, "service")
        arn_cluster = None
    cluster = get_cluster(world, {"cluster": cluster_param or "default"})
    if arn_cluster is not None and arn_cluster != cluster.name:
        raise ApiError("ServiceNotFoundException", "Service not found.")
    svc = cluster.services.get(service_name)
    if svc is None:
        raise ApiError("ServiceNotFoundException", "Service not found.")
    size = page_size(params, 20)
    statuses = params.get("status")
    if statuses is not None and (not isinstance(statuses, list) or
                                 not all(isinstance(s, str) for s in statuses)):
        raise ApiError("SerializationException", "status must be a list of strings")
    created = params.get("createdAt") or {}
    if not isinstance(created, dict):
        raise ApiError("SerializationException", "createdAt must be a structure")
    after = epoch_param(created["after"], "createdAt.after") if "after" in created else None
    before = epoch_param(created["before"], "createdAt.before") if "before" in created else None
    selected = []
    for dep in svc.deployments:
        if statuses and dep.get("status") not in statuses:
            continue
        if after is not None and dep["createdAt"] < after:
            continue
        if before is not None and dep["createdAt"] > before:
            continue
        selected.append(dep)
    key = hashlib.sha256(json.dumps([svc.arn, statuses, after, before]).encode()).hexdigest()[:16]
    offset = read_token(params, "ListServiceDeployments", key)
    briefs = []
    for dep in selected[offset:offset + size]:
        brief = {}
        for name in BRIEF_KEYS:
            if name == "targetServiceRevisionArn":
                if "targetServiceRevision" in dep:
                    brief[name] = dep["targetServiceRevision"]["arn"]
            elif name in dep:
                brief[name] = dep[name]
        briefs.append(brief)
    out = {"serviceDeployments": briefs}
    if offset + size < len(selected):
        out["nextToken"] = make_token("ListServiceDeployments", key, offset + size)
    return out


def arn_list(params, name):
    arns = params.get(name)
    if not isinstance(arns, list) or not all(isinstance(a, str) for a in arns):
        raise ApiError("InvalidParameterException", f"{name} must be a list of strings.")
    if not arns:
        raise ApiError("InvalidParameterException", f"{name} must not be empty.")
    if len(arns) > MAX_ARNS:
        raise ApiError("InvalidParameterException",
                       f"{name} can have at most {MAX_ARNS} elements.")
    return list(dict.fromkeys(arns))


def op_describe_service_deployments(world, params):
    found, failures = [], []
    for arn in arn_list(params, "serviceDeploymentArns"):
        doc = world.deployments.get(arn)
        if doc is None:
            failures.append({"arn": arn, "reason": "MISSING"})
        else:
            found.append(doc)
    return {"serviceDeployments": found, "failures": failures}


def op_describe_service_revisions(world, params):
    found, failures = [], []
    for arn in arn_list(params, "serviceRevisionArns"):
        doc = world.revisions.get(arn)
        if doc is None:
            failures.append({"arn": arn, "reason": "MISSING",
                             "detail": "The specified service revision does not exist."})
        else:
            found.append(doc)
    return {"serviceRevisions": found, "failures": failures}


HANDLERS = {
    "ListServices": op_list_services,
    "ListServiceDeployments": op_list_service_deployments,
    "DescribeServiceDeployments": op_describe_service_deployments,
    "DescribeServiceRevisions": op_describe_service_revisions,
}


# --------------------------------------------------------------------------
# Hostile answers: a real answer bent into a wrong shape ("shape" faults)
# --------------------------------------------------------------------------

MAIN_LIST = {
    "ListServices": "serviceArns",
    "ListServiceDeployments": "serviceDeployments",
    "DescribeServiceDeployments": "serviceDeployments",
    "DescribeServiceRevisions": "serviceRevisions",
}
OWN_ARN = {
    "ListServiceDeployments": "serviceDeploymentArn",
    "DescribeServiceDeployments": "serviceDeploymentArn",
    "DescribeServiceRevisions": "serviceRevisionArn",
}
LOOP_TOKEN = "LOOP-the-same-token-every-time"
FRESH_TOKENS = [0]  # the counter of the "freshToken" shape variant


def _revision_of(arn, service, rev_id):
    """The revision ARN @arn moved to another service and/or id."""
    head, _, rest = arn.partition(":service-revision/")
    cluster = rest.split("/")[0] if rest else "default"
    return f"{head}:service-revision/{cluster}/{service}/{rev_id}", \
        f"{head}:service/{cluster}/{service}"


def reshape(result, fault, op):
    """A deep copy of the real answer @result, bent as fault["variant"] says
    (one variant, or a list applied in order)."""
    out = result
    variants = fault["variant"]
    for variant in variants if isinstance(variants, list) else [variants]:
        out = reshape_one(out, dict(fault, variant=variant), op)
    return out


def reshape_one(result, fault, op):
    """A deep copy of the real answer @result, bent as fault["variant"] says.

    The changed element is the main list's element `index` (default 0); the
    missing* variants change every element unless `index` is given. Variants
    that need an element do nothing when the list is empty.
    """
    out = json.loads(json.dumps(result))
    variant = fault["variant"]
    main = MAIN_LIST.get(op, "serviceRevisions")
    member = fault.get("member") or main
    items = out.get(main) if isinstance(out.get(main), list) else []
    index = fault.get("index")
    pick = items[index] if index is not None and index < len(items) else (
        items[0] if index is None and items else None)
    own = OWN_ARN.get(op)
    if variant == "notArray":
        value = out.get(member, [])
        out[member] = {"0": value[0]} if isinstance(value, list) and value else {"items": value}
    elif variant == "elementNotObject":
        out[member] = [json.dumps(e) if isinstance(e, (dict, list)) else 12345
                       for e in (out.get(member) or [])]
    elif variant == "wrongTypes" and pick is not None:
        if op == "DescribeServiceRevisions":
            pick.update({"containerImages": "nginx:latest", "loadBalancers": 42,
                         "createdAt": "yesterday"})
        elif op == "DescribeServiceDeployments":
            pick.update({"sourceServiceRevisions": "none", "targetServiceRevision": 42})
        elif op == "ListServiceDeployments":
            pick["serviceDeploymentArn"] = 42
        else:
            items[items.index(pick)] = 42
    elif variant in ("missingArns", "missingRevisionArns"):
        chosen = [pick] if index is not None and pick is not None else items
        for elem in chosen:
            if not isinstance(elem, dict):
                continue
            if variant == "missingArns" and own:
                elem.pop(own, None)
            elif variant == "missingRevisionArns":
                for summary in ([elem.get("targetServiceRevision")] +
                                list(elem.get("sourceServiceRevisions") or [])):
                    if isinstance(summary, dict):
                        summary.pop("arn", None)
    elif variant == "loopToken":
        out["nextToken"] = LOOP_TOKEN
    elif variant == "freshToken":
        # a new token on every page, each leading back to the first page
        FRESH_TOKENS[0] += 1
        out["nextToken"] = "%s-%d" % (LOOP_TOKEN, FRESH_TOKENS[0])
    elif isinstance(pick, dict) and isinstance(pick.get("serviceRevisionArn"), str):
        arn = pick["serviceRevisionArn"]
        rev_id = arn.rsplit("/", 1)[-1]
        service = arn.split("/")[-2]
        if variant == "duplicate":
            items.insert(items.index(pick) + 1, json.loads(json.dumps(pick)))
        elif variant == "conflict":
            other = json.loads(json.dumps(pick))
            other["taskDefinition"] = (str(pick.get("taskDefinition", "task-definition/x:1"))
                                       .rsplit(":", 1)[0] + ":999")
            items.insert(items.index(pick) + 1, other)
        elif variant == "wrongArn":
            pick["serviceRevisionArn"], _ = _revision_of(
                arn, service, stable_digits("wrong/" + arn))
        elif variant == "foreignService":
            _, pick["serviceArn"] = _revision_of(arn, "intruder", rev_id)
        elif variant == "extraRevision":
            other = json.loads(json.dumps(pick))
            other["serviceRevisionArn"], other["serviceArn"] = _revision_of(
                arn, "intruder", stable_digits("extra/" + arn))
            items.append(other)
    return out


# --------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------

def binary_noise(size):
    """Deterministic high-entropy bytes (NULs, invalid UTF-8, anything)."""
    out, seed = [], b"fake-ecs-binary"
    while sum(len(b) for b in out) < size:
        seed = hashlib.sha256(seed).digest()
        out.append(seed)
    return b"".join(out)[:size]


def error_body(error_type, message):
    return json.dumps({"__type": error_type, "message": message}).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; without this, Nagle holds the body
    # back until the delayed ACK (~40 ms per keep-alive reply).
    disable_nagle_algorithm = True
    server_version = "fake-ecs/1.0"
    sys_version = ""

    def setup(self):
        super().setup()
        with STATE.lock:
            STATE.connections += 1

    def log_message(self, fmt, *args):  # the default logs to stderr
        pass

    # ---- I/O helpers ---------------------------------------------------

    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(length) if length else b""

    def send(self, status, body, content_type=JSON_CT, extra=None):
        self.send_response(status)
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def send_error_json(self, err):
        self.send(err.status, error_body(err.error_type, err.message),
                  extra={"X-Amzn-Errortype": err.error_type})

    # ---- routes --------------------------------------------------------

    def do_GET(self):
        if self.path == "/__stats":
            self.send(200, json.dumps(STATE.stats(), indent=1).encode(), "application/json")
        elif self.path == "/__health":
            self.send(200, b"ok\n", "text/plain")
        elif self.path.split("?")[0] == "/federation/credentials":
            self.sso_credentials()
        else:
            self.send(404, b"not found\n", "text/plain")

    def do_POST(self):
        try:
            body = self.read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self.send(413, b"request body too large or malformed\n", "text/plain")
            return
        if self.path == "/__control":
            self.control(body)
            return
        self.api(body)

    def do_PUT(self):
        self.close_connection = True
        self.send(405, b"method not allowed\n", "text/plain")

    do_DELETE = do_PUT

    def control(self, body):
        try:
            req = json.loads(body or b"{}")
            if not isinstance(req, dict):
                raise ScenarioError("control body must be a JSON object")
            action = req.get("action")
            out = {"ok": True}
            if action == "fault":
                out["id"] = STATE.add_fault(req)
            elif action in ("clearFaults", "reset", "resetStats"):
                with STATE.lock:
                    if action != "resetStats":
                        STATE.faults = []
                    if action != "clearFaults":
                        STATE.reset_stats()
            elif action == "latency":
                ms = req.get("ms")
                if not isinstance(ms, (int, float)) or ms < 0:
                    raise ScenarioError("latency needs ms >= 0")
                with STATE.lock:
                    STATE.latency_ms = ms
            elif action == "credentials":
                creds = parse_credentials(
                    {k: v for k, v in req.items() if k != "action"}, "credentials")
                with STATE.lock:
                    STATE.creds = creds
            elif action == "sts":
                cfg = check_sts({k: v for k, v in req.items() if k != "action"})
                with STATE.lock:
                    STATE.sts = cfg
            elif action == "sso":
                cfg = check_sso({k: v for k, v in req.items() if k != "action"})
                with STATE.lock:
                    STATE.sso = cfg
            elif action == "generate":
                with STATE.lock:
                    out["generated"] = STATE.world.generate(req, "generate")
            else:
                raise ScenarioError(f"unknown action {action!r}")
        except (ScenarioError, json.JSONDecodeError, AttributeError, TypeError,
                ValueError) as exc:
            self.send(400, json.dumps({"ok": False, "error": str(exc)}).encode(),
                      "application/json")
            return
        self.send(200, json.dumps(out).encode(), "application/json")

    def api(self, body):
        ctype = (self.headers.get("Content-Type") or "").lower()
        if not self.headers.get("X-Amz-Target") and ctype.startswith(FORM_CT):
            self.sts(body)
            return
        if not self.headers.get("X-Amz-Target") and self.path == "/token":
            self.sso_create_token(body)
            return
        target = self.headers.get("X-Amz-Target") or ""
        op = target[len(TARGET_PREFIX):] if target.startswith(TARGET_PREFIX) else None
        label = op or (target or "<none>")
        entry = {"seq": 0, "operation": label, "status": 0, "fault": None, "arns": 0}
        with STATE.lock:
            bump(STATE.calls, label)
            STATE.in_flight += 1
            STATE.max_in_flight = max(STATE.max_in_flight, STATE.in_flight)
            entry["seq"] = len(STATE.requests) + 1
            STATE.requests.append(entry)
            creds, region, skew = STATE.creds, STATE.world.region, STATE.max_skew
        try:
            self.api_inner(op, label, body, entry, creds, region, skew)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            with STATE.lock:
                STATE.in_flight -= 1
            if STATE.log:
                STATE.log(entry)

    def api_inner(self, op, label, body, entry, creds, region, skew):
        if self.command != "POST":
            raise ApiError("UnknownOperationException", "Only POST is supported.")
        headers = list(self.headers.items())
        try:
            entry["accessKeyId"] = verify_sigv4(self.command, self.path, headers, body, creds,
                                                region, time.time(), skew)
        except ApiError as err:
            with STATE.lock:
                STATE.auth_failures += 1
            entry["status"] = err.status
            entry["error"] = err.error_type
            self.send_error_json(err)
            return
        params = None
        try:
            params = json.loads(body.decode("utf-8")) if body else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            pass
        arns = []
        if isinstance(params, dict):
            for key, sink in (("serviceRevisionArns", "revision_arns"),
                              ("serviceDeploymentArns", "deployment_arns")):
                if isinstance(params.get(key), list):
                    arns = [a for a in params[key] if isinstance(a, str)]
                    with STATE.lock:
                        getattr(STATE, sink).extend(arns)
        entry["arns"] = len(arns)
        with STATE.lock:
            fault = STATE.take_fault(label)
            latency = STATE.latency_ms
            if fault:
                bump(STATE.fault_counts, label)
        if latency:
            time.sleep(latency / 1000.0)
        shape = None
        if fault:
            entry["fault"] = fault["type"]
            if fault["type"] == "shape" or fault.get("variant") == "hugeRevision":
                shape = fault
            elif self.inject(fault, entry):
                return
        try:
            if op is None or op not in HANDLERS:
                raise ApiError("UnknownOperationException",
                               f"Unknown operation {label}")
            if not isinstance(params, dict):
                raise ApiError("SerializationException",
                               "Request body must be a JSON object.")
            if str(params.get("nextToken", "")).startswith(LOOP_TOKEN):
                params = {k: v for k, v in params.items() if k != "nextToken"}
            with STATE.lock:
                result = HANDLERS[op](STATE.world, params)
                if shape and shape["type"] == "shape":
                    result = reshape(result, shape, op)
                payload = json.dumps(result).encode()
            if shape and shape["type"] == "malformed":
                entry["status"] = 200
                self.stream_padded(result, MAIN_LIST.get(op, "serviceRevisions"),
                                   shape["size"])
                return
        except ApiError as err:
            entry["status"] = err.status
            entry["error"] = err.error_type
            self.send_error_json(err)
            return
        entry["status"] = 200
        with STATE.lock:
            bump(STATE.succeeded, label)
        self.send(200, payload)

    # ---- IAM Identity Center portal --------------------------------------

    def sso_credentials(self):
        """GetRoleCredentials: GET /federation/credentials?role_name=R&account_id=A."""
        query = dict(urllib.parse.parse_qsl(self.path.partition("?")[2]))
        call = {"roleName": query.get("role_name"), "accountId": query.get("account_id"),
                "status": 0, "error": None, "issued": None}
        with STATE.lock:
            STATE.sso_calls.append(call)
            bump(STATE.calls, "sso:GetRoleCredentials")
            cfg = STATE.sso
        token = self.headers.get("x-amz-sso_bearer_token") or ""

        def refuse(status, kind, message):
            call["status"], call["error"] = status, kind
            self.send(status, json.dumps({"message": message}).encode(), "application/json",
                      extra={"x-amzn-ErrorType": kind})

        if not call["roleName"] or not call["accountId"]:
            return refuse(400, "InvalidRequestException", "role_name and account_id are required")
        if not token or not any(hmac.compare_digest(token, t) for t in cfg["tokens"]):
            return refuse(401, "UnauthorizedException", "Session token not found or invalid")
        if cfg["roles"] is not None and not any(
                r.get("accountId") == call["accountId"] and r.get("roleName") == call["roleName"]
                for r in cfg["roles"]):
            return refuse(403, "ForbiddenException", "No access")
        issued = issue_credentials(3600)
        with STATE.lock:
            STATE.creds.append({"accessKeyId": issued["AccessKeyId"],
                                "secretAccessKey": issued["SecretAccessKey"],
                                "sessionToken": issued["SessionToken"]})
        call["status"], call["issued"] = 200, issued["AccessKeyId"]
        expires = int((time.time() + 3600) * 1000)
        self.send(200, json.dumps({"roleCredentials": {
            "accessKeyId": issued["AccessKeyId"], "secretAccessKey": issued["SecretAccessKey"],
            "sessionToken": issued["SessionToken"], "expiration": expires}}).encode(),
            "application/json")

    def sso_create_token(self, body):
        """SSO-OIDC CreateToken (POST /token, JSON), grantType refresh_token only."""
        call = {"grantType": None, "clientId": None, "status": 0, "error": None}
        with STATE.lock:
            STATE.sso_token_calls.append(call)
            bump(STATE.calls, "sso-oidc:CreateToken")
            cfg = STATE.sso

        def refuse(status, kind, code, description):
            call["status"], call["error"] = status, code
            self.send(status, json.dumps({"error": code, "error_description": description})
                      .encode(), "application/json", extra={"x-amzn-ErrorType": kind})

        try:
            req = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            req = None
        if not isinstance(req, dict):
            return refuse(400, "InvalidRequestException", "invalid_request", "not JSON")
        call["grantType"], call["clientId"] = req.get("grantType"), req.get("clientId")
        if req.get("grantType") != "refresh_token":
            return refuse(400, "UnsupportedGrantTypeException", "unsupported_grant_type",
                          "only refresh_token")
        if not req.get("clientId") or not req.get("clientSecret"):
            return refuse(401, "InvalidClientException", "invalid_client", "unknown client")
        refresh = req.get("refreshToken") or ""
        if not any(hmac.compare_digest(refresh, t) for t in cfg["refreshTokens"]):
            return refuse(400, "InvalidGrantException", "invalid_grant",
                          "Invalid refresh token provided")
        access = "sso-access-" + uuid.uuid4().hex
        new_refresh = "sso-refresh-" + uuid.uuid4().hex
        with STATE.lock:
            cfg["tokens"].append(access)
            cfg["refreshTokens"].append(new_refresh)
        call["status"] = 200
        self.send(200, json.dumps({"accessToken": access, "tokenType": "Bearer",
                                   "expiresIn": 3600, "refreshToken": new_refresh}).encode(),
                  "application/json")

    # ---- STS -------------------------------------------------------------

    def sts(self, body):
        """AssumeRole / AssumeRoleWithWebIdentity, AWS Query protocol."""
        try:
            params = dict(urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                                                 strict_parsing=bool(body)))
        except (UnicodeDecodeError, ValueError):
            params = None
        action = params.get("Action", "") if params else ""
        call = {"action": action or "<none>", "roleArn": None, "roleSessionName": None,
                "externalId": None, "durationSeconds": None, "signedBy": None,
                "issued": None, "status": 0, "error": None}
        with STATE.lock:
            STATE.sts_calls.append(call)
            bump(STATE.calls, "sts:" + call["action"])
            creds, region, skew = list(STATE.creds), STATE.world.region, STATE.max_skew
            cfg = STATE.sts
        try:
            if params is None:
                raise ApiError("MalformedQueryString", "The request body is not a form.", 400)
            if params.get("Version") != STS_VERSION:
                raise ApiError("InvalidAction", "Could not find operation " + action +
                               " for version " + str(params.get("Version")), 400)
            if action not in ("AssumeRole", "AssumeRoleWithWebIdentity"):
                raise ApiError("InvalidAction", "Could not find operation " + action, 400)
            for key, field in (("RoleArn", "roleArn"), ("RoleSessionName", "roleSessionName"),
                               ("ExternalId", "externalId"),
                               ("DurationSeconds", "durationSeconds")):
                call[field] = params.get(key)
            for key in ("RoleArn", "RoleSessionName"):
                if not params.get(key):
                    raise ApiError("MissingParameter", f"The request must contain the "
                                   f"parameter {key}", 400)
            if not re.fullmatch(r"[\w+=,.@-]{2,64}", params["RoleSessionName"]):
                raise ApiError("ValidationError", "1 validation error detected: Value at "
                               "'roleSessionName' failed to satisfy constraint", 400)
            duration = 3600
            if "DurationSeconds" in params:
                try:
                    duration = int(params["DurationSeconds"])
                except ValueError:
                    duration = -1
                if not 900 <= duration <= 43200:
                    raise ApiError("ValidationError", "1 validation error detected: Value at "
                                   "'durationSeconds' failed to satisfy constraint", 400)
            if action == "AssumeRole":
                try:
                    call["signedBy"] = verify_sigv4(
                        self.command, self.path, list(self.headers.items()), body, creds,
                        region, time.time(), skew, service="sts")
                except ApiError as err:
                    with STATE.lock:
                        STATE.auth_failures += 1
                    raise ApiError(sts_code(err.error_type), err.message, err.status) from None
            else:
                token = params.get("WebIdentityToken", "")
                if not token:
                    raise ApiError("MissingParameter", "The request must contain the parameter "
                                   "WebIdentityToken", 400)
                if not any(hmac.compare_digest(token, t) for t in cfg["webIdentityTokens"]):
                    raise ApiError("InvalidIdentityToken", "The web identity token that was "
                                   "passed could not be validated by AWS.", 400)
            rule = None
            if cfg["roles"] is not None:
                rule = next((r for r in cfg["roles"] if r["roleArn"] == params["RoleArn"]),
                            None)
                who = call["signedBy"] or "web-identity"
                if rule is None or (rule.get("externalId") is not None and
                                    rule["externalId"] != params.get("ExternalId")):
                    raise ApiError("AccessDenied", f"User: {who} is not authorized to perform: "
                                   f"sts:{action} on resource: {params['RoleArn']}", 403)
                if rule.get("from") is not None and rule["from"] != call["signedBy"]:
                    raise ApiError("AccessDenied", f"User: {who} is not authorized to perform: "
                                   f"sts:{action} on resource: {params['RoleArn']}", 403)
                with STATE.lock:
                    fault = rule.get("fault")
                    if fault and fault.get("count", 1) != 0:
                        if fault.get("count", 1) > 0:
                            fault["count"] = fault.get("count", 1) - 1
                    else:
                        fault = None
                if fault is not None:
                    call["status"] = fault.get("status", 200)
                    call["error"] = "fault"
                    self.send(fault.get("status", 200), fault.get("body", "").encode(),
                              "text/xml")
                    return
            issued = issue_credentials(duration)
            with STATE.lock:
                STATE.creds.append({"accessKeyId": issued["AccessKeyId"],
                                    "secretAccessKey": issued["SecretAccessKey"],
                                    "sessionToken": issued["SessionToken"]})
            call["issued"] = issued["AccessKeyId"]
            call["status"] = 200
            self.send(200, sts_answer(action, params, issued), "text/xml")
        except ApiError as err:
            call["status"] = err.status
            call["error"] = err.error_type
            self.send(err.status, sts_error(err), "text/xml")

    # ---- faults --------------------------------------------------------

    def inject(self, fault, entry):
        """Apply a fault. True when the request has been fully dealt with."""
        ftype = fault["type"]
        if ftype == "delay":
            self.wait(fault["delayMs"])
            return False
        if ftype == "throttle":
            err = ApiError(fault.get("errorType", "ThrottlingException"),
                           fault.get("message", "Rate exceeded"), fault.get("status", 400))
            entry["status"] = err.status
            self.send_error_json(err)
            return True
        if ftype == "error":
            err = ApiError(fault.get("errorType", "ServerException"),
                           fault.get("message", "Injected error."), fault.get("status", 400))
            entry["status"] = err.status
            self.send_error_json(err)
            return True
        if ftype == "http":
            status = fault["status"]
            entry["status"] = status
            defaults = {500: "ServerException", 503: "ServiceUnavailableException",
                        429: "TooManyRequestsException"}
            etype = fault.get("errorType", defaults.get(status))
            if etype:
                msg = fault.get("message", "Service is unavailable. Please try again.")
                self.send(status, error_body(etype, msg), extra={"X-Amzn-Errortype": etype})
            else:
                page = (f"<html><head><title>{status}</title></head><body><center>"
                        f"<h1>{status} {self.responses.get(status, ('',))[0]}</h1>"
                        "</center></body></html>\n").encode()
                self.send(status, page, "text/html")
            return True
        if ftype == "malformed":
            variant = fault["variant"]
            entry["status"] = 200
            full = json.dumps({"serviceRevisions": [], "failures": [],
                               "serviceDeployments": [], "padding": "x" * 64}).encode()
            if variant == "html":
                self.send(200, b"<!DOCTYPE html><html><body><h1>Welcome</h1>"
                          b"</body></html>\n", "text/html")
            elif variant == "truncated":
                self.send(200, full[:len(full) // 2])
            elif variant == "garbage":
                self.send(200, b"\x00\xff\xfe not json at all \x01\x02")
            elif variant == "empty":
                self.send(200, b"")
            elif variant == "binary":
                self.send(200, binary_noise(64 * 1024), "application/octet-stream")
            elif variant in ("huge", "hugeLength"):
                self.stream_huge(fault["size"], chunked=variant == "huge")
            elif variant == "hugeArray":
                self.stream_array(fault["size"],
                                  MAIN_LIST.get(entry["operation"], "serviceRevisions"))
            elif variant == "hugeHeaders":
                pad = {f"X-Padding-{i:03d}": "x" * 1000 for i in range(256)}
                self.send(200, full, extra=pad)
            else:  # cut / cutReset: promise everything, send half, close (or reset)
                self.close_connection = True
                self.send_response(200)
                self.send_header("Content-Type", JSON_CT)
                self.send_header("Content-Length", str(len(full)))
                self.end_headers()
                self.wfile.write(full[:len(full) // 2])
                self.wfile.flush()
                if variant == "cutReset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))
            return True
        if ftype == "trickle":
            entry["status"] = 200
            self.trickle(fault["intervalMs"], fault["delayMs"])
            return True
        if ftype == "drop":
            entry["status"] = 0
            self.close_connection = True
            if fault["variant"] == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
            return True
        if ftype == "hang":
            entry["status"] = 0
            self.wait(fault["delayMs"], stop_on_close=True)
            self.close_connection = True
            return True
        return False

    def stream_huge(self, size, chunked):
        """200 + a JSON prefix that never closes, `size` bytes, written as it goes.

        Never built in memory: one 64 KiB block is written over and over.
        chunked: Transfer-Encoding chunked (no length known up front);
        else a Content-Length of `size` announced first.
        """
        self.close_connection = True
        self.send_response(200)
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.send_header("Content-Type", JSON_CT)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(size))
        self.end_headers()
        head = (b'{"serviceRevisions":[{"serviceRevisionArn":"arn:aws:ecs:us-east-1:'
                b'123456789012:service-revision/prod/web/1","padding":"')
        block = b"A" * 65536
        sent = 0
        while sent < size and not STATE.stopping.is_set():
            data = head if sent == 0 else block
            data = data[:size - sent]
            if chunked:
                self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
            else:
                self.wfile.write(data)
            sent += len(data)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def stream_array(self, size, member):
        """200 + complete, valid JSON of about `size` bytes: {"<member>":[0,0,...,0]}.

        Small for its byte count on the wire, huge once parsed into a tree
        (one node per 2 bytes). Written as it goes, never built in memory.
        """
        head, tail = b'{"%s":[' % member.encode(), b'0]}'
        count = max(0, (size - len(head) - len(tail)) // 2)
        self.send_response(200)
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.send_header("Content-Type", JSON_CT)
        self.send_header("Content-Length", str(len(head) + 2 * count + len(tail)))
        self.end_headers()
        self.wfile.write(head)
        block = b"0," * 32768
        left = count
        while left > 0 and not STATE.stopping.is_set():
            n = min(left, 32768)
            self.wfile.write(block[:2 * n])
            left -= n
        self.wfile.write(tail)
        self.wfile.flush()

    def stream_padded(self, result, member, size):
        """200 + the real answer, its first element given a "padding" string
        member of `size` bytes (valid JSON, valid document, enormous).
        Written as it goes; the padding is never built in memory."""
        items = result.get(member) or [{}]
        first = dict(items[0]) if isinstance(items[0], dict) else {}
        first.pop("padding", None)
        head_doc = json.dumps(first)[:-1] + (', ' if first else '') + '"padding": "'
        head = ('{"%s": [' % member + head_doc).encode()
        others = json.dumps(items[1:])[1:-1]
        tail_doc = {k: v for k, v in result.items() if k != member}
        tail = ('"}' + (', ' + others if others else '') + ']' +
                (', ' + json.dumps(tail_doc)[1:] if tail_doc else '}')).encode()
        self.send_response(200)
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.send_header("Content-Type", JSON_CT)
        self.send_header("Content-Length", str(len(head) + size + len(tail)))
        self.end_headers()
        self.wfile.write(head)
        block = b"A" * 65536
        left = size
        while left > 0 and not STATE.stopping.is_set():
            n = min(left, len(block))
            self.wfile.write(block[:n])
            left -= n
        self.wfile.write(tail)
        self.wfile.flush()

    def trickle(self, interval_ms, max_ms):
        """200 + a plausible JSON body, one byte every interval_ms (a slow loris)."""
        body = json.dumps({"serviceRevisions": [], "failures": [],
                           "serviceDeployments": [], "padding": "x" * 4096}).encode()
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", JSON_CT)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.flush()
        deadline = time.monotonic() + max_ms / 1000.0
        for i in range(len(body)):
            if STATE.stopping.is_set() or time.monotonic() >= deadline:
                return
            self.wfile.write(body[i:i + 1])
            self.wfile.flush()
            self.wait(interval_ms)

    def wait(self, ms, stop_on_close=False):
        """Sleep ms, waking early when the server stops or the peer closes."""
        deadline = time.monotonic() + ms / 1000.0
        while not STATE.stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            step = min(left, 0.1)
            if not stop_on_close:
                time.sleep(step)
                continue
            readable, _, _ = select.select([self.connection], [], [], step)
            if readable:
                try:
                    if self.connection.recv(1, socket.MSG_PEEK) == b"":
                        return
                except OSError:
                    return
                time.sleep(step)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


STS_VERSION = "2011-06-15"
FORM_CT = "application/x-www-form-urlencoded"


def sts_code(error_type):
    """STS names the SigV4 errors differently from ECS."""
    return {"UnrecognizedClientException": "InvalidClientTokenId",
            "InvalidSignatureException": "SignatureDoesNotMatch",
            "MissingAuthenticationTokenException": "MissingAuthenticationToken"}.get(
                error_type, error_type)


def check_sts(cfg):
    """Validate a control "sts" request: {roles: [...] | null, webIdentityTokens: [...]}."""
    roles = cfg.get("roles")
    if roles is not None:
        if not isinstance(roles, list):
            raise ScenarioError("sts: roles must be a list or null")
        for r in roles:
            if not isinstance(r, dict) or not isinstance(r.get("roleArn"), str):
                raise ScenarioError("sts: each role needs roleArn")
            fault = r.get("fault")
            if fault is not None and (not isinstance(fault, dict) or
                                      not isinstance(fault.get("body", ""), str)):
                raise ScenarioError("sts: fault must be {status, body, count}")
    tokens = cfg.get("webIdentityTokens", [])
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise ScenarioError("sts: webIdentityTokens must be a list of strings")
    return {"roles": roles, "webIdentityTokens": tokens}


def check_sso(cfg):
    """Validate a control "sso" request: {tokens, refreshTokens, roles: [...] | null}."""
    tokens = cfg.get("tokens", [])
    refresh = cfg.get("refreshTokens", [])
    for value, name in ((tokens, "tokens"), (refresh, "refreshTokens")):
        if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
            raise ScenarioError(f"sso: {name} must be a list of strings")
    roles = cfg.get("roles")
    if roles is not None and (not isinstance(roles, list) or
                              not all(isinstance(r, dict) for r in roles)):
        raise ScenarioError("sso: roles must be a list of {accountId, roleName} or null")
    return {"tokens": list(tokens), "roles": roles, "refreshTokens": list(refresh)}


def issue_credentials(duration):
    alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    raw = os.urandom(16)
    akid = "ASIA" + "".join(alnum[b % len(alnum)] for b in raw)
    secret = base64.b64encode(os.urandom(30)).decode()
    token = base64.b64encode(os.urandom(180)).decode()
    expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(
        seconds=duration)
    return {"AccessKeyId": akid, "SecretAccessKey": secret, "SessionToken": token,
            "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}


def xml_text(value):
    return (str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def sts_answer(action, params, issued):
    role = params["RoleArn"]
    account = role.split(":")[4] if role.count(":") >= 5 else "000000000000"
    name = role.rsplit("/", 1)[-1]
    session = params["RoleSessionName"]
    creds = "".join(f"<{k}>{xml_text(issued[k])}</{k}>" for k in
                    ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"))
    extra = ""
    if action == "AssumeRoleWithWebIdentity":
        extra = ("<SubjectFromWebIdentityToken>system:serviceaccount:ci:ecsrev"
                 "</SubjectFromWebIdentityToken><Audience>sts.amazonaws.com</Audience>"
                 "<Provider>token.actions.example.com</Provider>")
    return (f'<{action}Response xmlns="https://sts.amazonaws.com/doc/{STS_VERSION}/">\n'
            f"  <{action}Result>\n"
            f"    <AssumedRoleUser><AssumedRoleId>AROAFAKEROLEID:{xml_text(session)}"
            f"</AssumedRoleId><Arn>arn:aws:sts::{account}:assumed-role/{xml_text(name)}/"
            f"{xml_text(session)}</Arn></AssumedRoleUser>\n"
            f"    <Credentials>{creds}</Credentials>{extra}\n"
            f"  </{action}Result>\n"
            f"  <ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>\n"
            f"</{action}Response>\n").encode()


def sts_error(err):
    kind = "Receiver" if err.status >= 500 else "Sender"
    return (f'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/{STS_VERSION}/">\n'
            f"  <Error><Type>{kind}</Type><Code>{xml_text(err.error_type)}</Code>"
            f"<Message>{xml_text(err.message)}</Message></Error>\n"
            f"  <RequestId>{uuid.uuid4()}</RequestId>\n"
            f"</ErrorResponse>\n").encode()


def make_logger(path):
    fh = open(path, "a", encoding="utf-8", buffering=1)
    lock = threading.Lock()

    def log(entry):
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with lock:
            fh.write(f"{stamp} #{entry['seq']} {entry['operation']} status={entry['status']}"
                     f" fault={entry['fault'] or '-'} arns={entry['arns']}"
                     f"{' error=' + entry['error'] if entry.get('error') else ''}\n")
    return log


def main(argv=None):
    global STATE
    ap = argparse.ArgumentParser(description="Fake Amazon ECS endpoint for tests.")
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--latency-ms", type=float, default=0)
    ap.add_argument("--access-key-id")
    ap.add_argument("--secret-access-key")
    ap.add_argument("--session-token")
    ap.add_argument("--region")
    ap.add_argument("--account")
    ap.add_argument("--max-skew-seconds", type=int, default=900)
    ap.add_argument("--log")
    ap.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    ap.add_argument("--tls-key", help="the certificate's private key (PEM)")
    args = ap.parse_args(argv)
    try:
        world, creds, faults = load_scenario(args.scenario, args.region, args.account)
        if bool(args.access_key_id) != bool(args.secret_access_key):
            raise ScenarioError("--access-key-id and --secret-access-key go together")
        if args.access_key_id:
            creds = [{"accessKeyId": args.access_key_id,
                      "secretAccessKey": args.secret_access_key,
                      "sessionToken": args.session_token}]
        elif args.session_token:
            raise ScenarioError("--session-token needs --access-key-id")
        if not creds:
            creds = [{"accessKeyId": DEFAULT_AKID, "secretAccessKey": DEFAULT_SECRET,
                      "sessionToken": None}]
        STATE = State(world, creds, args.latency_ms, args.max_skew_seconds)
        for i, rule in enumerate(faults):
            STATE.add_fault(rule, f"{args.scenario}: faults[{i}]")
        if args.log:
            STATE.log = make_logger(args.log)
    except (ScenarioError, OSError) as exc:
        print(f"fake_ecs: {exc}", file=sys.stderr)
        return 2
    try:
        server = Server(("127.0.0.1", args.port), Handler)
    except OSError as exc:
        print(f"fake_ecs: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}",
              file=sys.stderr)
        return 2
    scheme = "http"
    if args.tls_cert:
        try:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(args.tls_cert, args.tls_key)
        except (OSError, ssl.SSLError) as exc:
            print(f"fake_ecs: cannot load the TLS certificate: {exc}", file=sys.stderr)
            return 2
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w", encoding="ascii") as fh:
            fh.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    print(f"listening on {scheme}://127.0.0.1:{port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        STATE.stopping.set()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
