import path from 'node:path';
import type { Config } from '../config/schema.js';
import { DISPLAY, readSection } from '../config/settings.js';
import { MAX_CONFIG_BYTES, readRegularFile } from '../config/files.js';
import type { Logger } from '../log.js';
import type { Display } from '../display/display.js';
import { renderScreen } from '../display/screens.js';
import { createDisplay } from './displays.js';

/**
 * The first frame, before anything else: a person who plugs the device in should see "Starting"
 * at once, not after the schema library, the logger and the rest have loaded. So `run` reads only
 * the display section of the file (checked by the rules of config/settings.ts, plain data the
 * schema is built from, so zod stays out of the first frame), opens the display and draws; the
 * full configuration is validated after. If the validated display settings differ (or the file is
 * not valid), the agent opens its display the usual way.
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
  const settings = readDisplaySettings(configFile);
  // The panel only: a terminal display shares stdout with the log and the config's error report,
  // and a PNG file is written only where the validated configuration allows (config/paths.ts:
  // a pngPath naming the cache key would otherwise be overwritten before the check refuses it).
  if (!settings || settings.driver !== 'ssd1306') return undefined;
  delete settings.pngPath;
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

/** The settings the driver is opened with: all but the screen session's sleep timer. */
const OPENED_WITH = (Object.keys(DISPLAY) as Array<keyof DisplaySettings>).filter((k) => k !== 'sleepAfterSec');

/** True when the validated settings are the ones the early display was opened with. */
export function sameDisplay(a: DisplaySettings, b: DisplaySettings): boolean {
  return OPENED_WITH.every((k) => a[k] === b[k]);
}

/**
 * The display section of a configuration file with the defaults filled in and `pngPath` made
 * absolute, without loading the schema; undefined when the file cannot be read or a display
 * setting has a wrong value (the validation that follows says what is wrong). Unknown keys are
 * ignored, so a misspelt key elsewhere in the section does not keep the config problem off the panel.
 */
export function readDisplaySettings(configFile: string): DisplaySettings | undefined {
  let section: unknown;
  try {
    // Bounded like the full check (config/files.ts): /dev/zero or a FIFO named by --config must not hang the first frame.
    const raw = JSON.parse(readRegularFile(configFile, { maxBytes: MAX_CONFIG_BYTES }).data.toString('utf8')) as unknown;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
    section = (raw as { display?: unknown }).display;
  } catch {
    return undefined;
  }
  const settings = readSection(DISPLAY, section) as DisplaySettings | undefined;
  if (settings?.pngPath !== undefined) settings.pngPath = path.resolve(path.dirname(configFile), settings.pngPath);
  return settings;
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
