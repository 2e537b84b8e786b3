import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AUTO_SPLAY_MAX_SEC, cronPeriodMs, readMachineId, splayFraction, splayMs } from '../../src/graph/splay.js';

/** 1,000 machine ids as systemd writes them: 32 hex digits. */
const FLEET = Array.from({ length: 1000 }, () => randomUUID().replace(/-/g, ''));

test('one machine id always gets the same splay (across restarts: it is a pure function of the id)', () => {
  const id = '5c4d8e8a0b7f4e43a8d2b0f1c3e9a7d1';
  const first = splayMs(splayFraction(id), cronPeriodMs('*/5 * * * *'), 'auto');
  assert.equal(splayMs(splayFraction(`${id}\n`), cronPeriodMs('*/5 * * * *'), 'auto'), first, 'the file\'s newline does not count');
  assert.equal(splayMs(splayFraction(id), 300_000, 'auto'), first);
  assert.notEqual(splayMs(splayFraction('5c4d8e8a0b7f4e43a8d2b0f1c3e9a7d2'), 300_000, 'auto'), first, 'one digit apart, another offset');
});

test('1,000 devices spread roughly evenly over a */5 job\'s five minutes (no 10-second bucket over twice its share)', () => {
  const period = cronPeriodMs('*/5 * * * *');
  const buckets = new Array<number>(30).fill(0);
  for (const id of FLEET) buckets[Math.floor(splayMs(splayFraction(id), period, 'auto') / 10_000)]! += 1;
  const share = FLEET.length / buckets.length; // 33.3 per 10 s
  assert.ok(Math.max(...buckets) < 2 * share, `busiest 10 s: ${Math.max(...buckets)} devices`);
  assert.ok(Math.min(...buckets) > share / 3, `quietest 10 s: ${Math.min(...buckets)} devices`);
  // Without a splay, all 1,000 would be in the first bucket.
  assert.equal(new Set(FLEET.map((id) => splayMs(splayFraction(id), period, 'off'))).size, 1);
});

test('the splay is never past the job\'s period, nor past the configured maximum', () => {
  const expressions = ['*/5 * * * *', '* * * * *', '*/10 * * * * *', '* * * * * *', '0 9 * * *', '0 9,17 * * 1-5', '5,7 * * * *', '0 0 1 1 *', '*/15 * * * *'];
  for (const expression of expressions) {
    const period = cronPeriodMs(expression);
    for (const id of FLEET) {
      const fraction = splayFraction(id);
      const auto = splayMs(fraction, period, 'auto');
      assert.ok(auto >= 0 && auto < period && auto < AUTO_SPLAY_MAX_SEC * 1000, `${expression}: ${auto} ms`);
      const capped = splayMs(fraction, period, 30);
      assert.ok(capped < Math.min(period, 30_000), `${expression} with a 30 s maximum: ${capped} ms`);
      assert.equal(splayMs(fraction, period, 0), 0);
    }
  }
});

test('a job\'s period is the shortest gap between its runs', () => {
  assert.equal(cronPeriodMs('*/5 * * * *'), 300_000);
  assert.equal(cronPeriodMs('*/10 * * * * *'), 10_000);
  assert.equal(cronPeriodMs('5,7 * * * *'), 120_000, 'two minutes between :05 and :07, not an hour');
  assert.equal(cronPeriodMs('0 9,17 * * 1-5'), 8 * 3600_000);
  assert.equal(cronPeriodMs('0 23,1 * * *'), 2 * 3600_000, 'across midnight');
  assert.equal(cronPeriodMs('0 9 * * *'), 86_400_000);
});

test('the machine id comes from /etc/machine-id, skips an uninitialized one, and falls back to the host name', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'gda-machine-id-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const etc = path.join(dir, 'machine-id');
  const dbus = path.join(dir, 'dbus-machine-id');
  await writeFile(etc, 'uninitialized\n');
  await writeFile(dbus, 'abc123\n');
  assert.deepEqual(readMachineId([etc, dbus], () => 'pi-42'), { id: 'abc123', source: dbus });
  await writeFile(etc, 'def456\n');
  assert.deepEqual(readMachineId([etc, dbus], () => 'pi-42'), { id: 'def456', source: etc });
  assert.deepEqual(readMachineId([path.join(dir, 'missing')], () => 'pi-42'), { id: 'pi-42', source: 'hostname' });
});
