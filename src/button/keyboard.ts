import type { Interface } from 'node:readline';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import type { Button, ButtonListener } from './button.js';
import { safeListener } from './safe-listener.js';

/** What the keyboard reads: process.stdin, or any readable stream in tests. */
export type KeyboardInput = NodeJS.ReadableStream & {
  isTTY?: boolean;
  isRaw?: boolean;
  setRawMode?: (mode: boolean) => unknown;
};

export interface KeyboardButtonOptions {
  /** process.stdin by default. */
  input?: KeyboardInput;
  logger?: Logger;
  /**
   * What `q` and Ctrl-C do in raw mode. Raw mode turns Ctrl-C into a plain byte, so the default
   * raises SIGINT on the process, and the agent shuts down as it would from the terminal.
   */
  interrupt?: () => void;
}

const CTRL_C = '\u0003';

/**
 * The button of the demo. On a terminal (raw mode): `h` holds, `q` or Ctrl-C quit, any other key
 * presses. Without a terminal (a pipe, a test): one line is one gesture, `h` holds, anything else
 * presses.
 */
export class KeyboardButton implements Button {
  readonly name = 'keyboard';
  private readonly input: KeyboardInput;
  private readonly logger: Logger;
  private readonly interrupt: () => void;
  private stopCurrent: (() => void) | undefined;

  constructor(options: KeyboardButtonOptions = {}) {
    this.input = options.input ?? process.stdin;
    this.logger = options.logger ?? silentLogger();
    this.interrupt = options.interrupt ?? (() => process.kill(process.pid, 'SIGINT'));
  }

  async start(listener: ButtonListener): Promise<void> {
    if (this.stopCurrent) return;
    const safe = safeListener(listener, this.logger, this.name);
    const { input } = this;
    if (input.isTTY === true && typeof input.setRawMode === 'function') {
      this.stopCurrent = this.startRaw(input, input.setRawMode.bind(input), safe);
      this.logger.debug({ event: 'button.keyboard', mode: 'raw' }, 'keyboard: any key = press, h = hold, q = quit');
    } else {
      // readline only here (the demo, a pipe): a daemon on a GPIO button never needs it.
      const { createInterface } = await import('node:readline');
      if (this.stopCurrent) return; // started meanwhile
      this.stopCurrent = this.startLines(input, safe, createInterface);
      this.logger.debug({ event: 'button.keyboard', mode: 'lines' }, 'keyboard: a line = press, "h" = hold');
    }
  }

  async stop(): Promise<void> {
    const stop = this.stopCurrent;
    this.stopCurrent = undefined;
    stop?.();
  }

  private startRaw(
    input: KeyboardInput,
    setRawMode: (mode: boolean) => unknown,
    listener: ButtonListener,
  ): () => void {
    const wasRaw = input.isRaw === true;
    setRawMode(true);
    // One chunk is one key: an arrow key arrives as one 3-byte escape sequence, one press.
    const onData = (chunk: Buffer | string): void => {
      const key = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      if (key.includes(CTRL_C) || key === 'q' || key === 'Q') this.interrupt();
      else if (key === 'h' || key === 'H') listener.held();
      else listener.pressed();
    };
    input.on('data', onData);
    input.resume();
    return () => {
      input.off('data', onData);
      setRawMode(wasRaw);
      // A flowing stdin keeps the process alive; pausing it lets the agent exit.
      input.pause();
    };
  }

  private startLines(input: KeyboardInput, listener: ButtonListener, createInterface: typeof import('node:readline').createInterface): () => void {
    const lines: Interface = createInterface({ input, terminal: false, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (line.trim().toLowerCase() === 'h') listener.held();
      else listener.pressed();
    });
    return () => lines.close();
  }
}
