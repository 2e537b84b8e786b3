import type { ResolvedConfig } from '../config/index.js';
import type { Logger } from '../log.js';
import type { Button } from '../button/button.js';
import { SignalButton, GpioButton, KeyboardButton, combineButtons, type GpioConstructor } from '../button/index.js';
import { EvdevButton } from '../button/evdev.js';
import { AutoButton, chooseButtonDriver, type ButtonChoice } from '../button/auto.js';
import type { EventSize } from '../button/input-event.js';
import { describeInputDevice, findInputDevice } from '../button/input-device.js';

export type { GpioConstructor };
export { KEY_POWER } from '../button/input-event.js';
export { POWER_KEY_FIX, gpioKeyOverlayLine } from '../button/evdev.js';

/** What a caller may change about the GPIO and evdev buttons (tests: a fake Gpio, fake sysfs and /dev trees). */
export interface GpioButtonParts {
  gpioFactory?: GpioConstructor | undefined;
  sysfsRoot?: string | undefined;
  /** /sys/class/input by default. */
  inputSysfsRoot?: string | undefined;
  /** /dev by default. */
  devRoot?: string | undefined;
  eventSize?: EventSize | undefined;
  onUnavailable?: ((problem: string) => void) | undefined;
}

/**
 * The buttons a configuration asks for. Signals (SIGUSR1 press, SIGUSR2 hold) are always there, so
 * an operator can act over SSH with `systemctl kill -s SIGUSR1 graph-device-agent`.
 */
export function createButtons(config: ResolvedConfig, logger: Logger, extra?: Button, parts: GpioButtonParts = {}): Button {
  const log = logger.child({ component: 'button' });
  const buttons: Button[] = [new SignalButton({ logger: log })];
  const b = config.button;
  if (b.driver === 'gpio') {
    buttons.push(createGpioButton(b, log, parts));
  } else if (b.driver === 'evdev') {
    buttons.push(createEvdevButton(b, log, parts));
  } else if (b.driver === 'auto') {
    buttons.push(createAutoButton(b, log, parts));
  } else if (b.driver === 'keyboard') {
    buttons.push(new KeyboardButton({ logger: log }));
  }
  if (extra) buttons.push(extra);
  return combineButtons(...buttons);
}

/** The GPIO button of the button section: the daemon's and hw-test's, with the same settings. */
export function createGpioButton(b: ResolvedConfig['button'], logger: Logger, parts: GpioButtonParts = {}): GpioButton {
  return new GpioButton({
    bcmPin: b.bcmPin,
    ...(b.sysfsPin !== undefined ? { sysfsPin: b.sysfsPin } : {}),
    activeLow: b.activeLow,
    bounceTimeMs: b.bounceTimeMs,
    holdTimeMs: b.holdTimeMs,
    logger,
    ...(parts.gpioFactory ? { gpioFactory: parts.gpioFactory } : {}),
    ...(parts.sysfsRoot ? { sysfsRoot: parts.sysfsRoot } : {}),
    ...(parts.onUnavailable ? { onUnavailable: parts.onUnavailable } : {}),
  });
}

/** The gpio-keys input device button: the daemon's and hw-test's. */
export function createEvdevButton(b: ResolvedConfig['button'], logger: Logger, parts: GpioButtonParts = {}): EvdevButton {
  return new EvdevButton({
    deviceName: b.evdevName,
    keycode: b.evdevKeycode,
    bcmPin: b.bcmPin,
    bounceTimeMs: b.bounceTimeMs,
    holdTimeMs: b.holdTimeMs,
    logger,
    ...(parts.inputSysfsRoot ? { sysfsRoot: parts.inputSysfsRoot } : {}),
    ...(parts.devRoot ? { devRoot: parts.devRoot } : {}),
    ...(parts.eventSize ? { eventSize: parts.eventSize } : {}),
  });
}

function chooseAuto(b: ResolvedConfig['button'], parts: GpioButtonParts): Promise<ButtonChoice> {
  return chooseButtonDriver({
    evdevName: b.evdevName,
    evdevKeycode: b.evdevKeycode,
    sysfsPin: b.sysfsPin,
    inputSysfsRoot: parts.inputSysfsRoot,
    devRoot: parts.devRoot,
    gpioSysfsRoot: parts.sysfsRoot,
  });
}

/** Which button driver the agent uses on this machine now, and why (for `status`). */
export interface ButtonReport {
  /** button.driver as configured. */
  setting: string;
  /** What runs: "evdev", "gpio", "keyboard" or "none" (signals only). */
  driver: string;
  why: string;
  /** The input device, for evdev. */
  device?: string;
}

export async function reportButton(b: ResolvedConfig['button'], parts: GpioButtonParts = {}): Promise<ButtonReport> {
  if (b.driver === 'auto') {
    const choice = await chooseAuto(b, parts);
    return { setting: b.driver, driver: choice.driver, why: choice.why, ...(choice.driver === 'evdev' ? { device: choice.device.path } : {}) };
  }
  if (b.driver === 'evdev') {
    const device = await findInputDevice({
      name: b.evdevName,
      keycode: b.evdevKeycode,
      ...(parts.inputSysfsRoot ? { sysfsRoot: parts.inputSysfsRoot } : {}),
      ...(parts.devRoot ? { devRoot: parts.devRoot } : {}),
    });
    return device
      ? { setting: b.driver, driver: 'evdev', why: `button.driver is "evdev": ${describeInputDevice(device)}`, device: device.path }
      : { setting: b.driver, driver: 'evdev', why: `button.driver is "evdev", but there is no input device named "${b.evdevName}" or gpio-keys device with key ${b.evdevKeycode} (the agent keeps looking)` };
  }
  return { setting: b.driver, driver: b.driver, why: `button.driver is "${b.driver}"` };
}

/** `button.driver: "auto"`: evdev, else gpio, else nothing, decided at start (logged as `button.selected`). */
export function createAutoButton(b: ResolvedConfig['button'], logger: Logger, parts: GpioButtonParts = {}): AutoButton {
  return new AutoButton({
    logger,
    choose: () => chooseAuto(b, parts),
    make: (choice) => {
      if (choice.driver === 'evdev') return createEvdevButton(b, logger, parts);
      if (choice.driver === 'gpio') return createGpioButton(b, logger, parts);
      return undefined;
    },
  });
}
