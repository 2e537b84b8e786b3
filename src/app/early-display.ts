import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Display } from '../display/display.js';
import { renderScreen } from '../display/screens.js';
import { createDisplay } from './displays.js';

/**
 * The first frame, before anything else: a person who plugs the device in should see "Starting"
 * at once, not after the schema library, the logger and the rest have loaded. So `run` reads only
 * the display section of the file (checked by hand here, against the schema's defaults), opens
 * the display and draws; the full configuration is validated after. If the validated display
 * settings differ (or the file is not valid), the agent opens its display the usual way.
 */

export type DisplaySettings = Config['display'];

export interface EarlyDisplay {
  display: Display;
  settings: DisplaySettings;
  /** Where the display's log lines go once the real logger exists; kept until then. */
  logger: DeferredLogger;
}

export interface EarlyDisplayOptions {
  /** Makes the display from its settings; the configured driver by default (the bench passes an emulated bus). */
  make?: (settings: DisplaySettings, logger: Logger) => Promise<Display>;
}

export async function openEarlyDisplay(configFile: string, options: EarlyDisplayOptions = {}): Promise<EarlyDisplay | undefined> {
  let settings: DisplaySettings | undefined;
  try {
    const raw = JSON.parse(readFileSync(configFile, 'utf8')) as { display?: unknown };
    settings = displaySettings(raw.display, path.dirname(configFile));
  } catch {
    return undefined; // the validation that follows says what is wrong
  }
  // The panel and the PNG only: a terminal display shares stdout with the log and the config's
  // error report, so it waits for the validated configuration.
  if (!settings || (settings.driver !== 'ssd1306' && settings.driver !== 'png' && !settings.pngPath)) return undefined;
  const logger = new DeferredLogger();
  try {
    const display = options.make ? await options.make(settings, logger.asLogger()) : await createDisplay({ display: settings }, logger.asLogger());
    await display.open();
    await display.show(renderScreen({ kind: 'starting' }, Date.now(), { width: display.width, height: display.height }));
    return { display, settings, logger };
  } catch {
    return undefined;
  }
}

/** True when the validated settings are the ones the early display was opened with. */
export function sameDisplay(a: DisplaySettings, b: DisplaySettings): boolean {
  const keys: Array<keyof DisplaySettings> = ['driver', 'width', 'height', 'pngPath', 'pngScale', 'bus', 'address', 'controller', 'contrast', 'rotate180'];
  return keys.every((k) => a[k] === b[k]);
}

const DRIVERS = ['auto', 'ssd1306', 'terminal', 'png', 'none'] as const;

/** The display section with the schema's defaults, or undefined when anything in it looks off. */
function displaySettings(section: unknown, base: string): DisplaySettings | undefined {
  const d = (section ?? {}) as Record<string, unknown>;
  if (typeof d !== 'object' || Array.isArray(d)) return undefined;
  const int = (v: unknown, fallback: number, ok: (n: number) => boolean): number | undefined =>
    v === undefined ? fallback : typeof v === 'number' && Number.isInteger(v) && ok(v) ? v : undefined;
  const driver = d.driver ?? 'auto';
  const height = d.height ?? 64;
  const width = d.width ?? 128;
  const bus = int(d.bus, 1, (n) => n >= 0 && n <= 99);
  const address = int(d.address, 0x3c, (n) => n >= 0x03 && n <= 0x77);
  const pngScale = int(d.pngScale, 4, (n) => n >= 1 && n <= 16);
  const controller = d.controller ?? 'ssd1306';
  if (!DRIVERS.includes(driver as (typeof DRIVERS)[number]) || width !== 128 || (height !== 64 && height !== 32)) return undefined;
  if (bus === undefined || address === undefined || pngScale === undefined) return undefined;
  if (controller !== 'ssd1306' && controller !== 'sh1106') return undefined;
  if (d.pngPath !== undefined && typeof d.pngPath !== 'string') return undefined;
  if (d.contrast !== undefined && int(d.contrast, 0, (n) => n >= 0 && n <= 255) === undefined) return undefined;
  if (d.rotate180 !== undefined && typeof d.rotate180 !== 'boolean') return undefined;
  return {
    driver: driver as DisplaySettings['driver'],
    width: 128,
    height: height as 64 | 32,
    bus,
    address,
    pngScale,
    controller,
    rotate180: (d.rotate180 as boolean | undefined) ?? false,
    sleepAfterSec: typeof d.sleepAfterSec === 'number' ? d.sleepAfterSec : 300,
    ...(typeof d.pngPath === 'string' ? { pngPath: path.resolve(base, d.pngPath) } : {}),
    ...(typeof d.contrast === 'number' ? { contrast: d.contrast } : {}),
  };
}

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
const LEVELS: Level[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/**
 * A logger for the display before pino is loaded: it keeps what is logged (a display fault at
 * start, say) and hands it to the real logger when that exists. Only what the drivers use.
 */
export class DeferredLogger {
  private target: Logger | undefined;
  private readonly pending: Array<{ bindings: object[]; level: Level; args: unknown[] }> = [];

  attach(logger: Logger): void {
    this.target = logger;
    for (const entry of this.pending.splice(0)) this.emit(entry.bindings, entry.level, entry.args);
  }

  asLogger(bindings: object[] = []): Logger {
    const logger: Record<string, unknown> = {
      child: (more: object) => this.asLogger([...bindings, more]),
      isLevelEnabled: () => true,
    };
    for (const level of LEVELS) {
      logger[level] = (...args: unknown[]) => {
        if (this.target) this.emit(bindings, level, args);
        else this.pending.push({ bindings, level, args });
      };
    }
    return logger as unknown as Logger;
  }

  private emit(bindings: object[], level: Level, args: unknown[]): void {
    let logger = this.target!;
    for (const b of bindings) logger = logger.child(b as Record<string, unknown>);
    (logger[level] as (...a: unknown[]) => void)(...args);
  }
}
