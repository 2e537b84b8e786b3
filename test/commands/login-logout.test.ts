import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PNG } from 'pngjs';
import { loginCommand } from '../../src/commands/login.js';
import { logoutCommand } from '../../src/commands/logout.js';
import { statusCommand, type StatusReport } from '../../src/commands/status.js';
import { NeedsSignInError } from '../../src/auth/identity.js';
import { encodeCache } from '../../src/auth/cache/format.js';
import { loadKeyFile, writeKeyFile } from '../../src/auth/cache/key.js';
import { decodeAll } from '../display/decode-text.js';
import { accountEntry } from '../auth/cache/helpers.js';
import { framesFromTerminal, leakedSecrets, pretendAgentRuns, startCommandHarness, type CommandHarness } from './support.js';

/**
 * login and logout through the real msal-node and the identity emulator, on the same cache file
 * as the agent (harness), the way a person runs them over SSH next to the service.
 */

/** Runs login, and approves its code (read from its output, as the person would) as `user`. */
async function loginApproving(h: CommandHarness, options: { show?: boolean } = {}, user?: string) {
  const stdout = { text: '' };
  const running = h.run(loginCommand, options);
  // The code is printed before polling starts; approve the one the login asked for.
  const code = await h.idp.waitForDeviceCode();
  h.idp.approve(code.userCode, user);
  const result = await running;
  stdout.text = result.stdout;
  return { ...result, userCode: code.userCode, verificationUri: h.idp.verificationUri };
}

async function report(h: CommandHarness): Promise<StatusReport> {
  const { code, stdout } = await h.run(statusCommand, { json: true });
  assert.equal(code, 0);
  return JSON.parse(stdout) as StatusReport;
}

test('login before the agent ever ran: code and URL in the terminal and on the screen, then the agent starts signed in', async (t) => {
  const h = await startCommandHarness({ config: { display: { driver: 'png', pngPath: 'screen.png' } } });
  t.after(() => h.close());
  await writeKeyFile(h.config.cache.keyFile); // `graph-device-agent keygen`

  const result = await loginApproving(h, { show: true });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, new RegExp(`open ${result.verificationUri.replace(/[.:/]/g, '\\$&')} and enter the code ${result.userCode}`));
  assert.match(result.stdout, /Signed in as AdeleV@contoso\.example \(Adele Vance\)/);
  // --show: the device's screen, drawn in the terminal, shows the code a person can read.
  const frames = framesFromTerminal(result.stdout);
  assert.ok(frames.length >= 2, 'the code screen and the result were drawn');
  assert.ok(frames.some((f) => decodeAll(f).some((r) => r.text.includes(result.userCode))), 'the user code is readable on the drawn screen');
  // The configured panel (a PNG mirror here) showed it too: the agent is not running.
  const png = PNG.sync.read(await readFile(path.join(h.dir, 'screen.png')));
  assert.equal(png.width, 128 * h.config.display.pngScale);

  const codesBefore = h.idp.requests.filter((r) => r.path.endsWith('/devicecode')).length;
  const agent = await h.startAgent();
  const state = await agent.waitFor('signed-in');
  assert.equal(state.name === 'signed-in' && state.account.username, 'AdeleV@contoso.example');
  assert.equal(h.idp.requests.filter((r) => r.path.endsWith('/devicecode')).length, codesBefore, 'the agent asked for no new code');

  const status = await report(h);
  assert.equal(status.accounts?.[0]?.username, 'AdeleV@contoso.example');
  assert.deepEqual(leakedSecrets(h.idp.issuedSecrets(), result.stdout + result.stderr), []);
});

test('login next to the running agent says so, and the agent picks the account up from the shared cache', async (t) => {
  const h = await startCommandHarness();
  t.after(() => h.close());
  const agent = await h.startAgent();
  await agent.waitFor('showing-code');
  const agentCode = await h.idp.waitForDeviceCode(); // the agent's own code, left unused
  await pretendAgentRuns(h.dir, 'showing-code');

  const result = await loginApproving(h, {}, 'MeganB@contoso.example');
  assert.equal(result.code, 0, result.stderr);
  assert.notEqual(result.userCode, agentCode.userCode);
  assert.match(result.stdout, new RegExp(`The agent is running \\(pid ${process.pid}\\)`));
  assert.match(result.stdout, /Signed in as MeganB@contoso\.example/);

  // The agent's identity reads the same file: the account is there for its next silent sign-in.
  const silent = await agent.app.identity.trySilent();
  assert.equal(silent.kind === 'ok' && silent.account.username, 'MeganB@contoso.example');
});

test('login replaces the account signed in before (the device shows one person)', async (t) => {
  const h = await startCommandHarness();
  t.after(() => h.close());
  await writeKeyFile(h.config.cache.keyFile);
  assert.equal((await loginApproving(h)).code, 0);
  const second = await loginApproving(h, {}, 'MeganB@contoso.example');
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /Signed in now: AdeleV@contoso\.example/);
  assert.match(second.stdout, /Signed out AdeleV@contoso\.example/);
  assert.deepEqual((await report(h)).accounts?.map((a) => a.username), ['MeganB@contoso.example']);
});

test('a declined login exits 1 with the reason; a cancelled one exits 130', async (t) => {
  const h = await startCommandHarness();
  t.after(() => h.close());
  await writeKeyFile(h.config.cache.keyFile);
  const declined = h.run(loginCommand, {});
  h.idp.deny((await h.idp.waitForDeviceCode()).userCode);
  const d = await declined;
  assert.equal(d.code, 1);
  assert.match(d.stderr, /declined/i);

  const abort = new AbortController();
  const cancelled = h.run(loginCommand, { signal: abort.signal });
  await h.idp.waitForDeviceCode();
  abort.abort();
  const c = await cancelled;
  assert.equal(c.code, 130);
  assert.match(c.stdout, /cancelled/);
  assert.deepEqual((await report(h)).accounts, []);
});

test('logout next to the signed-in agent: the agent\'s next token request needs a new sign-in', async (t) => {
  const h = await startCommandHarness();
  t.after(() => h.close());
  const agent = await h.startAgent();
  h.idp.approve((await h.idp.waitForDeviceCode()).userCode);
  await agent.waitFor('signed-in');
  await agent.app.identity.getAccessToken({ forceRefresh: false });
  await pretendAgentRuns(h.dir);

  const result = await h.run(logoutCommand, {});
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /Signed out AdeleV@contoso\.example \(Adele Vance\)/);
  assert.match(result.stdout, /asks for a new sign-in at its next token request/);

  await assert.rejects(agent.app.identity.getAccessToken({ forceRefresh: false }), NeedsSignInError);
  assert.deepEqual((await report(h)).accounts, []);
  const again = await h.run(logoutCommand, {});
  assert.equal(again.code, 0);
  assert.match(again.stdout, /No account is signed in/);
});

test('logout removes the agent\'s account (the first); --all removes every one', async (t) => {
  const h = await startCommandHarness();
  t.after(() => h.close());
  const key = await writeKeyFile(h.config.cache.keyFile);
  const clientId = h.config.auth.clientId;
  const merged = { ...JSON.parse(accountEntry('first', clientId)) } as Record<string, Record<string, unknown>>;
  for (const name of ['second', 'third']) {
    for (const [section, entries] of Object.entries(JSON.parse(accountEntry(name, clientId)) as Record<string, Record<string, unknown>>)) {
      merged[section] = { ...merged[section], ...entries };
    }
  }
  await writeFile(h.config.cache.path, encodeCache(JSON.stringify(merged), key, clientId), { mode: 0o600 });

  const one = await h.run(logoutCommand, {});
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /Signed out first@example\.org \(first\)/);
  assert.match(one.stdout, /Still signed in: second@example\.org \(second\), third@example\.org \(third\) \(use --all/);
  assert.deepEqual((await report(h)).accounts?.map((a) => a.name).sort(), ['second', 'third']);
  // Its refresh token went with it.
  assert.equal((await report(h)).accounts?.every((a) => a.refreshToken !== null), true);

  const all = await h.run(logoutCommand, { all: true });
  assert.equal(all.code, 0);
  assert.equal((all.stdout.match(/Signed out/g) ?? []).length, 2);
  assert.deepEqual((await report(h)).accounts, []);
});

test('a cache that does not open with the command\'s key is left alone by login and logout (exit 1, nothing moved)', async (t) => {
  const h = await startCommandHarness();
  t.after(() => h.close());
  const agentKey = await writeKeyFile(path.join(h.dir, 'agent.key'));
  await writeFile(h.config.cache.path, encodeCache(accountEntry('kept', h.config.auth.clientId), agentKey, h.config.auth.clientId), { mode: 0o600 });
  await writeKeyFile(h.config.cache.keyFile); // another key, where the commands look
  const before = { names: (await readdir(h.dir)).sort(), bytes: await readFile(h.config.cache.path) };

  for (const [command, options] of [[logoutCommand, {}], [logoutCommand, { all: true }], [loginCommand, {}]] as const) {
    const result = await h.run(command as typeof logoutCommand, options);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /does not decrypt with the configured key/);
    assert.match(result.stderr, /Nothing was changed/);
  }
  assert.deepEqual((await readdir(h.dir)).sort(), before.names, 'something was moved aside or created');
  assert.deepEqual(await readFile(h.config.cache.path), before.bytes);
  assert.equal(h.idp.requests.filter((r) => r.path.endsWith('/devicecode')).length, 0, 'login asked for a code anyway');
  assert.deepEqual(await loadKeyFile(path.join(h.dir, 'agent.key')), agentKey);
  await stat(h.config.cache.path);
});
