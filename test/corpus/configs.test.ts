import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfigFile } from '../../src/config/index.js';
import { resolveKey } from '../../src/auth/key-source.js';
import { CASES as SHARED_CASES } from './configs.js';
import { typescriptNodeFlags } from '../support/ts-loader/index.js';

/**
 * The bad-configuration corpus: every file in test/corpus/configs/ (and each case in GENERATED)
 * holds ONE mistake a person, or a hostile tester, could make, and `graph-device-agent run
 * --config FILE` must exit 78 (EX_CONFIG, so systemd does not restart-loop) with exactly one line
 * on stderr that names the field and says how to fix it, plus one `config.invalid` JSON line for
 * the journal. No stack trace, no second line, no control character, within 5 s.
 *
 * Every case is loaded in this process the way `run` loads it (configuration, then the cache key):
 * fast. A few of each kind also go through the real CLI, to prove the exit code and the output.
 *
 * The corpus is copied to a temp dir first: the key-file cases need file modes git does not keep
 * (0600), FIFOs, links and open folders are made there, and the state directory ("state",
 * relative to the file) must not land in the repo.
 */

const CLI = path.resolve('src/cli.ts');
const CORPUS = path.resolve(import.meta.dirname, 'configs');

interface Case {
  /** How the problem line starts: the field (or "not valid JSON", "the file"). */
  field: string;
  /** What the line must say to fix it. */
  fix: RegExp;
}

const CASES: Record<string, Case> = {
  // The corpus's first cases, shared with the long run (configs.ts)
  ...SHARED_CASES,
  // Wrong types and values
  // Unknown keys: a "did you mean" when one is close, else the known keys
  // Cron
  // URLs
  // The cache key file: checked when the agent starts, still exit 78
  // No client id
  // Microsoft's Python sample's parameters.json, with a typo
  // Other files and cross-field rules
  // Point 0: never move or overwrite what is not ours
  'cache-path-config-file.json': { field: 'cache.path', fix: /is the configuration file; the agent would replace it/ },
  'cache-path-dev-null.json': { field: 'cache.path', fix: /is a character device, not a token cache; it is left untouched: point cache\.path at/ },
  'cache-path-directory.json': { field: 'cache.path', fix: /is a directory, not a token cache/ },
  'cache-path-foreign-file.json': { field: 'cache.path', fix: /is not a token cache of this agent \(it does not start with "GDAC"\); it is left untouched/ },
  'cache-path-symlink.json': { field: 'cache.path', fix: /is a symbolic link; the cache is never read or replaced through one/ },
  'cache-path-fifo.json': { field: 'cache.path', fix: /is a FIFO \(named pipe\), not a token cache/ },
  'cache-path-same-as-key.json': { field: 'cache.path', fix: /is cache\.keyFile; the agent would replace it/ },
  'cache-path-empty-outside-state.json': { field: 'cache.path', fix: /is an empty file outside the state directory, not a token cache/ },
  'cache-path-too-large.json': { field: 'cache.path', fix: /is larger than 8 MiB .*not a token cache/ },
  'cache-path-nul.json': { field: 'cache.path', fix: /is not a usable path: give a path of printable characters/ },
  'cache-path-empty-string.json': { field: 'cache.path', fix: /is not a usable path/ },
  // Point 5: where the agent writes
  'output-dotdot-escape.json': { field: 'graph.jobs[0].outputFile', fix: /"\.\.\/escape\.json" .* is outside the state directory .*set outputDirectory/ },
  'output-absolute-etc.json': { field: 'graph.jobs[0].outputFile', fix: /"\/etc\/passwd" .* is outside the state directory/ },
  'output-dev-null.json': { field: 'graph.jobs[0].outputFile', fix: /is outside the state directory/ },
  'output-symlink-escape.json': { field: 'graph.jobs[0].outputFile', fix: /\(\/etc\/x\.json\) is outside the state directory/ },
  'output-is-key.json': { field: 'graph.jobs[0].outputFile', fix: /is the token cache key, which the agent must not overwrite: choose another file name/ },
  'output-is-cache.json': { field: 'graph.jobs[0].outputFile', fix: /is the token cache \(cache\.path\), which the agent must not overwrite/ },
  'output-is-status.json': { field: 'graph.jobs[0].outputFile', fix: /is the agent's status\.json, which the agent must not overwrite/ },
  'output-is-last-graph.json': { field: 'graph.jobs[0].outputFile', fix: /is the agent's last-graph\.json/ },
  'output-is-lock.json': { field: 'graph.jobs[0].outputFile', fix: /is the token cache's lock/ },
  'output-temp-name.json': { field: 'graph.jobs[0].outputFile', fix: /has the form of the agent's temporary, lock or moved-aside files/ },
  'output-is-directory.json': { field: 'graph.jobs[0].outputFile', fix: /is a directory, not a file the agent may replace/ },
  'output-two-jobs-same-file.json': { field: 'graph.jobs[1].outputFile', fix: /is graph\.jobs\[0\]\.outputFile, which the agent must not overwrite/ },
  'output-key-via-output-directory.json': { field: 'graph.jobs[0].outputFile', fix: /is the token cache key \(cache\.keyFile\)/ },
  'output-directory-is-a-file.json': { field: 'outputDirectory', fix: /is a file, not a folder/ },
  'png-path-is-key.json': { field: 'display.pngPath', fix: /is the token cache key, which the agent must not overwrite/ },
  'png-path-outside.json': { field: 'display.pngPath', fix: /is outside the state directory .*set outputDirectory/ },
  'png-path-dev-null.json': { field: 'display.pngPath', fix: /is outside the state directory/ },
  // Point 6: which hosts get the token
  'graph-userinfo.json': { field: 'graph.baseUrl', fix: /has a user name before "@" .*goes to evil\.example.*remove the part up to "@"/ },
  'graph-lookalike-host.json': { field: 'graph.baseUrl', fix: /graph\.microsoft\.com\.evil\.example is not a Microsoft Graph host .*add "graph\.microsoft\.com\.evil\.example" to graph\.allowedHosts/ },
  'graph-query.json': { field: 'graph.baseUrl', fix: /has a query string .*give the base address only/ },
  'graph-fragment.json': { field: 'graph.baseUrl', fix: /has a fragment/ },
  'graph-http.json': { field: 'graph.baseUrl', fix: /expected an https:\/\/ URL/ },
  'graph-port-on-microsoft-host.json': { field: 'graph.baseUrl', fix: /graph\.microsoft\.com:8443 is not a Microsoft Graph host/ },
  'graph-ip-address.json': { field: 'graph.baseUrl', fix: /10\.0\.0\.1 is not a Microsoft Graph host/ },
  'graph-allowed-hosts-not-a-host.json': { field: 'graph.allowedHosts[0]', fix: /expected a host name, or host:port/ },
  'sample-endpoint-userinfo.json': { field: 'endpoint', fix: /has a user name before "@"/ },
  'sample-endpoint-lookalike.json': { field: 'endpoint', fix: /is not a Microsoft Graph host/ },
  'authority-userinfo.json': { field: 'auth.authority', fix: /has a user name before "@", so it goes to evil\.example/ },
  'authority-query.json': { field: 'auth.authority', fix: /has a query or fragment/ },
  'authority-metadata-token-elsewhere.json': { field: 'auth.authorityMetadata', fix: /token_endpoint.*is on evil\.example, and tokens or codes would be sent there: use an https address on login\.microsoftonline\.com/ },
  'authority-metadata-http.json': { field: 'auth.authorityMetadata', fix: /is not https/ },
  'authority-metadata-userinfo.json': { field: 'auth.authorityMetadata', fix: /has a user name before "@"/ },
  'authority-metadata-not-object.json': { field: 'auth.authorityMetadata', fix: /not a JSON object/ },
  'azure-cloud-instance-elsewhere.json': { field: 'auth.azureCloudOptions.azureCloudInstance', fix: /is on login\.evil\.example/ },
  // Point 7: files that are not files
  'key-file-dev-zero.json': { field: 'cache.keyFile', fix: /is a character device, not a file: point "cache\.keyFile" at the key file itself/ },
  'key-file-fifo.json': { field: 'cache.keyFile', fix: /is a FIFO \(named pipe\), not a file/ },
  'key-file-too-large.json': { field: 'cache.keyFile', fix: /is larger than 4 KiB/ },
  'key-file-symlink-loop.json': { field: 'cache.keyFile', fix: /is a loop of symbolic links/ },
  'key-file-world-readable.json': { field: 'cache.keyFile', fix: /accessible by group or others \(mode 0604\): run `chmod 600 / },
  'ca-file-directory.json': { field: 'network.caFile', fix: /"\/etc" is a directory, not a file: point it at a PEM file/ },
  'ca-file-dev-zero.json': { field: 'network.caFile', fix: /is a character device, not a file/ },
  'ca-file-dev-null.json': { field: 'network.caFile', fix: /is a character device, not a file/ },
  'ca-file-fifo.json': { field: 'network.caFile', fix: /is a FIFO \(named pipe\), not a file/ },
  'ca-file-symlink-loop.json': { field: 'network.caFile', fix: /is a loop of symbolic links/ },
  'ca-file-too-large.json': { field: 'network.caFile', fix: /is larger than 1 MiB/ },
  // Point 10: the state folder's mode
  'state-dir-world-writable.json': { field: 'stateDirectory', fix: /may be written by group or others \(mode 0777\).*run `chmod 700 / },
  'state-dir-group-writable.json': { field: 'stateDirectory', fix: /may be written by group or others \(mode 0775\)/ },
  'state-dir-tmp.json': { field: 'stateDirectory', fix: /\/tmp may be written by group or others/ },
  'state-dir-is-a-file.json': { field: 'stateDirectory', fix: /is a file, not a folder/ },
  // Point 8: parser abuse
  'json-nested-40-deep.json': { field: 'not valid JSON', fix: /nested more than 32 deep/ },
  'esc-in-key.json': { field: '\\x1b[31mred\\x1b[0m', fix: /unknown setting/ },
  'esc-in-value.json': { field: 'auth.clientId', fix: /\\u001b\]0;pwned\\u0007.*copy the Application \(client\) ID/ },
  'newline-in-key.json': { field: 'auth.x\\x0aconfig error: forged', fix: /unknown setting/ },
  'proto-key.json': { field: '__proto__', fix: /unknown setting/ },
  'constructor-key.json': { field: 'auth.constructor', fix: /unknown setting/ },
  // Point 9: numbers, counts, lengths
  'number-network-timeout-tiny.json': { field: 'network.timeoutSec', fix: /expected a number from 0\.1 to 300/ },
  'number-network-timeout-huge.json': { field: 'network.timeoutSec', fix: /expected a number from 0\.1 to 300/ },
  'number-network-timeout-infinite.json': { field: 'network.timeoutSec', fix: /expected a number from 0\.1 to 300|expected number/ },
  'number-job-timeout-tiny.json': { field: 'graph.jobs[0].timeoutSec', fix: /expected a number from 0\.1 to 300/ },
  'number-min-poll-too-fast.json': { field: 'signIn.minPollIntervalSec', fix: /expected a number from 0\.05 to 60/ },
  'number-offline-retry-zero.json': { field: 'signIn.offlineRetryMaxSec', fix: /expected a number from 0\.05 to 600/ },
  'number-auto-renew-huge.json': { field: 'signIn.autoRenewCodes', fix: /expected a whole number from 0 to 20/ },
  'number-sysfs-pin-huge.json': { field: 'button.sysfsPin', fix: /expected a whole number from 0 to 4095/ },
  'number-bcm-pin-58.json': { field: 'button.bcmPin', fix: /expected a whole number from 0 to 57/ },
  'number-hold-time-fraction.json': { field: 'button.holdTimeMs', fix: /expected a whole number from 100 to 30000/ },
  'number-confirm-too-short.json': { field: 'button.confirmTimeoutMs', fix: /expected a whole number from 1000 to 120000/ },
  'number-bounce-negative.json': { field: 'button.bounceTimeMs', fix: /expected a whole number from 0 to 1000/ },
  'number-display-bus-1000.json': { field: 'display.bus', fix: /expected a whole number from 0 to 99/ },
  'number-display-address-0x78.json': { field: 'display.address', fix: /expected a whole number from 3 to 119\): use 60 \(0x3C\)/ },
  'number-contrast-256.json': { field: 'display.contrast', fix: /expected a whole number from 0 to 255/ },
  'number-contrast-fraction.json': { field: 'display.contrast', fix: /expected a whole number from 0 to 255/ },
  'number-png-scale-zero.json': { field: 'display.pngScale', fix: /expected a whole number from 1 to 16/ },
  'number-sleep-negative.json': { field: 'display.sleepAfterSec', fix: /expected a number from 0 to 86400/ },
  'number-sleep-a-year.json': { field: 'display.sleepAfterSec', fix: /expected a number from 0 to 86400/ },
  'count-jobs-51.json': { field: 'graph.jobs', fix: /expected at most 50 jobs/ },
  'count-scopes-51.json': { field: 'auth.scopes', fix: /50/ },
  'count-known-authorities-21.json': { field: 'auth.knownAuthorities', fix: /20/ },
  'length-job-path.json': { field: 'graph.jobs[0].path', fix: /2048/ },
  'length-job-line.json': { field: 'graph.jobs[0].line', fix: /500/ },
  'length-client-id.json': { field: 'auth.clientId', fix: /expected a client id without spaces/ },
};
/** File modes git cannot carry, applied to the temp copy. */
const MODES: Record<string, number> = {
  'files/group-readable.key': 0o644,
  'files/world-readable.key': 0o604,
  'files/garbage.key': 0o600,
  'files/good.key': 0o600,
  'files/large.key': 0o600,
};

/** What git cannot carry either (FIFOs, links, folder modes) or is too big to keep: made in the temp copy. */
async function prepare(corpus: string): Promise<void> {
  const at = (p: string): string => path.join(corpus, p);
  for (const [file, mode] of Object.entries(MODES)) await chmod(at(file), mode);
  await mkdir(at('state'), { mode: 0o700 });
  await mkdir(at('state/a-folder'));
  await symlink('/etc', at('state/link-to-etc'));
  await symlink('foreign.txt', at('files/link-to-foreign'));
  await symlink('loop-b', at('files/loop-a'));
  await symlink('loop-a', at('files/loop-b'));
  execFileSync('mkfifo', [at('files/fifo')]);
  await mkdir(at('files/open-state'));
  await chmod(at('files/open-state'), 0o777);
  await mkdir(at('files/group-state'));
  await chmod(at('files/group-state'), 0o775);
  await writeFile(at('files/huge-cache.bin'), Buffer.concat([Buffer.from('GDAC'), Buffer.alloc(9 * 1024 * 1024)]));
  await writeFile(at('files/huge.pem'), `-----BEGIN CERTIFICATE-----\n${'A'.repeat(1536 * 1024)}\n-----END CERTIFICATE-----\n`);
}

const CLIENT = '{"auth": {"clientId": "d1f4e3c2-1111-2222-3333-444455556666"}';

/**
 * Cases made while the test runs: too big for the repository, or not a file at all. `file`
 * returns the path to pass as --config (written in `dir` if needed).
 */
const GENERATED: Record<string, Case & { file: (dir: string) => Promise<string> }> = {
  '200,000 nested brackets': {
    field: 'not valid JSON', fix: /nested more than 32 deep/,
    file: (dir) => written(dir, 'nested.json', `${CLIENT}, "x": ${'['.repeat(200_000)}${']'.repeat(200_000)}}`),
  },
  'an unknown key of 900,000 characters (no "did you mean" for it)': {
    field: `${'k'.repeat(60)}…`, fix: /\(900000 characters\): unknown setting: remove it/,
    file: (dir) => written(dir, 'long-key.json', `${CLIENT}, "${'k'.repeat(900_000)}": 1}`),
  },
  'a 5 MB unknown key (the file is too big)': {
    field: 'the configuration file', fix: /is larger than 1 MiB .*a configuration is a few kilobytes/,
    file: (dir) => written(dir, 'huge-key.json', `${CLIENT}, "${'k'.repeat(5_000_000)}": 1}`),
  },
  '5,000 jobs': {
    field: 'graph.jobs', fix: /expected at most 50 jobs/,
    file: (dir) => written(dir, 'jobs-5000.json', JSON.stringify({
      auth: { clientId: 'd1f4e3c2-1111-2222-3333-444455556666' },
      graph: { jobs: Array.from({ length: 5000 }, (_, i) => ({ name: `j${i}`, schedule: '*/15 * * * *', path: '/me' })) },
    })),
  },
  '--config names a folder': {
    field: 'the configuration file', fix: /is a directory, not a file: pass the path of the JSON configuration file/,
    file: async (dir) => {
      await mkdir(path.join(dir, 'a-folder.json'));
      return path.join(dir, 'a-folder.json');
    },
  },
  '--config /dev/zero': { field: 'the configuration file', fix: /is a character device, not a file/, file: () => Promise.resolve('/dev/zero') },
  '--config names a FIFO': {
    field: 'the configuration file', fix: /is a FIFO \(named pipe\), not a file/,
    file: (dir) => {
      execFileSync('mkfifo', [path.join(dir, 'fifo.json')]);
      return Promise.resolve(path.join(dir, 'fifo.json'));
    },
  },
};

async function written(dir: string, name: string, text: string): Promise<string> {
  await writeFile(path.join(dir, name), text);
  return path.join(dir, name);
}

/** Loads one file as `run` does (configuration, then the cache key), in this process: the ConfigError, or undefined if accepted. */
async function loadHere(file: string, home: string): Promise<ConfigError | undefined> {
  try {
    const config = loadConfigFile(file, { XDG_STATE_HOME: path.join(home, 'xdg') });
    await resolveKey({ config, env: {}, create: true });
    return undefined;
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
}

/** One problem, naming the field, saying the fix; and nothing in the report that drives a terminal. */
function assertOneProblem(err: ConfigError | undefined, file: string, expected: Case): void {
  assert.ok(err, 'refused');
  assert.equal(err.problems.length, 1, `one problem, got:\n${err.problems.join('\n')}`);
  const problem = err.problems[0]!;
  assert.ok(problem.startsWith(`${expected.field}:`) || problem.startsWith(`${expected.field} `),
    `the line names the field "${expected.field}": ${problem.slice(0, 300)}`);
  assert.match(problem, expected.fix, 'the line says how to fix it');
  const report = err.report();
  assert.equal(report.split('\n').length, 1, 'one line');
  // eslint-disable-next-line no-control-regex -- no control character may reach the terminal
  assert.doesNotMatch(report, /[\u0000-\u001f\u007f-\u009f]/, 'no control characters');
  assert.ok(report.length < 2000, `a line a person can read (${report.length} characters)`);
  assert.ok(report.startsWith(`config error in ${file}: `) || file === '/dev/zero', report.slice(0, 200));
}

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the daemon on one file; a config that is (wrongly) accepted, or a hang, is killed after 10 s. */
function run(file: string, home: string): Promise<Outcome> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...typescriptNodeFlags(), CLI, 'run', '--config', file], {
      // A clean environment: no config, key or state from the machine running the tests.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/**
 * The cases that also go through the real CLI, to prove exit 78, one line, no stack: those that
 * crashed, hung or ran out of memory before (a folder as caFile: a stack trace and exit 1;
 * /dev/zero as the key; 200,000 brackets: a stack overflow; a FIFO: a hang) and the one that moved
 * a device node away. Each costs two Node starts; every other case takes the same path to exit 78.
 */
const THROUGH_THE_CLI = [
  'cache-path-dev-null.json', 'ca-file-directory.json', 'key-file-dev-zero.json', '200,000 nested brackets', '--config names a FIFO',
];

test('every file in the corpus has an expectation, and every expectation a file', async () => {
  const files = (await readdir(CORPUS)).filter((f) => f.endsWith('.json')).sort();
  assert.deepEqual(files, Object.keys(CASES).sort());
  assert.ok(files.length + Object.keys(GENERATED).length >= 100, `at least 100 broken configurations (there are ${files.length} + ${Object.keys(GENERATED).length})`);
});

test('each broken configuration is one config error naming the field and the fix', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'gda-corpus-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const corpus = path.join(dir, 'configs');
  await cp(CORPUS, corpus, { recursive: true });
  await prepare(corpus);
  const paths = new Map<string, string>();
  for (const name of Object.keys(CASES)) paths.set(name, path.join(corpus, name));
  for (const [name, g] of Object.entries(GENERATED)) paths.set(name, await g.file(dir));
  const all: Record<string, Case> = { ...CASES, ...GENERATED };

  for (const [name, expected] of Object.entries(all)) {
    await t.test(name, async () => {
      const file = paths.get(name)!;
      const started = Date.now();
      assertOneProblem(await loadHere(file, dir), file, expected);
      assert.ok(Date.now() - started < 5000, `refused within 5 s (took ${Date.now() - started} ms)`);
    });
  }

  // Three at a time: each is two Node starts (the daemon and its configuration check).
  const queue = [...THROUGH_THE_CLI];
  await Promise.all([1, 2, 3].map(async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) await throughTheCli(name);
  }));

  async function throughTheCli(name: string): Promise<void> {
    await t.test(`through the CLI: ${name}`, async () => {
    const file = paths.get(name)!;
    const { code, signal, stdout, stderr, ms } = await run(file, dir);
    assert.equal(signal, null, `killed by ${String(signal)}: the configuration was accepted, or the agent hung`);
    assert.equal(code, 78, `exit code; stderr: ${stderr.slice(0, 2000)}`);
    assert.ok(ms < 8000, `exit within a few seconds (took ${ms} ms, with Node's start)`);
    const lines = stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `one line on stderr, got ${lines.length}:\n${stderr.slice(0, 2000)}`);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
    const prefix = `config error in ${file}: `;
    assert.ok(lines[0]!.startsWith(prefix), `the line names the file: ${lines[0]!.slice(0, 300)}`);
    const problem = lines[0]!.slice(prefix.length);
    const expected = all[name]!;
    assert.ok(problem.startsWith(`${expected.field}:`) || problem.startsWith(`${expected.field} `), `the line names the field "${expected.field}": ${problem.slice(0, 300)}`);
    assert.match(problem, expected.fix, 'the line says how to fix it');

    // The journal gets the same thing as one JSON line (`journalctl -p err` shows why it stopped).
    const json = stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event?: string; problems?: string[] });
    const invalid = json.filter((l) => l.event === 'config.invalid');
    assert.equal(invalid.length, 1, `one config.invalid line on stdout: ${stdout.slice(0, 2000)}`);
    assert.deepEqual(invalid[0]!.problems, [problem]);
    });
  }
});
