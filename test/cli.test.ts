import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { startIdentityEmulator } from './support/identity-emulator/index.js';
import { serviceNodeFlags } from './support/service-flags.js';
import { typescriptNodeFlags } from './support/ts-loader/index.js';

const CLI = path.resolve('src/cli.ts');

/**
 * Runs the CLI as the service does: with the unit's node flags (V8's lite mode, no WebAssembly),
 * through the tests' TypeScript loader on the sources.
 */
function cli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [...serviceNodeFlags(), ...typescriptNodeFlags(), CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * The child's exit code, with its handlers attached as the child is made: a promise made with
 * `once()` and awaited only at the end of a test turns a spawn or kill error in between into an
 * unhandled rejection (which failed the whole file), instead of failing this test. Resolves on
 * 'close', not 'exit': only then has everything the child wrote to stdout been read.
 */
function exitCode(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('close', (code) => resolve(code));
    child.once('error', reject);
  });
  exited.catch(() => undefined); // handled here; the await that comes later still throws
  return exited;
}

async function finish(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await exitCode(child);
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

/** Every command, with an option `COMMAND --help` must list (the table in src/cli.ts). */
const COMMAND_OPTIONS: Record<string, string[]> = {
  'run': [],
  'login': ['--show'],
  'logout': ['--all'],
  'status': ['--json'],
  'rekey': ['--new-key-file FILE'],
  'run-job': ['--json'],
  'hw-test': [],
  'notify-test': [],
  'check-config': [],
  'keygen': ['--out FILE', '--force'],
};

/** The commands of `--help` with their help lines. */
function helpLines(stdout: string): Map<string, string> {
  const section = stdout.split('\nCommands:\n')[1]?.split('\n\n')[0] ?? '';
  return new Map(section.split('\n').map((line) => {
    const m = /^ {2}([a-z-]+)(?: [A-Z]+)? +(\S.*)$/.exec(line);
    assert.ok(m, `a command line: ${JSON.stringify(line)}`);
    return [m[1]!, m[2]!] as const;
  }));
}

/**
 * main() of src/cli.ts in this process, with what it writes to stdout: the help of every command
 * without a Node start each (the program itself is started above, for `--help`).
 */
async function mainHere(args: string[]): Promise<{ code: number; stdout: string }> {
  const { main } = await import('../src/cli.js');
  let stdout = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  }) as typeof process.stdout.write;
  try {
    return { code: await main(args), stdout };
  } finally {
    process.stdout.write = write;
  }
}

test('--help lists every command with its one help line, and COMMAND --help shows that line, its usage and its options', async () => {
  const general = await finish(cli(['--help']));
  assert.equal(general.code, 0);
  const lines = helpLines(general.stdout);
  assert.deepEqual([...lines.keys()].sort(), Object.keys(COMMAND_OPTIONS).sort());
  assert.match(general.stdout, /^ {2}run-job NAME +run one Graph job/m);
  assert.equal((await mainHere(['--help'])).stdout, general.stdout, 'main() here prints what the program prints');

  for (const [command, options] of Object.entries(COMMAND_OPTIONS)) {
    const { code, stdout } = await mainHere([command, '--help']);
    assert.equal(code, 0, command);
    assert.match(stdout, new RegExp(`^Usage: graph-device-agent ${command}${command === 'run-job' ? ' NAME' : ''} \\[options\\]$`, 'm'));
    assert.ok(stdout.includes(`\n${lines.get(command)}\n`), `${command} --help shows its help line:\n${stdout}`);
    for (const option of [...options, '-c, --config FILE', '-h, --help']) {
      assert.match(stdout, new RegExp(`^ {2}${option.replace(/[-]/g, '\\-')} `, 'm'), `${command} --help lists ${option}`);
    }
    // Another command's option is not this one's.
    if (command !== 'keygen') assert.doesNotMatch(stdout, /--force/, command);
  }
});

test('an unknown command or a missing argument exits 64 with the usage', async () => {
  const unknown = await finish(cli(['frobnicate']));
  assert.equal(unknown.code, 64);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
  assert.match(unknown.stderr, /^Usage: graph-device-agent \[command\] \[options\]$/m);

  const missing = await finish(cli(['run-job']));
  assert.equal(missing.code, 64);
  assert.match(missing.stderr, /run-job needs NAME/);
  assert.match(missing.stderr, /^Usage: graph-device-agent run-job NAME \[options\]$/m);
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
  const exited = exitCode(child);
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
  const code = await exited;
  assert.equal(code, 0, `exit code; stderr: ${stderr}`);
  assert.ok(log.lines.some((l) => l.event === 'agent.stopped'));
});

test('run: cache.path replaced by a foreign file after sign-in, a press reads it: exit 78, one stderr line naming cache.path, the file unchanged', async (t) => {
  // Access tokens shorter than msal-node's 5-minute margin: the press's Graph run reads the cache.
  const idp = await startIdentityEmulator({ intervalSec: 0.1, deviceCodeLifetimeSec: 60, accessTokenLifetimeSec: 120 });
  const dir = await mkdtemp(path.join(tmpdir(), 'gda-cli-'));
  t.after(async () => {
    await idp.close();
    await rm(dir, { recursive: true, force: true });
  });
  const state = path.join(dir, 'state');
  const file = path.join(dir, 'config.json');
  await writeFile(file, JSON.stringify({
    auth: { clientId: 'd1f4e3c2-1111-2222-3333-444455556666', authority: idp.authority, knownAuthorities: [idp.knownAuthority] },
    graph: { baseUrl: idp.graphBaseUrl, allowedHosts: [new URL(idp.graphBaseUrl).host] },
    network: { caFile: idp.caFile },
    display: { driver: 'none' },
    signIn: { minPollIntervalSec: 0.1 },
    stateDirectory: state,
  }));
  const env = { RUNTIME_DIRECTORY: '' };
  const child = cli(['run', '--config', file], env);
  const exited = exitCode(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  t.after(() => child.kill('SIGKILL'));
  const log = new LogWatcher(child);

  const code = await log.next((l) => l.event === 'device_code.issued');
  idp.approve(String(code.user_code));
  await log.next((l) => l.event === 'signin.succeeded');
  await log.next((l) => l.event === 'graph.job' && l.job === 'manager');

  // Another program puts its file in the cache's place (an atomic rename, as editors do).
  const cachePath = path.join(state, 'token-cache.bin');
  const foreign = 'name,email\nAdele,adele@contoso.com\n';
  await writeFile(`${cachePath}.new`, foreign);
  await rename(`${cachePath}.new`, cachePath);
  const mark = log.lines.length;
  child.kill('SIGUSR1'); // a press: Graph runs now, and reads the cache

  assert.equal(await exited, 78, `exit code; stderr: ${stderr}`);
  const lines = stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, stderr);
  assert.equal(lines[0], `config error in ${file}: cache.path: ${cachePath} does not start with the cache header ("GDAC"), ` +
    'so it is not a token cache of this agent; it is left untouched: move that file away or point cache.path elsewhere, then start the agent');
  assert.equal(await readFile(cachePath, 'utf8'), foreign, 'the foreign file is unchanged');
  assert.deepEqual((await readdir(state)).filter((n) => n.includes('unreadable')), [], 'nothing moved aside');

  const after = log.lines.slice(mark);
  assert.equal(after.filter((l) => l.event === 'cache.not_ours').length, 1);
  const invalid = after.filter((l) => l.event === 'config.invalid');
  assert.equal(invalid.length, 1, 'one config.invalid line in the journal');
  assert.equal(invalid[0]!.level, 'error');
  assert.match(String((invalid[0]!.problems as string[])[0]), /^cache\.path: /);
  assert.ok(!after.some((l) => l.event === 'device_code.issued'), 'no new code went up');
  assert.ok(after.some((l) => l.event === 'agent.stopped'), 'stopped in order');
  const status = JSON.parse(await readFile(path.join(state, 'status.json'), 'utf8')) as { state: string };
  assert.equal(status.state, 'stopped');
});
