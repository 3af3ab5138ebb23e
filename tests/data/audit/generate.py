#!/usr/bin/env python3
"""Regenerate the audit rule fixtures from base.json.

Each rule gets a directory named after its id with pass.json (a revision the
rule accepts) and fail.json (a revision the rule reports exactly once, at the
path given in expected.json). Change rules also get prev.json, the revision
before. Run from anywhere: python3 tests/data/audit/generate.py
"""
import copy
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "base.json")) as f:
    BASE = json.load(f)

NEXT_ARN = BASE["serviceRevisionArn"][:-1] + "2"
AWSVPC = ("networkConfiguration", "awsvpcConfiguration")


def at(doc, *path):
    for p in path:
        doc = doc[p]
    return doc


def edit(fn, nxt=False):
    d = copy.deepcopy(BASE)
    fn(d)
    if nxt:
        d["serviceRevisionArn"] = NEXT_ARN
        d["createdAt"] = BASE["createdAt"] + 3600
    return d


def setp(d, path, value):
    at(d, *path[:-1])[path[-1]] = value


def delp(d, path):
    del at(d, *path[:-1])[path[-1]]


def noop(_):
    pass


IMG = ("containerImages", 0)
EBS = ("volumeConfigurations", 0, "managedEBSVolume")
CASES = [
    ("ECS.2", lambda d: setp(d, AWSVPC + ("assignPublicIp",), "DISABLED"),
     lambda d: setp(d, AWSVPC + ("assignPublicIp",), "ENABLED"),
     "networkConfiguration.awsvpcConfiguration.assignPublicIp", None),
    ("ECS.10", lambda d: setp(d, ("platformVersion",), "1.4.0"),
     lambda d: setp(d, ("platformVersion",), "1.3.0"), "platformVersion", None),
    ("ECSREV-EBS-UNENCRYPTED", noop, lambda d: setp(d, EBS + ("encrypted",), False),
     "volumeConfigurations[data].managedEBSVolume.encrypted", None),
    ("ECSREV-EBS-NO-CMK", noop, lambda d: delp(d, EBS + ("kmsKeyId",)),
     "volumeConfigurations[data].managedEBSVolume.kmsKeyId", None),
    ("ECSREV-IMAGE-MUTABLE-TAG",
     lambda d: setp(d, IMG + ("image",),
                    "123456789012.dkr.ecr.us-east-1.amazonaws.com/api@sha256:" + "a" * 64),
     lambda d: setp(d, IMG + ("image",), "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:latest"),
     "containerImages[api].image", None),
    ("ECSREV-IMAGE-NO-DIGEST", noop, lambda d: delp(d, IMG + ("imageDigest",)),
     "containerImages[api].imageDigest", None),
    ("ECSREV-IMAGE-REGISTRY-NOT-ALLOWED", noop,
     lambda d: setp(d, IMG + ("image",), "docker.io/acme/api:2.3.1"),
     "containerImages[api].image", "allow.json"),
    ("ECSREV-SUBNET-NOT-ALLOWED", noop,
     lambda d: setp(d, AWSVPC + ("subnets",), ["subnet-0aaa", "subnet-0bad"]),
     "networkConfiguration.awsvpcConfiguration.subnets[subnet-0bad]", "allow.json"),
    ("ECSREV-SECURITY-GROUP-NOT-ALLOWED", noop,
     lambda d: setp(d, AWSVPC + ("securityGroups",), ["sg-0aaa", "sg-0bad"]),
     "networkConfiguration.awsvpcConfiguration.securityGroups[sg-0bad]", "allow.json"),
    ("ECSREV-GUARDDUTY-OFF", noop, lambda d: setp(d, ("guardDutyEnabled",), False),
     "guardDutyEnabled", None),
    ("ECSREV-SC-NO-TLS", noop,
     lambda d: delp(d, ("serviceConnectConfiguration", "services", 0, "tls")),
     "serviceConnectConfiguration.services[http].tls", None),
    ("ECSREV-SC-NO-LOGS", noop,
     lambda d: delp(d, ("serviceConnectConfiguration", "logConfiguration")),
     "serviceConnectConfiguration.logConfiguration", None),
    ("ECSREV-EPHEMERAL-NO-CMK", lambda d: (setp(d, ("launchType",), "EC2"),
                                           delp(d, ("fargateEphemeralStorage",))),
     lambda d: delp(d, ("fargateEphemeralStorage",)), "fargateEphemeralStorage.kmsKeyId", None),
]
CHANGE_CASES = [
    ("ECSREV-CHANGE-EXPOSURE",
     lambda d: setp(d, AWSVPC + ("securityGroups",), ["sg-0aaa"]),
     lambda d: setp(d, AWSVPC + ("securityGroups",), ["sg-0aaa", "sg-0new"]),
     "networkConfiguration.awsvpcConfiguration.securityGroups[sg-0new]"),
    ("ECSREV-CHANGE-ENCRYPTION-REMOVED",
     lambda d: setp(d, EBS + ("sizeInGiB",), 40),
     lambda d: setp(d, EBS + ("encrypted",), False),
     "volumeConfigurations[data].managedEBSVolume.encrypted"),
    ("ECSREV-CHANGE-REGISTRY",
     lambda d: setp(d, IMG + ("image",), "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:2.4.0"),
     lambda d: setp(d, IMG + ("image",), "ghcr.io/acme/api:2.4.0"),
     "containerImages[api].image"),
]


def write(path, doc):
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


def main():
    for rule, ok, bad, path, rules in CASES:
        d = os.path.join(HERE, rule)
        os.makedirs(d, exist_ok=True)
        write(os.path.join(d, "pass.json"), edit(ok))
        write(os.path.join(d, "fail.json"), edit(bad))
        write(os.path.join(d, "expected.json"), {"rule": rule, "path": path, "rules": rules})
    for rule, ok, bad, path in CHANGE_CASES:
        d = os.path.join(HERE, rule)
        os.makedirs(d, exist_ok=True)
        write(os.path.join(d, "prev.json"), BASE)
        write(os.path.join(d, "pass.json"), edit(ok, nxt=True))
        write(os.path.join(d, "fail.json"), edit(bad, nxt=True))
        write(os.path.join(d, "expected.json"), {"rule": rule, "path": path, "rules": None})


if __name__ == "__main__":
    main()
