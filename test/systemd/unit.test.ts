import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireTool } from '../support/requires-tool.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const unitFile = path.join(root, 'systemd/graph-device-agent.service');
const MAX_EXPOSURE = 1.5;

test('systemd-analyze verify accepts the unit without a single warning', (t) => {
  if (!requireTool(t, 'systemd-analyze', 'apt-get install systemd')) return;
  const result = spawnSync('systemd-analyze', ['verify', unitFile], { encoding: 'utf8' });
  // Unknown or misspelt directives are only warnings (exit 0): any output at all is a failure.
  // ("Command node is not executable" means no Node 20+ in /usr/local/bin or /usr/bin.)
  assert.equal(result.status, 0, result.stderr);
  assert.equal(`${result.stdout}${result.stderr}`.trim(), '');
});

test(`the exposure score of systemd-analyze security is at most ${MAX_EXPOSURE}`, (t) => {
  if (!requireTool(t, 'systemd-analyze', 'apt-get install systemd')) return;
  const result = spawnSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', unitFile], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const match = /Overall exposure level for graph-device-agent\.service: (\d+\.\d)/.exec(result.stdout);
  assert.ok(match, `no overall exposure in:\n${result.stdout}`);
  const score = Number(match[1]);
  const open = result.stdout.split('\n').filter((l) => l.startsWith('✗')).join('\n');
  assert.ok(score <= MAX_EXPOSURE, `exposure ${score} > ${MAX_EXPOSURE}; what is still open:\n${open}`);
});

test('what the agent needs is still reachable through the hardening', () => {
  const unit = readFileSync(unitFile, 'utf8');
  const settings = unit.split('\n').filter((l) => /^[A-Za-z]+=/.test(l));
  const has = (line: string): boolean => settings.includes(line);
  assert.ok(has('Type=notify') && has('NotifyAccess=all'), 'sd_notify through the systemd-notify helper needs NotifyAccess=all');
  assert.ok(has('BindPaths=-/dev/i2c-1') && has('DeviceAllow=char-i2c rw'), 'the OLED needs /dev/i2c-1 inside the private /dev');
  assert.ok(settings.some((l) => l.startsWith('ReadWritePaths=') && l.includes('/sys/class/gpio')), 'sysfs GPIO export needs /sys/class/gpio writable');
  assert.ok(has('SupplementaryGroups=gpio i2c input'), 'gpio (sysfs), i2c (the OLED), input (the gpio-keys button)');
  assert.ok(has('BindPaths=-/dev/input') && has('DeviceAllow=char-input r'), 'the evdev button needs /dev/input inside the private /dev, read only');
  assert.ok(has('RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6'));
  assert.ok(has('LoadCredentialEncrypted=token-cache-key:/etc/credstore.encrypted/graph-device-agent.token-cache-key'));
  assert.ok(has('RestartPreventExitStatus=78 243') && has('Restart=on-failure') && has('StartLimitIntervalSec=0'));
  assert.ok(has('StateDirectory=graph-device-agent') && has('StateDirectoryMode=0700'));
});

test('every protection that is deliberately off says why, right above it', () => {
  const lines = readFileSync(unitFile, 'utf8').split('\n');
  const off = lines
    .map((line, i) => ({ line, i }))
    .filter(({ line }) => /^(MemoryDenyWriteExecute|PrivateUsers|PrivateNetwork|PrivateDevices|ProtectSystem|ProtectHome|NoNewPrivileges)=(no|false|off)$/.test(line));
  assert.ok(off.length >= 3, 'expected MemoryDenyWriteExecute=, PrivateUsers= and PrivateNetwork= to be set to no explicitly');
  for (const { line, i } of off) {
    assert.match(lines[i - 1] ?? '', /^#/, `${line} has no comment saying why`);
  }
});
