import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { catalogueIn, loggedEvents } from './support/log-events.js';

/**
 * The journal is an interface: people write alerts and Loki queries against event names and
 * levels. The README's event catalogue must name every event the code logs, at the levels the
 * code logs it, and nothing else (regenerate rows with `npx tsx test/dev/event-catalogue.ts`).
 */
const readme = readFileSync(path.resolve(import.meta.dirname, '../README.md'), 'utf8');

test('the README event catalogue and the code name the same events', () => {
  const code = loggedEvents();
  const documented = catalogueIn(readme);
  assert.ok(code.size > 50, `the scan found ${code.size} events`);
  const missing = [...code.keys()].filter((e) => !documented.has(e)).sort();
  const stale = [...documented.keys()].filter((e) => !code.has(e)).sort();
  assert.deepEqual({ missing, stale }, { missing: [], stale: [] });
});

test('each event is documented at the levels the code logs it', () => {
  const documented = catalogueIn(readme);
  const wrong: string[] = [];
  for (const [event, { levels, places }] of loggedEvents()) {
    const doc = documented.get(event);
    if (!doc) continue;
    for (const level of levels) if (level !== 'varies' && !doc.has(level)) wrong.push(`${event}: ${level} (${places.join(', ')}) not in the README`);
  }
  assert.deepEqual(wrong, []);
});

test('the scan is not vacuous: it finds the events a normal session logs, at their levels', () => {
  const code = loggedEvents();
  assert.deepEqual([...code.get('token.needs_sign_in')!.levels], ['warn']);
  assert.deepEqual([...code.get('device_code.issued')!.levels], ['info']);
  assert.ok(code.get('signin.failed')!.levels.has('error'));
});
