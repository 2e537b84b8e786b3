import assert from 'node:assert/strict';
import { afterEach } from 'node:test';
import { SMALL, drawText } from '../../../src/display/font.js';
import { Frame } from '../../../src/display/frame.js';
import { Ssd1306Display, type Ssd1306DisplayOptions } from '../../../src/display/ssd1306/index.js';
import { FakeClock } from '../../support/fake-clock.js';
import { Ssd1306Emulator, type Ssd1306EmulatorOptions } from '../../support/ssd1306-emulator.js';

import { captureLog } from '../../support/log-capture.js';

export { captureLog };

export interface Rig {
  emulator: Ssd1306Emulator;
  display: Ssd1306Display;
  lines: Array<Record<string, unknown>>;
  /** The driver's retry timers: `delays()` lists the waits asked for, `fireAll()` ends them. */
  timers: FakeClock;
  events(name: string): Array<Record<string, unknown>>;
  /** No protocol violation in the emulator and no display.error logged (the driver swallows faults). */
  assertHealthy(): void;
}

/** The real driver (and the real oled-i2c-bus) wired to an emulated controller. */
export function rig(
  driver: Partial<Omit<Ssd1306DisplayOptions, 'logger' | 'openBus' | 'timers'>> = {},
  emulatorOptions: Ssd1306EmulatorOptions = {},
): Rig {
  const height = driver.height ?? 64;
  const emulator = new Ssd1306Emulator({
    controller: driver.controller ?? 'ssd1306',
    height: height === 32 ? 32 : 64,
    ...emulatorOptions,
  });
  const { logger, lines } = captureLog();
  const timers = new FakeClock();
  const display = new Ssd1306Display({
    bus: 1,
    address: 0x3c,
    width: 128,
    height,
    controller: 'ssd1306',
    ...driver,
    logger,
    timers,
    openBus: async () => emulator,
  });
  const events = (name: string): Array<Record<string, unknown>> => lines.filter((l) => l.event === name);
  const assertHealthy = (): void => {
    emulator.assertNoViolations();
    const errors = events('display.error');
    if (errors.length > 0) throw new Error(`the driver logged display.error: ${JSON.stringify(errors)}`);
  };
  return { emulator, display, lines, timers, events, assertHealthy };
}

/** Seeded pseudo-random numbers (xorshift32), so patterns are the same on every run. */
export function random(seed = 1): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

export function checker(width = 128, height = 64): Frame {
  const frame = new Frame(width, height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) frame.set(x, y, (x + y) % 2 === 0);
  return frame;
}

export function border(width = 128, height = 64): Frame {
  return new Frame(width, height).strokeRect(0, 0, width, height);
}

/** Lines of random characters in the small font: uneven, text-like pixels everywhere. */
export function textish(width = 128, height = 64, seed = 7): Frame {
  const next = random(seed);
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789abcdefghijkmnopqrstuvwxyz:/.-';
  const frame = new Frame(width, height);
  for (let y = 0; y + SMALL.height <= height; y += SMALL.height) {
    let text = '';
    for (let i = 0; i < 22; i++) text += alphabet[Math.floor(next() * alphabet.length)];
    drawText(frame, text, Math.floor(next() * 4), y, SMALL);
  }
  return frame;
}

/** The pixels where two frames differ, as "x,y" strings (a readable failure message). */
export function differences(a: Frame, b: Frame, limit = 10): string[] {
  const out: string[] = [];
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      if (a.get(x, y) !== b.get(x, y)) out.push(`${x},${y}`);
      if (out.length >= limit) return out;
    }
  }
  return out;
}

export function countDifferences(a: Frame, b: Frame): number {
  let n = 0;
  for (let y = 0; y < a.height; y++) for (let x = 0; x < a.width; x++) if (a.get(x, y) !== b.get(x, y)) n++;
  return n;
}

/**
 * Rigs that are checked after each test: no protocol violation, no display.error (the driver
 * swallows faults, so a test would not see them otherwise).
 */
export function checkedRigs(): (...args: Parameters<typeof rig>) => Rig {
  const rigs: Rig[] = [];
  afterEach(() => {
    for (const created of rigs.splice(0)) created.assertHealthy();
  });
  return (...args) => {
    const created = rig(...args);
    rigs.push(created);
    return created;
  };
}

export function assertShows(visible: Frame, expected: Frame, what: string): void {
  assert.ok(visible.equals(expected), `${what}: the panel differs at ${differences(visible, expected).join(' ')}`);
}
