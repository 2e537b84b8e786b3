import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireTool } from '../support/requires-tool.js';
import { entry, listTree, makeFixture, type Entry } from './install-fixture.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const installer = path.join(repo, 'systemd/install.sh');
// Root-run installs chown to root; a DESTDIR run by another user leaves its files to that user.
const owner = process.getuid?.() ?? 0;

const APP = 'opt/graph-device-agent';
const SEALED = 'etc/credstore.encrypted/graph-device-agent.token-cache-key';
const PLAIN = 'etc/credstore/graph-device-agent.token-cache-key';
const UNIT = 'etc/systemd/system/graph-device-agent.service';
const DROPIN = 'etc/systemd/system/graph-device-agent.service.d/10-plain-credential.conf';

test('shellcheck finds nothing in install.sh', (t) => {
  if (!requireTool(t, 'shellcheck', 'apt-get install shellcheck')) return;
  const result = spawnSync('shellcheck', ['--severity=style', installer], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stdout + result.stderr);
});

test('install into an empty root places every file with its owner and mode; a second run changes nothing', async (t) => {
  if (!requireTool(t, 'systemctl', 'apt-get install systemd')) return;
  const fx = await makeFixture();
  try {
    const first = fx.run();
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /journalctl -u graph-device-agent -f/);
    // The example's placeholder client id: enabled, but not started until someone sets it.
    assert.match(first.stdout, /set auth\.clientId in .*config\.json/);

    const tree = await listTree(fx.root);
    const expect = (relative: string, type: Entry['type'], mode: string): Entry => {
      const e = entry(tree, relative);
      assert.deepEqual([e.type, e.mode, e.uid, e.gid], [type, mode, owner, owner], relative);
      return e;
    };
    expect(APP, 'dir', '0755');
    expect(`${APP}/dist/src/cli.js`, 'file', '0755');
    expect(`${APP}/dist/src/log.js`, 'file', '0644');
    expect(`${APP}/config/config.example.json`, 'file', '0644');
    expect(`${APP}/package-lock.json`, 'file', '0644');
    expect(`${APP}/package.json`, 'file', '0644');
    expect('etc/graph-device-agent', 'dir', '0755');
    expect('etc/graph-device-agent/config.json', 'file', '0644');
    expect('etc/credstore.encrypted', 'dir', '0700');
    expect(SEALED, 'file', '0600');
    expect(UNIT, 'file', '0644');
    assert.equal(entry(tree, 'usr/local/bin/graph-device-agent').content, '/opt/graph-device-agent/dist/src/cli.js');
    assert.equal(entry(tree, 'etc/systemd/system/multi-user.target.wants/graph-device-agent.service').content, '/etc/systemd/system/graph-device-agent.service');
    assert.ok(!tree.some((e) => e.path.startsWith('etc/credstore/') || e.path === DROPIN), 'no plain key when sealing works');

    const read = (relative: string): Promise<string> => readFile(path.join(fx.root, relative), 'utf8');
    assert.equal(await read(UNIT), await readFile(path.join(repo, 'systemd/graph-device-agent.service'), 'utf8'));
    assert.equal(await read('etc/graph-device-agent/config.json'), await readFile(path.join(repo, 'config/config.example.json'), 'utf8'));
    // The key was made by the app's keygen and handed to systemd-creds under the unit's name.
    assert.equal(await read(SEALED), 'sealed name=token-cache-key valid-key=yes\n');
    // npm ci --omit=dev must not run `prepare` (tsc is a devDependency); the rest of package.json stays.
    const installedPkg = JSON.parse(await read(`${APP}/package.json`)) as { scripts: Record<string, string>; allowScripts?: unknown; dependencies: unknown };
    const sourcePkg = JSON.parse(await readFile(path.join(repo, 'package.json'), 'utf8')) as typeof installedPkg;
    assert.equal(installedPkg.scripts.prepare, undefined);
    assert.deepEqual(installedPkg.dependencies, sourcePkg.dependencies);
    assert.deepEqual(installedPkg.allowScripts, sourcePkg.allowScripts);

    const calls = await fx.calls();
    assert.equal(calls.length, 3, calls.join('\n'));
    assert.equal(calls[0], `${path.join(fx.root, APP)}|ci --omit=dev --no-audit --no-fund`);
    assert.match(calls[1] ?? '', /^systemd-creds\|encrypt --name=token-cache-key \S+\/key /);
    assert.ok(calls[1]?.endsWith(` ${path.join(fx.root, SEALED)}`), calls[1]);
    assert.equal(calls[2], `systemctl|--root=${fx.root} enable graph-device-agent.service`);

    const second = fx.run();
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /keeping your .*config\.json/);
    assert.match(second.stdout, /keeping the existing token-cache key/);
    assert.deepEqual(await listTree(fx.root), tree);
    // Nothing rebuilt, nothing re-sealed.
    assert.equal((await fx.calls()).filter((c) => !c.startsWith('systemctl|')).length, 2);
  } finally {
    await fx.dispose();
  }
});

test('an edited config.json survives a reinstall; changed app files are replaced', async (t) => {
  if (!requireTool(t, 'systemctl', 'apt-get install systemd')) return;
  const fx = await makeFixture();
  try {
    assert.equal(fx.run().status, 0);
    const mine = '{"auth":{"clientId":"11111111-2222-3333-4444-555555555555"}}\n';
    await writeFile(path.join(fx.root, 'etc/graph-device-agent/config.json'), mine);
    await writeFile(path.join(fx.checkout, 'dist/src/log.js'), 'export const v = 2;\n');
    const again = fx.run();
    assert.equal(again.status, 0, again.stderr);
    assert.equal(await readFile(path.join(fx.root, 'etc/graph-device-agent/config.json'), 'utf8'), mine);
    assert.equal(await readFile(path.join(fx.root, APP, 'dist/src/log.js'), 'utf8'), 'export const v = 2;\n');
    assert.doesNotMatch(again.stdout, /set auth\.clientId/);
  } finally {
    await fx.dispose();
  }
});

test('where systemd-creds cannot seal, a root-only key file and a drop-in that systemd accepts', async (t) => {
  if (!requireTool(t, 'systemd-analyze', 'apt-get install systemd')) return;
  if (!requireTool(t, 'systemctl', 'apt-get install systemd')) return;
  const fx = await makeFixture();
  try {
    const result = fx.run([], { STUB_CREDS_FAIL: '1' });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /stored it unencrypted, readable by root only/);
    const tree = await listTree(fx.root);
    assert.deepEqual([entry(tree, PLAIN).mode, entry(tree, 'etc/credstore').mode], ['0400', '0700']);
    assert.ok(!tree.some((e) => e.path.startsWith('etc/credstore.encrypted')), 'no half-written sealed key left behind');
    assert.match(await readFile(path.join(fx.root, PLAIN), 'utf8'), /^[0-9a-f]{64}\n$/);
    assert.equal(await readFile(path.join(fx.root, DROPIN), 'utf8'), [
      '# Written by install.sh: systemd-creds could not seal the token-cache key on this host.',
      '[Service]',
      'LoadCredentialEncrypted=',
      'LoadCredential=token-cache-key:/etc/credstore/graph-device-agent.token-cache-key',
      '',
    ].join('\n'));
    // systemd reads the unit with its drop-in: no warning, and the sealed credential is gone
    // (with it, the TPM device systemd adds for decrypting).
    const unit = path.join(fx.root, UNIT);
    const verify = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
    assert.equal(`${verify.stdout}${verify.stderr}`.trim(), '');
    const security = spawnSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', unit], { encoding: 'utf8' });
    const deviceAllow = security.stdout.split('\n').find((l) => l.includes('DeviceAllow='));
    assert.ok(deviceAllow && !deviceAllow.includes('tpmrm0'), deviceAllow);
  } finally {
    await fx.dispose();
  }
});

test('a missing build is built in the checkout first, with the compiler only', async (t) => {
  if (!requireTool(t, 'systemctl', 'apt-get install systemd')) return;
  const fx = await makeFixture();
  try {
    await rm(path.join(fx.checkout, 'dist'), { recursive: true });
    const result = fx.run();
    assert.equal(result.status, 0, result.stderr);
    const npm = (await fx.calls()).filter((c) => !c.startsWith('system'));
    assert.deepEqual(npm, [
      `${fx.checkout}|ci --ignore-scripts --no-audit --no-fund`,
      `${fx.checkout}|run build`,
      `${path.join(fx.root, APP)}|ci --omit=dev --no-audit --no-fund`,
    ]);
    assert.equal(entry(await listTree(fx.root), `${APP}/dist/src/cli.js`).mode, '0755');
  } finally {
    await fx.dispose();
  }
});

test('uninstall keeps config, token cache and key; --purge keeps only the config', async (t) => {
  if (!requireTool(t, 'systemctl', 'apt-get install systemd')) return;
  const fx = await makeFixture();
  try {
    assert.equal(fx.run().status, 0);
    // What systemd would have made at the first start (DynamicUser=: state under /var/lib/private).
    await mkdir(path.join(fx.root, 'var/lib/private/graph-device-agent'), { recursive: true });
    await writeFile(path.join(fx.root, 'var/lib/private/graph-device-agent/token-cache.json'), 'encrypted');
    await symlink('private/graph-device-agent', path.join(fx.root, 'var/lib/graph-device-agent'));

    const uninstall = fx.run(['--uninstall']);
    assert.equal(uninstall.status, 0, uninstall.stderr);
    const kept = (await listTree(fx.root)).filter((e) => e.type !== 'dir').map((e) => e.path);
    assert.deepEqual(kept, [
      SEALED,
      'etc/graph-device-agent/config.json',
      'etc/group',
      'var/lib/graph-device-agent',
      'var/lib/private/graph-device-agent/token-cache.json',
    ]);
    assert.ok(!(await listTree(fx.root)).some((e) => e.path.startsWith(APP)), 'the app is gone');

    const purge = fx.run(['--uninstall', '--purge']);
    assert.equal(purge.status, 0, purge.stderr);
    const left = (await listTree(fx.root)).filter((e) => e.type !== 'dir').map((e) => e.path);
    assert.deepEqual(left, ['etc/graph-device-agent/config.json', 'etc/group']);
  } finally {
    await fx.dispose();
  }
});

test('refuses Node older than 20, and --purge without --uninstall', async () => {
  const fx = await makeFixture();
  try {
    const oldNode = path.join(fx.checkout, 'node18');
    await writeFile(oldNode, '#!/bin/sh\ncase "$1" in -p) echo 18 ;; *) echo v18.19.0 ;; esac\n', { mode: 0o755 });
    const tooOld = fx.run([], { NODE: oldNode });
    assert.equal(tooOld.status, 1);
    assert.match(tooOld.stderr, /Node v18\.19\.0; graph-device-agent needs Node 20 or newer/);
    const purge = fx.run(['--purge']);
    assert.equal(purge.status, 1);
    assert.match(purge.stderr, /--purge goes with --uninstall/);
    assert.deepEqual((await listTree(fx.root)).map((e) => e.path), ['etc', 'etc/group']);
  } finally {
    await fx.dispose();
  }
});

/** A Raspberry Pi OS bookworm config.txt as it comes, ending in a board-specific section. */
const PI_CONFIG_TXT = [
  '# For more options and information see',
  '# http://rptl.io/configtxt',
  'dtparam=audio=on',
  'camera_auto_detect=1',
  'dtoverlay=vc4-kms-v3d',
  'arm_64bit=1',
  '',
  '[cm5]',
  'dtoverlay=dwc2,dr_mode=host',
].join('\n'); // no final newline: the installer must not glue its line to the last one

test('--yes adds the gpio-key overlay line for the configured pin to config.txt once, in [all], and says to reboot', async (t) => {
  if (!requireTool(t, 'systemctl', 'apt-get install systemd')) return;
  const fx = await makeFixture();
  try {
    const configTxt = path.join(fx.root, 'boot/firmware/config.txt');
    await mkdir(path.dirname(configTxt), { recursive: true });
    await writeFile(configTxt, PI_CONFIG_TXT);
    await mkdir(path.join(fx.root, 'etc/graph-device-agent'), { recursive: true });
    await writeFile(path.join(fx.root, 'etc/graph-device-agent/config.json'), JSON.stringify({ auth: { clientId: 'x' }, button: { bcmPin: 27 } }));

    const first = fx.run(['--yes']);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /added 'dtoverlay=gpio-key,gpio=27,active_low=1,gpio_pull=up,keycode=256,label=graph-device-agent' to \/boot\/firmware\/config\.txt: reboot/);
    const expected = `${PI_CONFIG_TXT}\n[all]\n# graph-device-agent: the button as a gpio-keys input device (keycode 256 is mapped by nothing; never 116)\n` +
      'dtoverlay=gpio-key,gpio=27,active_low=1,gpio_pull=up,keycode=256,label=graph-device-agent\n';
    assert.equal(await readFile(configTxt, 'utf8'), expected);

    const tree = await listTree(fx.root);
    const second = fx.run(['--yes']);
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /the button's overlay is in \/boot\/firmware\/config\.txt already/);
    assert.equal(await readFile(configTxt, 'utf8'), expected, 'never twice');
    assert.deepEqual(await listTree(fx.root), tree, 'a second run changes nothing');
  } finally {
    await fx.dispose();
  }
});
