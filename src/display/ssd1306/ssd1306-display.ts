import { backgroundClock, type Clock } from '../../clock.js';
import type { Logger } from '../../log.js';
import type { Display } from '../display.js';
import { Frame } from '../frame.js';
import {
  DISPLAY_OFF, DISPLAY_ON, I2C_DEV_MAX_WRITE, commandWrite, controllerFor,
  type Controller, type ControllerKind, type PanelSettings,
} from './controllers.js';
import { describeFault, errorMessage, hexAddress, type DisplayFault } from './faults.js';
import { closeQuietly, openI2cBus, writeAsync, type I2cBusLike } from './i2c.js';
import { planWindows } from './windows.js';


export interface Ssd1306DisplayOptions {
  /** The I2C bus number: 1 is the header's GPIO2/GPIO3 on every Pi since the B+. */
  bus: number;
  /** 0x3C on most modules, 0x3D when the address jumper is moved. */
  address: number;
  width: number;
  height: number;
  controller: ControllerKind;
  /** 0-255. The controller's init default when absent. */
  contrast?: number;
  rotate180?: boolean;
  logger: Logger;
  /** How a bus is opened; the native i2c-bus by default (imported on first use). */
  openBus?: (busNumber: number) => Promise<I2cBusLike>;
  /** Back-off between attempts to reach a display that does not answer. */
  retry?: { initialMs: number; maxMs: number };
  /** For the retry; by default timers that never keep a finished process alive. */
  timers?: Pick<Clock, 'setTimeout' | 'clearTimeout'>;
  /** Largest single I2C write. i2c-dev's limit (8,192) by default; tests lower it. */
  maxWriteBytes?: number;
}

const DEFAULT_RETRY = { initialMs: 1_000, maxMs: 60_000 };

/**
 * `closed` → open() → `connecting` → `ready`; any I2C error → `waiting` (a retry is scheduled) →
 * `connecting` → … close() returns to `closed` from anywhere.
 */
type Phase = 'closed' | 'connecting' | 'ready' | 'waiting';

/**
 * An SSD1306 (or SH1106) OLED on an I2C bus.
 *
 * - oled-i2c-bus initialises the SSD1306 (our own list for the SH1106, which it cannot drive);
 *   frames are sent by this class with async `i2cWrite`s on the same bus handle, so the event
 *   loop never waits for the bus (see oled-i2c-bus.ts for why not oled-i2c-bus's updates).
 * - After the first full frame only what changed goes out, as one or a few windows
 *   (see windows.ts). Frames are coalesced: while one is on the bus, only the newest waiting frame
 *   is sent next. Writes are strictly one after another, so a command and its data are never
 *   split by another write.
 * - A display that is missing, unplugged or misconfigured never makes `show()` fail: the fault is
 *   logged once with its fix (`display.error`), opening is retried with exponential back-off, and
 *   when the display answers again (`display.recovered`) the whole last frame is drawn, because
 *   a display that lost power lost its RAM.
 */
export class Ssd1306Display implements Display {
  readonly name: string;
  readonly width: number;
  readonly height: number;

  /** The I2C bus number; kept apart from `settings` (what the controller needs) for open and logs. */
  private readonly busNumber: number;
  private readonly settings: PanelSettings;
  private readonly controller: Controller;
  private readonly log: Logger;
  private readonly openBus: (busNumber: number) => Promise<I2cBusLike>;
  private readonly retry: { initialMs: number; maxMs: number };
  private readonly timers: Pick<Clock, 'setTimeout' | 'clearTimeout'>;

  private phase: Phase = 'closed';
  private bus: I2cBusLike | undefined;
  /** The newest frame asked for; undefined until the first show(). Never mutated (a copy). */
  private wanted: Frame | undefined;
  private wantOn = true;
  /** What the controller's RAM holds; undefined when unknown (after init, a fault, a cut update). */
  private ram: Frame | undefined;
  /** Whether the panel is lit; undefined when unknown. */
  private panelOn: boolean | undefined;
  /** The fault logged last; undefined while the display works. */
  private fault: DisplayFault | undefined;
  private retryDelayMs: number;
  private retryTimer: unknown;
  private connecting: Promise<void> | undefined;
  private pumping: Promise<void> | undefined;
  private closing = false;

  constructor(options: Ssd1306DisplayOptions) {
    const { width, height, address, bus } = options;
    if (width !== 128) throw new RangeError(`an SSD1306/SH1106 panel is 128 pixels wide, got ${width}`);
    if (height !== 64 && height !== 32) throw new RangeError(`the panel height must be 64 or 32, got ${height}`);
    if (!Number.isInteger(address) || address < 0x03 || address > 0x77) {
      throw new RangeError(`the I2C address must be 0x03-0x77 (usually 0x3c), got ${address}`);
    }
    if (!Number.isInteger(bus) || bus < 0) throw new RangeError(`the I2C bus must be a number like 1, got ${bus}`);
    const contrast = options.contrast;
    if (contrast !== undefined && (!Number.isInteger(contrast) || contrast < 0 || contrast > 255)) {
      throw new RangeError(`contrast must be 0-255, got ${contrast}`);
    }
    const maxWriteBytes = options.maxWriteBytes ?? I2C_DEV_MAX_WRITE;
    if (!Number.isInteger(maxWriteBytes) || maxWriteBytes < 2 || maxWriteBytes > I2C_DEV_MAX_WRITE) {
      throw new RangeError(`maxWriteBytes must be 2-${I2C_DEV_MAX_WRITE}, got ${maxWriteBytes}`);
    }

    this.name = options.controller;
    this.width = width;
    this.height = height;
    this.busNumber = bus;
    this.settings = {
      width, height, address,
      rotate180: options.rotate180 ?? false,
      ...(contrast !== undefined ? { contrast } : {}),
    };
    this.controller = controllerFor(options.controller, maxWriteBytes);
    this.log = options.logger;
    this.openBus = options.openBus ?? openI2cBus;
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.timers = options.timers ?? backgroundClock;
    this.retryDelayMs = this.retry.initialMs;
  }

  /** Claims the bus and initialises the controller. Resolves even when the display is missing. */
  async open(): Promise<void> {
    if (this.phase !== 'closed' || this.closing) return;
    this.startConnecting();
    await this.idle();
  }

  async show(frame: Frame): Promise<void> {
    if (frame.width !== this.width || frame.height !== this.height) {
      throw new RangeError(`frame is ${frame.width}x${frame.height}, display is ${this.width}x${this.height}`);
    }
    this.wanted = frame.clone();
    await this.kick();
  }

  async setPower(on: boolean): Promise<void> {
    this.wantOn = on;
    await this.kick();
  }

  /** Lets pending work finish, then (by default) turns the panel off and clears it, and lets go. */
  async close(options: { blank?: boolean } = {}): Promise<void> {
    if (this.phase === 'closed' || this.closing) return;
    await this.idle(); // the last frame asked for (a "Stopped" screen) still goes out
    this.closing = true;
    if (this.retryTimer !== undefined) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if ((options.blank ?? true) && this.phase === 'ready' && this.bus) {
      try {
        // Off first, so nobody watches the clearing; then clear, so the next start shows no stale screen.
        await this.write(commandWrite(DISPLAY_OFF));
        this.panelOn = false;
        await this.sendFrame(new Frame(this.width, this.height));
      } catch (error) {
        this.log.warn({ event: 'display.close_failed', display: this.name, code: describeFault(error, this.faultContext()).code },
          `could not blank the display on close: ${errorMessage(error)}`);
      }
    }
    closeQuietly(this.bus);
    this.bus = undefined;
    this.ram = undefined;
    this.panelOn = undefined;
    this.fault = undefined;
    this.retryDelayMs = this.retry.initialMs;
    this.phase = 'closed';
    this.closing = false;
    this.log.debug({ event: 'display.closed', display: this.name }, 'display released');
  }

  /** Resolves when no connection attempt and no update is in flight (tests, close()). */
  async idle(): Promise<void> {
    while (this.connecting || this.pumping) {
      await this.connecting;
      await this.pumping;
    }
  }

  private faultContext(): { bus: number; address: number } {
    return { bus: this.busNumber, address: this.settings.address };
  }

  private startConnecting(): void {
    this.phase = 'connecting';
    const attempt = this.connect();
    this.connecting = attempt;
    void attempt.finally(() => {
      if (this.connecting === attempt) this.connecting = undefined;
    });
  }

  private async connect(): Promise<void> {
    try {
      const bus = await this.openBus(this.busNumber);
      this.bus = bus;
      this.controller.forget();
      for (const write of this.controller.initialise(bus, this.settings)) await this.write(write);
    } catch (error) {
      this.fail(error);
      return;
    }
    this.ram = undefined;
    this.panelOn = false;
    this.phase = 'ready';
    if (!this.fault) {
      this.log.info({
        event: 'display.opened', display: this.name, bus: this.busNumber, address: hexAddress(this.settings.address),
        width: this.width, height: this.height, rotate180: this.settings.rotate180,
      }, `${this.name} ${this.width}x${this.height} at ${hexAddress(this.settings.address)} on I2C bus ${this.busNumber}`);
    }
    if (this.fault && !this.wanted) this.recovered('the display answers again');
    // Redraw what was asked for meanwhile (everything: the RAM is unknown). `display.recovered`
    // is logged once that frame is in, not here: a display that inits but fails on data is not back.
    void this.kick();
  }

  /** Starts the update loop unless it runs; resolves when it has nothing left to send. */
  private kick(): Promise<void> {
    if (this.closing) return Promise.resolve();
    this.pumping ??= this.pump();
    return this.pumping;
  }

  private async pump(): Promise<void> {
    await null; // so `this.pumping` is set before the loop can finish and clear it
    try {
      // The loop re-reads `wanted` after every step: frames shown meanwhile are coalesced.
      for (let step = this.nextStep(); step; step = this.nextStep()) await step();
    } catch (error) {
      this.fail(error);
    } finally {
      // Same synchronous turn as the last nextStep() check: a show() after it starts a new pump.
      this.pumping = undefined;
    }
  }

  /** The next thing to send, in the order a person should see it; undefined when all is sent. */
  private nextStep(): (() => Promise<void>) | undefined {
    if (this.phase !== 'ready' || this.closing) return undefined;
    if (!this.wantOn && this.panelOn !== false) return () => this.sendPower(false);
    const target = this.wanted;
    if (target && !(this.ram && this.ram.equals(target))) return () => this.sendFrame(target);
    // On only once the RAM holds a frame: never light up power-on noise.
    if (this.wantOn && target && this.panelOn !== true) return () => this.sendPower(true);
    return undefined;
  }

  private async sendPower(on: boolean): Promise<void> {
    this.panelOn = undefined;
    await this.write(commandWrite(on ? DISPLAY_ON : DISPLAY_OFF));
    this.panelOn = on;
  }

  private async sendFrame(target: Frame): Promise<void> {
    const previous = this.ram;
    this.ram = undefined; // unknown until the last byte is in
    const windows = planWindows(previous, target, (w) => this.controller.cost(w));
    for (const window of windows) {
      for (const write of this.controller.windowWrites(target, window)) await this.write(write);
    }
    this.ram = target;
    if (this.fault) this.recovered('the display answers again; the whole frame was redrawn');
  }

  private recovered(message: string): void {
    this.log.info({ event: 'display.recovered', display: this.name, code: this.fault?.code, address: hexAddress(this.settings.address) }, message);
    this.fault = undefined;
    this.retryDelayMs = this.retry.initialMs;
  }

  private write(bytes: Buffer): Promise<void> {
    const bus = this.bus;
    if (!bus) return Promise.reject(new Error('the I2C bus is not open'));
    return writeAsync(bus, this.settings.address, bytes);
  }

  /** Logs the fault (once per kind), drops the bus handle and schedules another attempt. */
  private fail(error: unknown): void {
    const fault = describeFault(error, this.faultContext());
    closeQuietly(this.bus);
    this.bus = undefined;
    this.ram = undefined;
    this.panelOn = undefined;
    if (this.closing) {
      this.phase = 'waiting';
      return;
    }
    const retryInMs = this.retryDelayMs;
    this.retryDelayMs = Math.min(this.retryDelayMs * 2, this.retry.maxMs);
    const fields = {
      display: this.name, code: fault.code, bus: this.busNumber, address: hexAddress(this.settings.address), retryInMs,
    };
    if (this.fault?.code !== fault.code) {
      this.log.error({ event: 'display.error', ...fields, problem: fault.problem, fix: fault.fix, err: errorMessage(error) },
        `display: ${fault.problem}. Fix: ${fault.fix}. Retrying in the background; the agent keeps running.`);
    } else {
      this.log.debug({ event: 'display.retry', ...fields }, 'the display still does not answer');
    }
    this.fault = fault;
    this.phase = 'waiting';
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = undefined;
      if (this.phase === 'waiting' && !this.closing) this.startConnecting();
    }, retryInMs);
  }
}
