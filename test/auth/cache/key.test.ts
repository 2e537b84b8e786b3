import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateKey, loadKeyFile, writeKeyFile } from '../../../src/auth/cache/key.js';
import { KeyFileError, type KeyFileProblem } from '../../../src/auth/cache/errors.js';
import { withTempDir } from './helpers.js';

async function refusal(file: string, problem: KeyFileProblem): Promise<KeyFileError> {
  const err = await loadKeyFile(file).then(
    () => assert.fail(`loadKeyFile accepted ${file}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof KeyFileError, String(err));
  assert.equal(err.problem, problem, err.message);
  assert.equal(err.file, file);
  return err;
}

test('generateKey gives 32 random bytes', () => {
  const a = generateKey();
  const b = generateKey();
  assert.equal(a.length, 32);
  assert.notDeepEqual(a, b);
});

test('writeKeyFile creates a 0600 key in a new 0700 folder that loadKeyFile reads back', async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'secrets', 'token-cache.key');
    const written = await writeKeyFile(file);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(path.dirname(file))).mode & 0o777, 0o700);
    assert.deepEqual(await loadKeyFile(file), written);
  });
});

test('writeKeyFile does not replace an existing key unless forced', async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'token-cache.key');
    const first = await writeKeyFile(file);
    const err = await writeKeyFile(file).then(() => assert.fail('overwrote a key'), (e: unknown) => e);
    assert.ok(err instanceof KeyFileError);
    assert.equal(err.problem, 'exists');
    assert.deepEqual(await loadKeyFile(file), first, 'the refused write must leave the old key intact');

    const second = await writeKeyFile(file, { force: true });
    assert.notDeepEqual(second, first);
    assert.deepEqual(await loadKeyFile(file), second);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
  });
});

test('a key is accepted as 32 raw bytes, hex or base64, with or without a trailing newline', async () => {
  await withTempDir(async (dir) => {
    const key = generateKey();
    const encodings: Record<string, Buffer | string> = {
      raw: key,
      hex: key.toString('hex'),
      'hex-newline': `${key.toString('hex')}\n`,
      'hex-upper-crlf': `${key.toString('hex').toUpperCase()}\r\n`,
      base64: key.toString('base64'),
      'base64-newline': `${key.toString('base64')}\n`,
      base64url: key.toString('base64url'),
    };
    for (const [name, content] of Object.entries(encodings)) {
      const file = path.join(dir, name);
      await writeFile(file, content, { mode: 0o600 });
      assert.deepEqual(await loadKeyFile(file), key, name);
    }
  });
});

test('a file that holds no 32-byte key is refused without echoing its content', async () => {
  await withTempDir(async (dir) => {
    for (const [name, content] of [
      ['short-hex', 'abcdef0123'],
      ['base64-of-16', generateKey().subarray(0, 16).toString('base64')],
      ['passphrase', 'correct horse battery staple\n'],
      ['empty', ''],
    ] as const) {
      const file = path.join(dir, name);
      await writeFile(file, content, { mode: 0o600 });
      const err = await refusal(file, 'format');
      if (content.length > 0) assert.equal(err.message.includes(content.trim()), false, 'the message must not contain the key file content');
    }
  });
});

test('a key file readable by group or others is refused with the chmod that fixes it', async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'token-cache.key');
    await writeKeyFile(file);
    for (const mode of [0o640, 0o604, 0o644, 0o660]) {
      await chmod(file, mode);
      const err = await refusal(file, 'permissions');
      assert.match(err.message, new RegExp(`chmod 600 ${file.replace(/[./-]/g, '\\$&')}`));
    }
    await chmod(file, 0o400);
    assert.equal((await loadKeyFile(file)).length, 32, 'a read-only 0400 key (systemd credentials) is fine');
  });
});

test('a missing key file says how to create one', async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'nope.key');
    const err = await refusal(file, 'missing');
    assert.match(err.message, new RegExp(`graph-device-agent keygen --out ${file.replace(/[./-]/g, '\\$&')}`));
    // The key file content is the only secret here; the refusal must not have created a file.
    await assert.rejects(readFile(file), { code: 'ENOENT' });
  });
});
