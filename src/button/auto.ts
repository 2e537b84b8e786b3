import type { Logger } from '../log.js';
import type { Button, ButtonListener } from './button.js';
import { describeInputDevice, findInputDevice, type InputDevice } from './input-device.js';
import { HEADER_GPIO_LABELS, listGpioChips, type GpioChip } from './sysfs-pin.js';

/** Which button driver `button.driver: "auto"` takes, and why: for the log, `status` and hw-test. */
export type ButtonChoice =
  | { driver: 'evdev'; why: string; device: InputDevice }
  | { driver: 'gpio'; why: string; chip: GpioChip | undefined }
  | { driver: 'none'; why: string };

export interface ChooseButtonOptions {
  evdevName: string;
  evdevKeycode: number;
  /** Set: the person named the sysfs number, so sysfs GPIO counts as there without a known chip. */
  sysfsPin?: number | undefined;
  /** Default /sys/class/input. */
  inputSysfsRoot?: string | undefined;
  /** Default /dev. */
  devRoot?: string | undefined;
  /** Default /sys/class/gpio. */
  gpioSysfsRoot?: string | undefined;
}

/**
 * The kernel's gpio-keys device first (no sysfs GPIO, no native addon, pull-up and debounce by
 * the kernel), then sysfs GPIO through onoff when the Pi's header controller is there, else no
 * driver (the signals stay). A PC's /sys/class/gpio without the Pi's controller is not taken: it
 * would only log a permission problem about a button that cannot exist there.
 */
export async function chooseButtonDriver(options: ChooseButtonOptions): Promise<ButtonChoice> {
  const device = await findInputDevice({
    name: options.evdevName,
    keycode: options.evdevKeycode,
    ...(options.inputSysfsRoot ? { sysfsRoot: options.inputSysfsRoot } : {}),
    ...(options.devRoot ? { devRoot: options.devRoot } : {}),
  });
  if (device) {
    const how = device.match === 'name' ? `named "${device.name}"` : `a gpio-keys device with key ${options.evdevKeycode}`;
    return { driver: 'evdev', why: `input device ${how}: ${describeInputDevice(device)}`, device };
  }
  const gpioRoot = options.gpioSysfsRoot ?? '/sys/class/gpio';
  const chips = await listGpioChips(gpioRoot);
  const chip = HEADER_GPIO_LABELS.map((label) => chips.find((c) => c.label === label)).find((c) => c !== undefined);
  const noDevice = `no input device named "${options.evdevName}" or gpio-keys device with key ${options.evdevKeycode}`;
  if (chip) {
    return { driver: 'gpio', why: `${noDevice}; sysfs GPIO has the header's controller ${chip.label} (${chip.name}, base ${chip.base})`, chip };
  }
  if (options.sysfsPin !== undefined && chips.length > 0) {
    return { driver: 'gpio', why: `${noDevice}; sysfs GPIO is there and button.sysfsPin is set`, chip: undefined };
  }
  return {
    driver: 'none',
    why: `${noDevice}, and no Raspberry Pi GPIO controller in ${gpioRoot}: signals only (SIGUSR1 press, SIGUSR2 hold)`,
  };
}

export interface AutoButtonOptions {
  choose: () => Promise<ButtonChoice>;
  /** The driver for a choice; undefined for "none". */
  make: (choice: ButtonChoice) => Button | undefined;
  logger: Logger;
}

/**
 * `button.driver: "auto"`: chooses when started (the devices are looked at then, not when the
 * configuration is read), logs `button.selected` with the driver and why, then is that driver.
 */
export class AutoButton implements Button {
  readonly name = 'auto';
  private chosen: Button | undefined;
  private choice: ButtonChoice | undefined;

  constructor(private readonly options: AutoButtonOptions) {}

  /** What was chosen at start. */
  get selected(): ButtonChoice | undefined {
    return this.choice;
  }

  async start(listener: ButtonListener): Promise<void> {
    if (this.choice) return;
    const choice = await this.options.choose();
    this.choice = choice;
    this.options.logger.info(
      { event: 'button.selected', driver: choice.driver, why: choice.why, ...(choice.driver === 'evdev' ? { device: choice.device.path } : {}) },
      `button.driver "auto": ${choice.driver} (${choice.why})`,
    );
    this.chosen = this.options.make(choice);
    await this.chosen?.start(listener);
  }

  async stop(): Promise<void> {
    const chosen = this.chosen;
    this.chosen = undefined;
    this.choice = undefined;
    await chosen?.stop();
  }
}
