#!/usr/bin/env python3
"""The fetch benchmark's peer: what a user would write with boto3 instead of ecsrev.

Sequential, the same calls ecsrev fetch makes: ListServiceDeployments (every page,
100 per page), DescribeServiceDeployments 20 at a time, then the set of source,
target and rollback revision ARNs, DescribeServiceRevisions 20 at a time. The
revisions are written as JSON Lines to --output (default: discarded), so the
script does at least the I/O a user's script would.

Endpoint and credentials come from the command line / the environment as for any
boto3 program (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION).

Prints one summary line to stderr: deployments, revisions, failures, API calls.
"""
import argparse
import json
import sys

import boto3


def batches(items, n):
    for i in range(0, len(items), n):
        yield items[i:i + n]


def main(argv=None):
    p = argparse.ArgumentParser(description="sequential boto3 fetch of service revisions")
    p.add_argument("--endpoint-url")
    p.add_argument("--region", default=None)
    p.add_argument("--cluster", required=True)
    p.add_argument("--service", required=True)
    p.add_argument("--output", default=None)
    opts = p.parse_args(argv)

    ecs = boto3.client("ecs", endpoint_url=opts.endpoint_url, region_name=opts.region)
    calls = 0
    deployment_arns = []
    token = None
    while True:
        kw = {"cluster": opts.cluster, "service": opts.service, "maxResults": 100}
        if token:
            kw["nextToken"] = token
        resp = ecs.list_service_deployments(**kw)
        calls += 1
        deployment_arns += [d["serviceDeploymentArn"] for d in resp.get("serviceDeployments", [])]
        token = resp.get("nextToken")
        if not token:
            break

    revision_arns = []
    seen = set()

    def want(a):
        if a and a not in seen:
            seen.add(a)
            revision_arns.append(a)

    for batch in batches(deployment_arns, 20):
        resp = ecs.describe_service_deployments(serviceDeploymentArns=batch)
        calls += 1
        for d in resp.get("serviceDeployments", []):
            for s in d.get("sourceServiceRevisions", []):
                want(s.get("arn"))
            want(d.get("targetServiceRevision", {}).get("arn"))
            want(d.get("rollback", {}).get("serviceRevisionArn"))

    out = open(opts.output, "w", encoding="utf-8") if opts.output else None
    revisions = failures = 0
    try:
        for batch in batches(revision_arns, 20):
            resp = ecs.describe_service_revisions(serviceRevisionArns=batch)
            calls += 1
            for rev in resp.get("serviceRevisions", []):
                revisions += 1
                if out:
                    out.write(json.dumps(rev, default=str, separators=(",", ":")))
                    out.write("\n")
            failures += len(resp.get("failures", []))
    finally:
        if out:
            out.close()
    print("boto3_peer: %d deployments, %d revisions, %d failures, %d calls"
          % (len(deployment_arns), revisions, failures, calls), file=sys.stderr)
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
