import type { ReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import type { Button, ButtonListener } from './button.js';
import { backgroundClock, type Clock } from '../clock.js';
import { backoffMs } from '../retry/backoff.js';
import { Gestures } from './gestures.js';
import { EV_KEY, InputEventDecoder, KEY_POWER, eventSizeFor, type EventSize } from './input-event.js';
import { describeInputDevice, findInputDevice, type InputDevice } from './input-device.js';
import { safeListener } from './safe-listener.js';

/** The config.txt line that makes GPIO `bcmPin` a gpio-keys input device sending `keycode`. */
export function gpioKeyOverlayLine(bcmPin: number, keycode: number, label = 'graph-device-agent'): string {
  return `dtoverlay=gpio-key,gpio=${bcmPin},active_low=1,gpio_pull=up,keycode=${keycode},label=${label}`;
}

export const POWER_KEY_FIX =
  'the gpio-key overlay sends 116 (KEY_POWER) unless told otherwise, and systemd-logind powers the Pi off on it: ' +
  'set keycode=256 in the dtoverlay=gpio-key line of /boot/firmware/config.txt (and button.evdevKeycode to 256), then reboot';

export interface EvdevButtonOptions {
  /** The input device's name (button.evdevName). */
  deviceName: string;
  /** The key code the overlay was given (button.evdevKeycode): a gpio-keys device with it is ours too. */
  keycode: number;
  /** For the overlay line in the fix when no device is found. */
  bcmPin?: number;
  bounceTimeMs: number;
  holdTimeMs: number;
  /** Default /sys/class/input. */
  sysfsRoot?: string;
  /** Default /dev: the device is <devRoot>/input/eventN. */
  devRoot?: string;
  /** `struct input_event`'s size; from the process's architecture by default. */
  eventSize?: EventSize;
  /** The first wait before looking for the device again (doubles up to retryMaxMs). Default 1 s. */
  retryMinMs?: number;
  /** Default 60 s. */
  retryMaxMs?: number;
  /** How the device is opened: fs.promises.open by default (tests: a refused open, as root cannot be refused). */
  openDevice?: (path: string) => Promise<FileHandle>;
  logger?: Logger;
  /** Gestures' timers and the retry timer. */
  timers?: Timers;
  now?: () => number;
}

/** An error as Node's fs gives it. */
type ErrnoError = Error & { code?: string };

type Timers = Pick<Clock, 'setTimeout' | 'clearTimeout'>;

/**
 * The button as the kernel's gpio-keys driver sees it (`dtoverlay=gpio-key` in config.txt): an
 * input device read with plain `fs`. The kernel sets the pull-up and debounces; no sysfs GPIO, no
 * pin numbers, no native addon. Key down/up (value 1/0) feed the same Gestures as the GPIO
 * driver; autorepeat (value 2) is ignored.
 *
 * The read waits in the kernel, in one thread of libuv's pool, so an idle button costs no CPU
 * and no polling. The device may go away (driver unbound, a container restarted without it): the
 * driver then looks for it again with a back-off, and logs each problem once, with the fix.
 *
 * stop() does not wait for the pending read: the kernel returns it only at the next event, so
 * the file closes then, or when the process exits (the CLI always exits explicitly).
 */
export class EvdevButton implements Button {
  readonly name = 'evdev';
  private readonly options: EvdevButtonOptions;
  private readonly logger: Logger;
  private readonly timers: Timers;
  private readonly eventSize: EventSize;
  private listener: ButtonListener | undefined;
  private running = false;
  private stream: ReadStream | undefined;
  private gestures: Gestures | undefined;
  private device: InputDevice | undefined;
  private retryTimer: unknown = undefined;
  /** Looks that found nothing since the device was last open: the back-off's attempt number. */
  private retries = 0;
  /** The code of the last problem logged, so a retry that fails the same way stays quiet. */
  private lastProblem: string | undefined;
  private powerKeyWarned = false;

  constructor(options: EvdevButtonOptions) {
    this.options = options;
    this.logger = options.logger ?? silentLogger();
    // Background timers: a pending look for the device must not keep a finished command (hw-test) alive.
    this.timers = options.timers ?? backgroundClock;
    this.eventSize = options.eventSize ?? eventSizeFor();
  }

  /** True while the device is open and read. */
  get available(): boolean {
    return this.stream !== undefined;
  }

  /** The device in use, while there is one. */
  get current(): InputDevice | undefined {
    return this.stream ? this.device : undefined;
  }

  /** Looks for the device and opens it; when that fails, logs why and keeps looking in the background. */
  async start(listener: ButtonListener): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.listener = safeListener(listener, this.logger, this.name);
    await this.connect();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.retryTimer !== undefined) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.release();
  }

  private async connect(): Promise<void> {
    if (!this.running || this.stream) return;
    const { deviceName, keycode } = this.options;
    const device = await findInputDevice({
      name: deviceName,
      keycode,
      ...(this.options.sysfsRoot ? { sysfsRoot: this.options.sysfsRoot } : {}),
      ...(this.options.devRoot ? { devRoot: this.options.devRoot } : {}),
    });
    if (!this.running) return;
    if (!device) {
      const overlay = gpioKeyOverlayLine(this.options.bcmPin ?? 17, keycode);
      this.problem(undefined, 'ENODEV', `no input device named "${deviceName}" and no gpio-keys device with key ${keycode}: ` +
        `add "${overlay}" to /boot/firmware/config.txt and reboot (sudo ./systemd/install.sh offers to), ` +
        'or set button.driver to "gpio" (hardware/button.md)');
      this.scheduleRetry();
      return;
    }

    let stream: ReadStream;
    try {
      // Opened first, so that a refused open is told apart from a device that goes away later.
      const handle = await (this.options.openDevice ?? ((path: string) => open(path, 'r')))(device.path);
      if (!this.running) {
        await handle.close().catch(() => undefined);
        return;
      }
      // The stream owns the handle now and closes it when destroyed.
      stream = handle.createReadStream({ highWaterMark: this.eventSize * 64 });
    } catch (err) {
      if (!this.running) return;
      const code = (err as ErrnoError).code ?? 'UNKNOWN';
      this.problem(device, code, openFix(code, device), err);
      this.scheduleRetry();
      return;
    }

    const decoder = new InputEventDecoder(this.eventSize);
    const gestures = new Gestures(
      {
        bounceTimeMs: this.options.bounceTimeMs,
        holdTimeMs: this.options.holdTimeMs,
        timers: this.timers,
        ...(this.options.now ? { now: this.options.now } : {}),
      },
      this.listener!,
    );
    stream.on('data', (chunk: Buffer | string) => {
      for (const event of decoder.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk)) {
        if (event.type !== EV_KEY || event.value === 2) continue; // EV_SYN and the rest; autorepeat
        this.logger.debug({ event: 'button.key', button: this.name, code: event.code, value: event.value }, `key ${event.code} ${event.value === 1 ? 'down' : 'up'}`);
        if (event.code === KEY_POWER) this.warnPowerKey(device);
        gestures.level(event.value === 1);
      }
    });
    stream.once('error', (err: ErrnoError) => this.lost(stream, err.code ?? 'UNKNOWN', err));
    stream.once('end', () => this.lost(stream, 'EOF'));

    this.stream = stream;
    this.gestures = gestures;
    this.device = device;
    this.retries = 0;
    this.lastProblem = undefined;
    this.logger.info(
      { event: 'button.started', button: this.name, device: device.path, name: device.name, match: device.match, keys: device.keys, eventSize: this.eventSize },
      `button on ${describeInputDevice(device)}${device.match === 'gpio-keys' ? `, found by its key ${this.options.keycode}` : ''}`,
    );
    if (device.keys.includes(KEY_POWER)) this.warnPowerKey(device);
  }

  /** The device stopped answering (unbound, unplugged) or the file ended: look for it again. */
  private lost(stream: ReadStream, code: string, err?: unknown): void {
    if (stream !== this.stream) return;
    const device = this.device;
    this.release();
    if (!this.running) return;
    this.logger.warn(
      { event: 'button.evdev_lost', button: this.name, device: device?.path, code, ...(err === undefined ? {} : { err }) },
      `the button's input device ${device?.path ?? ''} went away (${code}); looking for it again`,
    );
    this.lastProblem = undefined;
    this.scheduleRetry();
  }

  private release(): void {
    this.gestures?.dispose();
    this.gestures = undefined;
    const stream = this.stream;
    this.stream = undefined;
    if (stream) {
      stream.removeAllListeners('data');
      stream.on('error', () => undefined);
      stream.destroy();
    }
  }

  private scheduleRetry(): void {
    if (!this.running || this.retryTimer !== undefined) return;
    // The agent's one back-off, without jitter: a local device has no crowd to spread out.
    const delay = backoffMs(this.retries++, { baseMs: this.options.retryMinMs ?? 1000, maxMs: this.options.retryMaxMs ?? 60_000, jitter: 'none' });
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect().catch((err: unknown) => {
        this.problem(undefined, 'UNKNOWN', `looking for the input device failed: ${String(err)}`, err);
        this.scheduleRetry();
      });
    }, delay);
  }

  /** One `button.unavailable` line per kind of problem, not one per retry. */
  private problem(device: InputDevice | undefined, code: string, fix: string, err?: unknown): void {
    if (code === this.lastProblem) return;
    this.lastProblem = code;
    this.logger.warn(
      {
        event: 'button.unavailable',
        button: this.name,
        device: device?.path,
        name: device?.name ?? this.options.deviceName,
        code,
        fix,
        ...(err === undefined ? {} : { err }),
      },
      `the button's input device is unavailable, running without it (still looking): ${fix}`,
    );
  }

  private warnPowerKey(device: InputDevice): void {
    if (this.powerKeyWarned) return;
    this.powerKeyWarned = true;
    this.logger.warn(
      { event: 'button.power_key', button: this.name, device: device.path, code: KEY_POWER, fix: POWER_KEY_FIX },
      `${device.path} sends KEY_POWER (116): a press may shut the Pi down. Fix: ${POWER_KEY_FIX}`,
    );
  }
}

function openFix(code: string, device: InputDevice): string {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return `cannot open ${device.path}: it belongs to the group "input". Add the user to it ` +
        '(sudo usermod -aG input "$USER", then log in again), or SupplementaryGroups=input in the systemd unit ' +
        '(install.sh\'s unit has it); in Docker: --group-add "$(getent group input | cut -d: -f3)"';
    case 'ENOENT':
      return `sysfs lists ${device.event} but ${device.path} does not exist: in a container pass it ` +
        `(--device ${device.path}); under systemd with PrivateDevices=yes bind it in (BindPaths=-/dev/input)`;
    default:
      return `opening ${device.path} failed (${code})`;
  }
}
