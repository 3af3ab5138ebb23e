#!/usr/bin/env python3
"""Writes the diff golden cases: <case>/a.json, b.json and expected.json.

The expected changes are written here by hand (not computed), so the golden
files check the engine instead of recording whatever it prints. Run it again
after editing a case: python3 tests/data/diff/make_cases.py
"""
import copy
import json
import os

ACCT = "123456789012"
REG = "us-east-1"
TG_WEB = f"arn:aws:elasticloadbalancing:{REG}:{ACCT}:targetgroup/web/73e2d6bc24d8a067"
TG_ADMIN = f"arn:aws:elasticloadbalancing:{REG}:{ACCT}:targetgroup/web-admin/0c1d2e3f4a5b6c7d"
RULE1 = f"arn:aws:elasticloadbalancing:{REG}:{ACCT}:listener-rule/app/prod-web/50dc/f2f7/9683"
RULE2 = f"arn:aws:elasticloadbalancing:{REG}:{ACCT}:listener-rule/app/prod-web/50dc/f2f7/1111"
REGISTRY = f"arn:aws:servicediscovery:{REG}:{ACCT}:service/srv-q6zvnd2yhm3o5kpd"
LATTICE_TG = f"arn:aws:vpc-lattice:{REG}:{ACCT}:targetgroup/tg-0e1f2a3b4c5d6e7f8"
ALARM1 = f"arn:aws:cloudwatch:{REG}:{ACCT}:alarm:web-cpu-high"
ALARM2 = f"arn:aws:cloudwatch:{REG}:{ACCT}:alarm:web-5xx"
SCALABLE = f"arn:aws:application-autoscaling:{REG}:{ACCT}:scalable-target/0ec1"
ECR = f"{ACCT}.dkr.ecr.{REG}.amazonaws.com"
KMS1 = f"arn:aws:kms:{REG}:{ACCT}:key/1111"
KMS2 = f"arn:aws:kms:{REG}:{ACCT}:key/2222"
DIGEST = "sha256:" + "a4" * 32
DIGEST2 = "sha256:" + "b7" * 32


def rev_arn(n):
    return f"arn:aws:ecs:{REG}:{ACCT}:service-revision/prod/web/{n}"


BASE = {
    "serviceRevisionArn": rev_arn(4980306466373577095),
    "serviceArn": f"arn:aws:ecs:{REG}:{ACCT}:service/prod/web",
    "clusterArn": f"arn:aws:ecs:{REG}:{ACCT}:cluster/prod",
    "taskDefinition": f"arn:aws:ecs:{REG}:{ACCT}:task-definition/web:41",
    "capacityProviderStrategy": [
        {"capacityProvider": "FARGATE", "weight": 1, "base": 2},
        {"capacityProvider": "FARGATE_SPOT", "weight": 3, "base": 0},
    ],
    "platformVersion": "1.4.0",
    "platformFamily": "Linux",
    "loadBalancers": [
        {"targetGroupArn": TG_WEB, "containerName": "web", "containerPort": 8080,
         "advancedConfiguration": {"alternateTargetGroupArn": TG_ADMIN,
                                   "productionListenerRule": RULE1,
                                   "testListenerRule": RULE2,
                                   "roleArn": f"arn:aws:iam::{ACCT}:role/ecsLb"}},
        {"targetGroupArn": TG_ADMIN, "containerName": "web", "containerPort": 9090},
    ],
    "serviceRegistries": [
        {"registryArn": REGISTRY, "containerName": "web", "containerPort": 8080},
    ],
    "networkConfiguration": {"awsvpcConfiguration": {
        "subnets": ["subnet-0a1", "subnet-0b2", "subnet-0c3"],
        "securityGroups": ["sg-0aa111", "sg-0bb222"],
        "assignPublicIp": "DISABLED"}},
    "containerImages": [
        {"containerName": "web", "imageDigest": DIGEST, "image": f"{ECR}/web:1.4.2"},
        {"containerName": "envoy", "imageDigest": DIGEST2,
         "image": "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29.4.0-prod"},
    ],
    "guardDutyEnabled": False,
    "serviceConnectConfiguration": {
        "enabled": True,
        "namespace": "prod.internal",
        "services": [
            {"portName": "http", "discoveryName": "web",
             "clientAliases": [{"port": 8080, "dnsName": "web.prod.internal"},
                               {"port": 80, "dnsName": "web"}]},
            {"portName": "grpc", "discoveryName": "web-grpc",
             "clientAliases": [{"port": 50051, "dnsName": "web-grpc.prod.internal"}]},
        ],
    },
    "volumeConfigurations": [
        {"name": "scratch", "managedEBSVolume": {
            "encrypted": True, "volumeType": "gp3", "sizeInGiB": 100,
            "tagSpecifications": [{"resourceType": "volume", "propagateTags": "SERVICE",
                                   "tags": [{"key": "team", "value": "storefront"},
                                            {"key": "env", "value": "prod"}]}],
            "roleArn": f"arn:aws:iam::{ACCT}:role/ecsInfrastructureRole"}},
    ],
    "fargateEphemeralStorage": {"kmsKeyId": KMS1},
    "createdAt": 1732097730.123,
    "vpcLatticeConfigurations": [
        {"roleArn": f"arn:aws:iam::{ACCT}:role/ecsLattice", "targetGroupArn": LATTICE_TG,
         "portName": "http"},
    ],
    "resolvedConfiguration": {"loadBalancers": [
        {"targetGroupArn": TG_WEB, "productionListenerRule": RULE1},
    ]},
    "ecsManagedResources": {
        "autoScaling": {"scalableTarget": {
            "arn": SCALABLE, "status": "ACTIVE", "updatedAt": 1732097730.5,
            "minCapacity": 2, "maxCapacity": 10}},
        "metricAlarms": [{"arn": ALARM1, "status": "ACTIVE", "statusReason": "ok",
                          "updatedAt": 1732097731}],
    },
    "someFutureMember": {"mode": "standard", "level": 1},
}

CASES = {}


def case(name, doc, mutate, changes):
    """Register a case: B = mutate(copy of A); changes = expected list."""
    a = copy.deepcopy(doc)
    b = copy.deepcopy(doc)
    mutate(b)
    b["serviceRevisionArn"] = rev_arn(5613047295846107342)
    b["createdAt"] = 1732184130.5
    CASES[name] = (a, b, changes)


def ch(category, path, op, old=None, new=None):
    c = {"category": category, "path": path, "op": op}
    if op != "added":
        c["old"] = old
    if op != "removed":
        c["new"] = new
    return c


def m_images(b):
    b["containerImages"][0]["image"] = f"{ECR}/web:1.4.3"
    b["containerImages"][0]["imageDigest"] = DIGEST2
    b["containerImages"].append({"containerName": "worker", "image": f"{ECR}/worker:2.0.0"})


case("images", BASE, m_images, [
    ch("images", "containerImages[web].image", "changed", f"{ECR}/web:1.4.2", f"{ECR}/web:1.4.3"),
    ch("images", "containerImages[web].imageDigest", "changed", DIGEST, DIGEST2),
    ch("images", "containerImages[worker]", "added",
       new={"containerName": "worker", "image": f"{ECR}/worker:2.0.0"}),
])


def m_taskdef(b):
    b["taskDefinition"] = b["taskDefinition"].replace("web:41", "web:42")


case("task-definition", BASE, m_taskdef, [
    ch("task-definition", "taskDefinition", "changed", BASE["taskDefinition"],
       BASE["taskDefinition"].replace("web:41", "web:42")),
])


def m_networking(b):
    v = b["networkConfiguration"]["awsvpcConfiguration"]
    v["securityGroups"] = ["sg-0fe333", "sg-0bb222"]
    v["subnets"].reverse()
    v["assignPublicIp"] = "ENABLED"


NET = "networkConfiguration.awsvpcConfiguration"
case("networking", BASE, m_networking, [
    ch("networking", f"{NET}.assignPublicIp", "changed", "DISABLED", "ENABLED"),
    ch("networking", f"{NET}.securityGroups[sg-0aa111]", "removed", old="sg-0aa111"),
    ch("networking", f"{NET}.securityGroups[sg-0fe333]", "added", new="sg-0fe333"),
])


def m_lb(b):
    b["loadBalancers"][1]["containerPort"] = 9091
    b["loadBalancers"][0]["advancedConfiguration"]["testListenerRule"] = RULE1
    b["resolvedConfiguration"]["loadBalancers"][0]["productionListenerRule"] = RULE2


case("load-balancers", BASE, m_lb, [
    # "targetgroup/web-admin/..." sorts before "targetgroup/web/..." ('-' < '/')
    ch("load-balancers", f"loadBalancers[{TG_ADMIN}].containerPort", "changed", 9090, 9091),
    ch("load-balancers", f"loadBalancers[{TG_WEB}].advancedConfiguration.testListenerRule",
       "changed", RULE2, RULE1),
    ch("load-balancers", f"resolvedConfiguration.loadBalancers[{TG_WEB}].productionListenerRule",
       "changed", RULE1, RULE2),
])


def m_volumes(b):
    ebs = b["volumeConfigurations"][0]["managedEBSVolume"]
    ebs["sizeInGiB"] = 200
    ebs["tagSpecifications"][0]["tags"][1]["value"] = "staging"
    b["fargateEphemeralStorage"]["kmsKeyId"] = KMS2


case("volumes", BASE, m_volumes, [
    ch("volumes", "fargateEphemeralStorage.kmsKeyId", "changed", KMS1, KMS2),
    ch("volumes", "volumeConfigurations[scratch].managedEBSVolume.sizeInGiB", "changed", 100, 200),
    ch("volumes",
       "volumeConfigurations[scratch].managedEBSVolume.tagSpecifications[volume].tags[env].value",
       "changed", "prod", "staging"),
])


def m_sc(b):
    sc = b["serviceConnectConfiguration"]
    sc["services"][0]["clientAliases"][0]["dnsName"] = "web.prod.example"
    del sc["services"][1]


case("service-connect", BASE, m_sc, [
    ch("service-connect", "serviceConnectConfiguration.services[grpc]", "removed",
       old={"portName": "grpc", "discoveryName": "web-grpc",
            "clientAliases": [{"port": 50051, "dnsName": "web-grpc.prod.internal"}]}),
    ch("service-connect", "serviceConnectConfiguration.services[http].clientAliases[8080].dnsName",
       "changed", "web.prod.internal", "web.prod.example"),
])


def m_sd(b):
    b["serviceRegistries"][0]["containerPort"] = 8443


case("service-discovery", BASE, m_sd, [
    ch("service-discovery", f"serviceRegistries[{REGISTRY}].containerPort", "changed", 8080, 8443),
])


def m_lattice(b):
    b["vpcLatticeConfigurations"][0]["portName"] = "grpc"


case("vpc-lattice", BASE, m_lattice, [
    ch("vpc-lattice", f"vpcLatticeConfigurations[{LATTICE_TG}].portName", "changed", "http", "grpc"),
])


def m_compute(b):
    b["capacityProviderStrategy"][1]["weight"] = 1
    b["platformVersion"] = "LATEST"


case("compute", BASE, m_compute, [
    ch("compute", "capacityProviderStrategy[FARGATE_SPOT].weight", "changed", 3, 1),
    ch("compute", "platformVersion", "changed", "1.4.0", "LATEST"),
])


def m_security(b):
    b["guardDutyEnabled"] = True


case("security", BASE, m_security, [
    ch("security", "guardDutyEnabled", "changed", False, True),
])


def m_managed(b):
    mr = b["ecsManagedResources"]
    st = mr["autoScaling"]["scalableTarget"]
    st["maxCapacity"] = 20
    st["status"] = "PROVISIONING"  # volatile: not a change
    st["updatedAt"] = 1732184130
    mr["metricAlarms"][0]["status"] = "FAILED"
    mr["metricAlarms"][0]["statusReason"] = "throttled"
    mr["metricAlarms"].append({"arn": ALARM2, "status": "ACTIVE", "updatedAt": 1732184131})


case("managed-resources", BASE, m_managed, [
    ch("managed-resources", "ecsManagedResources.autoScaling.scalableTarget.maxCapacity",
       "changed", 10, 20),
    ch("managed-resources", f"ecsManagedResources.metricAlarms[{ALARM2}]", "added",
       new={"arn": ALARM2}),
])


def m_other(b):
    b["someFutureMember"]["level"] = 2
    b["anotherNewMember"] = ["x"]


case("other", BASE, m_other, [
    ch("other", "anotherNewMember", "added", new=["x"]),
    ch("other", "someFutureMember.level", "changed", 1, 2),
])


def m_reorder(b):
    b["containerImages"].reverse()
    b["loadBalancers"].reverse()
    b["capacityProviderStrategy"].reverse()
    v = b["networkConfiguration"]["awsvpcConfiguration"]
    v["subnets"].reverse()
    v["securityGroups"].reverse()
    b["serviceConnectConfiguration"]["services"].reverse()
    b["serviceConnectConfiguration"]["services"][1]["clientAliases"].reverse()
    b["volumeConfigurations"][0]["managedEBSVolume"]["tagSpecifications"][0]["tags"].reverse()


case("reorder-only", BASE, m_reorder, [])


def m_volatile(b):
    mr = b["ecsManagedResources"]
    mr["autoScaling"]["scalableTarget"]["status"] = "DELETED"
    mr["metricAlarms"][0]["statusReason"] = "gone"
    mr["metricAlarms"][0]["updatedAt"] = 1832184131


case("volatile-only", BASE, m_volatile, [])
case("identity-only", BASE, lambda b: None, [])


def main():
    root = os.path.dirname(os.path.abspath(__file__))
    for name, (a, b, changes) in CASES.items():
        d = os.path.join(root, name)
        os.makedirs(d, exist_ok=True)
        for fname, doc in (("a.json", a), ("b.json", b),
                           ("expected.json", {"identical": not changes, "changes": changes})):
            with open(os.path.join(d, fname), "w", encoding="utf-8") as f:
                json.dump(doc, f, indent=2)
                f.write("\n")


if __name__ == "__main__":
    main()
