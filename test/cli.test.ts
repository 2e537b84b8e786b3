import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { PNG } from 'pngjs';
import { startIdentityEmulator } from './support/identity-emulator/index.js';
import { serviceNodeFlags } from './support/service-flags.js';

const CLI = path.resolve('src/cli.ts');

/**
 * Runs the CLI as the service does: with the unit's node flags (V8's lite mode, no WebAssembly),
 * through tsx on the TypeScript sources.
 */
function cli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [...serviceNodeFlags(), '--import', 'tsx', CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function finish(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

test('a config error exits 78 with one line naming the field and the fix', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'gda-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'parameters.json');
  // The Python sample's file with a typo in a key.
  await writeFile(file, JSON.stringify({ authority: 'https://login.microsoftonline.com/organizations', clientid: 'abc', scope: ['User.Read'] }));
  const { code, stderr, stdout } = await finish(cli(['run', '--config', file]));
  assert.equal(code, 78);
  assert.match(stderr, /clientid: unknown setting: did you mean "client_id"\?/);
  const line = JSON.parse(stdout.trim().split('\n').at(-1)!) as { event: string; level: string };
  assert.equal(line.event, 'config.invalid');
  assert.equal(line.level, 'error');
});

test('a config that fails its checks writes no file, not even the PNG it names', async (t) => {
  // Its pngPath is unchecked: it might name the cache key. Only the panel (ssd1306) shows the
  // problem; a PNG waits for a configuration that passes its checks.
  const dir = await mkdtemp(path.join(tmpdir(), 'gda-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'config.json');
  await writeFile(file, JSON.stringify({ auth: { clientId: 'x', scopes: 'User.Read' }, display: { driver: 'png', pngPath: 'screen.png' } }));
  const { code, stderr } = await finish(cli(['run', '--config', file]));
  assert.equal(code, 78);
  assert.match(stderr, /auth\.scopes/);
  await assert.rejects(readFile(path.join(dir, 'screen.png')), { code: 'ENOENT' });
});

test('a missing config file exits 78 and says where it looked', async () => {
  const { code, stderr } = await finish(cli(['run', '--config', '/nonexistent/config.json']));
  assert.equal(code, 78);
  assert.match(stderr, /cannot read the configuration file \(ENOENT\)/);
});

test('--help lists the commands and the signals', async () => {
  const { code, stdout } = await finish(cli(['--help']));
  assert.equal(code, 0);
  assert.match(stdout, /SIGUSR1 = a short button press/);
});

/** Reads the child's JSON log lines as they come. */
class LogWatcher {
  readonly lines: Array<Record<string, unknown>> = [];
  private waiters: Array<{ test: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }> = [];
  private partial = '';
  constructor(child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => {
      this.partial += d.toString();
      const parts = this.partial.split('\n');
      this.partial = parts.pop() ?? '';
      for (const raw of parts.filter(Boolean)) {
        const line = JSON.parse(raw) as Record<string, unknown>;
        this.lines.push(line);
        this.waiters = this.waiters.filter((w) => (w.test(line) ? (w.resolve(line), false) : true));
      }
    });
  }
  next(test: (l: Record<string, unknown>) => boolean, from = 0): Promise<Record<string, unknown>> {
    const found = this.lines.slice(from).find(test);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }
}

test('run: PNG frames, SIGUSR1 for a new code, approval, Graph, SIGUSR2 + SIGUSR1 sign out, SIGTERM stops with 0', async (t) => {
  const idp = await startIdentityEmulator({ intervalSec: 0.1, deviceCodeLifetimeSec: 60 });
  const dir = await mkdtemp(path.join(tmpdir(), 'gda-cli-'));
  t.after(async () => {
    await idp.close();
    await rm(dir, { recursive: true, force: true });
  });
  const pngPath = path.join(dir, 'state', 'screen.png');
  const file = path.join(dir, 'config.json');
  await writeFile(file, JSON.stringify({
    auth: { clientId: 'd1f4e3c2-1111-2222-3333-444455556666', authority: idp.authority, knownAuthorities: [idp.knownAuthority] },
    graph: { baseUrl: idp.graphBaseUrl, allowedHosts: [new URL(idp.graphBaseUrl).host] },
    network: { caFile: idp.caFile },
    display: { driver: 'png', pngPath },
    signIn: { minPollIntervalSec: 0.1 },
    stateDirectory: path.join(dir, 'state'),
  }));
  const child = cli(['run', '--config', file]);
  const exited = once(child, 'exit');
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  t.after(() => child.kill('SIGKILL'));
  const log = new LogWatcher(child);

  const first = await log.next((l) => l.event === 'device_code.issued');
  const png = PNG.sync.read(await readFile(pngPath));
  assert.ok(png.width >= 128 && png.height >= 64, 'a PNG frame of the screen was written');

  const mark = log.lines.length;
  child.kill('SIGUSR1'); // a short press: a new code
  const second = await log.next((l) => l.event === 'device_code.issued', mark);
  assert.notEqual(second.user_code, first.user_code);

  idp.approve(String(second.user_code));
  await log.next((l) => l.event === 'signin.succeeded');
  await log.next((l) => l.event === 'graph.job' && l.job === 'manager');

  const beforeHold = log.lines.length;
  child.kill('SIGUSR2'); // a hold: "Sign out?"
  await log.next((l) => l.event === 'state.changed' && l.to === 'confirm-sign-out', beforeHold);
  child.kill('SIGUSR1'); // the confirming press
  await log.next((l) => l.event === 'signout');

  child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  assert.equal(code, 0, `exit code; stderr: ${stderr}`);
  assert.ok(log.lines.some((l) => l.event === 'agent.stopped'));
});
