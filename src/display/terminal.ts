/* eslint-disable no-restricted-syntax -- loaded only with the terminal display (a person at a
   terminal, not the service); its block characters read better as they are. */
import type { Logger } from '../log.js';
import type { Display } from './display.js';
import { Frame } from './frame.js';

/** Two pixel rows per text row: top lit, bottom lit, both, neither. */
const UPPER = '▀';
const LOWER = '▄';
const FULL = '█';
const EMPTY = ' ';

/** The frame as text rows of half blocks (`ceil(height / 2)` rows of `width` characters). */
export function frameToHalfBlocks(frame: Frame): string[] {
  const rows: string[] = [];
  for (let y = 0; y < frame.height; y += 2) {
    let row = '';
    for (let x = 0; x < frame.width; x++) {
      const top = frame.get(x, y);
      const bottom = frame.get(x, y + 1);
      row += top ? (bottom ? FULL : UPPER) : bottom ? LOWER : EMPTY;
    }
    rows.push(row);
  }
  return rows;
}

/** The frame in a box, one string per line, with an optional label in the top edge. */
export function frameToBox(frame: Frame, label = ''): string[] {
  const title = label ? `─ ${label} ` : '';
  const top = `┌${title}${'─'.repeat(Math.max(0, frame.width - [...title].length))}┐`;
  return [top, ...frameToHalfBlocks(frame).map((row) => `│${row}│`), `└${'─'.repeat(frame.width)}┘`];
}

export interface TerminalDisplayOptions {
  width?: number;
  height?: number;
  /** Where to draw: process.stdout by default. */
  output?: NodeJS.WritableStream;
  /** Shown in the box's top edge, e.g. "SSD1306 128x64 (emulated)". */
  label?: string;
  log?: Logger;
}

const CSI = '\u001b[';
/** Lit pixels in the light blue of a white OLED, on a TTY only. */
const LIT_COLOUR = `${CSI}38;5;195m`;
const RESET = `${CSI}0m`;

/**
 * A display in the terminal: each frame is drawn in a box with half-block characters. On a TTY
 * the box is redrawn in place (cursor up, overwrite), so it looks like a panel; into a pipe or
 * a file every frame is appended, which is what a log of frames should look like.
 */
export class TerminalDisplay implements Display {
  readonly name = 'terminal';
  readonly width: number;
  readonly height: number;
  private readonly output: NodeJS.WritableStream;
  private readonly label: string;
  private readonly tty: boolean;
  private readonly log: Logger | undefined;
  private last: Frame;
  private on = true;
  /** Lines drawn last time, to move back over them. */
  private drawnLines = 0;

  constructor(options: TerminalDisplayOptions = {}) {
    this.width = options.width ?? 128;
    this.height = options.height ?? 64;
    this.output = options.output ?? process.stdout;
    this.label = options.label ?? `${this.width}x${this.height}`;
    this.tty = (this.output as { isTTY?: boolean }).isTTY === true;
    this.log = options.log;
    this.last = new Frame(this.width, this.height);
  }

  async open(): Promise<void> {
    if (this.tty) this.output.write(`${CSI}?25l`); // hide the cursor while we own the screen area
    this.log?.debug({ event: 'display.opened', display: this.name, tty: this.tty }, 'drawing frames in the terminal');
  }

  async show(frame: Frame): Promise<void> {
    if (frame.width !== this.width || frame.height !== this.height) {
      throw new RangeError(`frame is ${frame.width}x${frame.height}, display is ${this.width}x${this.height}`);
    }
    this.last = frame.clone();
    if (this.on) this.draw(this.last);
  }

  async setPower(on: boolean): Promise<void> {
    this.on = on;
    this.draw(on ? this.last : new Frame(this.width, this.height));
  }

  async close(options: { blank?: boolean } = {}): Promise<void> {
    if (options.blank ?? true) this.draw(new Frame(this.width, this.height));
    if (this.tty) this.output.write(`${CSI}?25h`);
    this.drawnLines = 0;
  }

  private draw(frame: Frame): void {
    const lines = frameToBox(frame, this.label);
    let text = '';
    if (this.tty) {
      if (this.drawnLines > 0) text += `${CSI}${this.drawnLines}A\r`;
      text += lines.map((line, i) => (i === 0 || i === lines.length - 1 ? line : colourRow(line))).join('\n') + '\n';
    } else {
      text = lines.join('\n') + '\n';
    }
    this.drawnLines = lines.length;
    // Not waiting for the write callback: a pipe nobody reads would hold the agent up.
    this.output.write(text);
  }
}

/** Colours the pixels of a boxed row, leaving the box edges plain. */
function colourRow(line: string): string {
  return `${line.slice(0, 1)}${LIT_COLOUR}${line.slice(1, -1)}${RESET}${line.slice(-1)}`;
}
