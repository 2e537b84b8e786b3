import type { Frame, FrameWindow } from '../frame.js';

/** Bytes on the bus (address bytes included) that updating a window costs on a controller. */
export type WindowCost = (window: FrameWindow) => number;

export function wholeWindow(frame: Frame): FrameWindow {
  return { x0: 0, x1: frame.width - 1, page0: 0, page1: frame.pages - 1 };
}

export function windowBytes(window: FrameWindow): number {
  return (window.x1 - window.x0 + 1) * (window.page1 - window.page0 + 1);
}

function union(a: FrameWindow, b: FrameWindow): FrameWindow {
  return {
    x0: Math.min(a.x0, b.x0),
    x1: Math.max(a.x1, b.x1),
    page0: Math.min(a.page0, b.page0),
    page1: Math.max(a.page1, b.page1),
  };
}

/**
 * The windows to send so the controller's RAM goes from `previous` to `next`, as cheap on the bus
 * as a simple search finds. One bounding box (Frame.changedWindow) is often wasteful: a countdown
 * ticking at the bottom left and a bar shrinking at the right would drag the whole middle of the
 * screen along. So:
 *
 * 1. each page's changed columns become runs; a gap is bridged when resending the unchanged bytes
 *    costs less than opening another window (a window costs ~10 bytes of commands and framing);
 * 2. windows are merged pairwise, the biggest saving first, while a merge costs no more than the
 *    two windows apart (stacked digits spanning two pages become one window);
 * 3. never more than the bounding box of all changes, or the whole frame.
 *
 * `previous` undefined means the RAM is unknown (start, after a fault): the whole frame.
 * Returns [] when nothing changed. Windows come top to bottom, left to right.
 */
export function planWindows(previous: Frame | undefined, next: Frame, cost: WindowCost): FrameWindow[] {
  const whole = wholeWindow(next);
  if (!previous || previous.width !== next.width || previous.height !== next.height) return [whole];

  const windows: FrameWindow[] = [];
  for (let page = 0; page < next.pages; page++) {
    let run: FrameWindow | undefined;
    const rowStart = page * next.width;
    for (let x = 0; x < next.width; x++) {
      if (next.buffer[rowStart + x] === previous.buffer[rowStart + x]) continue;
      const single = { x0: x, x1: x, page0: page, page1: page };
      if (run && cost({ ...run, x1: x }) <= cost(run) + cost(single)) {
        run.x1 = x;
      } else {
        if (run) windows.push(run);
        run = single;
      }
    }
    if (run) windows.push(run);
  }
  if (windows.length === 0) return [];

  const box = windows.reduce(union);
  mergeWhileCheaper(windows, cost);

  // Pairwise merging misses a merge that pays only for three or more windows at once (a digit
  // row over two pages beside a bar): the bounding box and the whole frame are candidates too.
  const total = windows.reduce((sum, w) => sum + cost(w), 0);
  const boxCost = cost(box);
  if (Math.min(total, boxCost) >= cost(whole)) return [whole];
  if (boxCost <= total) return [box];
  return windows.sort((a, b) => a.page0 - b.page0 || a.x0 - b.x0);
}

/** Greedy pairwise merging, in place. A few dozen windows at most after step 1. */
function mergeWhileCheaper(windows: FrameWindow[], cost: WindowCost): void {
  const costs = windows.map(cost);
  for (;;) {
    let best: { i: number; j: number; merged: FrameWindow; mergedCost: number } | undefined;
    let bestSaving = -1;
    for (let i = 0; i < windows.length; i++) {
      for (let j = i + 1; j < windows.length; j++) {
        const merged = union(windows[i]!, windows[j]!);
        const mergedCost = cost(merged);
        // >= 0: at equal bytes, fewer transactions.
        const saving = costs[i]! + costs[j]! - mergedCost;
        if (saving >= 0 && saving > bestSaving) {
          bestSaving = saving;
          best = { i, j, merged, mergedCost };
        }
      }
    }
    if (!best) return;
    windows[best.i] = best.merged;
    costs[best.i] = best.mergedCost;
    windows.splice(best.j, 1);
    costs.splice(best.j, 1);
  }
}
