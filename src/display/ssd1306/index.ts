import { Ssd1306Display, type Ssd1306DisplayOptions } from './ssd1306-display.js';

/** The SSD1306/SH1106 OLED driver over I2C: see hardware/display.md for wiring and faults. */
export { Ssd1306Display } from './ssd1306-display.js';
export type { Ssd1306DisplayOptions } from './ssd1306-display.js';
export type { ControllerKind } from './controllers.js';
export type { I2cBusLike } from './i2c.js';
export { openI2cBus } from './i2c.js';
export { describeFault, hexAddress } from './faults.js';
export type { DisplayFault } from './faults.js';
export { planWindows } from './windows.js';

/** The display the configuration asks for with `display.driver: "ssd1306"`. Does nothing until open(). */
export function createSsd1306Display(options: Ssd1306DisplayOptions): Ssd1306Display {
  return new Ssd1306Display(options);
}
