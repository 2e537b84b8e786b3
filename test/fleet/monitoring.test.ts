import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { requireTool } from '../metrics/require-tool.js';
import { STATES } from '../../src/metrics/fleet-metrics.js';

/**
 * fleet/monitoring: the alert rules run through promtool (checked, and unit-tested against made-up
 * series), the log shippers' configs parsed. Promtail, Alloy and Fluent Bit are not in Debian 12,
 * so their own syntax checks cannot run here: the YAML must parse and name what the agent logs.
 */

const DIR = path.resolve(import.meta.dirname, '../../fleet/monitoring');
const read = (name: string): string => readFileSync(path.join(DIR, name), 'utf8');

test('the Prometheus alert rules pass promtool check rules and their unit tests', (t) => {
  if (!requireTool(t, 'promtool', 'prometheus')) return;
  const check = spawnSync('promtool', ['check', 'rules', 'alerts.rules.yml'], { cwd: DIR, encoding: 'utf8' });
  assert.equal(check.status, 0, `${check.stdout}${check.stderr}`);
  const unit = spawnSync('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: DIR, encoding: 'utf8' });
  assert.equal(unit.status, 0, `${unit.stdout}${unit.stderr}`);
});

test('the rules use only metrics and states the agent writes', () => {
  const rules = read('alerts.rules.yml');
  const written = readFileSync(path.resolve(import.meta.dirname, '../../src/metrics/fleet-metrics.ts'), 'utf8');
  for (const [name] of rules.matchAll(/graph_device_agent_[a-z_]+/g)) {
    assert.ok(written.includes(`\${p}_${name.replace(/^graph_device_agent_/, '')}`), `${name} is written by fleet-metrics.ts`);
  }
  for (const [, state] of rules.matchAll(/state="([a-z-]+)"/g)) assert.ok(STATES.includes(state as never), state);
});

test('the log shippers\' configs parse, and read the agent\'s unit and events', (t) => {
  if (!requireTool(t, 'python3', 'python3-yaml')) return;
  const parse = spawnSync('python3', ['-c', `
import sys, yaml, configparser
for f in ['promtail.yml', 'fluent-bit.yaml', 'loki-alerts.rules.yml']:
    yaml.safe_load(open(f))
for f in ['journal-upload.conf', 'journal-remote.conf']:
    c = configparser.ConfigParser(); c.read_file(open(f))
print('ok')
`], { cwd: DIR, encoding: 'utf8' });
  assert.equal(parse.stdout.trim(), 'ok', parse.stderr);
  assert.match(read('promtail.yml'), /unit="graph-device-agent\.service"/);
  assert.match(read('fluent-bit.yaml'), /_SYSTEMD_UNIT=graph-device-agent\.service/);
  const grep = spawnSync('grep', ['-rhoE', "event: '[a-z_.]+'", path.resolve(import.meta.dirname, '../../src')], { encoding: 'utf8' });
  const logged = new Set([...grep.stdout.matchAll(/event: '([a-z_.]+)'/g)].map((m) => m[1]));
  for (const [, event] of read('loki-alerts.rules.yml').matchAll(/\| event=~?"([a-z_.|]+)"/g)) {
    for (const name of event!.split('|')) assert.ok(logged.has(name), `the agent logs ${name}`);
  }
});
