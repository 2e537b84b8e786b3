import type { ResolvedConfig } from '../config/index.js';
import type { Logger } from '../log.js';
import type { Button } from '../button/button.js';
import { SignalButton, GpioButton, KeyboardButton, combineButtons, type GpioConstructor } from '../button/index.js';

export type { GpioConstructor };

/** What a caller may change about the GPIO button (hw-test's tests: a fake Gpio and sysfs). */
export interface GpioButtonParts {
  gpioFactory?: GpioConstructor | undefined;
  sysfsRoot?: string | undefined;
  onUnavailable?: ((problem: string) => void) | undefined;
}

/**
 * The buttons a configuration asks for. Signals (SIGUSR1 press, SIGUSR2 hold) are always there, so
 * an operator can act over SSH with `systemctl kill -s SIGUSR1 graph-device-agent`.
 */
export function createButtons(config: ResolvedConfig, logger: Logger, extra?: Button, onUnavailable?: (problem: string) => void): Button {
  const log = logger.child({ component: 'button' });
  const buttons: Button[] = [new SignalButton({ logger: log })];
  const b = config.button;
  if (b.driver === 'gpio') {
    buttons.push(createGpioButton(b, log, onUnavailable ? { onUnavailable } : {}));
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
