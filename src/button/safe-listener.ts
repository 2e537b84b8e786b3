import type { Logger } from '../log.js';
import type { ButtonListener } from './button.js';

/**
 * Wraps a listener so that an exception thrown by it is logged instead of escaping into a signal
 * handler, a stream's 'data' event or onoff's epoll callback, where it would kill the process.
 */
export function safeListener(listener: ButtonListener, logger: Logger, button: string): ButtonListener {
  const call = (gesture: 'press' | 'hold', fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      logger.error({ event: 'button.listener_failed', button, gesture, err }, 'the button listener threw');
    }
  };
  return {
    pressed: () => call('press', () => listener.pressed()),
    held: () => call('hold', () => listener.held()),
  };
}
