import { PNG } from 'pngjs';
import { renderScreen, warmUpScreens } from '../../../src/display/screens.js';
import { frameToPng, OLED_STYLE } from '../../../src/display/png.js';
import { median } from './processes.js';
import { CODE, SIZE, T0 } from './display.js';

/**
 * What a PNG frame costs the event loop (issue 14): the PNG driver encodes each frame on the
 * event loop before its asynchronous write, so the encode is the stall. The frames are the
 * device-code screen's countdown ticks (each one differs), at the OLED look's scale 4, in this
 * process, which runs with the service's flags (--lite-mode). The baseline encodes the same
 * picture, already as RGBA, with pngjs: the per-pixel packer the driver used before.
 */

export interface PngFigures {
  /** Encode time of each countdown frame, ms. */
  frameMs: number[];
  /** The same pictures through pngjs's encoder alone, ms (fewer runs: it is slow under lite mode). */
  pngjsMs: number[];
  bytes: number;
  width: number;
  height: number;
}

export function measurePngFrames(runs: number, baselineRuns: number): PngFigures {
  warmUpScreens();
  const frames = Array.from({ length: runs }, (_, s) => renderScreen(CODE, T0 + (s + 1) * 1000, SIZE));
  const frameMs: number[] = [];
  let last: Buffer = Buffer.alloc(0);
  for (const frame of frames) {
    const t0 = performance.now();
    last = frameToPng(frame, OLED_STYLE);
    frameMs.push(performance.now() - t0);
  }
  const decoded = PNG.sync.read(last);
  const pngjsMs: number[] = [];
  for (let i = 0; i < baselineRuns; i++) {
    const t0 = performance.now();
    PNG.sync.write(decoded);
    pngjsMs.push(performance.now() - t0);
  }
  return { frameMs, pngjsMs, bytes: last.length, width: decoded.width, height: decoded.height };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const f = measurePngFrames(60, 5);
  process.stdout.write(`PNG frame ${f.width}x${f.height}: median ${median(f.frameMs).toFixed(1)} ms, max ${Math.max(...f.frameMs).toFixed(1)} ms; pngjs ${median(f.pngjsMs).toFixed(1)} ms\n`);
}
