import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startIdentityEmulator, type IdentityEmulator } from '../support/identity-emulator/index.js';
import { writeKeyFile } from '../../src/auth/cache/key.js';
import type { StatusReport } from '../../src/commands/status.js';
import { leakedSecrets } from './support.js';
import { typescriptNodeFlags } from '../support/ts-loader/index.js';

/**
 * The commands as a person types them: `graph-device-agent login|logout|status|rekey` through
 * src/cli.ts (the tests' TypeScript loader), in their own processes, against the identity emulator.
 */

const CLI = path.resolve('src/cli.ts');

function cli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const base = { ...process.env };
  // The host's own settings must not leak into the commands under test.
  for (const name of ['CREDENTIALS_DIRECTORY', 'GRAPH_DEVICE_AGENT_CACHE_KEY', 'GRAPH_DEVICE_AGENT_CONFIG', 'STATE_DIRECTORY']) delete base[name];
  return spawn(process.execPath, [...typescriptNodeFlags(), CLI, ...args], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

async function finish(child: ChildProcess, onStdout?: (text: string) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    onStdout?.(stdout);
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

async function setUp(t: { after: (fn: () => Promise<void>) => void }): Promise<{ idp: IdentityEmulator; dir: string; config: string }> {
  const idp = await startIdentityEmulator({ intervalSec: 0.05, deviceCodeLifetimeSec: 60 });
  const dir = await mkdtemp(path.join(tmpdir(), 'gda-cmd-'));
  t.after(async () => {
    await idp.close();
    await rm(dir, { recursive: true, force: true });
  });
  const config = path.join(dir, 'config.json');
  await writeFile(config, JSON.stringify({
    auth: { clientId: 'd1f4e3c2-1111-2222-3333-444455556666', authority: idp.authority, knownAuthorities: [idp.knownAuthority] },
    graph: { baseUrl: idp.graphBaseUrl, allowedHosts: [new URL(idp.graphBaseUrl).host] },
    network: { caFile: idp.caFile },
    display: { driver: 'none' },
    signIn: { minPollIntervalSec: 0.05 },
    stateDirectory: path.join(dir, 'state'),
  }));
  return { idp, dir, config };
}

test('login, status --json, rekey and logout --all from the command line', { timeout: 60_000 }, async (t) => {
  const { idp, dir, config } = await setUp(t);
  await writeKeyFile(path.join(dir, 'state', 'token-cache.key'));

  let approved = false;
  const login = await finish(cli(['login', '--config', config]), (text) => {
    const code = /enter the code (\S+)/.exec(text)?.[1];
    if (code && !approved) {
      approved = true;
      idp.approve(code);
    }
  });
  assert.equal(login.code, 0, login.stderr);
  assert.match(login.stdout, /Signed in as AdeleV@contoso\.example/);

  const status = await finish(cli(['status', '--json', '--config', config]));
  assert.equal(status.code, 0, status.stderr);
  const report = JSON.parse(status.stdout) as StatusReport;
  assert.equal(report.accounts?.[0]?.username, 'AdeleV@contoso.example');
  assert.equal(report.key.source, 'key-file');
  const text = await finish(cli(['status', '--config', config]));
  assert.match(text.stdout, /Account: +AdeleV@contoso\.example/);

  const newKey = path.join(dir, 'new.key');
  const rekey = await finish(cli(['rekey', '--new-key-file', newKey, '--config', config]));
  assert.equal(rekey.code, 0, rekey.stderr);
  assert.match(rekey.stdout, new RegExp(`The new key is in ${newKey.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));

  // The configured key no longer opens the cache: logout refuses rather than move it aside.
  const refused = await finish(cli(['logout', '--all', '--config', config]));
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /Nothing was changed/);

  // Pointing the configuration at the new key (as rekey said) makes it work again.
  const withNewKey = path.join(dir, 'config-new.json');
  await writeFile(withNewKey, JSON.stringify({ ...(JSON.parse(await readFile(config, 'utf8')) as object), cache: { keyFile: newKey } }));
  const out = await finish(cli(['logout', '--all', '--config', withNewKey]));
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /Signed out AdeleV@contoso\.example/);

  const all = [login, status, text, rekey, refused, out].map((r) => r.stdout + r.stderr).join('\n');
  assert.deepEqual(leakedSecrets(idp.issuedSecrets(), all), []);
});

test('a systemd credential directory without the credential: login exits 78 naming LoadCredentialEncrypted=', async (t) => {
  const { dir, config } = await setUp(t);
  const creds = path.join(dir, 'credentials');
  await mkdir(creds);
  const result = await finish(cli(['login', '--config', config], { CREDENTIALS_DIRECTORY: creds }));
  assert.equal(result.code, 78, result.stderr);
  assert.match(result.stderr, /LoadCredentialEncrypted=token-cache-key:\/etc\/credstore\.encrypted\/graph-device-agent\.token-cache-key/);
});
