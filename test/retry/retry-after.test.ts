import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_RETRY_AFTER_MS, parseRetryAfter } from '../../src/retry/retry-after.js';

test('Retry-After in seconds', () => {
  assert.equal(parseRetryAfter('120', { nowMs: 0 }), 120_000);
  assert.equal(parseRetryAfter(' 7 ', { nowMs: 0 }), 7_000);
  assert.equal(parseRetryAfter('0', { nowMs: 0 }), 0);
  assert.equal(parseRetryAfter('1.5', { nowMs: 0 }), 1_500);
});

test('a Retry-After date counts from the response\'s Date header, not from a clock that may be wrong', () => {
  const date = 'Wed, 21 Oct 2026 07:28:00 GMT';
  const until = 'Wed, 21 Oct 2026 07:28:30 GMT';
  const piClockYearsOff = Date.parse('2001-01-01T00:00:00Z');
  assert.equal(parseRetryAfter(until, { date, nowMs: piClockYearsOff }), 30_000);
  // Without a Date header (or an unreadable one), our own clock is all there is.
  assert.equal(parseRetryAfter(until, { nowMs: Date.parse(date) + 10_000 }), 20_000);
  assert.equal(parseRetryAfter(until, { date: 'garbage', nowMs: Date.parse(date) }), 30_000);
  // The two older HTTP date formats.
  assert.equal(parseRetryAfter('Wednesday, 21-Oct-26 07:28:30 GMT', { date, nowMs: 0 }), 30_000);
  assert.equal(parseRetryAfter('Wed Oct 21 07:28:30 2026', { date: 'Wed, 21 Oct 2026 07:28:00 GMT', nowMs: 0 }), 30_000);
  // A date already past asks for no wait.
  assert.equal(parseRetryAfter('Wed, 21 Oct 2026 07:27:00 GMT', { date, nowMs: 0 }), 0);
});

test('an unreadable Retry-After is ignored', () => {
  for (const value of [undefined, '', '  ', '-5', '1e3', '0x10', 'soon', '12/31/2030', '2030-01-01T00:00:00Z', 'Wed, 99 Foo 2026 07:28:00 GMT']) {
    assert.equal(parseRetryAfter(value, { nowMs: 0 }), undefined, String(value));
  }
});

test('an absurd Retry-After is clamped: at most a day, or what the caller allows', () => {
  assert.equal(parseRetryAfter('99999999999999999999', { nowMs: 0 }), MAX_RETRY_AFTER_MS);
  assert.equal(parseRetryAfter('Fri, 31 Dec 9999 23:59:59 GMT', { date: 'Wed, 21 Oct 2026 07:28:00 GMT', nowMs: 0 }), MAX_RETRY_AFTER_MS);
  assert.ok(MAX_RETRY_AFTER_MS < 2 ** 31 - 1, 'fits a Node timer (a longer one would fire at once)');
  assert.equal(parseRetryAfter('600', { nowMs: 0, maxMs: 30_000 }), 30_000);
});
