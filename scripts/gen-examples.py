#!/usr/bin/env python3
"""Regenerate examples/revisions-<service>.json from examples/demo-scenario.json.

Each output file holds the service's revisions exactly as
`aws ecs describe-service-revisions --service-revision-arns ...` prints them
(with cli_timestamp_format = iso8601 and TZ=UTC): {"serviceRevisions": [...],
"failures": []}, timestamps as "2026-11-02T09:14:03.512000+00:00", 4-space
indentation. The scenario goes through the same loader as the fake endpoint
(tests/support/fake_ecs.py), so the files match what the demo serves; the test
tests/cli/test_fake_ecs.py checks this against the real aws CLI when present.

Usage: scripts/gen-examples.py [--check]   (--check: exit 1 if a file is stale)
"""

import datetime
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import fake_ecs  # noqa: E402

SCENARIO = os.path.join(ROOT, "examples", "demo-scenario.json")


def iso(node):
    """Epoch timestamps -> the ISO 8601 text the aws CLI prints (UTC)."""
    if isinstance(node, dict):
        return {k: (datetime.datetime.fromtimestamp(v, datetime.timezone.utc).isoformat()
                    if k in fake_ecs.TIMESTAMP_KEYS and isinstance(v, (int, float))
                    else iso(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [iso(v) for v in node]
    return node


def render(world, cluster, service):
    svc = world.clusters[cluster].services[service]
    # revisions in the order of their deployments, oldest first
    order = []
    for dep in reversed(svc.deployments):
        arn = dep["targetServiceRevision"]["arn"]
        if arn not in order:
            order.append(arn)
    order += [a for a in svc.revisions if a not in order]
    doc = {"serviceRevisions": [iso(svc.revisions[a]) for a in order], "failures": []}
    return json.dumps(doc, indent=4, ensure_ascii=False) + "\n"


def main(argv):
    check = "--check" in argv[1:]
    world, _, _ = fake_ecs.load_scenario(SCENARIO)
    stale = 0
    for cluster in world.clusters.values():
        for name in cluster.services:
            path = os.path.join(ROOT, "examples", f"revisions-{name}.json")
            text = render(world, cluster.name, name)
            if check:
                try:
                    with open(path, encoding="utf-8") as fh:
                        current = fh.read()
                except OSError:
                    current = None
                if current != text:
                    print(f"gen-examples: {path} is stale", file=sys.stderr)
                    stale += 1
                continue
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
            print(f"wrote {os.path.relpath(path, ROOT)}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
