import type { Frame, FrameWindow } from '../frame.js';
import type { I2cBusLike } from './i2c.js';
import { initialiseWithOledI2cBus } from './oled-i2c-bus.js';

export type ControllerKind = 'ssd1306' | 'sh1106';

/** i2c-dev's `write()` clamps a transfer at 8,192 bytes (control byte included). */
export const I2C_DEV_MAX_WRITE = 8192;

/** Control bytes (SSD1306 datasheet §8.1.5.2; the SH1106 uses the same ones). */
const COMMAND_STREAM = 0x00;
const DATA_STREAM = 0x40;

export const DISPLAY_OFF = 0xae;
export const DISPLAY_ON = 0xaf;
const SET_CONTRAST = 0x81;
const SET_START_LINE_0 = 0x40;
const SEGMENT_REMAP_NORMAL = 0xa0; // column 0 → SEG0
const SEGMENT_REMAP_MIRRORED = 0xa1; // column 0 → the last SEG
const COM_SCAN_INCREMENT = 0xc0;
const COM_SCAN_DECREMENT = 0xc8;
const SET_COLUMN_WINDOW = 0x21; // SSD1306 only
const SET_PAGE_WINDOW = 0x22; // SSD1306 only
const SET_PAGE = 0xb0; // + page, page addressing
const SET_COLUMN_LOW = 0x00; // + low nibble, page addressing
const SET_COLUMN_HIGH = 0x10; // + high nibble, page addressing

/** Bytes a transaction costs on the wire besides its payload: the address byte. */
const ADDRESS_BYTE = 1;

export interface PanelSettings {
  width: number;
  height: 64 | 32;
  address: number;
  /** 0-255; the controller's init default when absent. */
  contrast?: number;
  /** The panel is mounted upside down: mirror columns (0xA0) and scan rows upwards (0xC0). */
  rotate180: boolean;
}

/** What differs between the SSD1306 and the SH1106: initialisation and how a window is addressed. */
export interface Controller {
  readonly kind: ControllerKind;
  /**
   * Initialises the controller. Runs any synchronous part at once (oled-i2c-bus; it throws when
   * nothing answers) and returns the writes that finish the job, to be sent in order. The panel is
   * left off: what the RAM holds after power-up is noise until the first frame is in.
   */
  initialise(bus: I2cBusLike, settings: PanelSettings): Buffer[];
  /** The writes that copy `window` of `frame` into the controller's RAM, commands before data. */
  windowWrites(frame: Frame, window: FrameWindow): Buffer[];
  /**
   * Bytes on the bus for `windowWrites(…, window)` when nothing is remembered: what the window
   * planner minimises. (Actual writes may be cheaper, see `forget`.)
   */
  cost(window: FrameWindow): number;
  /**
   * Forgets the controller registers it remembers between windows. Called whenever they may
   * have changed behind its back: after initialisation and after any failed write.
   */
  forget(): void;
}

/** A command stream: one transaction, control byte 0x00 then the command bytes. */
export function commandWrite(...bytes: number[]): Buffer {
  return Buffer.from([COMMAND_STREAM, ...bytes]);
}

/** Data writes of at most `maxWriteBytes` each; the RAM pointer carries on across them. */
function dataWrites(data: Uint8Array, maxWriteBytes: number): Buffer[] {
  const perWrite = maxWriteBytes - 1;
  const writes: Buffer[] = [];
  for (let start = 0; start < data.length; start += perWrite) {
    const chunk = data.subarray(start, start + perWrite);
    const write = Buffer.allocUnsafe(chunk.length + 1);
    write[0] = DATA_STREAM;
    write.set(chunk, 1);
    writes.push(write);
  }
  return writes;
}

function dataCost(bytes: number, maxWriteBytes: number): number {
  const writes = Math.ceil(bytes / (maxWriteBytes - 1));
  return bytes + writes * (1 + ADDRESS_BYTE);
}

function orientation(rotate180: boolean): number[] {
  return rotate180 ? [SEGMENT_REMAP_NORMAL, COM_SCAN_INCREMENT] : [SEGMENT_REMAP_MIRRORED, COM_SCAN_DECREMENT];
}

/**
 * The SSD1306: oled-i2c-bus initialises it (horizontal addressing), and a window is one command
 * write (`0x21 x0 x1 0x22 p0 p1`) and its data; the pointer wraps inside the window, row by row.
 *
 * The column and page windows are registers: they stay set, and once a window's last byte is
 * written the pointer has wrapped back to the window's first byte. So a register already holding
 * the right range is not sent again, and a window equal to the last one needs no command at all:
 * the countdown's last digit, redrawn every second, costs its data bytes and one control byte.
 */
export function ssd1306(maxWriteBytes = I2C_DEV_MAX_WRITE): Controller {
  /** The column and page ranges last set, each as "start,end"; undefined when unknown. */
  let columns: string | undefined;
  let pages: string | undefined;
  return {
    kind: 'ssd1306',
    initialise(bus, settings) {
      initialiseWithOledI2cBus(bus, { width: settings.width, height: settings.height, address: settings.address });
      // oled-i2c-bus ends with display on (showing power-up noise) and sends 0x00 where it means
      // "start line 0" (0x40; 0x00 is a page-mode column command): set both right.
      const extra = [DISPLAY_OFF, SET_START_LINE_0];
      if (settings.contrast !== undefined) extra.push(SET_CONTRAST, settings.contrast);
      if (settings.rotate180) extra.push(...orientation(true));
      return [commandWrite(...extra)];
    },
    windowWrites(frame, window) {
      const command: number[] = [];
      const wantColumns = `${window.x0},${window.x1}`;
      const wantPages = `${window.page0},${window.page1}`;
      if (columns !== wantColumns) command.push(SET_COLUMN_WINDOW, window.x0, window.x1);
      if (pages !== wantPages) command.push(SET_PAGE_WINDOW, window.page0, window.page1);
      columns = wantColumns;
      pages = wantPages;
      const data = dataWrites(frame.windowBytes(window), maxWriteBytes);
      return command.length > 0 ? [commandWrite(...command), ...data] : data;
    },
    cost(window) {
      const cols = window.x1 - window.x0 + 1;
      const rows = window.page1 - window.page0 + 1;
      return ADDRESS_BYTE + 7 + dataCost(cols * rows, maxWriteBytes);
    },
    forget() {
      columns = undefined;
      pages = undefined;
    },
  };
}

/** The SH1106's RAM is 132 columns wide; a 128-column panel shows columns 2..129. */
export const SH1106_COLUMN_OFFSET = 2;

/**
 * The SH1106 (most 1.3" modules sold as "SSD1306"): 132-column RAM, page addressing only, no
 * 0x20/0x21/0x22 and a DC-DC converter (0xAD) instead of the SSD1306's charge pump (0x8D). So it
 * gets its own init list, and a window goes page by page: `0xB0+p`, column low and high nibbles
 * (offset by 2), then that page's bytes.
 */
export function sh1106(maxWriteBytes = I2C_DEV_MAX_WRITE): Controller {
  return {
    kind: 'sh1106',
    initialise(_bus, settings) {
      return [
        commandWrite(
          DISPLAY_OFF,
          0xd5, 0x80, // display clock: divide ratio 1, default oscillator
          0xa8, settings.height - 1, // multiplex ratio
          0xd3, 0x00, // display offset 0
          SET_START_LINE_0,
          0xad, 0x8b, // DC-DC converter on (what powers the panel on these modules)
          0x32, // pump voltage 8.0 V (the reset value)
          ...orientation(settings.rotate180),
          0xda, settings.height === 64 ? 0x12 : 0x02, // COM pins: alternative for 64 rows, sequential for 32
          SET_CONTRAST, settings.contrast ?? 0x80,
          0xd9, 0x22, // pre-charge / discharge periods (the reset value)
          0xdb, 0x35, // VCOM deselect level (the reset value)
          0xa4, // show the RAM (not all pixels on)
          0xa6, // not inverted
        ),
      ];
    },
    windowWrites(frame, window) {
      const writes: Buffer[] = [];
      const column = window.x0 + SH1106_COLUMN_OFFSET;
      for (let page = window.page0; page <= window.page1; page++) {
        writes.push(commandWrite(SET_PAGE + page, SET_COLUMN_LOW | (column & 0x0f), SET_COLUMN_HIGH | (column >> 4)));
        writes.push(...dataWrites(frame.windowBytes({ ...window, page0: page, page1: page }), maxWriteBytes));
      }
      return writes;
    },
    cost(window) {
      const cols = window.x1 - window.x0 + 1;
      const pages = window.page1 - window.page0 + 1;
      return pages * (ADDRESS_BYTE + 4 + dataCost(cols, maxWriteBytes));
    },
    forget() {
      // Nothing remembered: page addressing sets page and column for every page it writes.
    },
  };
}

export function controllerFor(kind: ControllerKind, maxWriteBytes = I2C_DEV_MAX_WRITE): Controller {
  return kind === 'sh1106' ? sh1106(maxWriteBytes) : ssd1306(maxWriteBytes);
}
