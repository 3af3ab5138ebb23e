#!/usr/bin/env python3
"""Generate realistic synthetic Amazon ECS ServiceRevisions for the benchmarks.

Python 3 standard library only. Deterministic: the same options and --seed give
the same bytes.

Each service starts from a plausible configuration (Fargate or EC2, a load
balancer or two, awsvpc networking, an app container plus sidecars, Service
Connect, a managed EBS volume, ...) and then evolves one deployment at a time:
almost every deployment bumps the task definition and the app image (new tag,
new sha256 digest); now and then a sidecar is bumped, a security group or subnet
is added or removed, the public IP is toggled, a load balancer moves port or
appears/disappears, a volume grows or loses its encryption, capacity provider
weights or the platform version change. A few deployments change nothing (a
"force new deployment"). Every emitted revision has its members and arrays in
shuffled order, like documents from different tools, so normalizing matters.

Outputs:
  --format ndjson     one revision per line (API wire form: epoch-second numbers)
  --format describe   {"serviceRevisions": [...], "failures": []} (one document)
  --format scenario   a tests/support/fake_ecs.py scenario: revisions + one
                      deployment per revision (target i, source i-1)

Revisions of all services are interleaved by createdAt (streamed: memory stays
small even for 100,000 revisions in ndjson form).

Examples:
  bench/gen_revisions.py --revisions 20000 --services 50 > revs.ndjson
  bench/gen_revisions.py --revisions 1000 --services 1 --format scenario \
      --cluster prod --service-prefix bulk > scenario.json
"""
import argparse
import hashlib
import heapq
import json
import random
import sys

REGION = "us-east-1"
ACCOUNT = "123456789012"

SIZES = ("small", "medium", "large")

SIDECARS = [
    ("log-router", "public.ecr.aws/aws-observability/aws-for-fluent-bit", [2, 32, 4]),
    ("datadog-agent", "public.ecr.aws/datadog/agent", [7, 58, 2]),
    ("envoy", "public.ecr.aws/appmesh/aws-appmesh-envoy", [1, 29, 6]),
    ("otel-collector", "public.ecr.aws/aws-observability/aws-otel-collector", [0, 41, 1]),
    ("xray-daemon", "public.ecr.aws/xray/aws-xray-daemon", [3, 3, 12]),
    ("config-reloader", ACCOUNT + ".dkr.ecr." + REGION + ".amazonaws.com/config-reloader", [1, 4, 0]),
]


def hexid(rng, n):
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def digest(*parts):
    return "sha256:" + hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest()


def arn(kind, rest):
    return "arn:aws:%s:%s:%s:%s" % (kind, REGION, ACCOUNT, rest)


class Service:
    """One service's configuration, evolved one deployment at a time."""

    def __init__(self, seed, index, cluster, name, size, start, interval):
        self.rng = random.Random("%s/%d/%s" % (seed, index, size))
        rng = self.rng
        self.seed = seed
        self.size = size
        self.cluster = cluster
        self.name = name
        self.service_arn = arn("ecs", "service/%s/%s" % (cluster, name))
        self.cluster_arn = arn("ecs", "cluster/%s" % cluster)
        self.family = name
        self.td_rev = rng.randint(1, 200)
        self.time = start + rng.uniform(0, interval)
        self.interval = interval
        self.count = 0
        self.fargate = rng.random() < 0.75
        ncont = {"small": 1, "medium": 2, "large": 5}[size]
        self.app_version = [1, rng.randint(0, 60), rng.randint(0, 9)]
        self.app_image = "%s.dkr.ecr.%s.amazonaws.com/%s" % (ACCOUNT, REGION, name)
        self.sidecars = []
        for sc in rng.sample(SIDECARS, ncont):
            self.sidecars.append([sc[0], sc[1], list(sc[2])])
        self.cps = None
        if self.fargate and rng.random() < 0.6:
            self.cps = [["FARGATE", 1, rng.choice([0, 1, 2])], ["FARGATE_SPOT", rng.randint(1, 4), 0]]
        self.platform_version = rng.choice(["1.4.0", "LATEST", "1.3.0"]) if self.fargate else None
        self.subnets = ["subnet-0" + hexid(rng, 16) for _ in range(3)]
        self.spare_subnets = ["subnet-0" + hexid(rng, 16) for _ in range(3)]
        self.sgs = ["sg-0" + hexid(rng, 16) for _ in range(rng.randint(1, 2 if size != "large" else 4))]
        self.public_ip = "DISABLED"
        self.port = rng.choice([8080, 3000, 8000, 5000])
        nlb = {"small": 1, "medium": rng.randint(1, 2), "large": 3}[size]
        self.lbs = [self.new_lb(i) for i in range(nlb)]
        self.registries = []
        if size != "small":
            self.registries.append({"registryArn": arn("servicediscovery", "service/srv-" + hexid(rng, 16)),
                                    "containerName": name, "containerPort": self.port})
        self.guardduty = rng.random() < 0.7
        self.sc = None
        if size != "small":
            nsvc = 1 if size == "medium" else 3
            self.sc = {"enabled": True,
                       "namespace": arn("servicediscovery", "namespace/ns-" + hexid(rng, 16)),
                       "services": [self.new_sc_service(i) for i in range(nsvc)],
                       "logConfiguration": {"logDriver": "awslogs", "options": {
                           "awslogs-group": "/ecs/%s/%s/service-connect" % (cluster, name),
                           "awslogs-region": REGION, "awslogs-stream-prefix": "sc"}}}
        nvol = {"small": 0, "medium": 1, "large": 2}[size]
        self.volumes = [self.new_volume(i) for i in range(nvol)]
        self.eph_kms = arn("kms", "key/" + self.uuid()) if self.fargate and size != "small" else None
        self.lattice = []
        if size == "large":
            self.lattice = [{"roleArn": "arn:aws:iam::%s:role/ecsInfrastructureRoleForVpcLattice" % ACCOUNT,
                             "targetGroupArn": arn("vpc-lattice", "targetgroup/tg-0" + hexid(rng, 16)),
                             "portName": "http"}]
        self.monitoring = None
        if size == "large":
            self.monitoring = {"metricConfigurations": [
                {"metricNames": ["CPUUtilization", "MemoryUtilization", "NetworkRxBytes"],
                 "resolutionSeconds": 20}]}

    def uuid(self):
        h = hexid(self.rng, 32)
        return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])

    def new_lb(self, i):
        rng = self.rng
        tg = arn("elasticloadbalancing", "targetgroup/%s-%s-%d/%s" % (self.cluster, self.name, i, hexid(rng, 16)))
        lb = {"targetGroupArn": tg, "containerName": self.name, "containerPort": self.port + i}
        if i == 0 and (self.size == "large" or rng.random() < 0.3):
            lbname = "app/%s-%s/%s" % (self.cluster, self.name, hexid(rng, 16))
            lb["advancedConfiguration"] = {
                "alternateTargetGroupArn": tg.replace("/" + tg.rsplit("/", 1)[1], "-green/" + hexid(rng, 16)),
                "productionListenerRule": arn("elasticloadbalancing", "listener-rule/%s/%s/%s" % (lbname, hexid(rng, 16), hexid(rng, 16))),
                "testListenerRule": arn("elasticloadbalancing", "listener-rule/%s/%s/%s" % (lbname, hexid(rng, 16), hexid(rng, 16))),
                "roleArn": "arn:aws:iam::%s:role/ecsInfrastructureRoleForLoadBalancers" % ACCOUNT}
        return lb

    def new_sc_service(self, i):
        rng = self.rng
        port_name = ["http", "grpc", "admin"][i % 3]
        svc = {"portName": port_name, "discoveryName": "%s-%s" % (self.name, port_name),
               "clientAliases": [{"port": self.port + 100 * i, "dnsName": "%s.%s.internal" % (self.name, self.cluster)}]}
        if i == 0:
            svc["clientAliases"].append({"port": 80 + i, "dnsName": self.name})
            svc["timeout"] = {"idleTimeoutSeconds": 300, "perRequestTimeoutSeconds": 60}
        if self.size == "large" or rng.random() < 0.5:
            svc["tls"] = {"issuerCertificateAuthority": {"awsPcaAuthorityArn": arn("acm-pca", "certificate-authority/" + self.uuid())},
                          "kmsKey": arn("kms", "key/" + self.uuid()),
                          "roleArn": "arn:aws:iam::%s:role/ecsServiceConnectTlsRole" % ACCOUNT}
        return svc

    def new_volume(self, i):
        rng = self.rng
        return {"name": ["data", "scratch", "cache"][i % 3], "managedEBSVolume": {
            "encrypted": True, "kmsKeyId": arn("kms", "key/" + self.uuid()),
            "volumeType": rng.choice(["gp3", "gp2", "io2"]), "sizeInGiB": rng.choice([20, 50, 100, 200]),
            "iops": 3000, "throughput": 125,
            "tagSpecifications": [{"resourceType": "volume", "propagateTags": "SERVICE", "tags": [
                {"key": "team", "value": "team-%d" % rng.randint(1, 40)},
                {"key": "env", "value": self.cluster},
                {"key": "cost-center", "value": "cc-%04d" % rng.randint(1, 9999)}]}],
            "roleArn": "arn:aws:iam::%s:role/ecsInfrastructureRole" % ACCOUNT,
            "filesystemType": "xfs"}}

    # --- evolution -------------------------------------------------------

    def evolve(self):
        """Apply the changes of one deployment."""
        rng = self.rng
        if self.count == 0:
            return
        if rng.random() < 0.05:  # force new deployment: same configuration
            return
        if rng.random() < 0.92:
            self.td_rev += 1
        if rng.random() < 0.78:
            v = self.app_version
            if rng.random() < 0.15:
                v[1] += 1
                v[2] = 0
            else:
                v[2] += 1
        if self.sidecars and rng.random() < 0.10:
            rng.choice(self.sidecars)[2][2] += 1
        if rng.random() < 0.04:  # 1..5 security groups, so long histories do not grow
            if len(self.sgs) >= 5 or (len(self.sgs) > 1 and rng.random() < 0.5):
                self.sgs.pop(rng.randrange(len(self.sgs)))
            else:
                self.sgs.append("sg-0" + hexid(rng, 16))
        if rng.random() < 0.02:
            i = rng.randrange(len(self.subnets))
            self.subnets[i], self.spare_subnets[i] = self.spare_subnets[i], self.subnets[i]
        if rng.random() < 0.015:
            self.public_ip = "ENABLED" if self.public_ip == "DISABLED" else "DISABLED"
        if self.lbs and rng.random() < 0.02:
            rng.choice(self.lbs)["containerPort"] += rng.choice([1, -1, 10])
        if rng.random() < 0.015:  # 1..4 load balancers
            if len(self.lbs) >= 4 or (len(self.lbs) > 1 and rng.random() < 0.5):
                self.lbs.pop()
            else:
                self.lbs.append(self.new_lb(len(self.lbs)))
        if self.volumes and rng.random() < 0.03:
            ebs = rng.choice(self.volumes)["managedEBSVolume"]
            ebs["sizeInGiB"] += rng.choice([10, 20, 50])
        if self.volumes and rng.random() < 0.01:
            ebs = rng.choice(self.volumes)["managedEBSVolume"]
            ebs["encrypted"] = not ebs["encrypted"]
            if ebs["encrypted"]:
                ebs["kmsKeyId"] = arn("kms", "key/" + self.uuid())
            else:
                ebs.pop("kmsKeyId", None)
        if self.size != "small" and rng.random() < 0.01:
            if self.volumes and rng.random() < 0.5:
                self.volumes.pop()
            elif len(self.volumes) < 3:
                self.volumes.append(self.new_volume(len(self.volumes)))
        if self.cps and rng.random() < 0.03:
            self.cps[1][1] = rng.randint(1, 4)
            self.cps[0][2] = rng.choice([0, 1, 2, 3])
        if self.fargate and rng.random() < 0.02:
            self.platform_version = rng.choice(["1.4.0", "LATEST", "1.3.0"])
        if rng.random() < 0.01:
            self.guardduty = not self.guardduty
        if self.sc and rng.random() < 0.02:
            alias = rng.choice(self.sc["services"])["clientAliases"][0]
            alias["port"] += 1
        if self.eph_kms and rng.random() < 0.01:
            self.eph_kms = arn("kms", "key/" + self.uuid())

    # --- rendering -------------------------------------------------------

    def revision(self, ts_form):
        """The current configuration as one ServiceRevision (deep, fresh objects)."""
        rng = self.rng
        rev_id = str(rng.randint(10 ** 18, 9 * 10 ** 18))
        created = round(self.time, 3)
        v = ".".join(str(x) for x in self.app_version)
        images = [{"containerName": self.name, "image": "%s:%s" % (self.app_image, v),
                   "imageDigest": digest(self.seed, self.name, v)}]
        for name, repo, ver in self.sidecars:
            sv = ".".join(str(x) for x in ver)
            images.append({"containerName": name, "image": "%s:%s" % (repo, sv), "imageDigest": digest(repo, sv)})
        doc = {
            "serviceRevisionArn": arn("ecs", "service-revision/%s/%s/%s" % (self.cluster, self.name, rev_id)),
            "serviceArn": self.service_arn,
            "clusterArn": self.cluster_arn,
            "taskDefinition": arn("ecs", "task-definition/%s:%d" % (self.family, self.td_rev)),
            "containerImages": images,
            "guardDutyEnabled": self.guardduty,
            "createdAt": created if ts_form == "epoch" else iso(created),
            "networkConfiguration": {"awsvpcConfiguration": {
                "subnets": list(self.subnets), "securityGroups": list(self.sgs),
                "assignPublicIp": self.public_ip}},
            "loadBalancers": json.loads(json.dumps(self.lbs)),
        }
        if self.cps:
            doc["capacityProviderStrategy"] = [{"capacityProvider": c, "weight": w, "base": b} for c, w, b in self.cps]
        else:
            doc["launchType"] = "FARGATE" if self.fargate else "EC2"
        if self.fargate:
            doc["platformVersion"] = self.platform_version
            doc["platformFamily"] = "Linux"
        if self.registries:
            doc["serviceRegistries"] = json.loads(json.dumps(self.registries))
        if self.sc:
            doc["serviceConnectConfiguration"] = json.loads(json.dumps(self.sc))
        if self.volumes:
            doc["volumeConfigurations"] = json.loads(json.dumps(self.volumes))
        if self.eph_kms:
            doc["fargateEphemeralStorage"] = {"kmsKeyId": self.eph_kms}
        if self.lattice:
            doc["vpcLatticeConfigurations"] = json.loads(json.dumps(self.lattice))
        if self.monitoring:
            doc["monitoring"] = json.loads(json.dumps(self.monitoring))
        resolved = [{"targetGroupArn": lb["targetGroupArn"]} for lb in self.lbs]
        for r, lb in zip(resolved, self.lbs):
            if "advancedConfiguration" in lb:
                r["productionListenerRule"] = lb["advancedConfiguration"]["productionListenerRule"]
        doc["resolvedConfiguration"] = {"loadBalancers": resolved}
        return shuffle(doc, rng)

    def next(self, ts_form):
        """Evolve, render, and advance the clock. Returns (createdAt, revision)."""
        self.evolve()
        created = self.time
        rev = self.revision(ts_form)
        self.count += 1
        self.time += self.interval * self.rng.uniform(0.3, 1.7)
        return created, rev


def shuffle(value, rng):
    """Shuffle object members and array elements recursively (order must not matter)."""
    if isinstance(value, dict):
        items = [(k, shuffle(v, rng)) for k, v in value.items()]
        rng.shuffle(items)
        return dict(items)
    if isinstance(value, list):
        items = [shuffle(v, rng) for v in value]
        rng.shuffle(items)
        return items
    return value


def iso(t):
    import datetime
    d = datetime.datetime.fromtimestamp(t, tz=datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03d" % (d.microsecond // 1000) + "Z"


def parse_start(s):
    import datetime
    d = datetime.datetime.strptime(s, "%Y-%m-%d").replace(tzinfo=datetime.timezone.utc)
    return d.timestamp()


def make_services(opts):
    services = []
    clusters = [c for c in opts.clusters.split(",") if c]
    for i in range(opts.services):
        name = "%s-%03d" % (opts.service_prefix, i) if opts.services > 1 else opts.service_prefix
        services.append(Service(opts.seed, i, clusters[i % len(clusters)], name, opts.size,
                                parse_start(opts.start), opts.interval_hours * 3600.0))
    return services


def per_service_counts(total, nservices):
    base, extra = divmod(total, nservices)
    return [base + (1 if i < extra else 0) for i in range(nservices)]


def stream(services, counts, ts_form):
    """Yield (service, revision) over all services in createdAt order."""
    def one(idx):
        svc = services[idx]
        for _ in range(counts[idx]):
            t, rev = svc.next(ts_form)
            yield (t, idx, rev)
    for _t, idx, rev in heapq.merge(*[one(i) for i in range(len(services))], key=lambda x: (x[0], x[1])):
        yield services[idx], rev


def dumps(doc):
    return json.dumps(doc, separators=(",", ":"))


def write_ndjson(out, services, counts, ts_form):
    for _svc, rev in stream(services, counts, ts_form):
        out.write(dumps(rev))
        out.write("\n")


def write_describe(out, services, counts, ts_form):
    out.write('{"serviceRevisions":[')
    first = True
    for _svc, rev in stream(services, counts, ts_form):
        if not first:
            out.write(",\n")
        first = False
        out.write(dumps(rev))
    out.write('],"failures":[]}\n')


def write_scenario(out, services, counts, ts_form):
    """Fake endpoint scenario: per service its revisions and one deployment each."""
    clusters = {}
    for svc, rev in stream(services, counts, ts_form):
        entry = clusters.setdefault(svc.cluster, {"services": {}})["services"].setdefault(
            svc.name, {"revisions": [], "deployments": []})
        revs = entry["revisions"]
        rid = rev["serviceRevisionArn"].rsplit("/", 1)[1]
        created = rev["createdAt"] if isinstance(rev["createdAt"], str) else iso(rev["createdAt"])
        dep_id = hashlib.sha256(("dep/" + rid).encode()).hexdigest()[:21]
        dep = {"serviceDeploymentArn": dep_id, "createdAt": created, "startedAt": created,
               "finishedAt": created, "status": "SUCCESSFUL",
               "sourceServiceRevisions": [],
               "targetServiceRevision": {"arn": rid, "requestedTaskCount": 2}}
        if revs:
            prev = revs[-1]["serviceRevisionArn"].rsplit("/", 1)[1]
            dep["sourceServiceRevisions"] = [{"arn": prev, "requestedTaskCount": 2}]
        revs.append(rev)
        entry["deployments"].append(dep)
    doc = {"region": REGION, "account": ACCOUNT, "clusters": clusters}
    json.dump(doc, out, separators=(",", ":"))
    out.write("\n")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--revisions", "-n", type=int, default=1000, help="total revisions (default 1000)")
    p.add_argument("--services", "-s", type=int, default=10, help="number of services (default 10)")
    p.add_argument("--size", choices=SIZES, default="medium",
                   help="revision size: small ~1.9 KB, medium ~3.6 KB (default), large ~6.8 KB")
    p.add_argument("--format", choices=("ndjson", "describe", "scenario"), default="ndjson")
    p.add_argument("--timestamps", choices=("epoch", "iso"), default="epoch",
                   help="createdAt as epoch seconds (API wire form, default) or ISO 8601 (AWS CLI form)")
    p.add_argument("--seed", default="ecsrev-bench", help="random seed (default ecsrev-bench)")
    p.add_argument("--clusters", default="prod,staging", help="comma-separated cluster names")
    p.add_argument("--service-prefix", default="svc", help="service name prefix (default svc)")
    p.add_argument("--start", default="2024-01-01", help="date of the first revisions (YYYY-MM-DD)")
    p.add_argument("--interval-hours", type=float, default=6.0, help="mean time between deployments")
    p.add_argument("--output", "-o", help="output file (default stdout)")
    opts = p.parse_args(argv)
    if opts.revisions < 0 or opts.services < 1:
        p.error("--revisions must be >= 0 and --services >= 1")
    services = make_services(opts)
    counts = per_service_counts(opts.revisions, opts.services)
    writer = {"ndjson": write_ndjson, "describe": write_describe, "scenario": write_scenario}[opts.format]
    if opts.output:
        with open(opts.output, "w", encoding="utf-8") as out:
            writer(out, services, counts, opts.timestamps)
    else:
        writer(sys.stdout, services, counts, opts.timestamps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
