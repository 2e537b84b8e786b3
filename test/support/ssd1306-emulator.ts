import { Frame } from '../../src/display/frame.js';

/**
 * An SSD1306 or SH1106 OLED controller on an I2C bus, with `i2c-bus`'s API: what the driver and
 * oled-i2c-bus write is decoded byte by byte (control bytes, commands and their arguments, data
 * into the display RAM with the controller's pointer rules), and `visibleFrame()` shows what a
 * person would see on the panel.
 *
 * It is strict: a control byte, command byte or argument it does not know is a protocol
 * violation. The write throws (so a sync caller fails at once) AND the violation is kept in
 * `violations`, because the driver under test catches I2C errors by design: tests call
 * `assertNoViolations()`.
 *
 * Modelled from the SSD1306 datasheet (rev 1.1, §8-10) and the SH1106 datasheet (v2.3); where the
 * silicon's behaviour is not documented (SH1106 pointer past column 131, COM wiring mismatches) it
 * is a plausible model, said so where it is done.
 */

export type EmulatedController = 'ssd1306' | 'sh1106';
/** The errno names i2c-bus's file operations fail with. */
export type I2cErrorCode = 'ENXIO' | 'EREMOTEIO' | 'EIO' | 'ETIMEDOUT' | 'ENOENT' | 'EACCES' | 'EBUSY';

export interface Ssd1306EmulatorOptions {
  controller?: EmulatedController;
  /** Panel size: 128×64 or 128×32. */
  width?: number;
  height?: 64 | 32;
  /** The address the module answers at; writes to any other address fail with EREMOTEIO. */
  address?: number;
  /** Nothing connected: every access fails (with this code; EREMOTEIO for `true`). */
  absent?: boolean | I2cErrorCode;
  /** Models bus time: async writes complete after (bytes + 1) / bytesPerSecond. 100 kHz ≈ 11,000. */
  bytesPerSecond?: number;
  /**
   * SH1106 only: what to do with SSD1306-only opcodes (0x20, 0x21, 0x22, 0x8D, scrolling). `throw`
   * (default) treats them as violations; `ignore` does what the silicon does: nothing, after which
   * their argument bytes are decoded as commands of their own (the garbage an SSD1306 driver makes
   * on an SH1106).
   */
  foreignCommands?: 'throw' | 'ignore';
  /** i2c-dev's write() clamp: longer writes are cut and report fewer bytes written. */
  maxWriteBytes?: number;
  /** Seed of the power-on RAM noise. */
  seed?: number;
  /** Called after every write transaction has been decoded (snapshots in tests). */
  onTransaction?: (bytes: Uint8Array) => void;
}

export interface EmulatorStats {
  /** Write and read transactions. */
  transactions: number;
  writes: number;
  /** Writes through i2cWriteSync (they block the event loop: init only). */
  syncWrites: number;
  reads: number;
  /** Bytes written, control bytes included (the address byte is not: see wireBytes). */
  bytes: number;
  /** Bytes on the wire: `bytes` plus one address byte per transaction. */
  wireBytes: number;
  /** Bytes that landed in display RAM. */
  dataBytes: number;
  /** Command and argument bytes decoded. */
  commandBytes: number;
  largestWrite: number;
  /** The most async writes outstanding at once: 1 when the driver serializes. */
  maxInFlight: number;
}

const ERRNO: Record<I2cErrorCode, { errno: number; text: string }> = {
  ENXIO: { errno: -6, text: 'no such device or address' },
  EREMOTEIO: { errno: -121, text: 'remote I/O error' },
  EIO: { errno: -5, text: 'i/o error' },
  ETIMEDOUT: { errno: -110, text: 'connection timed out' },
  ENOENT: { errno: -2, text: 'no such file or directory' },
  EACCES: { errno: -13, text: 'permission denied' },
  EBUSY: { errno: -16, text: 'resource busy or locked' },
};

/** An error shaped like the ones Node's fs (under i2c-bus) raises. */
export function i2cError(code: I2cErrorCode, syscall = 'write'): NodeJS.ErrnoException {
  const { errno, text } = ERRNO[code];
  return Object.assign(new Error(`${code}: ${text}, ${syscall}`), { code, errno, syscall });
}

/** A frame turned upside down: what a person sees of a panel mounted the other way round. */
export function rotateFrame180(frame: Frame): Frame {
  const out = new Frame(frame.width, frame.height);
  for (let y = 0; y < frame.height; y++) {
    for (let x = 0; x < frame.width; x++) out.set(frame.width - 1 - x, frame.height - 1 - y, frame.get(x, y));
  }
  return out;
}

interface CommandSpec {
  name: string;
  args: number;
  apply: (args: number[]) => void;
}

const RAM_PAGES = 8;
const RAM_ROWS = 64;

export class Ssd1306Emulator {
  readonly controller: EmulatedController;
  readonly width: number;
  readonly height: number;
  /** 128 columns (SSD1306) or 132 (SH1106). */
  readonly ramColumns: number;
  /** Display RAM: 8 pages of `ramColumns` bytes, LSB the top row of the page. */
  readonly ram: Uint8Array;
  address: number;
  readonly violations: string[] = [];
  /** Decoded commands, e.g. `multiplex 63`, `column window 0..127` (cleared by resetStats). */
  readonly commandLog: string[] = [];
  stats: EmulatorStats = emptyStats();
  /** How many times the driver closed its handle. */
  closes = 0;

  // Controller registers, as after a power-on reset.
  displayOn = false;
  contrast = 0x7f;
  segmentRemap = false;
  comScanReverse = false;
  inverted = false;
  entireOn = false;
  multiplex = 64;
  startLine = 0;
  displayOffset = 0;
  comAlternative = true;
  chargePump = false;
  addressing: 'horizontal' | 'vertical' | 'page' = 'page';
  scrolling = false;
  private columnStart = 0;
  private columnEnd = 127;
  private pageStart = 0;
  private pageEnd = 7;
  private column = 0;
  private page = 0;
  private pending: { spec: CommandSpec; args: number[] } | undefined;

  private fault: I2cErrorCode | undefined;
  private writesBeforeUnplug: number | undefined;
  private unplugCode: I2cErrorCode = 'EREMOTEIO';
  private readonly bytesPerSecond: number | undefined;
  private readonly foreignCommands: 'throw' | 'ignore';
  private readonly maxWriteBytes: number;
  private readonly onTransaction: ((bytes: Uint8Array) => void) | undefined;
  private seed: number;
  private inFlight = 0;
  private held: Array<() => void> | undefined;

  constructor(options: Ssd1306EmulatorOptions = {}) {
    this.controller = options.controller ?? 'ssd1306';
    this.width = options.width ?? 128;
    this.height = options.height ?? 64;
    if (this.width !== 128) throw new RangeError('the emulator models 128-column panels');
    this.address = options.address ?? 0x3c;
    this.ramColumns = this.controller === 'sh1106' ? 132 : 128;
    this.ram = new Uint8Array(this.ramColumns * RAM_PAGES);
    this.bytesPerSecond = options.bytesPerSecond;
    this.foreignCommands = options.foreignCommands ?? 'throw';
    this.maxWriteBytes = options.maxWriteBytes ?? 8192;
    this.onTransaction = options.onTransaction;
    this.seed = options.seed ?? 0x5eed;
    if (options.absent) this.fault = options.absent === true ? 'EREMOTEIO' : options.absent;
    this.powerOnReset();
  }

  // ------------------------------------------------------------------------------------------
  // What a person sees

  /**
   * The panel as a person sees it with the module the usual way up (header pins at the top):
   * with the orientation oled-i2c-bus and the datasheets' examples set (segment remap 0xA1, COM
   * scan 0xC8) RAM column 0 / row 0 is the top-left pixel. 0xA0 + 0xC0 turn the picture by 180°
   * (a panel mounted upside down then shows it upright). Dark when the display is off, or when
   * nothing powers the panel (SSD1306 charge pump off).
   */
  visibleFrame(): Frame {
    const frame = new Frame(this.width, this.height);
    if (!this.displayOn || !this.panelPowered()) return frame;
    for (let y = 0; y < this.height; y++) {
      const row = this.ramRowAt(y);
      for (let x = 0; x < this.width; x++) {
        if (row === undefined) continue; // rows past the multiplex ratio are not driven
        let lit = this.ramBit(this.ramColumnAt(x), row);
        if (this.inverted) lit = !lit;
        if (this.entireOn) lit = true;
        frame.set(x, y, lit);
      }
    }
    return frame;
  }

  /** The whole display RAM as a frame (`ramColumns` × 64), whatever is visible. */
  ramFrame(): Frame {
    return new Frame(this.ramColumns, RAM_ROWS, this.ram.slice());
  }

  // ------------------------------------------------------------------------------------------
  // Faults and bookkeeping

  /** The cable is pulled: every access fails with `code`, and the controller loses power. */
  unplug(code: I2cErrorCode = 'EREMOTEIO'): void {
    this.fault = code;
    this.writesBeforeUnplug = undefined;
  }

  /** The cable is pulled after `writes` more successful writes (mid-frame if you like). */
  unplugAfter(writes: number, code: I2cErrorCode = 'EREMOTEIO'): void {
    this.writesBeforeUnplug = writes;
    this.unplugCode = code;
  }

  /** Plugged back in (or connected at last): power-on reset, so the RAM is noise and the panel off. */
  replug(): void {
    this.fault = undefined;
    this.writesBeforeUnplug = undefined;
    this.powerOnReset();
  }

  get present(): boolean {
    return this.fault === undefined;
  }

  resetStats(): void {
    this.stats = emptyStats();
    this.commandLog.length = 0;
  }

  assertNoViolations(): void {
    if (this.violations.length > 0) {
      throw new Error(`the ${this.controller} emulator saw protocol violations:\n${this.violations.join('\n')}`);
    }
  }

  /** Async writes wait (in order) until the returned function is called: a frame "on the bus". */
  hold(): () => void {
    this.held ??= [];
    return () => {
      const queued = this.held ?? [];
      this.held = undefined;
      for (const run of queued) run();
    };
  }

  // ------------------------------------------------------------------------------------------
  // i2c-bus's API

  i2cWriteSync(address: number, length: number, buffer: Buffer): number {
    this.checkArguments(address, length, buffer);
    this.checkAccess(address);
    this.stats.syncWrites++;
    return this.transact(buffer.subarray(0, length));
  }

  i2cWrite(
    address: number,
    length: number,
    buffer: Buffer,
    callback: (error: Error | null, bytesWritten: number, buffer: Buffer) => void,
  ): void {
    this.checkArguments(address, length, buffer);
    const bytes = Buffer.from(buffer.subarray(0, length)); // the caller may reuse its buffer
    this.inFlight++;
    this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.inFlight);
    const run = (): void => {
      const complete = (): void => {
        this.inFlight--;
        let written = 0;
        try {
          this.checkAccess(address);
          written = this.transact(bytes);
        } catch (error) {
          callback(error as Error, 0, buffer);
          return;
        }
        callback(null, written, buffer);
      };
      if (this.bytesPerSecond) setTimeout(complete, ((bytes.length + 1) / this.bytesPerSecond) * 1000);
      else setImmediate(complete);
    };
    if (this.held) this.held.push(run);
    else run();
  }

  sendByteSync(address: number, byte: number): this {
    this.checkAccess(address);
    this.transact(Uint8Array.of(byte));
    return this;
  }

  sendByte(address: number, byte: number, callback: (error: Error | null) => void): void {
    setImmediate(() => {
      try {
        this.sendByteSync(address, byte);
      } catch (error) {
        callback(error as Error);
        return;
      }
      callback(null);
    });
  }

  /** The status byte (bit 6: display off); oled-i2c-bus reads it as a "busy" flag. */
  receiveByteSync(address: number): number {
    this.checkAccess(address);
    this.countRead();
    return this.displayOn ? 0x00 : 0x40;
  }

  receiveByte(address: number, callback: (error: Error | null, byte: number) => void): void {
    setImmediate(() => {
      let byte = 0;
      try {
        byte = this.receiveByteSync(address);
      } catch (error) {
        callback(error as Error, 0);
        return;
      }
      callback(null, byte);
    });
  }

  i2cReadSync(address: number, length: number, buffer: Buffer): number {
    this.checkAccess(address);
    this.countRead();
    buffer.fill(this.displayOn ? 0x00 : 0x40, 0, length);
    return length;
  }

  closeSync(): void {
    this.closes++;
  }

  close(callback: (error: Error | null) => void): void {
    this.closes++;
    setImmediate(callback, null);
  }

  // ------------------------------------------------------------------------------------------
  // The controller

  private checkArguments(address: number, length: number, buffer: Buffer): void {
    // i2c-bus validates these before touching the device, and throws synchronously.
    if (!Number.isInteger(address) || address < 0 || address > 0x7f) throw new Error(`Invalid I2C address ${address}`);
    if (!Buffer.isBuffer(buffer)) throw new Error(`Invalid buffer ${String(buffer)}`);
    if (!Number.isInteger(length) || length < 0 || length > buffer.length) throw new Error(`Invalid buffer length ${length}`);
  }

  private checkAccess(address: number): void {
    if (this.fault) throw i2cError(this.fault);
    if (address !== this.address) throw i2cError('EREMOTEIO');
  }

  private countRead(): void {
    this.stats.transactions++;
    this.stats.reads++;
    this.stats.wireBytes += 2;
  }

  /** One write transaction: what i2c-dev passes on (clamped), decoded. Returns bytes written. */
  private transact(all: Uint8Array): number {
    if (this.writesBeforeUnplug !== undefined) {
      if (this.writesBeforeUnplug <= 0) {
        this.unplug(this.unplugCode);
        throw i2cError(this.unplugCode);
      }
      this.writesBeforeUnplug--;
    }
    const bytes = all.subarray(0, this.maxWriteBytes);
    this.stats.transactions++;
    this.stats.writes++;
    this.stats.bytes += bytes.length;
    this.stats.wireBytes += bytes.length + 1;
    this.stats.largestWrite = Math.max(this.stats.largestWrite, bytes.length);
    try {
      this.decode(bytes);
    } finally {
      this.onTransaction?.(bytes);
    }
    return bytes.length;
  }

  /** Control byte: Co (bit 7) = one byte follows then another control byte; D/C (bit 6) = data. */
  private decode(bytes: Uint8Array): void {
    let i = 0;
    while (i < bytes.length) {
      const control = bytes[i++]!;
      if ((control & 0x3f) !== 0) this.violation(`unknown control byte ${hex(control)}`);
      const isData = (control & 0x40) !== 0;
      if (control & 0x80) {
        if (i < bytes.length) this.accept(bytes[i++]!, isData);
      } else {
        while (i < bytes.length) this.accept(bytes[i++]!, isData);
      }
    }
  }

  private accept(byte: number, isData: boolean): void {
    if (isData) {
      this.writeData(byte);
      return;
    }
    this.stats.commandBytes++;
    if (this.pending) {
      this.pending.args.push(byte);
      if (this.pending.args.length === this.pending.spec.args) this.complete();
      return;
    }
    const spec = this.controller === 'sh1106' ? this.sh1106Command(byte) : this.ssd1306Command(byte);
    if (!spec) {
      this.violation(`unknown ${this.controller} command byte ${hex(byte)}`);
      return;
    }
    this.pending = { spec, args: [] };
    if (spec.args === 0) this.complete();
  }

  private complete(): void {
    const { spec, args } = this.pending!;
    this.pending = undefined;
    this.commandLog.push(args.length ? `${spec.name} ${args.map(hex).join(' ')}` : spec.name);
    spec.apply(args);
  }

  private violation(message: string): never {
    this.violations.push(message);
    throw Object.assign(new Error(`${this.controller} emulator: ${message}`), { code: 'EPROTOCOL' });
  }

  private writeData(byte: number): void {
    if (this.pending) this.violation(`data while command ${this.pending.spec.name} waits for arguments`);
    if (this.column >= this.ramColumns) this.violation(`data at column ${this.column}, past the RAM (${this.ramColumns} columns)`);
    this.stats.dataBytes++;
    this.ram[this.page * this.ramColumns + this.column] = byte;
    if (this.controller === 'sh1106') {
      // The SH1106 only has page addressing; past the last column the pointer is modelled as
      // wrapping to column 0 of the same page (the datasheet does not say).
      this.column = (this.column + 1) % this.ramColumns;
      return;
    }
    switch (this.addressing) {
      case 'horizontal':
        if (this.column < this.columnEnd) this.column++;
        else {
          this.column = this.columnStart;
          this.page = this.page < this.pageEnd ? this.page + 1 : this.pageStart;
        }
        break;
      case 'vertical':
        if (this.page < this.pageEnd) this.page++;
        else {
          this.page = this.pageStart;
          this.column = this.column < this.columnEnd ? this.column + 1 : this.columnStart;
        }
        break;
      case 'page':
        // Datasheet §10.1.3: the column wraps to the start, the page stays.
        this.column = this.column < 127 ? this.column + 1 : 0;
        break;
    }
  }

  private ssd1306Command(byte: number): CommandSpec | undefined {
    if (byte <= 0x0f) return this.op('column low (page mode)', 0, () => this.setColumnNibble(byte, false));
    if (byte >= 0x10 && byte <= 0x17) return this.op('column high (page mode)', 0, () => this.setColumnNibble(byte & 0x07, true));
    if (byte >= 0x40 && byte <= 0x7f) return this.op('start line', 0, () => (this.startLine = byte & 0x3f));
    if (byte >= 0xb0 && byte <= 0xb7) return this.op('page (page mode)', 0, () => (this.page = byte & 0x07));
    switch (byte) {
      case 0x20:
        return this.op('addressing', 1, ([mode]) => {
          if (mode === undefined || mode > 2) this.violation(`addressing mode ${hex(mode ?? -1)}`);
          this.addressing = mode === 0 ? 'horizontal' : mode === 1 ? 'vertical' : 'page';
        });
      case 0x21:
        return this.op('column window', 2, ([start, end]) => {
          if (start! > 127 || end! > 127 || end! < start!) this.violation(`column window ${start}..${end}`);
          this.columnStart = start!;
          this.columnEnd = end!;
          this.column = start!;
        });
      case 0x22:
        return this.op('page window', 2, ([start, end]) => {
          if (start! > 7 || end! > 7 || end! < start!) this.violation(`page window ${start}..${end}`);
          this.pageStart = start!;
          this.pageEnd = end!;
          this.page = start!;
        });
      case 0x8d:
        return this.op('charge pump', 1, ([value]) => {
          if ((value! & ~0x04) !== 0x10) this.violation(`charge pump setting ${hex(value!)}`);
          this.chargePump = (value! & 0x04) !== 0;
        });
      case 0x26:
      case 0x27:
        return this.op('horizontal scroll setup', 6, () => undefined);
      case 0x29:
      case 0x2a:
        return this.op('diagonal scroll setup', 5, () => undefined);
      case 0xa3:
        return this.op('vertical scroll area', 2, () => undefined);
      case 0x2e:
        return this.op('scroll off', 0, () => (this.scrolling = false));
      case 0x2f:
        return this.op('scroll on', 0, () => (this.scrolling = true));
      case 0xd5:
        return this.op('clock', 1, () => undefined);
      case 0xd9:
        return this.op('precharge', 1, () => undefined);
      case 0xdb:
        return this.op('vcomh', 1, () => undefined);
      case 0xe3:
        return this.op('nop', 0, () => undefined);
      default:
        return this.commonCommand(byte);
    }
  }

  private sh1106Command(byte: number): CommandSpec | undefined {
    if (byte <= 0x0f) return this.op('column low', 0, () => this.setColumnNibble(byte, false));
    if (byte >= 0x10 && byte <= 0x1f) return this.op('column high', 0, () => this.setColumnNibble(byte & 0x0f, true));
    if (byte >= 0x30 && byte <= 0x33) return this.op('pump voltage', 0, () => undefined);
    if (byte >= 0x40 && byte <= 0x7f) return this.op('start line', 0, () => (this.startLine = byte & 0x3f));
    if (byte >= 0xb0 && byte <= 0xb7) return this.op('page', 0, () => (this.page = byte & 0x07));
    if (byte >= 0xc0 && byte <= 0xcf) return this.op(byte & 0x08 ? 'com scan reverse' : 'com scan normal', 0, () => (this.comScanReverse = (byte & 0x08) !== 0));
    switch (byte) {
      case 0xad:
        return this.op('dc-dc', 1, ([value]) => {
          if ((value! & ~0x01) !== 0x8a) this.violation(`DC-DC setting ${hex(value!)}`);
          this.chargePump = (value! & 0x01) !== 0;
        });
      case 0xd5:
        return this.op('clock', 1, () => undefined);
      case 0xd9:
        return this.op('precharge', 1, () => undefined);
      case 0xdb:
        return this.op('vcom', 1, () => undefined);
      case 0xe0:
        return this.op('read-modify-write', 0, () => undefined);
      case 0xee:
        return this.op('end', 0, () => undefined);
      case 0xe3:
        return this.op('nop', 0, () => undefined);
      case 0x20:
      case 0x21:
      case 0x22:
      case 0x8d:
      case 0x26:
      case 0x27:
      case 0x29:
      case 0x2a:
      case 0x2e:
      case 0x2f:
      case 0xa3:
        if (this.foreignCommands === 'throw') return undefined;
        // The SH1106 does not know these; its arguments will be decoded as commands of their own.
        return this.op(`ignored SSD1306 command ${hex(byte)}`, 0, () => undefined);
      default:
        return this.commonCommand(byte);
    }
  }

  /** Commands both controllers share with the same meaning. */
  private commonCommand(byte: number): CommandSpec | undefined {
    switch (byte) {
      case 0x81:
        return this.op('contrast', 1, ([value]) => (this.contrast = value!));
      case 0xa0:
      case 0xa1:
        return this.op(byte === 0xa1 ? 'segment remap on' : 'segment remap off', 0, () => (this.segmentRemap = byte === 0xa1));
      case 0xa4:
      case 0xa5:
        return this.op(byte === 0xa5 ? 'entire display on' : 'show ram', 0, () => (this.entireOn = byte === 0xa5));
      case 0xa6:
      case 0xa7:
        return this.op(byte === 0xa7 ? 'invert' : 'normal', 0, () => (this.inverted = byte === 0xa7));
      case 0xa8:
        return this.op('multiplex', 1, ([value]) => {
          if (value! < 15 || value! > 63) this.violation(`multiplex ratio ${value}`);
          this.multiplex = value! + 1;
        });
      case 0xae:
        return this.op('display off', 0, () => (this.displayOn = false));
      case 0xaf:
        return this.op('display on', 0, () => (this.displayOn = true));
      case 0xc0:
      case 0xc8:
        return this.op(byte === 0xc8 ? 'com scan reverse' : 'com scan normal', 0, () => (this.comScanReverse = byte === 0xc8));
      case 0xd3:
        return this.op('display offset', 1, ([value]) => (this.displayOffset = value! & 0x3f));
      case 0xda:
        return this.op('com pins', 1, ([value]) => {
          if ((value! & 0xcf) !== 0x02) this.violation(`COM pins setting ${hex(value!)}`);
          this.comAlternative = (value! & 0x10) !== 0;
        });
      default:
        return undefined;
    }
  }

  private op(name: string, args: number, apply: (args: number[]) => void): CommandSpec {
    return { name, args, apply };
  }

  private setColumnNibble(nibble: number, high: boolean): void {
    // Between the two nibble commands the column may be out of range; only data written there is wrong.
    this.column = high ? (this.column & 0x0f) | (nibble << 4) : (this.column & 0xf0) | nibble;
  }

  private panelPowered(): boolean {
    return this.chargePump;
  }

  private ramBit(column: number, row: number): boolean {
    return ((this.ram[(row >> 3) * this.ramColumns + column]! >> (row & 7)) & 1) === 1;
  }

  /**
   * RAM column behind visible column x. The panel's 128 columns sit on SEG0..127 (SSD1306) or
   * SEG2..129 (SH1106); 0xA1 maps RAM column 0 to the far segment, which on these modules is the
   * left edge as a person sees it.
   */
  private ramColumnAt(x: number): number {
    const offset = this.controller === 'sh1106' ? 2 : 0;
    return this.segmentRemap ? x + offset : this.width - 1 - x + offset;
  }

  /** RAM row behind visible row y, or undefined when the multiplex ratio leaves it undriven. */
  private ramRowAt(y: number): number | undefined {
    let row = y;
    // 128×64 modules wire the COM lines for the "alternative" configuration (0xDA 0x12), 128×32
    // ones sequentially (0x02). The wrong setting interleaves the rows (a model of the garbling).
    const wiredAlternative = this.height === 64;
    if (this.comAlternative !== wiredAlternative) {
      const half = this.height / 2;
      row = wiredAlternative ? (row % 2 === 0 ? row / 2 : half + (row - 1) / 2) : row < half ? row * 2 : (row - half) * 2 + 1;
    }
    const scan = this.comScanReverse ? row : this.height - 1 - row;
    if (scan < 0 || scan >= this.multiplex) return undefined;
    return (scan + this.startLine + this.displayOffset) % RAM_ROWS;
  }

  private powerOnReset(): void {
    // RAM content at power-on is undefined: noise, so a driver that relies on zeros is caught.
    for (let i = 0; i < this.ram.length; i++) this.ram[i] = this.random() & 0xff;
    this.displayOn = false;
    this.contrast = 0x7f;
    this.segmentRemap = false;
    this.comScanReverse = false;
    this.inverted = false;
    this.entireOn = false;
    this.multiplex = 64;
    this.startLine = 0;
    this.displayOffset = 0;
    this.comAlternative = true;
    this.chargePump = this.controller === 'sh1106'; // the SH1106's DC-DC is on after reset; the SSD1306's pump is off
    this.addressing = 'page';
    this.scrolling = false;
    this.columnStart = 0;
    this.columnEnd = 127;
    this.pageStart = 0;
    this.pageEnd = 7;
    this.column = 0;
    this.page = 0;
    this.pending = undefined;
  }

  private random(): number {
    // xorshift32: deterministic noise.
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    return this.seed;
  }
}

function emptyStats(): EmulatorStats {
  return { transactions: 0, writes: 0, syncWrites: 0, reads: 0, bytes: 0, wireBytes: 0, dataBytes: 0, commandBytes: 0, largestWrite: 0, maxInFlight: 0 };
}

function hex(byte: number): string {
  return `0x${byte.toString(16).padStart(2, '0')}`;
}
