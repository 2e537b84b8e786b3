import { monitorEventLoopDelay } from 'node:perf_hooks';
import { renderScreen, warmUpScreens, type Screen } from '../../../src/display/screens.js';
import type { Frame } from '../../../src/display/frame.js';
import { Ssd1306Display } from '../../../src/display/ssd1306/index.js';
import { controllerFor } from '../../../src/display/ssd1306/controllers.js';
import { wholeWindow } from '../../../src/display/ssd1306/windows.js';
import { silentLogger } from '../../../src/log.js';
import { Ssd1306Emulator } from '../../support/ssd1306-emulator.js';
import { median } from './processes.js';

/**
 * Bytes on the I2C bus per screen change, and the longest event-loop stall while a frame is drawn:
 * the real screens, the real SSD1306 driver, the SSD1306 emulator counting every byte on the wire.
 */

/** The device-code screen the bench draws (and bench/png.ts encodes). */
export const SIZE = { width: 128, height: 64 };
export const T0 = Date.UTC(2025, 2, 14, 9, 15, 0);
export const CODE: Extract<Screen, { kind: 'device-code' }> = {
  kind: 'device-code',
  userCode: 'Q6GR3KMGL',
  verificationUri: 'https://microsoft.com/devicelogin',
  issuedAt: T0,
  expiresAt: T0 + 15 * 60_000,
};
const SIGNED_IN: Screen = { kind: 'signed-in', name: 'Adele Vance', lines: [], online: true };
const GETTING_CODE: Screen = { kind: 'starting', detail: 'Getting a sign-in code' };

export interface ChangeBytes {
  /** Bytes on the wire for this change (address bytes included), as the driver sent them. */
  sent: number;
  /** The same change as one bounding box around every changed pixel. */
  boundingBox: number;
  /** The whole frame. */
  fullFrame: number;
}

export interface BusFigures {
  firstCode: ChangeBytes;
  /** Every countdown tick of a minute (60 of them), and their median. */
  ticks: ChangeBytes[];
  tickMedian: ChangeBytes;
  tickMax: number;
  toSignedIn: ChangeBytes;
}

function rig(bytesPerSecond?: number): { emulator: Ssd1306Emulator; display: Ssd1306Display } {
  const emulator = new Ssd1306Emulator(bytesPerSecond ? { bytesPerSecond } : {});
  const display = new Ssd1306Display({
    bus: 1, address: 0x3c, width: 128, height: 64, controller: 'ssd1306', logger: silentLogger(), openBus: async () => emulator,
  });
  return { emulator, display };
}

export async function measureBusBytes(): Promise<BusFigures> {
  const cost = controllerFor('ssd1306').cost;
  const { emulator, display } = rig();
  await display.open();
  let previous: Frame | undefined;
  const change = async (frame: Frame): Promise<ChangeBytes> => {
    emulator.resetStats();
    await display.show(frame);
    await display.idle();
    const box = frame.changedWindow(previous);
    const result = { sent: emulator.stats.wireBytes, boundingBox: box ? cost(box) : 0, fullFrame: cost(wholeWindow(frame)) };
    previous = frame;
    return result;
  };
  await change(renderScreen(GETTING_CODE, T0, SIZE));
  const firstCode = await change(renderScreen(CODE, T0, SIZE));
  const ticks: ChangeBytes[] = [];
  for (let s = 1; s <= 60; s++) ticks.push(await change(renderScreen(CODE, T0 + s * 1000, SIZE)));
  const toSignedIn = await change(renderScreen(SIGNED_IN, T0 + 61_000, SIZE));
  await display.close({ blank: false });
  const pick = (k: keyof ChangeBytes): number => median(ticks.map((t) => t[k]));
  return {
    firstCode,
    ticks,
    tickMedian: { sent: pick('sent'), boundingBox: pick('boundingBox'), fullFrame: pick('fullFrame') },
    tickMax: Math.max(...ticks.map((t) => t.sent)),
    toSignedIn,
  };
}

/**
 * The longest event-loop stall while the device-code screen (the heaviest: a QR code) is drawn
 * and sent as a whole frame over an emulated 100 kHz bus, in ms; one figure per run. The first run
 * of a process is the cold one (modules warming up), as at a device's first code.
 */
export async function measureFrameStalls(runs: number): Promise<number[]> {
  const stalls: number[] = [];
  // As the agent does right after its first frame, before any code can be shown.
  warmUpScreens();
  for (let run = 0; run < runs; run++) {
    const { display } = rig(11_111);
    await display.open();
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
    // The histogram measures the gaps between its own 1 ms ticks: let it tick first, or a stall
    // right after enable() is not seen.
    await new Promise((resolve) => setTimeout(resolve, 10));
    // A different time each run, so nothing is reused from the previous frame.
    const frame = renderScreen({ ...CODE, expiresAt: CODE.expiresAt + run * 7_000 }, T0 + run * 1_000, SIZE);
    await display.show(frame);
    await display.idle();
    await new Promise((resolve) => setTimeout(resolve, 5));
    histogram.disable();
    stalls.push(histogram.max / 1e6);
    await display.close({ blank: false });
  }
  return stalls;
}
