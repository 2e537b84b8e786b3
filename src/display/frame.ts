/**
 * A 1-bit framebuffer stored the way an SSD1306 wants it: the screen is cut into pages of 8
 * rows, each page is `width` bytes, and each byte is a column of 8 pixels with the LSB at the
 * top. A driver sends `buffer` (or a window of it) as is, and comparing two frames is a byte
 * compare, so finding what changed costs next to nothing.
 *
 * Drawing clips: pixels outside the frame are ignored, so layouts never throw for a pixel off the
 * edge (the tests catch layouts that lose content instead).
 */
export class Frame {
  readonly width: number;
  readonly height: number;
  /** Number of 8-row pages: `height / 8`. */
  readonly pages: number;
  /** `pages × width` bytes; byte `page * width + x` holds rows `page*8 .. page*8+7` of column x. */
  readonly buffer: Uint8Array;

  constructor(width: number, height: number, buffer?: Uint8Array) {
    if (!Number.isInteger(width) || width <= 0) throw new RangeError(`frame width must be a positive integer, got ${width}`);
    if (!Number.isInteger(height) || height <= 0 || height % 8 !== 0) {
      throw new RangeError(`frame height must be a positive multiple of 8 (whole pages), got ${height}`);
    }
    this.width = width;
    this.height = height;
    this.pages = height / 8;
    const size = width * this.pages;
    if (buffer && buffer.length !== size) {
      throw new RangeError(`a ${width}x${height} frame needs ${size} bytes, got ${buffer.length}`);
    }
    this.buffer = buffer ?? new Uint8Array(size);
  }

  /** Builds a frame from text rows: `#` (or any character but `.` and space) is a lit pixel. */
  static fromRows(rows: readonly string[], width?: number): Frame {
    const w = width ?? Math.max(0, ...rows.map((r) => r.length));
    const frame = new Frame(w, Math.ceil(rows.length / 8) * 8 || 8);
    rows.forEach((row, y) => {
      for (let x = 0; x < row.length; x++) {
        const ch = row[x];
        if (ch !== '.' && ch !== ' ') frame.set(x, y);
      }
    });
    return frame;
  }

  /** Whether the pixel is lit; pixels outside the frame are dark. */
  get(x: number, y: number): boolean {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return false;
    return ((this.buffer[(y >> 3) * this.width + x] ?? 0) >> (y & 7) & 1) === 1;
  }

  set(x: number, y: number, on = true): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    if (!Number.isInteger(x) || !Number.isInteger(y)) return;
    const i = (y >> 3) * this.width + x;
    const bit = 1 << (y & 7);
    const byte = this.buffer[i] ?? 0;
    this.buffer[i] = on ? byte | bit : byte & ~bit;
  }

  /** Every pixel dark (or lit). */
  clear(on = false): this {
    this.buffer.fill(on ? 0xff : 0x00);
    return this;
  }

  fillRect(x: number, y: number, width: number, height: number, on = true): this {
    const x0 = Math.max(0, x);
    const y0 = Math.max(0, y);
    const x1 = Math.min(this.width, x + width);
    const y1 = Math.min(this.height, y + height);
    for (let yy = y0; yy < y1; yy++) {
      for (let xx = x0; xx < x1; xx++) this.set(xx, yy, on);
    }
    return this;
  }

  /** A one-pixel outline of a rectangle. */
  strokeRect(x: number, y: number, width: number, height: number, on = true): this {
    if (width <= 0 || height <= 0) return this;
    this.fillRect(x, y, width, 1, on);
    this.fillRect(x, y + height - 1, width, 1, on);
    this.fillRect(x, y, 1, height, on);
    this.fillRect(x + width - 1, y, 1, height, on);
    return this;
  }

  /** Copies every pixel of `source` (lit and dark) with its top-left corner at (x, y). */
  drawFrame(source: Frame, x: number, y: number): this {
    for (let sy = 0; sy < source.height; sy++) {
      for (let sx = 0; sx < source.width; sx++) this.set(x + sx, y + sy, source.get(sx, sy));
    }
    return this;
  }

  equals(other: Frame): boolean {
    if (other.width !== this.width || other.height !== this.height) return false;
    for (let i = 0; i < this.buffer.length; i++) {
      if (this.buffer[i] !== other.buffer[i]) return false;
    }
    return true;
  }

  clone(): Frame {
    return new Frame(this.width, this.height, this.buffer.slice());
  }

  /** Number of lit pixels (burn-in budgets, tests). */
  litCount(): number {
    let n = 0;
    for (const byte of this.buffer) {
      let b = byte;
      while (b) {
        n += b & 1;
        b >>= 1;
      }
    }
    return n;
  }

  /**
   * The smallest window of columns and pages that differs from `previous` (the SSD1306's
   * addressing unit), or null when nothing changed. A frame of another size differs everywhere.
   */
  changedWindow(previous: Frame | undefined): FrameWindow | null {
    const whole = { x0: 0, x1: this.width - 1, page0: 0, page1: this.pages - 1 };
    if (!previous || previous.width !== this.width || previous.height !== this.height) return whole;
    let x0 = Infinity, x1 = -1, page0 = Infinity, page1 = -1;
    for (let page = 0; page < this.pages; page++) {
      for (let x = 0; x < this.width; x++) {
        const i = page * this.width + x;
        if (this.buffer[i] !== previous.buffer[i]) {
          if (x < x0) x0 = x;
          if (x > x1) x1 = x;
          if (page < page0) page0 = page;
          page1 = page;
        }
      }
    }
    return x1 < 0 ? null : { x0, x1, page0, page1 };
  }

  /** The bytes of a window, page by page, in the order the SSD1306 takes them. */
  windowBytes(window: FrameWindow): Uint8Array {
    const cols = window.x1 - window.x0 + 1;
    const out = new Uint8Array(cols * (window.page1 - window.page0 + 1));
    for (let page = window.page0; page <= window.page1; page++) {
      const start = page * this.width + window.x0;
      out.set(this.buffer.subarray(start, start + cols), (page - window.page0) * cols);
    }
    return out;
  }

  /** The pixels as text rows, one string per row (`#` lit, `.` dark by default). */
  toRows(lit = '#', dark = '.'): string[] {
    const rows: string[] = [];
    for (let y = 0; y < this.height; y++) {
      let row = '';
      for (let x = 0; x < this.width; x++) row += this.get(x, y) ? lit : dark;
      rows.push(row);
    }
    return rows;
  }
}

/** A rectangle in SSD1306 units: columns x0..x1 and pages page0..page1, inclusive. */
export interface FrameWindow {
  x0: number;
  x1: number;
  page0: number;
  page1: number;
}

/** The sizes the layouts know; anything else is drawn with the nearest layout. */
export interface FrameSize {
  width: number;
  height: number;
}
