import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type pino from 'pino';
import { ConfigError, findConfigFile, loadConfigFile, resolveDisplay } from '../config/index.js';
import { ButtonSchema, DisplaySchema, type Config } from '../config/schema.js';
import { createLogger, type Logger } from '../log.js';
import type { Display } from '../display/display.js';
import { renderTestPattern, testPatternCorners, testPatternLines, testPatternText } from '../display/screens.js';
import type { ButtonListener } from '../button/button.js';
import { createDisplay, hexAddress, type I2cBusLike } from '../app/displays.js';
import { createEvdevButton, createGpioButton, reportButton, KEY_POWER, POWER_KEY_FIX, type ButtonReport, type GpioButtonParts, type GpioConstructor } from '../app/buttons.js';
import type { Button } from '../button/button.js';
import { readAgentProcess } from './context.js';

/**
 * `graph-device-agent hw-test`: what a person runs after wiring the device. It draws a test
 * pattern on the display the configuration names, says what the panel should show and which
 * setting fixes what it shows instead, asks whether it looks right, then asks for a press and a
 * hold of the button and reports what it saw, in the terminal and on the panel.
 *
 * Only the person can see the panel: the command knows whether the controller answered on the
 * bus, not whether the pixels landed where they should (an SH1106 driven as an SSD1306 answers
 * every write and shows snow). Hence the question.
 *
 * Exit codes: 0 everything tested was seen (a display or button the configuration does not have
 * is skipped, not failed), 1 otherwise, 78 a configuration error (from the loader).
 */

export interface HwTestOptions {
  /** -c/--config; the usual search otherwise. */
  configPath?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Where the report goes; process.stdout by default. */
  out?: NodeJS.WritableStream;
  /**
   * The person's answer to "does the panel look like that?" (a line starting with y or n).
   * process.stdin when it is a terminal; without one the question is not asked.
   */
  input?: NodeJS.ReadableStream;
  /** How long each step waits for the person (the answer, the press, the hold). 60 s by default. */
  timeoutMs?: number;
  /** How the I2C bus is opened (tests: the SSD1306 emulator); the native i2c-bus by default. */
  openBus?: (busNumber: number) => Promise<I2cBusLike>;
  /** onoff's Gpio or a fake of it (tests); onoff by default. */
  gpioFactory?: GpioConstructor;
  /** Where the gpiochip directories are; /sys/class/gpio by default. */
  sysfsRoot?: string;
  /** Where the input devices are listed; /sys/class/input by default. */
  inputSysfsRoot?: string;
  /** Where their nodes are (DEV/input/eventN); /dev by default. */
  devRoot?: string;
  /** `struct input_event`'s size; the process's by default. */
  eventSize?: 16 | 24;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/** How a part of the test ended: seen working, not working (with what to do), or not there to test. */
type Outcome = { result: 'ok'; detail: string } | { result: 'failed'; detail: string } | { result: 'skipped'; detail: string };

/** The 40-pin header's pin for each BCM GPIO number, so the person can find the wire. */
const HEADER_PIN: Readonly<Record<number, number>> = {
  2: 3, 3: 5, 4: 7, 14: 8, 15: 10, 17: 11, 18: 12, 27: 13, 22: 15, 23: 16, 24: 18, 10: 19, 9: 21,
  25: 22, 11: 23, 8: 24, 7: 26, 0: 27, 1: 28, 5: 29, 6: 31, 12: 32, 13: 33, 19: 35, 16: 36, 26: 37,
  20: 38, 21: 40,
};

function gpioName(bcmPin: number): string {
  const pin = HEADER_PIN[bcmPin];
  return pin === undefined ? `GPIO${bcmPin}` : `GPIO${bcmPin} (header pin ${pin})`;
}

export async function hwTestCommand(options: HwTestOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  const out = options.out ?? process.stdout;
  const say = (text = ''): void => void out.write(`${text}\n`);
  const prompt = (text: string): void => void out.write(text);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const input = options.input ?? (process.stdin.isTTY ? process.stdin : undefined);
  const config = loadHardwareConfig(findConfigFile(options.configPath, env), env, say);

  const agent = config.stateDirectory === undefined ? null : await readAgentProcess(config.stateDirectory);
  if (agent?.running) {
    say(`The agent is running (pid ${agent.pid}) and drives the display and the button. Stop it first:`);
    say('  sudo systemctl stop graph-device-agent');
    return 1;
  }

  const events = new EventLog();
  const d = config.display;
  const b = config.button;
  const parts: GpioButtonParts = {
    gpioFactory: options.gpioFactory,
    sysfsRoot: options.sysfsRoot,
    inputSysfsRoot: options.inputSysfsRoot,
    devRoot: options.devRoot,
    eventSize: options.eventSize,
  };
  // Which backend the agent would use here ("auto": the devices decide), said before anything is asked.
  const backend = await reportButton(b, parts);
  const testable = backend.driver === 'gpio' || backend.driver === 'evdev';
  say(`hw-test: ${describeDisplay(config)}; ${testable ? `the button on ${gpioName(b.bcmPin)} through ${backend.driver}` : `no button to test (button.driver "${b.driver}")`}.`);
  say();

  const display = await openDisplay(config, events.logger, options, out);
  try {
    const panel = new Panel(display, d);
    const displayOutcome = await testDisplay(config, panel, events, { say, prompt, input, timeoutMs });

    let press: Outcome;
    let hold: Outcome;
    if (!testable) {
      const detail = b.driver === 'auto'
        ? `button.driver "auto" found no button: ${backend.why}; add the gpio-key overlay line (hardware/button.md)`
        : `button.driver is "${b.driver}"; set it to "auto", "evdev" or "gpio" to test a button`;
      const skipped: Outcome = { result: 'skipped', detail };
      say(`Button: ${skipped.detail}.`);
      press = skipped;
      hold = skipped;
    } else {
      [press, hold] = await testButton(config, backend, panel, events, parts, { say, prompt, timeoutMs });
    }

    const outcomes: Array<[string, Outcome]> = [['display', displayOutcome], ['press', press], ['hold', hold]];
    const passed = outcomes.every(([, o]) => o.result !== 'failed');
    say();
    say('Summary:');
    for (const [name, o] of outcomes) say(`  ${name.padEnd(8)} ${RESULT_WORD[o.result]}  ${o.detail}`);
    say(passed ? 'hw-test passed.' : 'hw-test failed: see the hints above.');
    const verdict = passed ? 'hw-test passed' : 'hw-test FAILED';
    const seen = (o: Outcome): string => (o.result === 'ok' ? 'seen' : o.result === 'failed' ? 'NOT seen' : 'skipped');
    await panel.say([verdict, `Press: ${seen(press)}`, `Hold: ${seen(hold)}`], verdict);
    return passed ? 0 : 1;
  } finally {
    // The pattern and the result stay on the panel for the person to read; the agent redraws it
    // when it starts.
    await display.close({ blank: false });
  }
}

const RESULT_WORD: Record<Outcome['result'], string> = { ok: 'OK     ', failed: 'FAILED ', skipped: 'skipped' };

// ---- the configuration -------------------------------------------------------------------------

/** What hw-test reads of the configuration. */
interface HardwareConfig {
  display: Config['display'];
  button: Config['button'];
  /** Where a running agent keeps status.json; unknown when the rest of the file does not load. */
  stateDirectory: string | undefined;
}

/**
 * The display and button sections. A device is often wired before its app registration exists:
 * when the file as a whole does not load (no client id yet) but these two sections do, hw-test
 * goes on with them and says so. A mistake in these sections is a ConfigError as usual (exit 78).
 */
function loadHardwareConfig(file: string, env: NodeJS.ProcessEnv, say: (text: string) => void): HardwareConfig {
  try {
    const config = loadConfigFile(file, env);
    return { display: config.display, button: config.button, stateDirectory: config.stateDirectory };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      throw error;
    }
    const sections = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const display = DisplaySchema.safeParse(sections.display ?? {});
    const button = ButtonSchema.safeParse(sections.button ?? {});
    if (!display.success || !button.success) throw error;
    say(`Note: ${file} does not load as a whole (${error.problems.length === 1 ? 'one problem' : `${error.problems.length} problems`}, ` +
      '"graph-device-agent check-config" lists them); its display and button sections are fine, and that is all hw-test needs.');
    return { display: resolveDisplay(display.data, file), button: button.data, stateDirectory: undefined };
  }
}

// ---- the display -----------------------------------------------------------------------------

function describeDisplay(config: HardwareConfig): string {
  const d = config.display;
  if (d.driver !== 'ssd1306') return `display.driver "${d.driver}" (no panel)`;
  return `the display ${d.controller} ${d.width}x${d.height} at ${hexAddress(d.address)} on I2C bus ${d.bus} (display.controller "${d.controller}")`;
}

/**
 * The configured display, from the daemon's factory. Without a panel the pattern still goes where
 * the agent's screens would (the terminal, else the PNG): handy for a look. A panel or the terminal
 * gets no PNG mirror here: the test is about what the person sees.
 */
async function openDisplay(config: HardwareConfig, logger: Logger, options: HwTestOptions, out: NodeJS.WritableStream): Promise<Display> {
  const d = config.display;
  const mirrored = d.driver !== 'ssd1306' && d.driver !== 'terminal';
  return createDisplay({ display: { ...d, pngPath: mirrored ? d.pngPath : undefined } }, logger, {
    terminalOutput: out,
    terminalLabel: `hw-test ${d.width}x${d.height} (simulated)`,
    ...(options.openBus ? { openBus: options.openBus } : {}),
  });
}

/**
 * The display, showing the test pattern throughout: what hw-test asks for and what it saw go in
 * the pattern's middle, so the frame and the corners stay up for the person to check.
 */
class Panel {
  constructor(readonly display: Display, private readonly settings: HardwareConfig['display']) {}

  get size(): { width: number; height: number } {
    return { width: this.settings.width, height: this.settings.height };
  }

  /** Draws the pattern with `lines` in the middle; `short` instead where only one line fits (128×32). */
  async say(lines: string[], short: string): Promise<void> {
    const shown = testPatternLines(this.size) >= lines.length ? lines : [short];
    const frame = renderTestPattern(this.size, { controller: this.settings.controller, address: this.settings.address }, shown);
    // show() only rejects for a frame of the wrong size; the driver logs its own faults.
    await this.display.show(frame).catch(() => undefined);
  }
}

interface Talk {
  /** A line of the report. */
  say: (text?: string) => void;
  /** A question, without a line break: the answer is typed after it. */
  prompt: (text: string) => void;
  timeoutMs: number;
}

async function testDisplay(config: HardwareConfig, panel: Panel, events: EventLog, talk: Talk & { input: NodeJS.ReadableStream | undefined }): Promise<Outcome> {
  const { say } = talk;
  const d = config.display;
  const size = { width: d.width, height: d.height };
  await panel.display.open();
  const text = testPatternText(size, { controller: d.controller, address: d.address });
  await panel.say(text, text[0] ?? '');

  if (d.driver !== 'ssd1306') {
    const where = d.driver === 'terminal' ? ' (the pattern is drawn above)' : d.pngPath ? ` (the pattern is in ${d.pngPath})` : '';
    say(`Display: display.driver is "${d.driver}", so there is no panel to test${where}.`);
    say('  For the OLED set "display.driver": "ssd1306" (hardware/display.md).');
    say();
    return { result: 'skipped', detail: `display.driver is "${d.driver}"` };
  }

  const fault = events.find('display.error');
  if (fault || !events.find('display.opened')) {
    say('Display: it does not answer.');
    if (fault) {
      say(`  ${String(fault.problem ?? fault.msg)}`);
      say(`  Fix: ${String(fault.fix ?? 'see hardware/display.md')}`);
    }
    say();
    return { result: 'failed', detail: `no answer at ${hexAddress(d.address)} on I2C bus ${d.bus}${fault ? ` (${String(fault.code)})` : ''}` };
  }

  const corners = testPatternCorners(size);
  const other = d.controller === 'ssd1306' ? 'sh1106' : 'ssd1306';
  say(`Display: the ${d.controller} answered at ${hexAddress(d.address)}. The panel should now show, sharp and whole:`);
  say('  - a 1-pixel frame on all four edges, right at the edges of the lit area, with ruler ticks');
  say('    every 8 pixels along the top and bottom');
  say(`  - an arrow into each corner, labelled ${corners[0]}, ${corners[1]}, ${corners[3]} and ${corners[2]}, the right way up`);
  say(`  - ${text.map((line) => `"${line}"`).join(' and ')} in the middle`);
  say('If it shows something else:');
  say('  - the picture shifted 2 pixels sideways, one side of the frame missing, or a 2-pixel stripe of');
  say(`    garbage at the left or right edge: the controller is not ${d.controller}. Set "display.controller": "${other}"`);
  say(`  - snow (random dots) or scrambled lines and no frame: the same, set "display.controller": "${other}"`);
  say(`  - upside down (${corners[0]} at the bottom right): set "display.rotate180": ${d.rotate180 ? 'false' : 'true'}`);
  say(`  - only the top half lit, or every other line: set "display.height": ${d.height === 64 ? 32 : 64}`);
  say('  - nothing at all: "display.contrast" may be 0, or the controller setting is wrong (an SSD1306');
  say('    set up as an SH1106 can stay dark)');

  const answered = `answered at ${hexAddress(d.address)} on I2C bus ${d.bus}`;
  if (!talk.input) {
    say();
    return { result: 'ok', detail: `${answered}; check the pattern by eye (hints above)` };
  }
  const answer = await ask(talk.input, talk.prompt, 'Does the panel show exactly that? [y/n] ', talk.timeoutMs);
  say();
  if (answer === 'no') {
    return { result: 'failed', detail: `${answered}, but the pattern looks wrong: see the hints above (most often "display.controller": "${other}")` };
  }
  return { result: 'ok', detail: answer === 'yes' ? `${answered}; the pattern looks right (you said so)` : `${answered}; no answer about the pattern` };
}

/** One line from `input`: yes, no, or nothing within the time. */
async function ask(input: NodeJS.ReadableStream, prompt: (text: string) => void, question: string, timeoutMs: number): Promise<'yes' | 'no' | 'none'> {
  prompt(question);
  const lines = createInterface({ input, terminal: false });
  try {
    return await new Promise((resolve) => {
      const timer = setTimeout(() => resolve('none'), timeoutMs);
      const done = (answer: 'yes' | 'no' | 'none'): void => {
        clearTimeout(timer);
        resolve(answer);
      };
      lines.once('line', (line: string) => {
        const a = line.trim().toLowerCase();
        done(a.startsWith('y') ? 'yes' : a.startsWith('n') ? 'no' : 'none');
      });
      lines.once('close', () => done('none'));
    });
  } finally {
    lines.close();
  }
}

// ---- the button ------------------------------------------------------------------------------

async function testButton(config: HardwareConfig, backend: ButtonReport, panel: Panel, events: EventLog, parts: GpioButtonParts, talk: Talk): Promise<[Outcome, Outcome]> {
  const { say, timeoutMs } = talk;
  const b = config.button;
  const where = gpioName(b.bcmPin);
  const holdSec = (b.holdTimeMs / 1000).toFixed(1);
  const waiting = timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`;
  const gestures = new GestureWaiter();
  const evdev = backend.driver === 'evdev';

  if (evdev && b.evdevKeycode === KEY_POWER) {
    // Asking for a press would power the Pi off (systemd-logind): refuse before opening anything.
    say(`Button: button.evdevKeycode is ${KEY_POWER} (KEY_POWER): a press shuts the Pi down. Not testing it.`);
    say(`  Fix: ${POWER_KEY_FIX}`);
    const refused: Outcome = { result: 'failed', detail: 'not tested: the key code is 116 (KEY_POWER), which powers the Pi off' };
    return [refused, refused];
  }

  const button: Button & { readonly available: boolean } = evdev
    ? createEvdevButton(b, events.logger, parts)
    : createGpioButton(b, events.logger, parts);
  await button.start(gestures);
  try {
    const what = evdev ? `the input device ${backend.device ?? `"${b.evdevName}"`}` : where;
    if (!button.available) {
      const unavailable = events.find('button.unavailable');
      say(`Button: ${what} cannot be used.`);
      say(`  Fix: ${String(unavailable?.fix ?? 'see hardware/button.md')}`);
      const failed: Outcome = { result: 'failed', detail: `not tested: ${what} is unavailable (${String(unavailable?.code ?? 'unknown')})` };
      await panel.say(['No button:', evdev ? 'input device unusable' : `GPIO${b.bcmPin} unusable`, 'See the terminal'], evdev ? 'No button: evdev' : `No button: GPIO${b.bcmPin}`);
      return [failed, failed];
    }
    say(`Button: ${describeBackend(events, backend)}`);
    if (evdev && events.find('button.power_key')) {
      say(`Button: ${where} sends 116 (KEY_POWER): a press shuts the Pi down. Not testing it.`);
      say(`  Fix: ${POWER_KEY_FIX}`);
      const refused: Outcome = { result: 'failed', detail: 'not tested: the device sends 116 (KEY_POWER), which powers the Pi off' };
      return [refused, refused];
    }
    const stuck = events.find('button.pressed_at_start');
    if (stuck) say(`Button: warning: ${String(stuck.msg)}`);

    // The panel first: by the time the person reads the terminal, the panel says the same.
    await panel.say(['Press the button', `briefly (GPIO${b.bcmPin})`], 'Press the button');
    say(`Button: press the button on ${where} briefly. Waiting ${waiting}...`);
    const pressSeen = await gestures.wait('press', timeoutMs, () =>
      say(`  That was a hold (${holdSec} s or longer). A short press, please.`));
    let press: Outcome;
    if (pressSeen) {
      say('  press: seen');
      press = { result: 'ok', detail: 'seen' };
    } else {
      say(`  press: not seen within ${waiting}. Check:`);
      for (const hint of noPressHints(config, backend)) say(`    - ${hint}`);
      press = { result: 'failed', detail: `not seen within ${waiting}` };
    }

    await panel.say([`Press: ${pressSeen ? 'seen' : 'NOT seen'}`, 'Now hold the button', `down for ${holdSec} s`], `Hold it ${holdSec} s`);
    say(`Button: now hold the button down for ${holdSec} s. Waiting ${waiting}...`);
    const holdSeen = await gestures.wait('hold', timeoutMs, () =>
      say(`  That was a short press. Keep it down until this says "hold: seen" (${holdSec} s).`));
    let hold: Outcome;
    if (holdSeen) {
      say('  hold: seen');
      hold = { result: 'ok', detail: 'seen' };
    } else {
      say(`  hold: not seen within ${waiting}.`);
      say(`    - keep the button down for ${holdSec} s ("button.holdTimeMs"); let go once this says "hold: seen"`);
      if (pressSeen) say('    - presses work, so if it was down that long, the contact opens while held: a worn button or a loose wire');
      else for (const hint of noPressHints(config, backend)) say(`    - ${hint}`);
      hold = { result: 'failed', detail: `not seen within ${waiting}` };
    }
    return [press, hold];
  } finally {
    await button.stop();
  }
}

/** The backend the button runs on, from the driver's own log line: the device, or the chip, base and line. */
function describeBackend(events: EventLog, backend: ButtonReport): string {
  if (backend.driver === 'evdev') {
    const started = events.find('button.started');
    const keys = Array.isArray(started?.keys) ? (started.keys as number[]).join(',') : '?';
    return `evdev: ${String(started?.device ?? backend.device)}, named "${String(started?.name ?? '?')}", key ${keys}` +
      `${started?.match === 'gpio-keys' ? ' (found by its key code: a gpio-keys device)' : ''}, ${String(started?.eventSize ?? '?')}-byte events.`;
  }
  const chip = events.find('button.gpio_chip');
  if (!chip) return 'sysfs GPIO.';
  const on = chip.chip ? `chip ${String(chip.chip)} (${String(chip.label)}), base ${String(chip.base)}` : `base ${String(chip.base)} (${String(chip.how)})`;
  return `sysfs GPIO: ${on}, line ${String(chip.bcmPin)}, sysfs number ${String(chip.sysfsPin)}.`;
}

/** Why a button that starts fine reports nothing, most likely first. */
function noPressHints(config: HardwareConfig, backend: ButtonReport): string[] {
  const b = config.button;
  const ground = `the button connects ${gpioName(b.bcmPin)} to a ground pin${b.bcmPin === 17 ? ' (pin 9 is next to pin 11)' : ' (pins 6, 9, 14, 20, 25, 30, 34, 39)'}`;
  if (backend.driver === 'evdev') {
    return [
      ground,
      `the gpio= of the dtoverlay=gpio-key line in /boot/firmware/config.txt is the BCM number you wired (GPIO${b.bcmPin}); after a change, reboot`,
      `"sudo evtest ${backend.device ?? '/dev/input/eventN'}" (apt install evtest) prints the key as you press it; if it does not, it is the wiring or the overlay line`,
    ];
  }
  return [
    ground,
    `the pull-up is on: "gpio=${b.bcmPin}=ip,pu" in /boot/firmware/config.txt, then reboot (hardware/button.md)`,
    `"button.bcmPin" is the BCM number (GPIO${b.bcmPin}), not the header pin number`,
    `a button to 3.3 V instead of ground needs "button.activeLow": false and a pull-down ("gpio=${b.bcmPin}=ip,pd")`,
  ];
}

/** The button's gestures, awaited one at a time; a gesture while nothing waits is dropped. */
class GestureWaiter implements ButtonListener {
  private waiting: { kind: 'press' | 'hold'; other: () => void; seen: () => void } | undefined;

  pressed(): void {
    this.report('press');
  }

  held(): void {
    this.report('hold');
  }

  /** Resolves true when `kind` is seen, false after `timeoutMs`; `other` hears the other gesture. */
  wait(kind: 'press' | 'hold', timeoutMs: number, other: () => void): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        resolve(false);
      }, timeoutMs);
      this.waiting = {
        kind,
        other,
        seen: () => {
          clearTimeout(timer);
          this.waiting = undefined;
          resolve(true);
        },
      };
    });
  }

  private report(kind: 'press' | 'hold'): void {
    const waiting = this.waiting;
    if (!waiting) return;
    if (kind === waiting.kind) waiting.seen();
    else waiting.other();
  }
}

// ---- the drivers' log --------------------------------------------------------------------------

/**
 * The drivers report faults (with their fixes) as log lines: `display.error`, `button.unavailable`.
 * hw-test keeps those lines and tells the person in words instead of printing JSON.
 */
class EventLog {
  readonly lines: Array<Record<string, unknown>> = [];
  readonly logger: Logger;

  constructor() {
    const lines = this.lines;
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (line.trim() === '') continue;
          try {
            lines.push(JSON.parse(line) as Record<string, unknown>);
          } catch {
            // Not a log line: nothing to report.
          }
        }
        done();
      },
    });
    this.logger = createLogger({ level: 'info', destination: destination as unknown as pino.DestinationStream });
  }

  find(event: string): Record<string, unknown> | undefined {
    return this.lines.find((line) => line.event === event);
  }
}
