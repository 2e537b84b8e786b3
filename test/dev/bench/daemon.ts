/**
 * The bench's child: `graph-device-agent run` as cli.ts does it (the first frame from the display section, then
 * the configuration and commands/run.ts), with one difference: the display is the real SSD1306 driver on
 * the SSD1306 emulator instead of a real I2C bus, so the bench sees when the first frame is lit.
 *
 * argv: <config file>. env: BENCH_BUS_BYTES_PER_SECOND (0 or absent: writes complete at once;
 * 11111 ≈ a 100 kHz bus, 9 clocks a byte); BENCH_INPUT_ROOT (a fake input tree, test/support/fake-input.ts:
 * the evdev button reads its /dev/input/eventN, a FIFO, as it reads a gpio-keys device on a Pi).
 *
 * Writes `BENCH {"event":"first-frame"}` on stderr when the panel first shows a whole frame. The
 * agent's JSON log goes to stdout as usual. Runs only as built JS (see build.ts), never under tsx.
 */
import { writeSync } from 'node:fs';
import { ConfigError, EXIT_CONFIG } from '../../../src/config/errors.js';
import { findConfigFile } from '../../../src/config/locate.js';
import { openEarlyDisplay } from '../../../src/app/early-display.js';
import { Ssd1306Display } from '../../../src/display/ssd1306/index.js';
import { Ssd1306Emulator } from '../../support/ssd1306-emulator.js';

const FULL_FRAME_DATA_BYTES = 1024;

function mark(event: string, fields: Record<string, unknown> = {}): void {
  writeSync(2, `BENCH ${JSON.stringify({ event, ...fields })}\n`);
}

async function main(): Promise<number> {
  const bytesPerSecond = Number(process.env.BENCH_BUS_BYTES_PER_SECOND ?? 0);
  let lit = false;
  const emulator: Ssd1306Emulator = new Ssd1306Emulator({
    ...(bytesPerSecond > 0 ? { bytesPerSecond } : {}),
    onTransaction: () => {
      if (!lit && emulator.displayOn && emulator.stats.dataBytes >= FULL_FRAME_DATA_BYTES) {
        lit = true;
        mark('first-frame');
      }
    },
  });
  // As cli.ts does for `run`: the first frame from the display section alone, then the rest.
  const file = findConfigFile(process.argv[2]);
  const early = await openEarlyDisplay(file, {
    make: async (settings, logger) => new Ssd1306Display({
      bus: settings.bus, address: settings.address, width: settings.width, height: settings.height, controller: settings.controller,
      logger, openBus: async () => emulator,
    }),
  });
  if (!early) throw new Error('the bench config must name an ssd1306 display');
  const { loadConfigInChild } = await import('../../../src/config/load-in-child.js');
  let config;
  try {
    config = await loadConfigInChild(file);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.report()}\n`);
      return EXIT_CONFIG;
    }
    throw err;
  }
  const { runDaemon } = await import('../../../src/commands/run.js');
  const inputRoot = process.env.BENCH_INPUT_ROOT;
  if (!inputRoot) return runDaemon(config, { early });
  const { EvdevButton } = await import('../../../src/button/evdev.js');
  const { createLogger } = await import('../../../src/log.js');
  // One logger for the agent and the button, as the daemon has (a second pino would cost memory).
  const logger = createLogger({ level: config.log.level });
  const b = config.button;
  const evdev = new EvdevButton({
    deviceName: b.evdevName, keycode: b.evdevKeycode, bounceTimeMs: b.bounceTimeMs, holdTimeMs: b.holdTimeMs,
    sysfsRoot: `${inputRoot}/sys/class/input`, devRoot: `${inputRoot}/dev`,
    logger: logger.child({ component: 'button' }),
  });
  return runDaemon(config, { early, logger, overrides: { extraButton: evdev } });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench daemon: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
