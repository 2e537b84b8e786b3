import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A fake of onoff's `Gpio` over a fake kernel, in the spirit of gpiozero's mock pin factory:
 * tests drive a line low or high, and every watcher of an exported pin hears the new value.
 *
 *     const board = FakeGpioBoard.pi4();
 *     await board.writeSysfs(dir);              // gpiochip512 (pinctrl-bcm2711), gpiochip570
 *     new GpioButton({ bcmPin: 17, sysfsRoot: dir, gpioFactory: board.Gpio, ... });
 *     board.driveLow(529);                      // pressed (a button to ground, active low)
 *
 * Like the kernel, exporting a number outside every chip fails with EINVAL, so a test that
 * forgets the base sees what a Pi on kernel 6.6 does.
 */

type BinaryValue = 0 | 1;
type ValueCallback = (err: Error | null | undefined, value: BinaryValue) => void;
type Direction = 'in' | 'out' | 'high' | 'low';
type Edge = 'none' | 'rising' | 'falling' | 'both';

export interface FakeChip {
  label: string;
  base: number;
  ngpio: number;
}

/** An error shaped like the ones Node's fs throws inside onoff (`code`, `errno`, `syscall`). */
export function fsError(code: string, syscall = 'write'): Error & { code: string; errno: number; syscall: string } {
  const known: Record<string, [number, string]> = {
    EBUSY: [-16, 'resource busy or locked'],
    EINVAL: [-22, 'invalid argument'],
    EACCES: [-13, 'permission denied'],
    ENOENT: [-2, 'no such file or directory'],
    EIO: [-5, 'i/o error'],
  };
  const [errno, text] = known[code] ?? [-1, 'unknown error'];
  return Object.assign(new Error(`${code}: ${text}, ${syscall}`), { code, errno, syscall });
}

/** The fake kernel: chips, line levels, exported numbers, and faults to inject. */
export class FakeGpioBoard {
  /** Physical levels by sysfs number; 1 (pulled up) unless driven. */
  private readonly levels = new Map<number, BinaryValue>();
  private readonly pins = new Set<FakeGpioPin>();
  private readonly exports = new Set<number>();
  private readonly claimed = new Set<number>();
  /** Every constructor call, for assertions on what was opened and how. */
  readonly opened: Array<{ gpio: number; direction: Direction; edge: Edge | undefined; activeLow: boolean | undefined }> = [];
  /** What `Gpio.accessible` returns (false: no `/sys/class/gpio`, or no permission on export). */
  accessible = true;
  /** A fault the next constructor throws, once (`EACCES`, `EIO`, …). */
  failNextOpen: string | undefined;
  /** What `watch()` throws (epoll refused, as in a container without it); undefined: it works. */
  watchFails: Error | undefined;
  /** onoff's `Gpio`, bound to this board. */
  readonly Gpio: FakeGpioConstructor;

  constructor(readonly chips: readonly FakeChip[]) {
    this.Gpio = makeGpioClass(this);
  }

  /** Pi 3 on a kernel before 6.6: the header's controller at base 0. */
  static pi3(): FakeGpioBoard {
    return new FakeGpioBoard([
      { label: 'pinctrl-bcm2835', base: 0, ngpio: 54 },
      { label: 'raspberrypi-exp-gpio', base: 128, ngpio: 8 },
    ]);
  }

  /** Pi 4 on kernel 6.6: bcm2711 at base 512, the firmware's expander after it. */
  static pi4(): FakeGpioBoard {
    return new FakeGpioBoard([
      { label: 'pinctrl-bcm2711', base: 512, ngpio: 58 },
      { label: 'raspberrypi-exp-gpio', base: 570, ngpio: 8 },
    ]);
  }

  /** Pi 5 on kernel 6.6: the SoC's own brcmstb chips first, the header on RP1 at base 571. */
  static pi5(): FakeGpioBoard {
    return new FakeGpioBoard([
      { label: 'gpio-brcmstb@107d508500', base: 512, ngpio: 32 },
      { label: 'gpio-brcmstb@107d508520', base: 544, ngpio: 15 },
      { label: 'gpio-brcmstb@107d517c00', base: 559, ngpio: 6 },
      { label: 'gpio-brcmstb@107d517c20', base: 565, ngpio: 6 },
      { label: 'pinctrl-rp1', base: 571, ngpio: 54 },
    ]);
  }

  /** Writes `gpiochipN/{base,label,ngpio}` (and an `export` file) as the kernel shows them. */
  async writeSysfs(root: string): Promise<void> {
    await mkdir(root, { recursive: true });
    await writeFile(join(root, 'export'), '');
    await writeFile(join(root, 'unexport'), '');
    for (const chip of this.chips) {
      const dir = join(root, `gpiochip${chip.base}`);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'base'), `${chip.base}\n`);
      await writeFile(join(dir, 'label'), `${chip.label}\n`);
      await writeFile(join(dir, 'ngpio'), `${chip.ngpio}\n`);
    }
  }

  /** Another program or driver holds this line: exporting it fails with EBUSY. */
  claim(gpio: number): void {
    this.claimed.add(gpio);
  }

  isExported(gpio: number): boolean {
    return this.exports.has(gpio);
  }

  /** The physical line goes low: a button to ground is pressed. */
  driveLow(gpio: number): void {
    this.drive(gpio, 0);
  }

  /** The physical line goes high: the pull-up wins, the button is released. */
  driveHigh(gpio: number): void {
    this.drive(gpio, 1);
  }

  /** A watch error, as epoll or a failed read would report it. */
  failWatch(gpio: number, err: Error): void {
    for (const pin of this.pins) if (pin.gpio === gpio) pin.emit(err, 0);
  }

  physical(gpio: number): BinaryValue {
    return this.levels.get(gpio) ?? 1;
  }

  private drive(gpio: number, level: BinaryValue): void {
    if (this.physical(gpio) === level) return;
    this.levels.set(gpio, level);
    for (const pin of this.pins) if (pin.gpio === gpio) pin.edge();
  }

  /** The kernel's side of `new Gpio()`: export, or say why not. */
  exportLine(pin: FakeGpioPin): void {
    const fault = this.failNextOpen;
    this.failNextOpen = undefined;
    if (fault) throw fsError(fault, fault === 'EACCES' ? 'open' : 'write');
    const onAChip = this.chips.some((c) => pin.gpio >= c.base && pin.gpio < c.base + c.ngpio);
    if (!onAChip) throw fsError('EINVAL');
    if (this.claimed.has(pin.gpio)) throw fsError('EBUSY');
    this.exports.add(pin.gpio);
    this.pins.add(pin);
  }

  unexportLine(pin: FakeGpioPin): void {
    this.pins.delete(pin);
    this.exports.delete(pin.gpio);
  }
}

export interface FakeGpioConstructor {
  new (gpio: number, direction: Direction, edge?: Edge, options?: { debounceTimeout?: number; activeLow?: boolean }): FakeGpioPin;
  readonly accessible: boolean;
}

/** One opened line, with onoff's instance API. */
export interface FakeGpioPin {
  readonly gpio: number;
  read(): Promise<BinaryValue>;
  read(callback: ValueCallback): void;
  readSync(): BinaryValue;
  watch(callback: ValueCallback): void;
  unwatch(callback?: ValueCallback): void;
  unwatchAll(): void;
  unexport(): void;
  /** How many callbacks are watching: 0 after unwatch. */
  readonly watcherCount: number;
  /** @internal the board reports a change of the physical level. */
  edge(): void;
  /** @internal the board reports an error to watchers. */
  emit(err: Error | null, value: BinaryValue): void;
}

function makeGpioClass(board: FakeGpioBoard): FakeGpioConstructor {
  return class FakeGpio implements FakeGpioPin {
    static get accessible(): boolean {
      return board.accessible;
    }

    private readonly activeLow: boolean;
    private readonly rising: boolean;
    private readonly falling: boolean;
    private listeners: ValueCallback[] = [];
    private exported = true;

    constructor(
      readonly gpio: number,
      direction: Direction,
      edge?: Edge,
      options: { debounceTimeout?: number; activeLow?: boolean } = {},
    ) {
      board.opened.push({ gpio, direction, edge, activeLow: options.activeLow });
      this.activeLow = options.activeLow ?? false;
      this.rising = edge === 'both' || edge === 'rising';
      this.falling = edge === 'both' || edge === 'falling';
      board.exportLine(this);
    }

    get watcherCount(): number {
      return this.listeners.length;
    }

    readSync(): BinaryValue {
      if (!this.exported) throw fsError('EBADF', 'read');
      const physical = board.physical(this.gpio);
      return (this.activeLow ? 1 - physical : physical) as BinaryValue;
    }

    read(): Promise<BinaryValue>;
    read(callback: ValueCallback): void;
    read(callback?: ValueCallback): Promise<BinaryValue> | void {
      const result = new Promise<BinaryValue>((resolve) => resolve(this.readSync()));
      if (!callback) return result;
      result.then((v) => callback(null, v), (err: Error) => callback(err, 0));
    }

    watch(callback: ValueCallback): void {
      if (board.watchFails) throw board.watchFails;
      this.listeners.push(callback);
    }

    unwatch(callback?: ValueCallback): void {
      this.listeners = callback ? this.listeners.filter((l) => l !== callback) : [];
    }

    unwatchAll(): void {
      this.unwatch();
    }

    unexport(): void {
      this.unwatchAll();
      this.exported = false;
      board.unexportLine(this);
    }

    /** Like onoff's poller: read the value, and tell watchers if this edge is enabled. */
    edge(): void {
      const value = this.readSync();
      if ((value === 1 && this.rising) || (value === 0 && this.falling)) this.emit(null, value);
    }

    emit(err: Error | null, value: BinaryValue): void {
      for (const listener of this.listeners.slice()) listener(err, value);
    }
  };
}
