import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { rekeyCommand } from '../../src/commands/rekey.js';
import { decodeCache, encodeCache } from '../../src/auth/cache/format.js';
import { generateKey, loadKeyFile } from '../../src/auth/cache/key.js';
import { accountEntry } from '../auth/cache/helpers.js';
import { pretendAgentRuns, startCommandHarness } from './support.js';

function opens(data: Buffer, key: Buffer, clientId: string): boolean {
  try {
    decodeCache(data, key, clientId, 'cache');
    return true;
  } catch {
    return false;
  }
}

test('rekey refuses while the agent runs, and changes nothing', async (t) => {
  const h = await startCommandHarness();
  t.after(() => h.close());
  const agent = await h.startAgent();
  h.idp.approve((await h.idp.waitForDeviceCode()).userCode);
  await agent.waitFor('signed-in');
  await pretendAgentRuns(h.dir);
  const before = { key: await readFile(h.config.cache.keyFile), cache: await readFile(h.config.cache.path) };
  const result = await h.run(rekeyCommand, {});
  assert.equal(result.code, 1);
  assert.match(result.stderr, /stop it first \(sudo systemctl stop graph-device-agent\)/);
  assert.deepEqual(await readFile(h.config.cache.keyFile), before.key);
  assert.deepEqual(await readFile(h.config.cache.path), before.cache);
});

test('rekey of the agent\'s key file: the restarted agent signs in from the cache without a new code; the old key opens nothing', async (t) => {
  const h = await startCommandHarness();
  t.after(() => h.close());
  const first = await h.startAgent();
  h.idp.approve((await h.idp.waitForDeviceCode()).userCode);
  await first.waitFor('signed-in');
  await first.stop();
  const oldKey = await loadKeyFile(h.config.cache.keyFile);

  const result = await h.run(rekeyCommand, {});
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /Re-encrypted the token cache/);
  assert.match(result.stdout, /systemd-creds encrypt --name=token-cache-key /);
  const newKey = await loadKeyFile(h.config.cache.keyFile);
  assert.notDeepEqual(newKey, oldKey);
  assert.equal((await stat(h.config.cache.keyFile)).mode & 0o777, 0o600);
  assert.equal(opens(await readFile(h.config.cache.path), oldKey, h.config.auth.clientId), false);
  assert.ok(!(await readdir(h.dir)).some((n) => n.endsWith('.new')), 'the pending key file was left');
  for (const form of [newKey.toString('hex'), newKey.toString('base64'), oldKey.toString('hex')]) {
    assert.ok(!(result.stdout + result.stderr).includes(form), 'a key was printed');
  }

  const codes = h.idp.requests.filter((r) => r.path.endsWith('/devicecode')).length;
  const second = await h.startAgent();
  const state = await second.waitFor('signed-in');
  assert.equal(state.name === 'signed-in' && state.account.username, 'AdeleV@contoso.example');
  assert.equal(h.idp.requests.filter((r) => r.path.endsWith('/devicecode')).length, codes, 'the agent asked for a new code');
});

test('rekey with a systemd credential writes the new key to the state directory and says how to seal it', async (t) => {
  const h = await startCommandHarness();
  t.after(() => h.close());
  const creds = path.join(h.dir, 'credentials');
  await mkdir(creds);
  const sealed = generateKey();
  await writeFile(path.join(creds, 'token-cache-key'), sealed, { mode: 0o400 });
  const clientId = h.config.auth.clientId;
  await writeFile(h.config.cache.path, encodeCache(accountEntry('ada', clientId), sealed, clientId), { mode: 0o600 });

  const result = await h.run(rekeyCommand, {}, { CREDENTIALS_DIRECTORY: creds });
  assert.equal(result.code, 0, result.stderr);
  const newKeyFile = path.join(h.dir, 'token-cache.key.new');
  assert.match(result.stdout, new RegExp(`sudo systemd-creds encrypt --name=token-cache-key ${newKeyFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} /etc/credstore\\.encrypted/graph-device-agent\\.token-cache-key`));
  assert.match(result.stdout, /shred -u/);
  assert.match(result.stdout, /The old key \(systemd credential .*\) no longer opens it/);
  const newKey = await loadKeyFile(newKeyFile);
  assert.ok(opens(await readFile(h.config.cache.path), newKey, clientId));
  assert.deepEqual(await readFile(path.join(creds, 'token-cache-key')), sealed, 'the credential itself is systemd\'s to replace');

  // Run again before re-sealing: it only says the job is done, never makes a third key.
  const again = await h.run(rekeyCommand, {}, { CREDENTIALS_DIRECTORY: creds });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /Finished an interrupted rekey/);
  assert.deepEqual(await loadKeyFile(newKeyFile), newKey);
});

test('rekey with a key that does not open the cache fails and changes nothing', async (t) => {
  const h = await startCommandHarness();
  t.after(() => h.close());
  const clientId = h.config.auth.clientId;
  await writeFile(h.config.cache.path, encodeCache(accountEntry('ada', clientId), generateKey(), clientId), { mode: 0o600 });
  await writeFile(h.config.cache.keyFile, `${generateKey().toString('hex')}\n`, { mode: 0o600 });
  const before = { names: (await readdir(h.dir)).sort(), cache: await readFile(h.config.cache.path), key: await readFile(h.config.cache.keyFile) };
  const result = await h.run(rekeyCommand, {});
  assert.equal(result.code, 1);
  assert.match(result.stderr, /nothing was changed/);
  assert.deepEqual((await readdir(h.dir)).sort(), before.names);
  assert.deepEqual(await readFile(h.config.cache.path), before.cache);
  assert.deepEqual(await readFile(h.config.cache.keyFile), before.key);
});
