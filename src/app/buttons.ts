import type { ResolvedConfig } from '../config/index.js';
import type { Logger } from '../log.js';
import type { Button } from '../button/button.js';
import { SignalButton, GpioButton, KeyboardButton, combineButtons } from '../button/index.js';

/**
 * The buttons a configuration asks for. Signals (SIGUSR1 press, SIGUSR2 hold) are always there, so
 * an operator can act over SSH with `systemctl kill -s SIGUSR1 graph-device-agent`.
 */
export function createButtons(config: ResolvedConfig, logger: Logger, extra?: Button): Button {
  const log = logger.child({ component: 'button' });
  const buttons: Button[] = [new SignalButton({ logger: log })];
  const b = config.button;
  if (b.driver === 'gpio') {
    buttons.push(new GpioButton({
      bcmPin: b.bcmPin,
      ...(b.sysfsPin !== undefined ? { sysfsPin: b.sysfsPin } : {}),
      activeLow: b.activeLow,
      bounceTimeMs: b.bounceTimeMs,
      holdTimeMs: b.holdTimeMs,
      logger: log,
    }));
  } else if (b.driver === 'keyboard') {
    buttons.push(new KeyboardButton({ logger: log }));
  }
  if (extra) buttons.push(extra);
  return combineButtons(...buttons);
}
