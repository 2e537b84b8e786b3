import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseConfig, ConfigError, type ResolvedConfig } from '../../src/config/index.js';
import { KEY_ENV_VAR, resolveKey, type ResolveKeyOptions } from '../../src/auth/key-source.js';
import { loadKeyFile } from '../../src/auth/cache/key.js';
import { captureLogs } from '../support/log-capture.js';
import { withTempDir } from './cache/helpers.js';

function configIn(dir: string, env: NodeJS.ProcessEnv, cache: Record<string, unknown> = {}): ResolvedConfig {
  return parseConfig({ auth: { clientId: 'c1' }, stateDirectory: path.join(dir, 'state'), cache }, { file: path.join(dir, 'config.json'), env });
}

async function refusal(options: ResolveKeyOptions): Promise<ConfigError> {
  const err = await resolveKey(options).then(() => assert.fail('a key was accepted'), (e: unknown) => e);
  assert.ok(err instanceof ConfigError, String(err));
  return err;
}

async function keyFileAt(file: string, key: Buffer, mode = 0o600): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${key.toString('hex')}\n`, { mode });
  await chmod(file, mode);
}

/** Every encoding of the key a log could contain. */
function assertNoKeyIn(text: string, key: Buffer): void {
  for (const form of [key.toString('hex'), key.toString('base64'), key.toString('base64url')]) {
    assert.ok(!text.includes(form), 'the key appears in the output');
  }
}

test('a systemd credential (0400, or 0440 as systemd\'s ACL shows it) wins over a key file and the environment', async () => {
  await withTempDir(async (dir) => {
    const creds = path.join(dir, 'credentials');
    const credKey = randomBytes(32);
    const fileKey = randomBytes(32);
    for (const mode of [0o400, 0o440]) {
      await keyFileAt(path.join(creds, 'token-cache-key'), credKey, mode);
      await keyFileAt(path.join(dir, 'my.key'), fileKey);
      const env = { CREDENTIALS_DIRECTORY: creds, [KEY_ENV_VAR]: randomBytes(32).toString('hex') };
      const logs = captureLogs('debug');
      const resolved = await resolveKey({ config: configIn(dir, env, { keyFile: 'my.key' }), env, logger: logs.logger });
      assert.deepEqual(resolved.key, credKey, `mode ${mode.toString(8)}`);
      assert.equal(resolved.source, 'credential');
      assert.equal(resolved.where, path.join(creds, 'token-cache-key'));
      const line = logs.lines().find((l) => l.event === 'cache.key_source');
      assert.equal(line?.source, 'credential');
      assert.equal(line?.level, 'info');
      assertNoKeyIn(logs.raw.join('\n'), credKey);
      await chmod(path.join(creds, 'token-cache-key'), 0o600);
    }
  });
});

test('$CREDENTIALS_DIRECTORY without the credential is a config error naming LoadCredentialEncrypted=, and no key is made', async () => {
  await withTempDir(async (dir) => {
    const creds = path.join(dir, 'credentials');
    await mkdir(creds);
    await writeFile(path.join(creds, 'some-other-credential'), 'x');
    const env = { CREDENTIALS_DIRECTORY: creds };
    const config = configIn(dir, env);
    const err = await refusal({ config, env, create: true });
    assert.match(err.report(), /LoadCredentialEncrypted=token-cache-key:\/etc\/credstore\.encrypted\/graph-device-agent\.token-cache-key/);
    assert.match(err.report(), /short form/);
    assert.equal(err.exitCode, 78);
    await assert.rejects(stat(config.stateDirectory), { code: 'ENOENT' }, 'nothing was created');
  });
});

test('a key file group- or world-readable is refused with the chmod that fixes it', async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'keys', 'token-cache.key');
    for (const mode of [0o640, 0o604, 0o644]) {
      await keyFileAt(file, randomBytes(32), mode);
      const err = await refusal({ config: configIn(dir, {}, { keyFile: file }), env: {}, create: true });
      assert.match(err.report(), new RegExp(`chmod 600 ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`), `mode ${mode.toString(8)}`);
      assert.match(err.report(), /cache\.keyFile/);
    }
    await chmod(file, 0o600);
    const resolved = await resolveKey({ config: configIn(dir, {}, { keyFile: file }), env: {} });
    assert.equal(resolved.source, 'key-file');
    assert.equal(resolved.where, file);
  });
});

test('a configured key file that does not exist is an error with the keygen command, never replaced by a new key', async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'typo.key');
    const config = configIn(dir, {}, { keyFile: file });
    const err = await refusal({ config, env: { [KEY_ENV_VAR]: randomBytes(32).toString('hex') }, create: true });
    assert.match(err.report(), new RegExp(`graph-device-agent keygen --out ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    await assert.rejects(stat(file), { code: 'ENOENT' });
    await assert.rejects(stat(config.stateDirectory), { code: 'ENOENT' });
  });
});

test('the environment variable is accepted (hex or base64) with a warning, and its value is never printed', async () => {
  await withTempDir(async (dir) => {
    const key = randomBytes(32);
    for (const value of [key.toString('hex'), key.toString('base64'), `${key.toString('hex').toUpperCase()}\n`]) {
      const env = { [KEY_ENV_VAR]: value };
      const logs = captureLogs('debug');
      const resolved = await resolveKey({ config: configIn(dir, env), env, logger: logs.logger, create: true });
      assert.deepEqual(resolved.key, key);
      assert.equal(resolved.source, 'environment');
      assert.equal(resolved.where, KEY_ENV_VAR);
      const warning = logs.lines().find((l) => l.event === 'cache.key_from_env');
      assert.equal(warning?.level, 'warn');
      assertNoKeyIn(logs.raw.join('\n'), key);
    }
    assert.deepEqual(await readdir(dir), [], 'no key file was created');

    const bad = 'not-a-key-but-a-secret-passphrase';
    const err = await refusal({ config: configIn(dir, {}), env: { [KEY_ENV_VAR]: bad } });
    assert.match(err.report(), new RegExp(KEY_ENV_VAR));
    assert.ok(!err.report().includes(bad), 'the malformed value is echoed');
  });
});

test('with no key anywhere the daemon creates one (0600, with a warning) and uses it from then on; a command never does', async () => {
  await withTempDir(async (dir) => {
    const config = configIn(dir, {});
    const err = await refusal({ config, env: {} });
    assert.match(err.report(), /no token cache key found/);
    await assert.rejects(stat(config.stateDirectory), { code: 'ENOENT' }, 'a command made a key');

    const logs = captureLogs('debug');
    const created = await resolveKey({ config, env: {}, logger: logs.logger, create: true });
    assert.equal(created.source, 'generated');
    assert.equal(created.where, path.join(config.stateDirectory, 'token-cache.key'));
    assert.equal((await stat(created.where)).mode & 0o777, 0o600);
    assert.deepEqual(await loadKeyFile(created.where), created.key);
    const warning = logs.lines().find((l) => l.event === 'cache.key_created');
    assert.equal(warning?.level, 'warn');
    assert.match(String(warning?.msg), /keygen/);
    assertNoKeyIn(logs.raw.join('\n'), created.key);

    // Later starts (and commands) read the same key; it now wins over the environment.
    const again = await resolveKey({ config: configIn(dir, {}), env: { [KEY_ENV_VAR]: randomBytes(32).toString('hex') } });
    assert.equal(again.source, 'key-file');
    assert.deepEqual(again.key, created.key);
  });
});
