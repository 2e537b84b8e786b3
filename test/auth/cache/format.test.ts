import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decodeCache, encodeCache } from '../../../src/auth/cache/format.js';
import { CacheUnreadableError, type CacheUnreadableReason } from '../../../src/auth/cache/errors.js';
import { CLIENT_ID, OTHER_CLIENT_ID, REFRESH_TOKEN, sampleCache } from './helpers.js';

const key = randomBytes(32);
const FILE = '/var/lib/graph-device-agent/token-cache.bin';

function decodeError(data: Buffer, withKey = key, clientId = CLIENT_ID): CacheUnreadableError {
  try {
    decodeCache(data, withKey, clientId, FILE);
  } catch (err) {
    assert.ok(err instanceof CacheUnreadableError, `expected CacheUnreadableError, got ${String(err)}`);
    return err;
  }
  assert.fail('decodeCache accepted a file it should refuse');
}

function assertRefused(data: Buffer, reason: CacheUnreadableReason, withKey = key, clientId = CLIENT_ID): CacheUnreadableError {
  const err = decodeError(data, withKey, clientId);
  assert.equal(err.reason, reason, err.message);
  assert.equal(err.file, FILE);
  assert.match(err.message, new RegExp(FILE.replace(/[./-]/g, '\\$&')));
  return err;
}

test('what is encoded decodes back to the same cache JSON', () => {
  const plaintext = sampleCache();
  assert.equal(decodeCache(encodeCache(plaintext, key, CLIENT_ID), key, CLIENT_ID, FILE), plaintext);
});

test('the file starts with the GDAC header, version 1, cipher 1 and a fresh nonce per write', () => {
  const a = encodeCache(sampleCache(), key, CLIENT_ID);
  const b = encodeCache(sampleCache(), key, CLIENT_ID);
  assert.equal(a.subarray(0, 4).toString('ascii'), 'GDAC');
  assert.equal(a[4], 1);
  assert.equal(a[5], 1);
  assert.notDeepEqual(a.subarray(6, 18), b.subarray(6, 18), 'two writes must not share a nonce');
  assert.equal(a.length, 18 + Buffer.byteLength(sampleCache()) + 16);
  assert.equal(a.includes(Buffer.from(REFRESH_TOKEN)), false);
});

test('a file encrypted with another key is refused as wrong key or tampered', () => {
  assertRefused(encodeCache(sampleCache(), randomBytes(32), CLIENT_ID), 'wrong-key-or-tampered');
});

test('a cache written for another client id is refused and the message names both ids', () => {
  const err = assertRefused(encodeCache(sampleCache(OTHER_CLIENT_ID), key, OTHER_CLIENT_ID), 'wrong-client');
  assert.match(err.message, new RegExp(OTHER_CLIENT_ID));
  assert.match(err.message, new RegExp(CLIENT_ID));
});

test('one changed byte anywhere after the header is detected', () => {
  const good = encodeCache(sampleCache(), key, CLIENT_ID);
  for (const offset of [6, 17, 18, 40, good.length - 17, good.length - 1]) {
    const bad = Buffer.from(good);
    bad[offset] = (bad[offset] ?? 0) ^ 0x01;
    const err = decodeError(bad);
    assert.equal(err.reason, 'wrong-key-or-tampered', `byte ${offset}: ${err.message}`);
  }
});

test('a file cut short is reported as truncated', () => {
  const good = encodeCache(sampleCache(), key, CLIENT_ID);
  for (const length of [3, 5, 20, 33, 60, good.length - 40, good.length - 1]) {
    assertRefused(good.subarray(0, length), 'truncated');
  }
});

test('an empty file, a foreign file, an unknown version or cipher are each refused with their own reason', () => {
  assertRefused(Buffer.alloc(0), 'empty');
  assertRefused(Buffer.from('{"Account":{}}'), 'not-a-cache');
  assertRefused(randomBytes(200), 'not-a-cache');

  const good = encodeCache(sampleCache(), key, CLIENT_ID);
  const newer = Buffer.from(good);
  newer[4] = 2;
  const version = assertRefused(newer, 'unknown-version');
  assert.match(version.message, /version 2/);

  const otherCipher = Buffer.from(good);
  otherCipher[5] = 7;
  const cipher = assertRefused(otherCipher, 'unknown-cipher');
  assert.match(cipher.message, /cipher id 7/);
});

test('an authentic file whose content is not JSON is refused as corrupt content', () => {
  assertRefused(encodeCache('not json at all', key, CLIENT_ID), 'corrupt-content');
});
