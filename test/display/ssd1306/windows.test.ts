import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Frame, type FrameWindow } from '../../../src/display/frame.js';
import { sh1106, ssd1306 } from '../../../src/display/ssd1306/controllers.js';
import { planWindows } from '../../../src/display/ssd1306/windows.js';
import { random, textish } from './helpers.js';

const ssd = ssd1306();
const cost = (w: FrameWindow): number => ssd.cost(w);
const total = (windows: FrameWindow[], c = cost): number => windows.reduce((sum, w) => sum + c(w), 0);

/** Copies the planned windows of `next` over `previous`: what the controller's RAM becomes. */
function apply(previous: Frame, next: Frame, windows: FrameWindow[]): Frame {
  const ram = previous.clone();
  for (const w of windows) {
    for (let page = w.page0; page <= w.page1; page++) {
      for (let x = w.x0; x <= w.x1; x++) ram.buffer[page * ram.width + x] = next.buffer[page * next.width + x]!;
    }
  }
  return ram;
}

describe('planWindows', () => {
  it('sends the whole frame when the RAM is unknown, and nothing when nothing changed', () => {
    const frame = textish();
    assert.deepEqual(planWindows(undefined, frame, cost), [{ x0: 0, x1: 127, page0: 0, page1: 7 }]);
    assert.deepEqual(planWindows(frame.clone(), frame, cost), []);
  });

  it('keeps far-apart changes in one page as separate windows, and bridges a small gap', () => {
    const before = new Frame(128, 64);
    const after = before.clone().fillRect(0, 56, 6, 8).fillRect(120, 60, 2, 1);
    assert.deepEqual(planWindows(before, after, cost), [
      { x0: 0, x1: 5, page0: 7, page1: 7 },
      { x0: 120, x1: 121, page0: 7, page1: 7 },
    ]);
    const close = before.clone().fillRect(0, 56, 6, 8).fillRect(12, 56, 6, 8); // 6 columns apart
    assert.deepEqual(planWindows(before, close, cost), [{ x0: 0, x1: 17, page0: 7, page1: 7 }]);
  });

  it('merges a change over two pages into one window on the SSD1306, but not on the SH1106', () => {
    const before = new Frame(128, 64);
    const after = before.clone().fillRect(40, 12, 8, 12); // rows 12..23: pages 1 and 2
    assert.deepEqual(planWindows(before, after, cost), [{ x0: 40, x1: 47, page0: 1, page1: 2 }]);
    const sh = sh1106();
    const windows = planWindows(before, after, (w) => sh.cost(w));
    assert.equal(total(windows, (w) => sh.cost(w)), 2 * (5 + 2 + 8));
  });

  it('beats one bounding box, never costs more than the whole frame, and always reproduces the frame', () => {
    const next = random(42);
    for (let round = 0; round < 200; round++) {
      const before = textish(128, 64, round + 1);
      const after = before.clone();
      const changes = 1 + Math.floor(next() * (round % 10 === 0 ? 60 : 4));
      for (let i = 0; i < changes; i++) {
        after.fillRect(Math.floor(next() * 128), Math.floor(next() * 64), 1 + Math.floor(next() * 12), 1 + Math.floor(next() * 12), next() < 0.5);
      }
      const windows = planWindows(before, after, cost);
      assert.ok(apply(before, after, windows).equals(after), `round ${round}: the windows miss a change`);
      const box = after.changedWindow(before);
      if (box) assert.ok(total(windows) <= cost(box), `round ${round}: ${total(windows)} > bounding box ${cost(box)}`);
      assert.ok(total(windows) <= cost({ x0: 0, x1: 127, page0: 0, page1: 7 }), `round ${round}: more than a full frame`);
    }
  });
});
