import type { ResolvedConfig } from '../config/index.js';
import type { Logger } from '../log.js';
import type { Display } from '../display/display.js';
import type { Frame } from '../display/frame.js';
import type { Ssd1306DisplayOptions } from '../display/ssd1306/index.js';
import type { I2cBusLike } from '../display/ssd1306/i2c.js';

// For the commands, which name a panel's address and test it on an emulated bus, but never load a driver.
export { hexAddress } from '../display/ssd1306/faults.js';
export type { I2cBusLike };

/** What a caller may change about the configured display (the commands, tests). */
export interface DisplayOptions {
  /** Where the terminal driver draws; stdout by default. */
  terminalOutput?: NodeJS.WritableStream | undefined;
  /** The terminal driver's caption. */
  terminalLabel?: string;
  /** How the SSD1306 driver opens its I2C bus (hw-test's tests: the emulator). */
  openBus?: (busNumber: number) => Promise<I2cBusLike>;
}

/**
 * The display a configuration asks for. Each driver is imported only when configured: the SSD1306
 * driver (native i2c-bus) so the demo, the tests and a laptop never load it, and the terminal and
 * PNG drivers so a Pi's first frame does not wait for what they load (node:crypto, fs/promises
 * and their streams: under the service's --lite-mode, Node compiles each from source).
 * `display.pngPath` mirrors every frame to a PNG file as well, whatever the main driver.
 */
export async function createDisplay(config: Pick<ResolvedConfig, 'display'>, logger: Logger, options: DisplayOptions = {}): Promise<Display> {
  const { terminalOutput } = options;
  const d = config.display;
  const log = logger.child({ component: 'display' });
  const size = { width: d.width, height: d.height };
  const displays: Display[] = [];
  switch (d.driver) {
    case 'terminal': {
      const { TerminalDisplay } = await import('../display/terminal.js');
      displays.push(new TerminalDisplay({ ...size, log, label: options.terminalLabel ?? `SSD1306 ${d.width}x${d.height} (simulated)`, ...(terminalOutput ? { output: terminalOutput } : {}) }));
      break;
    }
    case 'ssd1306': {
      const { createSsd1306Display } = await import('../display/ssd1306/index.js');
      displays.push(createSsd1306Display({ ...ssd1306Options(d, log), ...(options.openBus ? { openBus: options.openBus } : {}) }));
      break;
    }
    case 'png':
    case 'none':
    case 'auto': // resolved by the config loader; nothing to draw on otherwise
      break;
  }
  if (d.pngPath) {
    const { PngDisplay } = await import('../display/png.js');
    displays.push(new PngDisplay({ path: d.pngPath, ...size, scale: d.pngScale, log }));
  }
  if (displays.length === 0) return new NoDisplay(d.width, d.height);
  return displays.length === 1 ? displays[0]! : new MirroredDisplays(displays);
}

/**
 * `login`'s screens: the terminal (--show) and, when the agent is not using it, the configured
 * panel or PNG mirror. The terminal driver of the configuration is left out: `login` prints on
 * that terminal already.
 */
export async function createLoginDisplay(
  config: Pick<ResolvedConfig, 'display'>,
  logger: Logger,
  which: { terminal: NodeJS.WritableStream | undefined; panel: boolean },
): Promise<Display> {
  const d = config.display;
  const displays: Display[] = [];
  if (which.terminal) {
    displays.push(await createDisplay({ display: { ...d, driver: 'terminal', pngPath: undefined } }, logger, { terminalOutput: which.terminal, terminalLabel: `SSD1306 ${d.width}x${d.height}` }));
  }
  if (which.panel && (d.driver === 'ssd1306' || d.driver === 'png' || d.pngPath)) {
    try {
      displays.push(await createDisplay({ display: { ...d, driver: d.driver === 'terminal' ? 'none' : d.driver } }, logger));
    } catch (err) {
      logger.warn({ event: 'display.failed', error: (err as Error).message }, `the display is not available: ${(err as Error).message}`);
    }
  }
  if (displays.length === 0) return new NoDisplay(d.width, d.height);
  return displays.length === 1 ? displays[0]! : new MirroredDisplays(displays);
}

/** The SSD1306 driver's options from the display section (the agent and hw-test agree). */
export function ssd1306Options(d: ResolvedConfig['display'], logger: Logger): Ssd1306DisplayOptions {
  return {
    bus: d.bus,
    address: d.address,
    width: d.width,
    height: d.height,
    controller: d.controller,
    ...(d.contrast !== undefined ? { contrast: d.contrast } : {}),
    rotate180: d.rotate180,
    logger,
  };
}

/** For a box with no panel at all: the code is in the log (`device_code.issued`). */
export class NoDisplay implements Display {
  readonly name = 'none';
  constructor(readonly width: number, readonly height: number) {}
  async open(): Promise<void> {}
  async show(_frame: Frame): Promise<void> {}
  async setPower(_on: boolean): Promise<void> {}
  async close(): Promise<void> {}
}

/** One frame, several displays (the panel and its PNG mirror). A failing one does not stop the others. */
export class MirroredDisplays implements Display {
  readonly name: string;
  readonly width: number;
  readonly height: number;

  constructor(private readonly displays: Display[]) {
    this.name = displays.map((d) => d.name).join('+');
    this.width = displays[0]!.width;
    this.height = displays[0]!.height;
  }

  open(): Promise<void> {
    return this.all((d) => d.open());
  }
  show(frame: Frame): Promise<void> {
    return this.all((d) => d.show(frame));
  }
  setPower(on: boolean): Promise<void> {
    return this.all((d) => d.setPower(on));
  }
  close(options?: { blank?: boolean }): Promise<void> {
    return this.all((d) => d.close(options));
  }

  private async all(fn: (d: Display) => Promise<void>): Promise<void> {
    const results = await Promise.allSettled(this.displays.map(fn));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
