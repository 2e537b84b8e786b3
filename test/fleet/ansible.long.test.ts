import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, lstat, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeFixture } from '../systemd/install-fixture.js';
import { requireTool } from '../metrics/require-tool.js';

/**
 * fleet/: the playbooks pass ansible-playbook's syntax check, and the role runs for real with a
 * local connection into a temporary root (install.sh's DESTDIR, with the installer test's stand-ins
 * for npm, systemd-creds and systemctl), twice: the second run changes nothing.
 */

const FLEET = path.resolve(import.meta.dirname, '../../fleet');
const CLIENT_ID = 'd1f4e3c2-1111-2222-3333-444455556666';

function playbook(args: string[]): { status: number | null; out: string } {
  const r = spawnSync('ansible-playbook', args, {
    cwd: FLEET, encoding: 'utf8',
    env: { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '0', ANSIBLE_LOCAL_TEMP: '/tmp/.ansible-local', ANSIBLE_REMOTE_TEMP: '/tmp/.ansible-remote' },
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** "changed=N" of the host's PLAY RECAP line. */
function changed(out: string, host: string): number {
  const m = new RegExp(`^${host}\\s+: ok=\\d+\\s+changed=(\\d+)\\s+unreachable=0\\s+failed=0`, 'm').exec(out);
  assert.ok(m, `no clean recap for ${host}:\n${out}`);
  return Number(m[1]);
}

test('the playbooks pass ansible-playbook --syntax-check', (t) => {
  if (!requireTool(t, 'ansible-playbook', 'ansible-core')) return;
  const r = playbook(['--syntax-check', '-i', 'inventory.example.yml', 'site.yml', 'new-sign-in.yml', 'status.yml']);
  assert.equal(r.status, 0, r.out);
});

test('ansible-lint passes the playbooks and the role (production profile)', (t) => {
  if (!requireTool(t, 'ansible-lint', 'ansible-lint')) return;
  const r = spawnSync('ansible-lint', ['--nocolor', 'site.yml', 'new-sign-in.yml', 'status.yml', 'roles/graph_device_agent'], { cwd: FLEET, encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});

test('the status survey gathers `status --json` into one table', async (t) => {
  if (!requireTool(t, 'ansible-playbook', 'ansible-core')) return;
  const fx = await makeFixture();
  t.after(() => fx.dispose());
  const base = path.dirname(fx.stubLog);
  const bin = path.join(base, 'bin');
  await mkdir(bin);
  const report = {
    config: '/etc/graph-device-agent/config.json',
    agent: { state: 'signed-in', running: true, updatedAt: '2026-12-06T10:00:00.000Z' },
    accounts: [{ username: 'AdeleV@contoso.onmicrosoft.com', refreshToken: { expiresAt: '2027-03-06T10:00:00.000Z' } }],
    lastGraph: { last: { job: 'me', ok: true, at: '2026-12-06T09:59:00.000Z' }, jobs: {} },
  };
  await writeFile(path.join(bin, 'graph-device-agent'), `#!/bin/sh\n[ "$1 $2" = "status --json" ] || exit 2\ncat <<'EOF'\n${JSON.stringify(report)}\nEOF\n`);
  await chmod(path.join(bin, 'graph-device-agent'), 0o755);
  const inventory = path.join(base, 'inventory.json');
  await writeFile(inventory, JSON.stringify({ graph_device_agents: { hosts: {
    'pi-room-401': { ansible_connection: 'local', ansible_python_interpreter: '/usr/bin/python3', ansible_become: false, gda_label: 'Room 4.01' },
  } } }));
  const survey = path.join(base, 'fleet-status.md');
  const r = spawnSync('ansible-playbook', ['-i', inventory, 'status.yml', '-e', `survey_file=${survey}`], {
    cwd: FLEET, encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, ANSIBLE_NOCOLOR: '1' },
  });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  assert.equal(changed(r.stdout, 'pi-room-401'), 0, 'a survey changes nothing on the devices');
  const table = (await readFile(survey, 'utf8')).trim().split('\n');
  assert.equal(table[0], '| host | label | agent | since | signed in as | refresh token expires | last Graph run |');
  assert.equal(table[2], '| pi-room-401 | Room 4.01 | signed-in | 2026-12-06T10:00:00.000Z | AdeleV@contoso.onmicrosoft.com | 2027-03-06T10:00:00.000Z | me ok 2026-12-06T09:59:00.000Z |');
});

test('the role installs into a temporary root from inventory variables; a second run changes nothing', async (t) => {
  if (!requireTool(t, 'ansible-playbook', 'ansible-core')) return;
  const fx = await makeFixture();
  t.after(() => fx.dispose());
  const stubs = path.join(path.dirname(fx.stubLog), 'stubs');
  const inventory = path.join(path.dirname(fx.stubLog), 'inventory.json');
  await writeFile(inventory, JSON.stringify({
    graph_device_agents: {
      hosts: { 'pi-room-401': { ansible_connection: 'local', ansible_python_interpreter: '/usr/bin/python3', ansible_become: false, gda_label: 'Room 4.01' } },
      vars: {
        gda_client_id: CLIENT_ID, gda_tenant: 'contoso.onmicrosoft.com',
        gda_source_dir: fx.checkout, gda_destdir: fx.root,
        gda_metrics_directory: '/var/lib/prometheus/node-exporter',
        gda_config: { display: { driver: 'ssd1306', height: 32 } },
        gda_install_env: {
          PATH: process.env.PATH, NODE: process.execPath, STUB_LOG: fx.stubLog,
          NPM: path.join(stubs, 'npm'), SYSTEMD_CREDS: path.join(stubs, 'systemd-creds'), SYSTEMCTL: path.join(stubs, 'systemctl'), FAKE_CLI: path.join(stubs, 'fake-cli.js'),
        },
      },
    },
  }));

  const first = playbook(['-i', inventory, 'site.yml']);
  assert.equal(first.status, 0, first.out);
  assert.ok(changed(first.out, 'pi-room-401') > 0, 'the first run installs');

  const config = JSON.parse(await readFile(path.join(fx.root, 'etc/graph-device-agent/config.json'), 'utf8')) as Record<string, Record<string, unknown>>;
  assert.deepEqual(config.auth, { clientId: CLIENT_ID, authority: 'https://login.microsoftonline.com/contoso.onmicrosoft.com' });
  assert.deepEqual(config.device, { label: 'Room 4.01' });
  assert.deepEqual(config.display, { driver: 'ssd1306', height: 32 });
  assert.deepEqual(config.metrics, { textfileDirectory: '/var/lib/prometheus/node-exporter' });
  assert.match(await readFile(path.join(fx.root, 'etc/credstore.encrypted/graph-device-agent.token-cache-key'), 'utf8'), /sealed name=token-cache-key valid-key=yes/);
  assert.ok((await lstat(path.join(fx.root, 'etc/systemd/system/multi-user.target.wants/graph-device-agent.service'))).isSymbolicLink(), 'enabled');
  assert.match(await readFile(path.join(fx.root, 'etc/systemd/system/graph-device-agent.service.d/20-metrics.conf'), 'utf8'), /ReadWritePaths=\/var\/lib\/prometheus\/node-exporter/);

  const second = playbook(['-i', inventory, 'site.yml']);
  assert.equal(second.status, 0, second.out);
  assert.equal(changed(second.out, 'pi-room-401'), 0, second.out);
});
