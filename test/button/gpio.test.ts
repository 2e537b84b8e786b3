import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GpioButton, type GpioButtonOptions } from '../../src/button/gpio.js';
import { FakeGpioBoard, fsError } from '../support/fake-gpio.js';
import { FakeClock } from '../support/fake-clock.js';
import { captureLog } from './log-lines.js';

let tmp: string;
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'gda-gpio-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

let treeCount = 0;
/** A fresh fake `/sys/class/gpio` for this board. */
async function sysfsFor(board: FakeGpioBoard): Promise<string> {
  const root = join(tmp, `sys-${treeCount++}`);
  await board.writeSysfs(root);
  return root;
}

/** A GPIO button on a fake board, with a fake clock, a captured log and a recording listener. */
async function setUp(board: FakeGpioBoard, options: Partial<GpioButtonOptions> = {}) {
  const clock = new FakeClock();
  const { logger, lines } = captureLog();
  const seen: string[] = [];
  const button = new GpioButton({
    bcmPin: 17,
    bounceTimeMs: 20,
    holdTimeMs: 1000,
    sysfsRoot: options.sysfsRoot ?? (await sysfsFor(board)),
    gpioFactory: board.Gpio,
    logger,
    timers: clock,
    now: clock.now,
    ...options,
  });
  await button.start({ pressed: () => seen.push('press'), held: () => seen.push('hold') });
  return { button, clock, lines, seen };
}

/** Presses for `ms` with contact bounce on both edges, at the clock's pace. */
function pressFor(board: FakeGpioBoard, clock: FakeClock, gpio: number, ms: number): void {
  for (const low of [true, false, true]) {
    if (low) board.driveLow(gpio);
    else board.driveHigh(gpio);
    clock.advanceBy(1);
  }
  clock.advanceBy(ms - 3);
  for (const high of [true, false, true]) {
    if (high) board.driveHigh(gpio);
    else board.driveLow(gpio);
    clock.advanceBy(1);
  }
  clock.advanceBy(100);
}

function eventLines(lines: Array<Record<string, unknown>>, event: string) {
  return lines.filter((l) => l.event === event);
}

describe('GpioButton: finding the sysfs number', () => {
  it('Pi 3 (kernel before 6.6): GPIO17 is sysfs 17 on pinctrl-bcm2835 at base 0', async () => {
    const board = FakeGpioBoard.pi3();
    const { button, clock, lines, seen } = await setUp(board);
    assert.deepEqual(board.opened, [{ gpio: 17, direction: 'in', edge: 'both', activeLow: true }]);
    const [chipLine] = eventLines(lines, 'button.gpio_chip');
    assert.equal(chipLine?.label, 'pinctrl-bcm2835');
    assert.equal(chipLine?.base, 0);
    pressFor(board, clock, 17, 200);
    assert.deepEqual(seen, ['press']);
    await button.stop();
  });

  it('Pi 4 on kernel 6.6: GPIO17 is sysfs 529 on pinctrl-bcm2711 at base 512, not the other chip', async () => {
    const board = FakeGpioBoard.pi4();
    const { button, clock, lines, seen } = await setUp(board);
    assert.equal(board.opened[0]?.gpio, 529);
    assert.equal(eventLines(lines, 'button.gpio_chip')[0]?.chip, 'gpiochip512');
    pressFor(board, clock, 529, 1500);
    assert.deepEqual(seen, ['hold']);
    await button.stop();
  });

  it('Pi 5: GPIO17 is sysfs 588 on pinctrl-rp1 at base 571, past the SoC chips', async () => {
    const board = FakeGpioBoard.pi5();
    const { button, clock, lines, seen } = await setUp(board);
    assert.equal(board.opened[0]?.gpio, 588);
    assert.equal(eventLines(lines, 'button.gpio_chip')[0]?.label, 'pinctrl-rp1');
    pressFor(board, clock, 588, 300);
    pressFor(board, clock, 588, 2500);
    assert.deepEqual(seen, ['press', 'hold']);
    await button.stop();
  });

  it('no known controller: falls back to base 0 and warns with the chips it saw', async () => {
    const board = new FakeGpioBoard([{ label: 'gpio-mockup-A', base: 0, ngpio: 32 }]);
    const { button, lines } = await setUp(board);
    assert.equal(board.opened[0]?.gpio, 17);
    const [chipLine] = eventLines(lines, 'button.gpio_chip');
    assert.equal(chipLine?.level, 'warn');
    assert.deepEqual(chipLine?.chips, ['gpiochip0:gpio-mockup-A']);
    assert.match(String(chipLine?.msg), /sysfsPin/);
    await button.stop();
  });

  it('the sysfsPin option is used as is', async () => {
    const board = FakeGpioBoard.pi4();
    const { button, lines } = await setUp(board, { sysfsPin: 539 });
    assert.equal(board.opened[0]?.gpio, 539);
    assert.equal(eventLines(lines, 'button.gpio_chip')[0]?.how, 'override');
    await button.stop();
  });

  it('activeLow: false opens the pin that way, and a high line is pressed', async () => {
    const board = FakeGpioBoard.pi3();
    board.driveLow(17); // a pull-down holds the line low while released
    const { button, clock, seen } = await setUp(board, { activeLow: false });
    assert.equal(board.opened[0]?.activeLow, false);
    board.driveHigh(17);
    clock.advanceBy(200);
    board.driveLow(17);
    clock.advanceBy(100);
    assert.deepEqual(seen, ['press']);
    await button.stop();
  });
});

describe('GpioButton: running', () => {
  it('stop() unwatches and unexports the pin; the line no longer reaches the listener', async () => {
    const board = FakeGpioBoard.pi4();
    const { button, clock, seen } = await setUp(board);
    assert.equal(board.isExported(529), true);
    assert.equal(button.available, true);
    await button.stop();
    assert.equal(board.isExported(529), false);
    assert.equal(button.available, false);
    pressFor(board, clock, 529, 200);
    assert.deepEqual(seen, []);
  });

  it('stop() during a press cancels the hold that was coming', async () => {
    const board = FakeGpioBoard.pi4();
    const { button, clock, seen } = await setUp(board);
    board.driveLow(529);
    clock.advanceBy(500);
    await button.stop();
    clock.advanceBy(5000);
    assert.deepEqual(seen, []);
  });

  it('a line that reads pressed at start warns about the pull-up and is not a gesture', async () => {
    const board = FakeGpioBoard.pi3();
    board.driveLow(17); // floating low, or someone's thumb
    const { button, clock, lines, seen } = await setUp(board);
    const [warning] = eventLines(lines, 'button.pressed_at_start');
    assert.match(String(warning?.msg), /gpio=17=ip,pu/);
    board.driveHigh(17);
    clock.advanceBy(5000);
    assert.deepEqual(seen, []);
    pressFor(board, clock, 17, 200);
    assert.deepEqual(seen, ['press']);
    await button.stop();
  });

  it('watch errors are logged once, not once per edge', async () => {
    const board = FakeGpioBoard.pi3();
    const { button, lines } = await setUp(board);
    board.failWatch(17, fsError('EIO', 'read'));
    board.failWatch(17, fsError('EIO', 'read'));
    assert.equal(eventLines(lines, 'button.read_failed').length, 1);
    await button.stop();
  });
});

describe('GpioButton: faults leave the agent running without a button', () => {
  /** Starts on a faulty board; asserts the common outcome and returns the one unavailable line. */
  async function faulty(board: FakeGpioBoard, options: Partial<GpioButtonOptions> = {}) {
    const { button, lines, seen } = await setUp(board, options);
    assert.equal(button.available, false);
    const unavailable = eventLines(lines, 'button.unavailable');
    assert.equal(unavailable.length, 1, JSON.stringify(lines));
    const [line] = unavailable;
    assert.equal(line?.level, 'warn');
    await button.stop(); // nothing to release, and no throw
    assert.deepEqual(seen, []);
    return line!;
  }

  it('watch() throwing (epoll refused): the pin is given back, one line with the fix, no throw', async () => {
    const board = FakeGpioBoard.pi4();
    board.watchFails = Object.assign(new Error('epoll_create1: Operation not permitted'), { code: 'EPERM' });
    const line = await faulty(board);
    assert.equal(line.code, 'EPERM');
    assert.match(String(line.fix), /edge interrupts|signals/);
    assert.equal(board.isExported(529), false, 'the pin is not left exported');
  });

  it('EBUSY (another program holds the pin): names the likely holders', async () => {
    const board = FakeGpioBoard.pi4();
    board.claim(529);
    const line = await faulty(board);
    assert.equal(line.code, 'EBUSY');
    assert.match(String(line.fix), /another program or a kernel driver/);
    assert.match(String(line.fix), /gpioinfo/);
    assert.equal(board.isExported(529), false);
  });

  it('EINVAL (wrong numbering): prints the base it chose and the sysfsPin option', async () => {
    // A Pi 4 on kernel 6.6 whose chips could not be read: base 0 is a guess, and 17 is rejected.
    const board = FakeGpioBoard.pi4();
    const emptyRoot = join(tmp, 'sys-empty');
    await mkdir(emptyRoot, { recursive: true });
    const line = await faulty(board, { sysfsRoot: emptyRoot });
    assert.equal(line.code, 'EINVAL');
    assert.equal(line.base, 0);
    assert.equal(line.sysfsPin, 17);
    assert.match(String(line.fix), /sysfsPin option/);
    assert.match(String(line.fix), /6\.6/);
  });

  it('EACCES (no permission): says to add the user to the gpio group', async () => {
    const board = FakeGpioBoard.pi4();
    board.failNextOpen = 'EACCES';
    const line = await faulty(board);
    assert.equal(line.code, 'EACCES');
    assert.match(String(line.fix), /gpio group/);
  });

  it('no /sys/class/gpio at all (Gpio.accessible false): says so and points to the signals', async () => {
    const board = FakeGpioBoard.pi4();
    board.accessible = false;
    const line = await faulty(board, { sysfsRoot: join(tmp, 'no-such-sysfs') });
    assert.equal(line.code, 'ENOENT');
    assert.match(String(line.fix), /SIGUSR1/);
    assert.deepEqual(board.opened, []);
  });

  it('Gpio.accessible false with sysfs present: a permission problem, the gpio group fix', async () => {
    const board = FakeGpioBoard.pi4();
    board.accessible = false;
    const line = await faulty(board);
    assert.equal(line.code, 'EACCES');
    assert.match(String(line.fix), /gpio group/);
  });

  it('a BCM number the header controller does not have is refused before export', async () => {
    const board = FakeGpioBoard.pi4();
    const line = await faulty(board, { bcmPin: 60 });
    assert.match(String(line.fix), /GPIO 0\.\.57/);
    assert.deepEqual(board.opened, []);
  });

  it('any other error still leaves the agent running, with the error in the line', async () => {
    const board = FakeGpioBoard.pi3();
    board.failNextOpen = 'EIO';
    const line = await faulty(board);
    assert.equal(line.code, 'EIO');
    const err = line.err as Record<string, unknown>;
    assert.equal(err.message, 'EIO: i/o error, write');
    assert.equal(err.code, 'EIO');
  });
});
