import type { Frame } from './frame.js';

/**
 * The display port. A driver turns finished frames into light (an SSD1306 over I2C) or into a
 * picture of light (the terminal, a PNG file). Drawing happens elsewhere: screens render the
 * agent's state into a {@link Frame}, and every driver shows that same frame.
 *
 * A constructor does nothing: `open()` claims the hardware, `close()` releases it.
 */
export interface Display {
  /** A short name for logs: "ssd1306", "terminal", "png". */
  readonly name: string;
  readonly width: number;
  readonly height: number;
  open(): Promise<void>;
  /** Shows a frame. Drivers may send only what changed since the last frame. */
  show(frame: Frame): Promise<void>;
  /** Panel on or off (burn-in protection). Off keeps the last frame for when it comes back. */
  setPower(on: boolean): Promise<void>;
  /** Releases the display. `blank: true` clears it first (the default on shutdown). */
  close(options?: { blank?: boolean }): Promise<void>;
}
