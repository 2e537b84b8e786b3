// `graph-device-agent hw-test` against the SSD1306/SH1106 emulator (through the real driver and
// oled-i2c-bus) and the fake GPIO board (through the real GpioButton and sysfs lookup).
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { hwTestCommand, type HwTestOptions } from '../../src/commands/hw-test.js';
import type { Frame } from '../../src/display/frame.js';
import { renderTestPattern } from '../../src/display/screens.js';
import { decodeAll } from '../display/decode-text.js';
import { FakeGpioBoard } from '../support/fake-gpio.js';
import { FakeInputTree, keyRecords } from '../support/fake-input.js';
import { Ssd1306Emulator, type Ssd1306EmulatorOptions } from '../support/ssd1306-emulator.js';

/** GPIO17 on a Pi 4 with kernel 6.6: base 512. */
const BUTTON_LINE = 512 + 17;

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

interface Run {
  out: Capture;
  input: PassThrough;
  emulator: Ssd1306Emulator;
  board: FakeGpioBoard;
  /** The command's exit code, once it ends. */
  done: Promise<number>;
  /** Resolves when the report contains `text` (fails the test if the command ends first). */
  waitFor(text: string): Promise<void>;
}

/** Starts hw-test with a config file in a temp dir, the emulator as the I2C bus and a fake Pi 4's GPIO. */
async function start(options: {
  config: Record<string, unknown>;
  emulator?: Ssd1306EmulatorOptions;
  board?: (board: FakeGpioBoard) => void;
  /** Whether the person can answer the question (a terminal); false: no input at all. */
  interactive?: boolean;
  timeoutMs?: number;
  beforeStart?: (dir: string) => Promise<void>;
  /** Input devices (the gpio-key overlay's); none by default. */
  input?: (tree: FakeInputTree) => Promise<void>;
}): Promise<Run> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hw-test-'));
  dirs.push(dir);
  const configPath = path.join(dir, 'config.json');
  await writeFile(configPath, JSON.stringify({ stateDirectory: dir, ...options.config }));
  const sysfsRoot = path.join(dir, 'sys-class-gpio');
  const board = FakeGpioBoard.pi4();
  await board.writeSysfs(sysfsRoot);
  options.board?.(board);
  // Never this machine's /sys/class/input: an empty tree unless the test adds the overlay's device.
  const inputTree = await new FakeInputTree(path.join(dir, 'input')).init();
  await options.input?.(inputTree);
  await options.beforeStart?.(dir);
  const display = (options.config.display ?? {}) as { height?: 64 | 32 };
  const emulator = new Ssd1306Emulator({ height: display.height ?? 64, ...options.emulator });
  const out = new Capture();
  const input = new PassThrough();
  const hwOptions: HwTestOptions = {
    configPath,
    env: {},
    out,
    timeoutMs: options.timeoutMs ?? 20_000,
    openBus: async () => emulator,
    gpioFactory: board.Gpio,
    sysfsRoot,
    inputSysfsRoot: inputTree.sysfsRoot,
    devRoot: inputTree.devRoot,
    eventSize: 24,
    ...(options.interactive === false ? {} : { input }),
  };
  let ended = false;
  const done = hwTestCommand(hwOptions).finally(() => {
    ended = true;
  });
  const waitFor = async (text: string): Promise<void> => {
    while (!out.text.includes(text)) {
      if (ended) throw new Error(`hw-test ended without saying "${text}":\n${out.text}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  return { out, input, emulator, board, done, waitFor };
}

const GPIO_BUTTON = { driver: 'gpio', bcmPin: 17, bounceTimeMs: 0, holdTimeMs: 100 };
const AUTH = { auth: { clientId: '00000000-0000-0000-0000-000000000000' } };

/** Every pixel of the frame's four edges, and how many of them are lit. */
function borderLit(frame: Frame): { lit: number; total: number; missing: string[] } {
  const edge: Array<[number, number]> = [];
  for (let x = 0; x < frame.width; x++) edge.push([x, 0], [x, frame.height - 1]);
  for (let y = 1; y < frame.height - 1; y++) edge.push([0, y], [frame.width - 1, y]);
  const missing = edge.filter(([x, y]) => !frame.get(x, y)).map(([x, y]) => `${x},${y}`);
  return { lit: edge.length - missing.length, total: edge.length, missing };
}

function texts(frame: Frame): string[] {
  return decodeAll(frame).map((r) => r.text);
}

describe('hw-test', () => {
  it('draws the pattern on a 128x64 SSD1306, and passes when the person confirms it, presses and holds', async () => {
    const run = await start({ config: { ...AUTH, display: { driver: 'ssd1306', height: 64 }, button: GPIO_BUTTON } });
    await run.waitFor('Does the panel show exactly that?');

    const visible = run.emulator.visibleFrame();
    const border = borderLit(visible);
    assert.deepEqual(border.missing, [], 'the frame is lit on all four edges');
    assert.ok(visible.equals(renderTestPattern({ width: 128, height: 64 }, { controller: 'ssd1306', address: 0x3c })), 'the panel shows the pattern exactly');
    for (const text of ['TOP-LEFT', 'TOP-RIGHT', 'BOTTOM-LEFT', 'BOTTOM-RIGHT', 'hw-test SSD1306', '0x3C 128x64']) {
      assert.ok(texts(visible).includes(text), `"${text}" is not legible on the panel: ${JSON.stringify(texts(visible))}`);
    }
    assert.match(run.out.text, /answered at 0x3c/);
    assert.match(run.out.text, /2-pixel stripe of\s+garbage at the left or right edge: the controller is not ssd1306\. Set "display\.controller": "sh1106"/);
    run.input.write('y\n');

    // A hold while a press is wanted is not a press: hw-test says so and keeps waiting.
    await run.waitFor('press the button on GPIO17 (header pin 11) briefly');
    const pressScreen = texts(run.emulator.visibleFrame()).join(' ');
    assert.match(pressScreen, /Press the button briefly/, 'the panel asks for the press too');
    run.board.driveLow(BUTTON_LINE);
    await run.waitFor('That was a hold');
    run.board.driveHigh(BUTTON_LINE);
    run.board.driveLow(BUTTON_LINE);
    run.board.driveHigh(BUTTON_LINE);
    await run.waitFor('press: seen');

    await run.waitFor('now hold the button down for 0.1 s');
    assert.ok(texts(run.emulator.visibleFrame()).includes('Press: seen'), 'the panel shows the press result');
    run.board.driveLow(BUTTON_LINE);
    await run.waitFor('hold: seen');
    run.board.driveHigh(BUTTON_LINE);

    assert.equal(await run.done, 0, run.out.text);
    assert.match(run.out.text, /display\s+OK\s+answered at 0x3c on I2C bus 1; the pattern looks right \(you said so\)/);
    assert.match(run.out.text, /press\s+OK\s+seen/);
    assert.match(run.out.text, /hold\s+OK\s+seen/);
    assert.match(run.out.text, /hw-test passed\./);
    // The result stays on the panel, inside the pattern (the frame is still there to check).
    const last = run.emulator.visibleFrame();
    for (const text of ['hw-test passed', 'Press: seen', 'Hold: seen', 'TOP-LEFT']) {
      assert.ok(texts(last).includes(text), `"${text}" is not on the panel: ${JSON.stringify(texts(last))}`);
    }
    assert.deepEqual(borderLit(last).missing, []);
    assert.equal(run.emulator.displayOn, true);
    assert.equal(run.board.isExported(BUTTON_LINE), false, 'the pin is released');
    run.emulator.assertNoViolations();
  });

  it('draws the 128x32 pattern whole, asks nothing without a terminal, and skips a button the config does not have', async () => {
    const frames: Frame[] = [];
    const run = await start({
      config: { ...AUTH, display: { driver: 'ssd1306', height: 32 }, button: { driver: 'none' } },
      emulator: { onTransaction: () => frames.push(run.emulator.visibleFrame()) },
      interactive: false,
    });
    assert.equal(await run.done, 0, run.out.text);
    const pattern = renderTestPattern({ width: 128, height: 32 }, { controller: 'ssd1306', address: 0x3c });
    assert.ok(frames.some((f) => f.equals(pattern)), 'the panel showed the pattern');
    assert.ok(texts(pattern).includes('SSD1306 0x3C 128x32'), JSON.stringify(texts(pattern)));
    // What stays up: the pattern with the verdict in the middle.
    const visible = run.emulator.visibleFrame();
    assert.deepEqual(borderLit(visible).missing, []);
    for (const text of ['TOP-LEFT', 'TOP-RIGHT', 'BOT-LEFT', 'BOT-RIGHT', 'hw-test passed']) {
      assert.ok(texts(visible).includes(text), `"${text}" missing: ${JSON.stringify(texts(visible))}`);
    }

    assert.doesNotMatch(run.out.text, /\[y\/n\]/);
    assert.match(run.out.text, /button\.driver is "none"; set it to "auto", "evdev" or "gpio" to test a button/);
    assert.match(run.out.text, /display\s+OK\s+answered at 0x3c on I2C bus 1; check the pattern by eye/);
    assert.match(run.out.text, /press\s+skipped/);
    run.emulator.assertNoViolations();
  });

  it('on an SH1106 driven as an SSD1306 the frame is broken, and the hint names the setting to switch', async () => {
    const run = await start({
      config: { ...AUTH, display: { driver: 'ssd1306', height: 64, controller: 'ssd1306' }, button: { driver: 'none' } },
      emulator: { controller: 'sh1106', foreignCommands: 'ignore' },
    });
    await run.waitFor('Does the panel show exactly that?');
    // The chip answers every write (no error to detect), but what it shows is not the pattern.
    const border = borderLit(run.emulator.visibleFrame());
    assert.ok(border.lit < border.total, 'the frame is not whole on the panel');
    assert.ok(!run.emulator.visibleFrame().equals(renderTestPattern({ width: 128, height: 64 }, { controller: 'ssd1306', address: 0x3c })));
    assert.match(run.out.text, /snow \(random dots\) or scrambled lines and no frame: the same, set "display\.controller": "sh1106"/);
    run.input.write('n\n');

    assert.equal(await run.done, 1, run.out.text);
    assert.match(run.out.text, /display\s+FAILED\s+answered at 0x3c on I2C bus 1, but the pattern looks wrong: see the hints above \(most often "display\.controller": "sh1106"\)/);
    assert.match(run.out.text, /hw-test failed/);
  });

  it('points the other way when the config says sh1106', async () => {
    const run = await start({ config: { ...AUTH, display: { driver: 'ssd1306', controller: 'sh1106' }, button: { driver: 'none' } }, emulator: { controller: 'sh1106' }, interactive: false });
    assert.equal(await run.done, 0, run.out.text);
    assert.match(run.out.text, /the controller is not sh1106\. Set "display\.controller": "ssd1306"/);
    run.emulator.assertNoViolations();
  });

  it('reports a press and a hold that never come, with what to check, and fails', async () => {
    const run = await start({ config: { ...AUTH, display: { driver: 'ssd1306' }, button: GPIO_BUTTON }, interactive: false, timeoutMs: 30 });
    assert.equal(await run.done, 1, run.out.text);
    assert.match(run.out.text, /press: not seen within 30 ms\. Check:/);
    assert.match(run.out.text, /the button connects GPIO17 \(header pin 11\) to a ground pin \(pin 9 is next to pin 11\)/);
    assert.match(run.out.text, /"gpio=17=ip,pu" in \/boot\/firmware\/config\.txt/);
    assert.match(run.out.text, /press\s+FAILED/);
    assert.match(run.out.text, /hold\s+FAILED/);
    assert.match(run.out.text, /display\s+OK/);
    const last = texts(run.emulator.visibleFrame());
    assert.ok(last.includes('hw-test FAILED') && last.includes('Press: NOT seen'), `the panel says it failed: ${JSON.stringify(last)}`);
  });

  it('says why a display does not answer, with the fix, and still tests the button', async () => {
    const run = await start({
      config: { ...AUTH, display: { driver: 'ssd1306', address: 0x3d }, button: GPIO_BUTTON },
      interactive: false,
    });
    await run.waitFor('press the button on GPIO17 (header pin 11) briefly');
    run.board.driveLow(BUTTON_LINE);
    run.board.driveHigh(BUTTON_LINE);
    await run.waitFor('now hold the button down');
    run.board.driveLow(BUTTON_LINE);
    await run.waitFor('hold: seen');
    run.board.driveHigh(BUTTON_LINE);

    assert.equal(await run.done, 1, run.out.text);
    assert.match(run.out.text, /Display: it does not answer\./);
    assert.match(run.out.text, /Fix: .*i2cdetect -y 1/);
    assert.match(run.out.text, /display\s+FAILED\s+no answer at 0x3d on I2C bus 1 \(EREMOTEIO\)/);
    assert.match(run.out.text, /press\s+OK/);
    assert.doesNotMatch(run.out.text, /Does the panel show/);
  });

  it('says why the button pin cannot be used, with the fix', async () => {
    const run = await start({
      config: { ...AUTH, display: { driver: 'ssd1306' }, button: GPIO_BUTTON },
      board: (board) => board.claim(BUTTON_LINE),
      interactive: false,
    });
    assert.equal(await run.done, 1, run.out.text);
    assert.match(run.out.text, /Button: GPIO17 \(header pin 11\) cannot be used\./);
    assert.match(run.out.text, /Fix: .*held by another program/);
    assert.match(run.out.text, /press\s+FAILED\s+not tested: GPIO17 \(header pin 11\) is unavailable \(EBUSY\)/);
  });

  it('refuses while the agent runs: the display and the button are the agent\'s', async () => {
    const run = await start({
      config: { ...AUTH, display: { driver: 'ssd1306' }, button: GPIO_BUTTON },
      beforeStart: (dir) => writeFile(path.join(dir, 'status.json'), JSON.stringify({ pid: process.pid, state: 'signed-in', updatedAt: new Date().toISOString() })),
    });
    assert.equal(await run.done, 1);
    assert.match(run.out.text, new RegExp(`The agent is running \\(pid ${process.pid}\\)`));
    assert.match(run.out.text, /sudo systemctl stop graph-device-agent/);
    assert.equal(run.emulator.stats.writes, 0, 'the display was not touched');
  });

  it('says which backend it found before asking: sysfs GPIO with its chip, base and line', async () => {
    const run = await start({ config: { ...AUTH, display: { driver: 'ssd1306' }, button: GPIO_BUTTON }, interactive: false, timeoutMs: 30 });
    await run.done;
    const backendAt = run.out.text.indexOf('Button: sysfs GPIO: chip gpiochip512 (pinctrl-bcm2711), base 512, line 17, sysfs number 529.');
    assert.ok(backendAt > 0, run.out.text);
    assert.ok(backendAt < run.out.text.indexOf('press the button on GPIO17'), 'the backend comes before the question');
  });

  it('"auto" with the gpio-key overlay: tests the input device, says which it is first, press and hold', async () => {
    let writer: { write(data: Buffer): void; close(): void } | undefined;
    const run = await start({
      config: { ...AUTH, display: { driver: 'ssd1306' }, button: { bounceTimeMs: 0, holdTimeMs: 100 } },
      interactive: false,
      input: async (tree) => {
        const device = await tree.add({ event: 'event2', name: 'button@11', driver: 'gpio-keys', keys: [256] });
        writer = device.openFifoWriter();
      },
    });
    try {
      await run.waitFor('press the button on GPIO17 (header pin 11) briefly');
      assert.match(run.out.text, /the button on GPIO17 \(header pin 11\) through evdev/);
      assert.match(run.out.text, /Button: evdev: \S+\/input\/event2, named "button@11", key 256 \(found by its key code: a gpio-keys device\), 24-byte events\./);
      writer!.write(keyRecords(24, [[256, 1], [256, 0]]));
      await run.waitFor('press: seen');
      await run.waitFor('now hold the button down');
      writer!.write(keyRecords(24, [[256, 1], [256, 2], [256, 2]]));
      await run.waitFor('hold: seen');
      writer!.write(keyRecords(24, [[256, 0]]));
      assert.equal(await run.done, 0, run.out.text);
      assert.equal(run.board.opened.length, 0, 'sysfs GPIO was not touched');
    } finally {
      writer?.close();
    }
  });

  it('refuses to ask for a press when the device sends KEY_POWER (the Pi would shut down)', async () => {
    let writer: { write(data: Buffer): void; close(): void } | undefined;
    const run = await start({
      config: { ...AUTH, display: { driver: 'ssd1306' }, button: { driver: 'evdev' } },
      interactive: false,
      input: async (tree) => {
        writer = (await tree.add({ event: 'event0', name: 'graph-device-agent', driver: 'gpio-keys', keys: [116] })).openFifoWriter();
      },
    });
    try {
      assert.equal(await run.done, 1, run.out.text);
      assert.match(run.out.text, /sends 116 \(KEY_POWER\): a press shuts the Pi down\. Not testing it\./);
      assert.match(run.out.text, /Fix: .*keycode=256/);
      assert.doesNotMatch(run.out.text, /press the button/);
    } finally {
      writer?.close();
    }
  });

  it('tests the hardware of a config that has no app registration yet', async () => {
    const run = await start({ config: { display: { driver: 'ssd1306' }, button: { driver: 'none' } }, interactive: false });
    assert.equal(await run.done, 0, run.out.text);
    assert.match(run.out.text, /does not load as a whole \(one problem, "graph-device-agent check-config" lists them\)/);
    assert.match(run.out.text, /display\s+OK/);
  });
});
