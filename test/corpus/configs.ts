import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { typescriptNodeFlags } from '../support/ts-loader/index.js';

/**
 * The bad-configuration corpus: every file in test/corpus/configs/ holds ONE mistake a person
 * could make, and `graph-device-agent run --config FILE` must exit 78 (EX_CONFIG, so systemd does
 * not restart-loop) with exactly one line on stderr that names the field and says how to fix it,
 * plus one `config.invalid` JSON line for the journal. No stack trace, no second line.
 *
 * The corpus is copied to a temp dir first: the key-file cases need file modes git does not keep
 * (0600), and their state directory ("state", relative to the file) must not land in the repo.
 *
 * configs.test.ts (npm test) runs one file of each group; configs.long.test.ts (npm run test:long)
 * runs them all.
 */

const CLI = path.resolve('src/cli.ts');
export const CORPUS = path.resolve(import.meta.dirname, 'configs');

interface Case {
  /** How the problem line starts: the field (or "not valid JSON", "the file"). */
  field: string;
  /** What the line must say to fix it. */
  fix: RegExp;
}

export const CASES: Record<string, Case> = {
  // Wrong types and values
  'type-scopes-string.json': { field: 'auth.scopes', fix: /expected array: list Graph permissions, e\.g\. \["User\.Read"\]/ },
  'type-client-id-number.json': { field: 'auth.clientId', fix: /expected string: copy the Application \(client\) ID/ },
  'type-display-address-string.json': { field: 'display.address', fix: /expected number: use 60 \(0x3C\) or 61 \(0x3D\)/ },
  'type-display-height-48.json': { field: 'display.height', fix: /use 64 .* or 32/ },
  'type-bcm-pin-string.json': { field: 'button.bcmPin', fix: /expected number: use the BCM GPIO number/ },
  'type-timeout-string.json': { field: 'network.timeoutSec', fix: /is "30", expected number/ },
  'type-auto-renew-negative.json': { field: 'signIn.autoRenewCodes', fix: /expected a whole number from 0 to 20/ },
  'type-log-level-unknown.json': { field: 'log.level', fix: /expected one of "fatal"\|"error"\|"warn"\|"info"\|"debug"\|"trace"/ },
  'type-display-driver-unknown.json': { field: 'display.driver', fix: /expected one of "auto"\|"ssd1306"\|"terminal"\|"png"\|"none"/ },
  'type-hold-time-too-short.json': { field: 'button.holdTimeMs', fix: /expected a whole number from 100 to 30000/ },
  'type-jobs-not-a-list.json': { field: 'graph.jobs', fix: /expected array/ },
  'type-rotate-yes.json': { field: 'display.rotate180', fix: /is "yes", expected boolean/ },
  'type-top-level-array.json': { field: 'the file', fix: /must hold one JSON object, like \{"auth"/ },
  // Unknown keys: a "did you mean" when one is close, else the known keys
  'unknown-auth-scope.json': { field: 'auth.scope', fix: /unknown setting: did you mean "scopes"\?/ },
  'unknown-dispaly.json': { field: 'dispaly', fix: /unknown setting: did you mean "display"\?/ },
  'unknown-hold-time.json': { field: 'button.holdTime', fix: /unknown setting: did you mean "holdTimeMs"\?/ },
  'unknown-cafile-case.json': { field: 'network.cafile', fix: /unknown setting: did you mean "caFile"\?/ },
  'unknown-signin-case.json': { field: 'signin', fix: /unknown setting: did you mean "signIn"\?/ },
  'unknown-client-id-case.json': { field: 'auth.clientID', fix: /unknown setting: did you mean "clientId"\?/ },
  'unknown-job-schedul.json': { field: 'graph.jobs[0].schedul', fix: /unknown setting: did you mean "schedule"\?/ },
  'unknown-no-suggestion.json': { field: 'mqtt', fix: /unknown setting: remove it \(known here: .*auth.*display/ },
  // Cron
  'cron-words.json': { field: 'graph.jobs[0].schedule', fix: /not a cron expression: use five or six fields, e\.g\. "\*\/15 \* \* \* \*"/ },
  'cron-four-fields.json': { field: 'graph.jobs[0].schedule', fix: /not a cron expression: use five or six fields/ },
  'cron-minute-61.json': { field: 'graph.jobs[0].schedule', fix: /not a cron expression: use five or six fields/ },
  // URLs
  'url-authority-http.json': { field: 'auth.authority', fix: /expected an https:\/\/ URL\): use https:\/\/login\.microsoftonline\.com\/<tenant>/ },
  'url-authority-no-tenant.json': { field: 'auth.authority', fix: /has no tenant: add one, e\.g\. https:\/\/login\.microsoftonline\.com\/organizations/ },
  'url-authority-unknown-host.json': { field: 'auth.knownAuthorities', fix: /add "login\.example\.com" to auth\.knownAuthorities/ },
  'url-graph-no-scheme.json': { field: 'graph.baseUrl', fix: /use https:\/\/graph\.microsoft\.com\/v1\.0/ },
  'url-sample-endpoint-http.json': { field: 'endpoint', fix: /expected an https:\/\/ URL/ },
  'url-job-path-relative.json': { field: 'graph.jobs[0].path', fix: /expected a Graph path starting with "\/", like "\/me"/ },
  // The cache key file: checked when the agent starts, still exit 78
  'key-file-missing.json': { field: 'cache.keyFile', fix: /does not exist: create one with `graph-device-agent keygen --out / },
  'key-file-group-readable.json': { field: 'cache.keyFile', fix: /accessible by group or others \(mode 0644\): run `chmod 600 / },
  'key-file-garbage.json': { field: 'cache.keyFile', fix: /does not hold a key: expected 32 raw bytes, 64 hex characters or base64 of 32 bytes/ },
  'key-file-directory.json': { field: 'cache.keyFile', fix: /directory|folder/ },
  // No client id
  'client-id-no-auth.json': { field: 'auth', fix: /add an "auth" section with at least "clientId"/ },
  'client-id-empty-auth.json': { field: 'auth.clientId', fix: /is missing: copy the Application \(client\) ID/ },
  'client-id-blank.json': { field: 'auth.clientId', fix: /copy the Application \(client\) ID/ },
  'client-id-sample-without.json': { field: 'auth.clientId', fix: /is missing: copy the Application \(client\) ID/ },
  // Microsoft's Python sample's parameters.json, with a typo
  'sample-typo-clientid.json': { field: 'clientid', fix: /unknown setting: did you mean "client_id"\?/ },
  'sample-typo-scopes.json': { field: 'scopes', fix: /unknown setting: did you mean "scope"\?/ },
  'sample-typo-endpiont.json': { field: 'endpiont', fix: /unknown setting: did you mean "endpoint"\?/ },
  // Other files and cross-field rules
  'ca-file-missing.json': { field: 'network.caFile', fix: /cannot read .*\(ENOENT\): point it at a readable PEM file/ },
  'ca-file-not-pem.json': { field: 'network.caFile', fix: /holds no PEM certificate: it must contain "-----BEGIN CERTIFICATE-----"/ },
  'jobs-duplicate-names.json': { field: 'graph.jobs', fix: /two jobs are named "me": give each job its own name/ },
  'png-without-path.json': { field: 'display.pngPath', fix: /set display\.pngPath/ },
  'authority-metadata-not-json.json': { field: 'auth.authorityMetadata', fix: /not a JSON string: paste the discovery document as a JSON-encoded string/ },
  'json-trailing-comma.json': { field: 'not valid JSON', fix: /\(line 4, column 3\): fix the syntax \(a trailing comma/ },
  'json-empty-file.json': { field: 'not valid JSON', fix: /fix the syntax/ },
};

/** File modes git cannot carry, applied to the temp copy. */
const MODES: Record<string, number> = {
  'files/group-readable.key': 0o644,
  'files/garbage.key': 0o600,
};

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the daemon on one file; a config that is (wrongly) accepted would run forever: killed after 30 s. */
function run(file: string, home: string): Promise<Outcome> {
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
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Runs the daemon on each of `names` (files in the corpus) as subtests of `t` (give `t` a concurrency). */
export async function checkBrokenConfigs(t: TestContext, names: string[]): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gda-corpus-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const corpus = path.join(dir, 'configs');
  await cp(CORPUS, corpus, { recursive: true });
  for (const [file, mode] of Object.entries(MODES)) await chmod(path.join(corpus, file), mode);

  await Promise.all(names.map((name) => t.test(name, async () => {
    const expected = CASES[name]!;
    const file = path.join(corpus, name);
    const { code, signal, stdout, stderr } = await run(file, dir);
    assert.equal(signal, null, `killed by ${String(signal)}: the configuration was accepted and the agent ran`);
    assert.equal(code, 78, `exit code; stderr: ${stderr}`);

    const lines = stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `one line on stderr, got ${lines.length}:\n${stderr}`);
    const prefix = `config error in ${file}: `;
    assert.ok(lines[0]!.startsWith(prefix), `the line names the file: ${lines[0]}`);
    const problem = lines[0]!.slice(prefix.length);
    assert.ok(problem.startsWith(`${expected.field}:`) || problem.startsWith(`${expected.field} `),
      `the line names the field "${expected.field}": ${problem}`);
    assert.match(problem, expected.fix, 'the line says how to fix it');

    // The journal gets the same thing as one JSON line (`journalctl -p err` shows why it stopped).
    const json = stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event?: string; problems?: string[] });
    const invalid = json.filter((l) => l.event === 'config.invalid');
    assert.equal(invalid.length, 1, `one config.invalid line on stdout: ${stdout}`);
    assert.deepEqual(invalid[0]!.problems, [problem]);
  })));
}
