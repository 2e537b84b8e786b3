import { access, constants } from 'node:fs/promises';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import type { Button, ButtonListener } from './button.js';
import type { Clock } from '../clock.js';
import { Gestures } from './gestures.js';
import { safeListener } from './safe-listener.js';
import { resolveSysfsPin, type SysfsPin } from './sysfs-pin.js';

type BinaryValue = 0 | 1;
type ValueCallback = (err: Error | null | undefined, value: BinaryValue) => void;

/** The part of onoff's `Gpio` instance this driver uses. */
export interface GpioPin {
  read(): Promise<BinaryValue>;
  watch(callback: ValueCallback): void;
  unwatch(callback?: ValueCallback): void;
  unexport(): void;
}

/** onoff's `Gpio` class, or a fake with the same constructor and static `accessible`. */
export interface GpioConstructor {
  new (
    gpio: number,
    direction: 'in' | 'out' | 'high' | 'low',
    edge?: 'none' | 'rising' | 'falling' | 'both',
    options?: { debounceTimeout?: number; activeLow?: boolean; reconfigureDirection?: boolean },
  ): GpioPin;
  readonly accessible: boolean;
}

export interface GpioButtonOptions {
  /** The BCM GPIO number, as printed on pinout diagrams: 17 is header pin 11. */
  bcmPin: number;
  /** The sysfs number to use as is, when the base lookup gets a board wrong. */
  sysfsPin?: number;
  /** A button to ground with the pull-up on reads 0 when pressed: active low. Default true. */
  activeLow?: boolean;
  bounceTimeMs: number;
  holdTimeMs: number;
  /** Where gpiochip directories are read from. Default `/sys/class/gpio`. */
  sysfsRoot?: string;
  /** Told when the button cannot be used (besides the log line): notifications. */
  onUnavailable?: (problem: string) => void;
  /** For tests: a constructor with onoff's Gpio API. By default onoff, imported in start(). */
  gpioFactory?: GpioConstructor;
  logger?: Logger;
  timers?: Pick<Clock, 'setTimeout' | 'clearTimeout'>;
  now?: () => number;
}

/** An error as onoff throws it: Node's fs errors, with `code`. */
type ErrnoError = Error & { code?: string };

/**
 * A push button on a GPIO line, through onoff (sysfs + epoll). A missing or unusable pin is not
 * fatal: start() logs one `button.unavailable` line with the fix and resolves, and the agent runs
 * without this button (signals still work).
 */
export class GpioButton implements Button {
  readonly name: string;
  private readonly options: GpioButtonOptions;
  private readonly logger: Logger;
  private pin: GpioPin | undefined;
  private onValue: ValueCallback | undefined;
  private gestures: Gestures | undefined;

  constructor(options: GpioButtonOptions) {
    if (!Number.isInteger(options.bcmPin) || options.bcmPin < 0) {
      throw new RangeError(`bcmPin must be a GPIO number >= 0, got ${options.bcmPin}`);
    }
    this.options = options;
    this.name = `gpio${options.bcmPin}`;
    this.logger = options.logger ?? silentLogger();
  }

  /** True while a pin is claimed and watched. */
  get available(): boolean {
    return this.pin !== undefined;
  }

  async start(listener: ButtonListener): Promise<void> {
    if (this.pin) return;
    const { bcmPin, activeLow = true } = this.options;
    const sysfsRoot = this.options.sysfsRoot ?? '/sys/class/gpio';

    const Gpio = await this.loadGpio();
    if (!Gpio) return;

    if (!Gpio.accessible) {
      await this.reportInaccessible(sysfsRoot);
      return;
    }

    const where = await resolveSysfsPin(bcmPin, sysfsRoot, this.options.sysfsPin);
    this.logChip(where);
    if (where.how === 'chip' && where.chip && bcmPin >= where.chip.ngpio) {
      this.unavailable(
        where,
        'EINVAL',
        `${where.chip.label} has GPIO 0..${where.chip.ngpio - 1}; GPIO${bcmPin} is not on it. ` +
          'Use a BCM number from the pinout (GPIO17 is header pin 11).',
      );
      return;
    }

    let pin: GpioPin;
    try {
      // No debounceTimeout: onoff's is trailing (adds latency, reads the level late); Gestures
      // does a lockout instead.
      pin = new Gpio(where.sysfsPin, 'in', 'both', { activeLow });
    } catch (err) {
      this.reportOpenError(err as ErrnoError, where);
      return;
    }

    const safe = safeListener(listener, this.logger, this.name);
    const gestures = new Gestures(
      {
        bounceTimeMs: this.options.bounceTimeMs,
        holdTimeMs: this.options.holdTimeMs,
        ...(this.options.timers ? { timers: this.options.timers } : {}),
        ...(this.options.now ? { now: this.options.now } : {}),
      },
      safe,
    );

    try {
      // Pressed at start: a held button, or a floating line without the pull-up. Either way not
      // a gesture; Gestures starts released and waits for the first press after a release.
      if ((await pin.read()) === 1) {
        this.logger.warn(
          { event: 'button.pressed_at_start', button: this.name, bcmPin, sysfsPin: where.sysfsPin },
          `GPIO${bcmPin} reads pressed at start; if nobody is pressing it, the pull-up is missing ` +
            `(add "gpio=${bcmPin}=ip,pu" to /boot/firmware/config.txt and reboot)`,
        );
      }
    } catch (err) {
      this.logger.warn({ event: 'button.read_failed', button: this.name, err }, 'first read failed');
    }

    let readErrorLogged = false;
    const onValue: ValueCallback = (err, value) => {
      if (err) {
        if (!readErrorLogged) {
          readErrorLogged = true;
          this.logger.warn({ event: 'button.read_failed', button: this.name, err }, 'reading the button failed');
        }
        return;
      }
      gestures.level(value === 1);
    };
    try {
      pin.watch(onValue);
    } catch (err) {
      // epoll refused (a container without it, a kernel without edge interrupts on this line):
      // give the pin back and run without the button, as for any other unusable pin.
      gestures.dispose();
      try {
        pin.unexport();
      } catch {
        // already logged below; nothing more to release
      }
      const code = (err as ErrnoError).code ?? 'UNKNOWN';
      this.unavailable(where, code, `watching GPIO${bcmPin} for edges failed (${(err as Error).message}); ` +
        'check that the line supports edge interrupts, or use the signals (systemctl kill -s SIGUSR1 ...)', err);
      return;
    }
    this.pin = pin;
    this.onValue = onValue;
    this.gestures = gestures;
    this.logger.info(
      { event: 'button.started', button: this.name, bcmPin, sysfsPin: where.sysfsPin, activeLow },
      `button on GPIO${bcmPin} (sysfs ${where.sysfsPin})`,
    );
  }

  async stop(): Promise<void> {
    const { pin, onValue, gestures } = this;
    this.pin = undefined;
    this.onValue = undefined;
    this.gestures = undefined;
    gestures?.dispose();
    if (!pin) return;
    try {
      pin.unwatch(onValue);
      pin.unexport();
    } catch (err) {
      this.logger.warn({ event: 'button.unexport_failed', button: this.name, err }, 'releasing the pin failed');
    }
  }

  private async loadGpio(): Promise<GpioConstructor | undefined> {
    if (this.options.gpioFactory) return this.options.gpioFactory;
    try {
      // Loaded here and only here: onoff pulls in epoll, a native addon that tests and the demo
      // must never load.
      // A name in a variable: onoff is optional (its native epoll may not have built), and the
      // build must not need its types.
      const moduleName = 'onoff';
      const onoff = (await import(moduleName)) as unknown as { Gpio?: GpioConstructor; default?: { Gpio?: GpioConstructor } };
      const Gpio = onoff.Gpio ?? onoff.default?.Gpio;
      if (!Gpio) throw new Error('onoff has no Gpio export');
      return Gpio;
    } catch (err) {
      this.unavailable(
        undefined,
        (err as ErrnoError).code ?? 'ONOFF_MISSING',
        'onoff (an optional dependency with the native addon epoll) is not installed or did not build: ' +
          'install build tools (sudo apt install build-essential python3) and run npm install again',
        err,
      );
      return undefined;
    }
  }

  /** onoff's Gpio.accessible is false: it cannot open `<root>/export` for writing. Say why. */
  private async reportInaccessible(sysfsRoot: string): Promise<void> {
    let code: string;
    try {
      await access(sysfsRoot, constants.F_OK);
      code = 'EACCES';
    } catch {
      code = 'ENOENT';
    }
    if (code === 'ENOENT') {
      this.unavailable(
        undefined,
        'ENOENT',
        `${sysfsRoot} does not exist: no sysfs GPIO here (not a Raspberry Pi, a container without ` +
          '/sys/class/gpio, or a kernel without CONFIG_GPIO_SYSFS). Use SIGUSR1 (press) and SIGUSR2 (hold) instead',
      );
    } else {
      this.unavailable(undefined, 'EACCES', `cannot write ${sysfsRoot}/export: ${groupFix()}`);
    }
  }

  private reportOpenError(err: ErrnoError, where: SysfsPin): void {
    const { bcmPin } = this.options;
    const root = this.options.sysfsRoot ?? '/sys/class/gpio';
    switch (err.code) {
      case 'EBUSY':
        this.unavailable(
          where,
          'EBUSY',
          `GPIO${bcmPin} is held by another program or a kernel driver (a dtoverlay such as gpio-key or ` +
            'gpio-shutdown on this pin in config.txt, or a libgpiod tool). "gpioinfo" names the consumer; ' +
            'free the pin or wire the button to another one',
          err,
        );
        return;
      case 'EINVAL':
        this.unavailable(
          where,
          'EINVAL',
          `the kernel rejected sysfs GPIO ${where.sysfsPin} (${describeWhere(where)}). Kernels >= 6.6 ` +
            `number sysfs GPIOs from the controller's base: see "grep . ${root}/gpiochip*/{label,base}" ` +
            `and set the sysfsPin option to that base + ${bcmPin}`,
          err,
        );
        return;
      case 'EACCES':
      case 'EPERM':
        this.unavailable(where, err.code, groupFix(), err);
        return;
      default:
        this.unavailable(where, err.code ?? 'UNKNOWN', `opening sysfs GPIO ${where.sysfsPin} failed: ${err.message}`, err);
    }
  }

  private logChip(where: SysfsPin): void {
    const { bcmPin } = this.options;
    const fields = {
      event: 'button.gpio_chip',
      button: this.name,
      bcmPin,
      sysfsPin: where.sysfsPin,
      base: where.base,
      how: where.how,
      chip: where.chip?.name,
      label: where.chip?.label,
    };
    if (where.how === 'fallback') {
      this.logger.warn(
        { ...fields, chips: where.chips.map((c) => `${c.name}:${c.label}`) },
        `no known Raspberry Pi GPIO controller found; using base 0 (sysfs ${where.sysfsPin}). ` +
          'If the pin fails to open, set the sysfsPin option',
      );
    } else {
      this.logger.info(fields, `GPIO${bcmPin} is sysfs ${where.sysfsPin} (${describeWhere(where)})`);
    }
  }

  private unavailable(where: SysfsPin | undefined, code: string, fix: string, err?: unknown): void {
    this.options.onUnavailable?.(`${code}: ${fix}`);
    this.logger.warn(
      {
        event: 'button.unavailable',
        button: this.name,
        bcmPin: this.options.bcmPin,
        sysfsPin: where?.sysfsPin,
        base: where?.base,
        code,
        fix,
        ...(err === undefined ? {} : { err }),
      },
      `button on GPIO${this.options.bcmPin} unavailable, running without it: ${fix}`,
    );
  }
}

function describeWhere(where: SysfsPin): string {
  if (where.how === 'override') return 'the sysfsPin option';
  if (where.chip) return `base ${where.base} of ${where.chip.name}, ${where.chip.label}`;
  return 'base 0: no known GPIO controller found';
}

function groupFix(): string {
  return (
    'add the user to the gpio group (sudo usermod -aG gpio "$USER", or SupplementaryGroups=gpio in ' +
    'the systemd unit) and restart the agent'
  );
}
