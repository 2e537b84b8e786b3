import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfigInChild } from '../../src/config/load-in-child.js';
import { ConfigError, loadConfigFile } from '../../src/config/index.js';
import { startIdentityEmulator } from '../support/identity-emulator/index.js';
import { serviceNodeFlags } from '../support/service-flags.js';
import { Watched } from '../dev/bench/processes.js';
import { typescriptNodeFlags } from '../support/ts-loader/index.js';
import { assertSameInChild } from './same-in-child.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const ENV = { PATH: process.env.PATH ?? '', HOME: '/nonexistent-home' };

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gda-in-child-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('the child process gives the daemon the same configuration as checking in-process (parameters.json, the full example)', async () => {
  await assertSameInChild(['parameters.example.json', 'config.full.example.json']);
});

test('a bad file gives the same ConfigError: the field, the value and the fix, and the file', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'parameters.json');
  await writeFile(file, JSON.stringify({ authority: 'https://login.microsoftonline.com/organizations', clientid: 'abc', scope: ['User.Read'] }));
  let inProcess: ConfigError | undefined;
  try {
    loadConfigFile(file, ENV);
  } catch (err) {
    inProcess = err as ConfigError;
  }
  assert.ok(inProcess instanceof ConfigError);
  await assert.rejects(loadConfigInChild(file, ENV), (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.file, file);
    assert.deepEqual(err.problems, inProcess.problems);
    assert.match(err.report(), /clientid: unknown setting: did you mean "client_id"\?/);
    return true;
  });
  await assert.rejects(loadConfigInChild(path.join(dir, 'missing.json'), ENV), (err: unknown) =>
    err instanceof ConfigError && /cannot read the configuration file \(ENOENT\)/.test(err.problems[0] ?? ''));
});

test('a check that dies without answering is an error that says so, with what it printed', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'config.json');
  await writeFile(file, JSON.stringify({ auth: { clientId: 'd1f4e3c2-1111-2222-3333-444455556666' } }));
  // A preload that does not exist: the child fails before it can check anything.
  await assert.rejects(loadConfigInChild(file, { ...ENV, NODE_OPTIONS: '--require /nonexistent/preload.cjs' }), (err: unknown) => {
    assert.ok(!(err instanceof ConfigError));
    assert.match((err as Error).message, /the configuration check \(a child process\) ended with exit code 1 and no answer: .*Cannot find module/s);
    return true;
  });
});

test('the running daemon never loads the configuration checker (zod): only its short-lived child does', async (t) => {
  const dir = await tempDir(t);
  const idp = await startIdentityEmulator({ intervalSec: 0.1, deviceCodeLifetimeSec: 60 });
  t.after(() => idp.close());
  const file = path.join(dir, 'config.json');
  await writeFile(file, JSON.stringify({
    auth: { clientId: 'd1f4e3c2-1111-2222-3333-444455556666', authority: idp.authority, knownAuthorities: [idp.knownAuthority] },
    graph: { baseUrl: idp.graphBaseUrl, allowedHosts: [new URL(idp.graphBaseUrl).host] },
    network: { caFile: idp.caFile },
    display: { driver: 'png', pngPath: path.join(dir, 'state', 'screen.png') },
    signIn: { minPollIntervalSec: 0.1 },
    stateDirectory: path.join(dir, 'state'),
  }));
  const moduleLog = path.join(dir, 'modules.log');
  const register = path.join(REPO, 'test/support/module-log/register.mjs');
  const child = spawn(process.execPath, [...serviceNodeFlags(), ...typescriptNodeFlags(), '--import', register, path.join(REPO, 'src/cli.ts'), 'run', '--config', file], {
    env: { ...process.env, MODULE_LOG: moduleLog },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  const daemon = new Watched(child); // its JSON log lines, read whole, with waits on them

  // Through a whole sign-in and the first Graph jobs, so every module a signed-in daemon uses is in.
  const issued = await daemon.line((l) => l.event === 'device_code.issued', 'a device code');
  idp.approve(String(issued.user_code));
  await daemon.line((l) => l.event === 'signin.succeeded', 'the sign-in');
  await daemon.line((l) => l.event === 'graph.job', 'a Graph job');
  child.kill('SIGTERM');
  const [code] = await daemon.exited;
  assert.equal(code, 0, daemon.stderr);

  const lines = (await readFile(moduleLog, 'utf8')).trim().split('\n').map((l) => l.split(' ') as [string, string]);
  const daemonModules = lines.filter(([pid]) => pid === String(child.pid)).map(([, url]) => url);
  const childModules = lines.filter(([pid]) => pid !== String(child.pid)).map(([, url]) => url);
  assert.ok(daemonModules.some((u) => u.includes('/node_modules/@azure/msal-node/')), 'the hook sees the daemon\'s modules');
  assert.ok(childModules.some((u) => u.includes('/node_modules/zod/')), 'the check ran in a child, which loaded zod');
  assert.deepEqual(daemonModules.filter((u) => u.includes('/node_modules/zod/') || u.endsWith('/src/config/schema.ts') || u.endsWith('/src/config/load.ts')), []);
});

test('a check that never answers is stopped after the timeout: a ConfigError naming the file, exit 78 instead of a hung start', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'config.json');
  await writeFile(file, JSON.stringify({ auth: { clientId: 'd1f4e3c2-1111-2222-3333-444455556666' } }));
  // A preload that blocks the child for good, as a pathological file could keep the checker busy.
  const hang = path.join(dir, 'hang.cjs');
  await writeFile(hang, 'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);\n');
  const started = Date.now();
  await assert.rejects(loadConfigInChild(file, { ...ENV, NODE_OPTIONS: `--require ${hang}` }, { timeoutMs: 1_000 }), (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.exitCode, 78);
    assert.equal(err.file, file);
    assert.match(err.report(), /config error in .*config\.json: checking the configuration took longer than 1 s and was stopped/);
    return true;
  });
  const took = Date.now() - started;
  assert.ok(took >= 1_000 && took < 5_000, `stopped after the timeout, not before nor long after (${took} ms)`);
});
