import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Watchdog, watchdogIntervalMs } from '../../src/service/watchdog.js';
import { FakeClock } from '../support/fake-clock.js';

test('the ping interval is half of WATCHDOG_USEC, in milliseconds', () => {
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }, 7), 15_000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '7' }, 7), 15_000);
  // Tiny values still give a timer that does not spin.
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '1000' }, 7), 1);
});

test('no watchdog when it is off, malformed, or announced for another PID', () => {
  assert.equal(watchdogIntervalMs({}, 7), undefined);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '0' }, 7), undefined);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '-5' }, 7), undefined);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30s' }, 7), undefined);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '8' }, 7), undefined);
});

test('pings once at start, once per tick, never after stop', () => {
  const clock = new FakeClock();
  let pings = 0;
  const watchdog = new Watchdog({ intervalMs: 15_000, ping: () => pings++, timers: clock });
  watchdog.start();
  watchdog.start(); // a second start does not add a second timer
  assert.equal(pings, 1);
  assert.deepEqual(clock.delays(), [15_000]);
  clock.advanceBy(15_000);
  clock.advanceBy(15_000);
  assert.equal(pings, 3);
  watchdog.stop();
  assert.equal(watchdog.running, false);
  assert.equal(clock.pendingTimers, 0);
  clock.advanceBy(15_000);
  assert.equal(pings, 3);
});

test('a zero or negative interval is refused', () => {
  assert.throws(() => new Watchdog({ intervalMs: 0, ping: () => undefined }), RangeError);
});
