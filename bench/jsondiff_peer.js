#!/usr/bin/env node
// The history-diff benchmark's peer: json-diff-ts (npm) diffing the same
// consecutive pairs that `ecsrev log -p --format json` diffs.
//
// Reads an NDJSON file of ServiceRevisions, groups them by serviceArn, orders
// each service's revisions by createdAt, and diffs every consecutive pair with
// arrays of identified objects keyed by the same identities ecsrev uses
// (containerImages by containerName, loadBalancers by targetGroupArn or
// loadBalancerName, ...) and set-like arrays keyed by value ($value). The
// identity and volatile members (serviceRevisionArn, createdAt) are skipped.
// Each changeset is printed as one JSON line (like `log -p --format json`
// prints every entry), newest first per service.
//
// usage: node bench/jsondiff_peer.js FILE.ndjson [NODE_MODULES_DIR] > out
// Prints a summary line (pairs, changes) on stderr.
'use strict';

const fs = require('fs');
const path = require('path');
const readline = require('readline');

const modules = process.argv[3] || path.join(__dirname, 'node_modules');
const { diff } = require(path.join(modules, 'json-diff-ts'));

const lbKey = (o) => (o == null ? undefined : (o.targetGroupArn !== undefined ? o.targetGroupArn : o.loadBalancerName));
const byArn = 'arn';

const keys = new Map([
  ['containerImages', 'containerName'],
  ['loadBalancers', lbKey],
  ['resolvedConfiguration.loadBalancers', lbKey],
  ['serviceRegistries', 'registryArn'],
  ['capacityProviderStrategy', 'capacityProvider'],
  ['volumeConfigurations', 'name'],
  ['volumeConfigurations.managedEBSVolume.tagSpecifications', 'resourceType'],
  ['volumeConfigurations.managedEBSVolume.tagSpecifications.tags', 'key'],
  ['serviceConnectConfiguration.services', 'portName'],
  ['serviceConnectConfiguration.services.clientAliases', 'port'],
  ['serviceConnectConfiguration.logConfiguration.secretOptions', 'name'],
  ['vpcLatticeConfigurations', 'targetGroupArn'],
  ['networkConfiguration.awsvpcConfiguration.subnets', '$value'],
  ['networkConfiguration.awsvpcConfiguration.securityGroups', '$value'],
  ['monitoring.metricConfigurations', 'resolutionSeconds'],
  ['monitoring.metricConfigurations.metricNames', '$value'],
  [/^ecsManagedResources\..*(Groups|Policies|Alarms|Paths|targetGroups)$/, byArn],
  [/^ecsManagedResources\..*(subnetIds|securityGroupIds)$/, '$value'],
]);

const options = { embeddedObjKeys: keys, keysToSkip: ['serviceRevisionArn', 'createdAt'] };

function created(rev) {
  const c = rev.createdAt;
  return typeof c === 'number' ? c : Date.parse(c) / 1000;
}

async function main() {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: jsondiff_peer.js FILE.ndjson [NODE_MODULES_DIR]\n');
    process.exit(2);
  }
  const services = new Map();
  const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const rev = JSON.parse(line);
    let list = services.get(rev.serviceArn);
    if (!list) {
      list = [];
      services.set(rev.serviceArn, list);
    }
    list.push(rev);
  }
  let pairs = 0;
  let changes = 0;
  const out = [];
  let pending = 0;
  const flush = () => {
    process.stdout.write(out.join(''));
    out.length = 0;
    pending = 0;
  };
  for (const [, list] of [...services.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    list.sort((a, b) => created(a) - created(b));
    for (let i = list.length - 1; i >= 1; i--) {
      const d = diff(list[i - 1], list[i], options);
      pairs++;
      changes += d.length;
      const line = JSON.stringify({ from: list[i - 1].serviceRevisionArn, to: list[i].serviceRevisionArn, changes: d }) + '\n';
      out.push(line);
      pending += line.length;
      if (pending > 1 << 20) flush();
    }
  }
  flush();
  process.stderr.write(`jsondiff_peer: ${services.size} services, ${pairs} pairs, ${changes} top-level changes\n`);
}

main().catch((e) => {
  process.stderr.write(`jsondiff_peer: ${e.stack || e}\n`);
  process.exit(2);
});
