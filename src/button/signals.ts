import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import type { Button, ButtonListener } from './button.js';
import { safeListener } from './safe-listener.js';

export interface SignalButtonOptions {
  logger?: Logger;
}

/**
 * The button an operator presses from a shell: SIGUSR1 is a press, SIGUSR2 a hold.
 *
 *     systemctl kill -s SIGUSR1 graph-device-agent
 *
 * Works in every mode, with or without GPIO. While started, these handlers replace Node's
 * defaults (SIGUSR1 would open the inspector, SIGUSR2 would end the process); stop() removes
 * them, which brings the defaults back.
 */
export class SignalButton implements Button {
  readonly name = 'signals';
  private readonly logger: Logger;
  private handlers: { usr1: () => void; usr2: () => void } | undefined;

  constructor(options: SignalButtonOptions = {}) {
    this.logger = options.logger ?? silentLogger();
  }

  async start(listener: ButtonListener): Promise<void> {
    if (this.handlers) return;
    const safe = safeListener(listener, this.logger, this.name);
    const handlers = {
      usr1: () => {
        this.logger.info({ event: 'button.signal', signal: 'SIGUSR1', gesture: 'press' }, 'SIGUSR1: press');
        safe.pressed();
      },
      usr2: () => {
        this.logger.info({ event: 'button.signal', signal: 'SIGUSR2', gesture: 'hold' }, 'SIGUSR2: hold');
        safe.held();
      },
    };
    process.on('SIGUSR1', handlers.usr1);
    process.on('SIGUSR2', handlers.usr2);
    this.handlers = handlers;
  }

  async stop(): Promise<void> {
    if (!this.handlers) return;
    process.off('SIGUSR1', this.handlers.usr1);
    process.off('SIGUSR2', this.handlers.usr2);
    this.handlers = undefined;
  }
}
