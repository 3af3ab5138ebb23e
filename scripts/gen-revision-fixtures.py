#!/usr/bin/env python3
"""Generate tests/data/revisions/{full-api,full-cli,single}.json.

The revisions are realistic ECS service revisions of cluster "prod"
(account 123456789012, us-east-1), services "web" and "api", that together
use every member of the ServiceRevision shape of the ECS model:

  web/1  2024-06-03  legacy: EC2 launch type, Classic Load Balancer (loadBalancerName)
  web/2  2024-11-20  migrated to Fargate capacity providers, ALB blue/green,
                     Service Connect, VPC Lattice, EBS volume, monitoring, ...
  web/3  2024-11-21  same as web/2 with a new image digest for "web"
  api/1  2025-02-10  Express service: ecsManagedResources PROVISIONING
  api/2  2025-02-10  same configuration, managed resources ACTIVE (config hash == api/1)

full-api.json is the DescribeServiceRevisions response body as ECS sends it
(epoch-second timestamps in the exponent form "1.732099730123E9").
full-cli.json is what `aws ecs describe-service-revisions` prints for the
same revisions: ISO 8601 timestamps ("2024-11-20T10:15:30.123000+00:00"),
members in another order, order-free arrays shuffled.
single.json is one bare ServiceRevision (web/2) with plain decimal epochs.

Run once; the output is committed. Deterministic (fixed seed).
"""
import copy
import datetime
import hashlib
import json
import os
import random

ACCT = "123456789012"
REG = "us-east-1"
P = f"arn:aws:ecs:{REG}:{ACCT}"
ECR = f"{ACCT}.dkr.ecr.{REG}.amazonaws.com"
VPC_SUBNETS = ["subnet-0a1b2c3d4e5f60718", "subnet-0f9e8d7c6b5a49382", "subnet-05c4d3e2f1a0b9c87"]


def digest(name):
    return "sha256:" + hashlib.sha256(name.encode()).hexdigest()


def ts(text):
    """ISO text (UTC) -> epoch ms int."""
    d = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)
    return int(round(d.timestamp() * 1000))


class Epoch:
    """Timestamp placeholder: printed as API number or CLI string."""

    def __init__(self, ms):
        self.ms = ms


def tg(name, rid):
    return f"arn:aws:elasticloadbalancing:{REG}:{ACCT}:targetgroup/{name}/{rid}"


def web1():
    return {
        "serviceRevisionArn": f"{P}:service-revision/prod/web/4980306466373577095",
        "serviceArn": f"{P}:service/prod/web",
        "clusterArn": f"{P}:cluster/prod",
        "taskDefinition": f"arn:aws:ecs:{REG}:{ACCT}:task-definition/web:41",
        "launchType": "EC2",
        "loadBalancers": [
            {"loadBalancerName": "prod-web-classic", "containerName": "web", "containerPort": 8080},
        ],
        "serviceRegistries": [
            {"registryArn": f"arn:aws:servicediscovery:{REG}:{ACCT}:service/srv-q6zvnd2yhm3o5kpd",
             "containerName": "web", "containerPort": 8080},
        ],
        "containerImages": [
            {"containerName": "web", "imageDigest": digest("web:1.41.3"), "image": f"{ECR}/web:1.41.3"},
            {"containerName": "datadog-agent", "imageDigest": digest("datadog-agent:7.52.0"),
             "image": "public.ecr.aws/datadog/agent:7.52.0"},
        ],
        "guardDutyEnabled": False,
        "createdAt": Epoch(ts("2024-06-03T08:02:11.000")),
    }


def web2(image_tag="1.42.0", rev="5613047295846107342", created="2024-11-20T10:15:30.123"):
    return {
        "serviceRevisionArn": f"{P}:service-revision/prod/web/{rev}",
        "serviceArn": f"{P}:service/prod/web",
        "clusterArn": f"{P}:cluster/prod",
        "taskDefinition": f"arn:aws:ecs:{REG}:{ACCT}:task-definition/web:57",
        "capacityProviderStrategy": [
            {"capacityProvider": "FARGATE", "weight": 1, "base": 2},
            {"capacityProvider": "FARGATE_SPOT", "weight": 3, "base": 0},
        ],
        "platformVersion": "1.4.0",
        "platformFamily": "Linux",
        "loadBalancers": [
            {"targetGroupArn": tg("prod-web-blue", "73e2d6bc24d8a067"), "containerName": "web",
             "containerPort": 8080,
             "advancedConfiguration": {
                 "alternateTargetGroupArn": tg("prod-web-green", "9b1c2d3e4f5a6b7c"),
                 "productionListenerRule": f"arn:aws:elasticloadbalancing:{REG}:{ACCT}:listener-rule/app/prod-web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee",
                 "testListenerRule": f"arn:aws:elasticloadbalancing:{REG}:{ACCT}:listener-rule/app/prod-web/50dc6c495c0c9188/3a2b1c0d9e8f7a6b/1f2e3d4c5b6a7980",
                 "roleArn": f"arn:aws:iam::{ACCT}:role/ecsInfrastructureRoleForLoadBalancers"}},
            {"targetGroupArn": tg("prod-web-metrics", "0c1d2e3f4a5b6c7d"), "containerName": "web",
             "containerPort": 9090},
        ],
        "serviceRegistries": [
            {"registryArn": f"arn:aws:servicediscovery:{REG}:{ACCT}:service/srv-q6zvnd2yhm3o5kpd",
             "port": 8080},
            {"registryArn": f"arn:aws:servicediscovery:{REG}:{ACCT}:service/srv-b3x7hw5kfy2nlz4m",
             "containerName": "web", "containerPort": 9090},
        ],
        "networkConfiguration": {"awsvpcConfiguration": {
            "subnets": list(VPC_SUBNETS),
            "securityGroups": ["sg-0123456789abcdef0", "sg-0fedcba9876543210"],
            "assignPublicIp": "DISABLED"}},
        "containerImages": [
            {"containerName": "web", "imageDigest": digest("web:" + image_tag), "image": f"{ECR}/web:{image_tag}"},
            {"containerName": "log-router", "imageDigest": digest("aws-for-fluent-bit:2.32.4"),
             "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.4"},
            {"containerName": "datadog-agent", "imageDigest": digest("datadog-agent:7.58.2"),
             "image": "public.ecr.aws/datadog/agent:7.58.2"},
        ],
        "guardDutyEnabled": True,
        "serviceConnectConfiguration": {
            "enabled": True,
            "namespace": f"arn:aws:servicediscovery:{REG}:{ACCT}:namespace/ns-4kx2v7c3q5gy3rxn",
            "services": [
                {"portName": "http", "discoveryName": "web",
                 "clientAliases": [
                     {"port": 8080, "dnsName": "web.prod.internal",
                      "testTrafficRules": {"header": {"name": "x-canary", "value": {"exact": "green"}}}},
                     {"port": 80, "dnsName": "web"},
                 ],
                 "ingressPortOverride": 15000,
                 "timeout": {"idleTimeoutSeconds": 300, "perRequestTimeoutSeconds": 60},
                 "tls": {"issuerCertificateAuthority": {
                     "awsPcaAuthorityArn": f"arn:aws:acm-pca:{REG}:{ACCT}:certificate-authority/0d6b6a7e-3c4f-4a8b-9d2e-1f0a9b8c7d6e"},
                     "kmsKey": f"arn:aws:kms:{REG}:{ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                     "roleArn": f"arn:aws:iam::{ACCT}:role/ecsServiceConnectTlsRole"}},
                {"portName": "grpc", "discoveryName": "web-grpc",
                 "clientAliases": [{"port": 50051, "dnsName": "web-grpc.prod.internal"}]},
            ],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {"awslogs-group": "/ecs/prod/web/service-connect", "awslogs-region": REG,
                            "awslogs-stream-prefix": "sc"},
                "secretOptions": [
                    {"name": "SPLUNK_TOKEN", "valueFrom": f"arn:aws:secretsmanager:{REG}:{ACCT}:secret:prod/web/splunk-AbCdEf"},
                    {"name": "API_KEY", "valueFrom": f"arn:aws:ssm:{REG}:{ACCT}:parameter/prod/web/api-key"},
                ]},
            "accessLogConfiguration": {"format": "JSON", "includeQueryParameters": "DISABLED"},
        },
        "volumeConfigurations": [
            {"name": "scratch", "managedEBSVolume": {
                "encrypted": True,
                "kmsKeyId": f"arn:aws:kms:{REG}:{ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                "volumeType": "gp3", "sizeInGiB": 100, "snapshotId": "snap-0a1b2c3d4e5f67890",
                "volumeInitializationRate": 200, "iops": 3000, "throughput": 125,
                "tagSpecifications": [{"resourceType": "volume", "tags": [
                    {"key": "team", "value": "storefront"}, {"key": "env", "value": "prod"},
                    {"key": "cost-center", "value": "cc-4711"}], "propagateTags": "SERVICE"}],
                "roleArn": f"arn:aws:iam::{ACCT}:role/ecsInfrastructureRole",
                "filesystemType": "xfs"}},
        ],
        "fargateEphemeralStorage": {"kmsKeyId": f"arn:aws:kms:{REG}:{ACCT}:key/5678efgh-56ef-78gh-90ij-5678901234cd"},
        "createdAt": Epoch(ts(created)),
        "vpcLatticeConfigurations": [
            {"roleArn": f"arn:aws:iam::{ACCT}:role/ecsInfrastructureRoleForVpcLattice",
             "targetGroupArn": f"arn:aws:vpc-lattice:{REG}:{ACCT}:targetgroup/tg-0e1f2a3b4c5d6e7f8",
             "portName": "http"},
        ],
        "resolvedConfiguration": {"loadBalancers": [
            {"targetGroupArn": tg("prod-web-blue", "73e2d6bc24d8a067"),
             "productionListenerRule": f"arn:aws:elasticloadbalancing:{REG}:{ACCT}:listener-rule/app/prod-web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"},
            {"targetGroupArn": tg("prod-web-metrics", "0c1d2e3f4a5b6c7d")},
        ]},
        "monitoring": {"metricConfigurations": [
            {"metricNames": ["MemoryUtilization", "CPUUtilization"], "resolutionSeconds": 20},
        ]},
    }


def managed(status, t_ms, reason=None):
    d = {"status": status, "updatedAt": Epoch(t_ms)}
    if reason:
        d["statusReason"] = reason
    return d


def api(rev, created, status, upd):
    reason = "resource is being created" if status == "PROVISIONING" else None
    def m(arn, **kw):
        d = {"arn": arn}
        d.update(managed(status, upd, reason))
        d.update(kw)
        return d
    lb_arn = f"arn:aws:elasticloadbalancing:{REG}:{ACCT}:loadbalancer/app/ecs-express-gateway-alb-3f2a/8c9d0e1f2a3b4c5d"
    return {
        "serviceRevisionArn": f"{P}:service-revision/prod/api/{rev}",
        "serviceArn": f"{P}:service/prod/api",
        "clusterArn": f"{P}:cluster/prod",
        "taskDefinition": f"arn:aws:ecs:{REG}:{ACCT}:task-definition/api:12",
        "launchType": "FARGATE",
        "platformVersion": "LATEST",
        "platformFamily": "Linux",
        "loadBalancers": [
            {"targetGroupArn": tg("ecs-gateway-tg-api-1a2b", "5d6e7f8a9b0c1d2e"), "containerName": "api",
             "containerPort": 3000},
        ],
        "networkConfiguration": {"awsvpcConfiguration": {
            "subnets": ["subnet-0f9e8d7c6b5a49382", "subnet-0a1b2c3d4e5f60718"],
            "securityGroups": ["sg-0a9b8c7d6e5f43210"],
            "assignPublicIp": "ENABLED"}},
        "containerImages": [
            {"containerName": "api", "imageDigest": digest("api:2025.02.10-1"), "image": f"{ECR}/api:2025.02.10-1"},
        ],
        "guardDutyEnabled": False,
        "createdAt": Epoch(created),
        "resolvedConfiguration": {"loadBalancers": [
            {"targetGroupArn": tg("ecs-gateway-tg-api-1a2b", "5d6e7f8a9b0c1d2e"),
             "productionListenerRule": f"arn:aws:elasticloadbalancing:{REG}:{ACCT}:listener-rule/app/ecs-express-gateway-alb-3f2a/8c9d0e1f2a3b4c5d/6e7f8a9b0c1d2e3f/0a1b2c3d4e5f6a7b"},
        ]},
        "ecsManagedResources": {
            "ingressPaths": [
                {"accessType": "PUBLIC", "endpoint": "https://ap-7f3c9a2b1e.ecs.us-east-1.on.aws",
                 "loadBalancer": m(lb_arn, scheme="internet-facing",
                                   subnetIds=["subnet-0f9e8d7c6b5a49382", "subnet-0a1b2c3d4e5f60718", "subnet-05c4d3e2f1a0b9c87"],
                                   securityGroupIds=["sg-0c1d2e3f4a5b6c7d8", "sg-0b1c2d3e4f5a6b7c8"]),
                 "loadBalancerSecurityGroups": [
                     m(f"arn:aws:ec2:{REG}:{ACCT}:security-group/sg-0c1d2e3f4a5b6c7d8"),
                     m(f"arn:aws:ec2:{REG}:{ACCT}:security-group/sg-0b1c2d3e4f5a6b7c8"),
                 ],
                 "certificate": m(f"arn:aws:acm:{REG}:{ACCT}:certificate/8f2d4a6c-1b3e-4d5f-9a7b-0c2e4f6a8b0d",
                                  domainName="ap-7f3c9a2b1e.ecs.us-east-1.on.aws"),
                 "listener": m(f"arn:aws:elasticloadbalancing:{REG}:{ACCT}:listener/app/ecs-express-gateway-alb-3f2a/8c9d0e1f2a3b4c5d/6e7f8a9b0c1d2e3f"),
                 "rule": m(f"arn:aws:elasticloadbalancing:{REG}:{ACCT}:listener-rule/app/ecs-express-gateway-alb-3f2a/8c9d0e1f2a3b4c5d/6e7f8a9b0c1d2e3f/0a1b2c3d4e5f6a7b"),
                 "targetGroups": [
                     m(tg("ecs-gateway-tg-api-1a2b", "5d6e7f8a9b0c1d2e"), healthCheckPath="/ping",
                       healthCheckPort=3000, port=3000),
                     m(tg("ecs-gateway-tg-api-3c4d", "6e7f8a9b0c1d2e3f"), healthCheckPath="/ping",
                       healthCheckPort=3000, port=3000),
                 ]},
            ],
            "autoScaling": {
                "scalableTarget": m(f"arn:aws:application-autoscaling:{REG}:{ACCT}:scalable-target/0ec5a1b2c3d4e5f60718293a4b5c6d7e",
                                    minCapacity=1, maxCapacity=20),
                "applicationAutoScalingPolicies": [
                    m(f"arn:aws:autoscaling:{REG}:{ACCT}:scalingPolicy:0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d:resource/ecs/service/prod/api:policyName/api-cpu-target",
                      policyType="TargetTrackingScaling", targetValue=60.5, metric="AVERAGE_CPU"),
                    m(f"arn:aws:autoscaling:{REG}:{ACCT}:scalingPolicy:1b2c3d4e-5f6a-7b8c-9d0e-1f2a3b4c5d6e:resource/ecs/service/prod/api:policyName/api-requests-target",
                      policyType="TargetTrackingScaling", targetValue=1000, metric="REQUEST_COUNT_PER_TARGET"),
                ]},
            "metricAlarms": [
                m(f"arn:aws:cloudwatch:{REG}:{ACCT}:alarm:TargetTracking-service/prod/api-AlarmHigh-4b5c6d7e"),
                m(f"arn:aws:cloudwatch:{REG}:{ACCT}:alarm:TargetTracking-service/prod/api-AlarmLow-8f9a0b1c"),
            ],
            "serviceSecurityGroups": [
                m(f"arn:aws:ec2:{REG}:{ACCT}:security-group/sg-0a9b8c7d6e5f43210"),
            ],
            "logGroups": [
                m(f"arn:aws:logs:{REG}:{ACCT}:log-group:/aws/ecs/prod/api", logGroupName="/aws/ecs/prod/api"),
            ],
        },
        "overrides": {"runtimePlatform": {"cpuArchitecture": "ARM64"}},
        "monitoring": {"metricConfigurations": [
            {"metricNames": ["CPUUtilization"], "resolutionSeconds": 60},
            {"metricNames": ["MemoryUtilization"], "resolutionSeconds": 20},
        ]},
    }


def revisions():
    return [
        web1(),
        web2(),
        web2(image_tag="1.42.1", rev="7730165845192837465", created="2024-11-21T16:42:07.950"),
        api("2094376519203847561", ts("2025-02-10T14:03:52.004"), "PROVISIONING", ts("2025-02-10T14:03:53.617")),
        api("2094376519203849822", ts("2025-02-10T14:21:09.480"), "ACTIVE", ts("2025-02-10T14:20:58.001")),
    ]


def api_epoch(ms):
    """Java-SDK style, as the ECS service sends it: 1.732099730123E9."""
    s = f"{ms / 1000:.3f}".rstrip("0").rstrip(".")
    ip, _, frac = s.partition(".")
    digits = (ip + frac).rstrip("0")
    exp = len(ip) - 1
    return f"{digits[0]}.{digits[1:] or '0'}E{exp}"


def plain_epoch(ms):
    s = f"{ms // 1000}.{ms % 1000:03d}".rstrip("0").rstrip(".")
    return s


def cli_time(ms):
    d = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    d = d.replace(microsecond=(ms % 1000) * 1000)
    return d.isoformat()  # "2024-11-20T10:15:30.123000+00:00" or without fraction


def dump(obj, epoch_fn, indent):
    marks = {}

    def conv(o):
        if isinstance(o, Epoch):
            key = f"@@EPOCH{len(marks)}@@"
            marks[key] = epoch_fn(o.ms)
            return key
        if isinstance(o, dict):
            return {k: conv(v) for k, v in o.items()}
        if isinstance(o, list):
            return [conv(v) for v in o]
        return o

    text = json.dumps(conv(obj), indent=indent, ensure_ascii=False)
    for k, v in marks.items():
        text = text.replace(f'"{k}"', v)
    return text + "\n"


SHUFFLE = {  # order-free arrays (see docs/CANONICAL.md)
    "capacityProviderStrategy", "loadBalancers", "serviceRegistries", "subnets", "securityGroups",
    "containerImages", "services", "clientAliases", "secretOptions", "volumeConfigurations",
    "tagSpecifications", "tags", "vpcLatticeConfigurations", "ingressPaths",
    "loadBalancerSecurityGroups", "targetGroups", "applicationAutoScalingPolicies", "metricAlarms",
    "serviceSecurityGroups", "logGroups", "subnetIds", "securityGroupIds", "metricConfigurations",
    "metricNames",
}


def cli_form(o, rng, name=None):
    if isinstance(o, Epoch):
        return cli_time(o.ms)
    if isinstance(o, dict):
        items = [(k, cli_form(v, rng, k)) for k, v in o.items()]
        rng.shuffle(items)
        return dict(items)
    if isinstance(o, list):
        items = [cli_form(v, rng) for v in o]
        if name in SHUFFLE:
            for _ in range(10):
                c = list(items)
                rng.shuffle(c)
                if c != items or len(items) < 2:
                    break
            items = c
        return items
    return o


def main():
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "revisions")
    revs = revisions()
    body = {"serviceRevisions": revs, "failures": []}
    with open(os.path.join(here, "full-api.json"), "w", encoding="utf-8") as f:
        f.write(dump(body, api_epoch, 2))
    rng = random.Random(8785)
    cli = {"serviceRevisions": [cli_form(copy.deepcopy(r), rng) for r in revs], "failures": []}
    with open(os.path.join(here, "full-cli.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(cli, indent=4, ensure_ascii=False) + "\n")
    with open(os.path.join(here, "single.json"), "w", encoding="utf-8") as f:
        f.write(dump(revs[1], plain_epoch, 2))


if __name__ == "__main__":
    main()
