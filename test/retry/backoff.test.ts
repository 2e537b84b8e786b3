import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffMs, withJitter, type Backoff } from '../../src/retry/backoff.js';

const exactly = (baseMs: number, maxMs: number): Backoff => ({ baseMs, maxMs, jitter: 'none' });

test('the wait doubles from the base with each attempt and stops at the cap', () => {
  // The agent's offline retries while signed in: 15 s, 30 s, 1 min, 2 min, 4 min, then 5 min.
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, exactly(15_000, 300_000))), [15_000, 30_000, 60_000, 120_000, 240_000, 300_000, 300_000]);
  // No network at start: 10 s, doubling to 5 min.
  assert.deepEqual([0, 1, 4, 5].map((n) => backoffMs(n, exactly(10_000, 300_000))), [10_000, 20_000, 160_000, 300_000]);
});

test('a device that stays offline for days still waits the cap, never Infinity or NaN', () => {
  for (const attempt of [1_000, 1e9, Number.MAX_SAFE_INTEGER]) {
    assert.equal(backoffMs(attempt, exactly(1_000, 30_000)), 30_000);
  }
  assert.equal(backoffMs(2_000, exactly(0, 30_000)), 0);
  assert.equal(backoffMs(-3, exactly(1_000, 30_000)), 1_000, 'a negative attempt is the first');
});

test('each jitter spreads the wait over its own range', () => {
  const wait = 8_000;
  const low = () => 0;
  const high = () => 0.999_999;
  const mid = () => 0.5;
  assert.deepEqual([low, mid, high].map((r) => withJitter(wait, 'none', r)), [8_000, 8_000, 8_000]);
  assert.deepEqual([low, mid, high].map((r) => withJitter(wait, 'full', r)), [0, 4_000, 8_000]);
  assert.deepEqual([low, mid, high].map((r) => withJitter(wait, 'half', r)), [4_000, 6_000, 8_000]);
  assert.deepEqual([low, mid, high].map((r) => withJitter(wait, 'around', r)), [4_000, 8_000, 12_000]);
});

test('jitter applies after the cap, and waits are whole milliseconds', () => {
  // Graph: 1 s doubling to 30 s, full jitter.
  assert.equal(backoffMs(10, { baseMs: 1_000, maxMs: 30_000, jitter: 'full' }, () => 0.5), 15_000);
  // The token cache lock: 25 ms doubling to 200 ms, half to one and a half times.
  assert.equal(backoffMs(9, { baseMs: 25, maxMs: 200, jitter: 'around' }, () => 0.25), 150);
  assert.ok(Number.isInteger(backoffMs(0, { baseMs: 25, maxMs: 200, jitter: 'around' }, () => 0.123_456)));
});
