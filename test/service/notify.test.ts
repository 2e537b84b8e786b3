import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServiceNotifier, statusLine } from '../../src/service/notify.js';
import { FakeClock } from '../support/fake-clock.js';
import { captureLogs } from '../support/log-capture.js';
import { freeSocketPath, openNotifySocket } from './notify-socket.js';
import { requireTool } from '../support/requires-tool.js';

/** Most of these go through the real systemd-notify helper and a python3-bound datagram socket. */
const realNotify = (t: TestContext): boolean =>
  requireTool(t, 'systemd-notify', 'apt-get install systemd') && requireTool(t, 'python3', 'apt-get install python3');

test('without NOTIFY_SOCKET nothing is sent and nothing is logged', async () => {
  const { logger, raw } = captureLogs();
  const notifier = createServiceNotifier({ env: { WATCHDOG_USEC: '30000000' }, logger, command: '/nonexistent/systemd-notify' });
  assert.equal(notifier.enabled, false);
  assert.equal(notifier.watchdogIntervalMs, undefined);
  await notifier.ready('Started');
  await notifier.status('Waiting');
  await notifier.stopping();
  await notifier.close();
  assert.deepEqual(raw, []);
});

test('READY, STATUS and STOPPING reach the socket in order, as systemd would read them', async (t) => {
  if (!realNotify(t)) return;
  const socket = await openNotifySocket();
  const { logger } = captureLogs();
  try {
    const notifier = createServiceNotifier({ env: { NOTIFY_SOCKET: socket.address, PATH: process.env.PATH }, logger });
    assert.equal(notifier.enabled, true);
    assert.equal(notifier.watchdogIntervalMs, undefined);
    await notifier.ready('Display and button ready');
    await notifier.status('Enter the code on another device\nline two');
    await notifier.stopping('Stopping');
    await notifier.close();
    // The receiver prints in arrival order: once the last one is in, all are.
    await socket.waitFor((d) => d.data.startsWith('STOPPING=1'));
    assert.deepEqual(socket.received.map((d) => d.data), [
      'READY=1\nSTATUS=Display and button ready',
      'STATUS=Enter the code on another device line two',
      'STOPPING=1\nSTATUS=Stopping',
    ]);
    // The kernel stamps the helper's PID, not ours: why the unit says NotifyAccess=all.
    for (const d of socket.received) assert.notEqual(d.pid, null);
  } finally {
    await socket.close();
  }
});

test('an abstract NOTIFY_SOCKET (@name) works too', async (t) => {
  if (!realNotify(t)) return;
  const socket = await openNotifySocket({ abstract: true });
  const { logger } = captureLogs();
  try {
    assert.match(socket.address, /^@/);
    const notifier = createServiceNotifier({ env: { NOTIFY_SOCKET: socket.address, PATH: process.env.PATH }, logger });
    await notifier.ready('up');
    await notifier.close();
    await socket.waitFor((d) => d.data.startsWith('READY=1'));
    assert.deepEqual(socket.received.map((d) => d.data), ['READY=1\nSTATUS=up']);
  } finally {
    await socket.close();
  }
});

test('the watchdog pings at half of WATCHDOG_USEC from a timer, and stops on close', async (t) => {
  if (!realNotify(t)) return;
  const socket = await openNotifySocket();
  const { logger, lines } = captureLogs();
  const clock = new FakeClock();
  try {
    const notifier = createServiceNotifier({
      env: { NOTIFY_SOCKET: socket.address, WATCHDOG_USEC: '30000000', WATCHDOG_PID: '4242', PATH: process.env.PATH },
      pid: 4242,
      logger,
      timers: clock,
    });
    assert.equal(notifier.watchdogIntervalMs, 15_000);
    assert.deepEqual(clock.delays(), [15_000]);
    // One ping at start, then one per tick of the timer.
    await socket.waitFor((d) => d.data === 'WATCHDOG=1');
    // Five ticks while a helper is busy: queued pings merge instead of piling up helpers.
    for (let i = 0; i < 5; i++) clock.advanceBy(15_000);
    await notifier.ready('ready');
    await socket.waitFor((d) => d.data.startsWith('READY=1'));
    const pings = socket.received.filter((d) => d.data === 'WATCHDOG=1').length;
    assert.ok(pings >= 2 && pings <= 3, `expected 2 or 3 pings, got ${pings}`);
    assert.equal(socket.received.at(-1)?.data, 'READY=1\nSTATUS=ready');
    await notifier.close();
    assert.equal(clock.pendingTimers, 0);
    const enabled = lines().find((l) => l.event === 'service.notify_enabled');
    assert.equal(enabled?.watchdog_ms, 15_000);
  } finally {
    await socket.close();
  }
});

test('a process that merely inherited WATCHDOG_PID of another process does not ping', async (t) => {
  if (!realNotify(t)) return;
  const socket = await openNotifySocket();
  const { logger } = captureLogs();
  const clock = new FakeClock();
  try {
    const notifier = createServiceNotifier({
      env: { NOTIFY_SOCKET: socket.address, WATCHDOG_USEC: '30000000', WATCHDOG_PID: '1', PATH: process.env.PATH },
      pid: 4242,
      logger,
      timers: clock,
    });
    assert.equal(notifier.watchdogIntervalMs, undefined);
    assert.equal(clock.pendingTimers, 0);
    await notifier.status('still talks');
    await notifier.close();
    await socket.waitFor((d) => d.data === 'STATUS=still talks');
    assert.deepEqual(socket.received.map((d) => d.data), ['STATUS=still talks']);
  } finally {
    await socket.close();
  }
});

test('a missing helper is one warning, not an exception and not a warning per message', async () => {
  const { logger, lines } = captureLogs();
  const notifier = createServiceNotifier({ env: { NOTIFY_SOCKET: '/run/nothing-here/notify' }, logger, command: '/nonexistent/systemd-notify' });
  await notifier.ready('a');
  await notifier.status('b');
  await notifier.status('c');
  await notifier.close();
  const failures = lines().filter((l) => l.event === 'service.notify_failed');
  assert.equal(failures.length, 3);
  assert.deepEqual(failures.map((l) => l.level), ['warn', 'debug', 'debug']);
  assert.equal(failures[0]?.reason, 'helper-missing');
  assert.match(String(failures[0]?.msg), /install the systemd package/);
});

test('a socket nobody listens on is reported once, and the recovery once it appears', async (t) => {
  if (!realNotify(t)) return;
  const free = await freeSocketPath();
  const { logger, lines } = captureLogs();
  const notifier = createServiceNotifier({ env: { NOTIFY_SOCKET: free.path, PATH: process.env.PATH }, logger });
  await notifier.ready('x');
  await notifier.status('y');
  const socket = await openNotifySocket({ path: free.path });
  try {
    await notifier.status('z');
    await notifier.close();
    await socket.waitFor((d) => d.data === 'STATUS=z');
    const events = lines().filter((l) => l.event?.startsWith('service.notify_') && l.event !== 'service.notify_enabled');
    assert.deepEqual(events.map((l) => [l.event, l.level]), [
      ['service.notify_failed', 'warn'],
      ['service.notify_failed', 'debug'],
      ['service.notify_recovered', 'info'],
    ]);
    assert.equal(events[0]?.reason, 'helper-failed');
    assert.deepEqual(events[0]?.keys, ['READY', 'STATUS']);
    assert.deepEqual(socket.received.map((d) => d.data), ['STATUS=z']);
  } finally {
    await socket.close();
    await free.dispose();
  }
});

test('NOTIFY_SOCKET that is neither a path nor @name disables notifications with a warning', async () => {
  const { logger, lines } = captureLogs();
  const notifier = createServiceNotifier({ env: { NOTIFY_SOCKET: 'relative/notify' }, logger });
  assert.equal(notifier.enabled, false);
  assert.deepEqual(lines().map((l) => l.event), ['service.notify_socket_invalid']);
});

test('status lines are one line of at most 200 characters', () => {
  assert.equal(statusLine('a\r\nb\tc\u0000d'), 'a b c d');
  assert.equal(statusLine('x'.repeat(500)).length, 200);
});
