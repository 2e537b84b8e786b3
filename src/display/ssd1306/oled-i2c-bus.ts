import { createRequire } from 'node:module';
import type { I2cBusLike } from './i2c.js';

/** The options of oled-i2c-bus 1.0.12 that matter here (it publishes no type declarations). */
interface OledOptions {
  width: number;
  /** oled-i2c-bus defaults to 32: a 128×64 panel must say 64 or half of it stays dark. */
  height: number;
  address: number;
}

type OledConstructor = new (bus: I2cBusLike, options: OledOptions) => object;

const requireCommonJs = createRequire(import.meta.url);

/**
 * Initialises an SSD1306 with oled-i2c-bus, the known Node driver: its constructor sends the
 * datasheet's init sequence (display off, clock, multiplex for the height, charge pump on,
 * horizontal addressing, remap 0xA1 + COM scan 0xC8, COM pins, contrast, precharge, VCOMH,
 * display on) synchronously, one 2-byte `i2cWriteSync` per command, and throws at once when
 * nothing answers.
 *
 * That is all it is used for. Its `update()` and dirty-pixel updates are not: they run later in a
 * `setTimeout(0)` and write with `i2cWriteSync`, so the event loop blocks ~90 ms per frame at
 * 100 kHz and an I2C error is thrown inside a timer (an uncaught exception that ends the process);
 * they first read a "busy" byte that can fail the same way; and a dirty byte costs 7 transactions
 * and 14 bytes, so a dirty update loses to a full frame above ~74 bytes. Frames go through
 * `Ssd1306Display` instead: async writes of changed windows on the same bus handle.
 */
export function initialiseWithOledI2cBus(bus: I2cBusLike, options: OledOptions): void {
  const Oled = requireCommonJs('oled-i2c-bus') as OledConstructor;
  new Oled(bus, options);
}
