// A display that is missing, unplugged or misconfigured must never stop the agent: show() resolves,
// one log line says what to do, and the display comes back by itself when it answers again.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ssd1306Display, describeFault } from '../../../src/display/ssd1306/index.js';
import { FakeClock } from '../../support/fake-clock.js';
import { missing } from '../../support/requires-tool.js';
import { border, captureLog, checker, differences, rig, textish } from './helpers.js';

/** Nothing may escape: oled-i2c-bus's timers would throw there if the driver let them run. */
const escaped: unknown[] = [];
const record = (error: unknown): void => {
  escaped.push(error);
};
before(() => {
  process.on('uncaughtException', record);
  process.on('unhandledRejection', record);
});
after(() => {
  process.off('uncaughtException', record);
  process.off('unhandledRejection', record);
  assert.deepEqual(escaped, [], 'an error escaped the driver');
});

/** Lets the emulator's setImmediate callbacks and the driver's promises run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Ssd1306Display faults', () => {
  it('starts without a display: open() and show() resolve, one line with the fix, retries with back-off', async () => {
    const { emulator, display, timers, events } = rig({ retry: { initialMs: 1_000, maxMs: 4_000 } }, { absent: true });
    await display.open();
    const frame = textish();
    await display.show(frame);
    await display.show(checker());

    const errors = events('display.error');
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.code, 'EREMOTEIO');
    assert.match(String(errors[0]!.fix), /i2cdetect -y 1/);
    assert.match(String(errors[0]!.msg), /0x3c/);
    assert.deepEqual(timers.delays(), [1_000]);

    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      timers.fireAll();
      await display.idle();
      delays.push(...timers.delays());
    }
    assert.deepEqual(delays, [2_000, 4_000, 4_000, 4_000]);
    assert.equal(events('display.error').length, 1, 'still one line, however long it stays away');
    assert.equal(events('display.retry').length, 4);

    emulator.replug();
    timers.fireAll();
    await display.idle();
    assert.equal(events('display.recovered').length, 1);
    const shown = checker();
    assert.ok(emulator.visibleFrame().equals(shown), `differs at ${differences(emulator.visibleFrame(), shown).join(' ')}`);
    assert.deepEqual(timers.delays(), []);
    emulator.assertNoViolations();
  });

  it('survives the cable pulled mid-frame, and redraws the whole last frame when it is back', async () => {
    const { emulator, display, timers, events } = rig();
    await display.open();
    await display.show(textish());

    emulator.unplugAfter(1); // the window command goes through, its data does not
    const frame = border();
    await display.show(frame);
    await display.show(checker());
    assert.equal(events('display.error').length, 1);
    assert.equal(events('display.error')[0]!.code, 'EREMOTEIO');

    emulator.replug(); // power came back: RAM is noise, the panel is off
    const last = textish(128, 64, 99);
    await display.show(last); // asked for while the display was away
    emulator.resetStats();
    timers.fireAll();
    await display.idle();
    assert.equal(events('display.recovered').length, 1);
    assert.equal(emulator.stats.dataBytes, 1024, 'the whole frame, not a diff against lost RAM');
    assert.ok(emulator.visibleFrame().equals(last), `differs at ${differences(emulator.visibleFrame(), last).join(' ')}`);
    emulator.assertNoViolations();
  });

  it('says which address it tried when the module answers at another one', async () => {
    const { display, events } = rig({ address: 0x3c }, { address: 0x3d });
    await display.open();
    await display.show(textish());
    const [error] = events('display.error');
    assert.equal(error?.code, 'EREMOTEIO');
    assert.equal(error?.address, '0x3c');
    assert.match(String(error?.fix), /i2cdetect -y 1.*display\.address/);
  });

  it('with no I2C bus (the real i2c-bus, a bus that does not exist) says how to enable I2C', async (t) => {
    // The one case that needs the optional native addon; not-built.test.ts covers a Pi without it.
    const specifier = 'i2c-bus';
    const built = await import(specifier).then(() => true, () => false);
    if (!built) return void missing(t, 'the native i2c-bus addon is not built: apt-get install g++ make python3, then npm rebuild i2c-bus');
    const { logger, lines } = captureLog();
    const timers = new FakeClock();
    const display = new Ssd1306Display({ bus: 99, address: 0x3c, width: 128, height: 64, controller: 'ssd1306', logger, timers });
    await display.open();
    await display.show(textish());
    const errors = lines.filter((l) => l.event === 'display.error');
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.code, 'ENOENT');
    assert.match(String(errors[0]!.fix), /raspi-config nonint do_i2c 0/);
    assert.match(String(errors[0]!.problem), /\/dev\/i2c-99/);
    await display.close();
    assert.deepEqual(timers.delays(), [], 'close() cancels the retry');
  });

  it('with no permission on the bus names the i2c group', async () => {
    const { display, events } = rig({}, { absent: 'EACCES' });
    await display.open();
    const [error] = events('display.error');
    assert.equal(error?.code, 'EACCES');
    assert.match(String(error?.fix), /i2c group/);
  });

  it('logs again only when the fault changes, and takes a write cut short as a fault', async () => {
    const { emulator, display, timers, events } = rig({}, { absent: 'EIO' });
    await display.open();
    emulator.unplug('ETIMEDOUT');
    timers.fireAll();
    await display.idle();
    assert.deepEqual(events('display.error').map((e) => e.code), ['EIO', 'ETIMEDOUT']);

    const short = rig({}, { maxWriteBytes: 512 }); // i2c-dev cuts longer writes
    await short.display.open();
    await short.display.show(textish());
    assert.deepEqual(short.events('display.error').map((e) => e.code), ['EIO']);
    assert.match(String(short.events('display.error')[0]!.err), /short I2C write: 512 of 1025 bytes/);
  });

  it('setPower() and close() resolve while the display is away, and power state is applied on return', async () => {
    const { emulator, display, timers, events } = rig({}, { absent: true });
    await display.open();
    await display.show(border());
    await display.setPower(false);
    emulator.replug();
    timers.fireAll();
    await display.idle();
    assert.equal(events('display.recovered').length, 1);
    assert.equal(emulator.displayOn, false, 'asked to be off while away: stays off');
    await display.setPower(true);
    assert.ok(emulator.visibleFrame().equals(border()));

    emulator.unplug();
    await display.show(checker());
    await display.close();
    await settle();
    assert.deepEqual(timers.delays(), []);
  });
});

describe('describeFault', () => {
  const at = { bus: 1, address: 0x3c };
  const cases: Array<[string, RegExp]> = [
    ['ENOENT', /raspi-config nonint do_i2c 0/],
    ['EACCES', /usermod -aG i2c/],
    ['EREMOTEIO', /i2cdetect -y 1/],
    ['ENXIO', /i2cdetect -y 1/],
    ['EIO', /loose or long cable/],
    ['ETIMEDOUT', /loose or long cable/],
    ['EBUSY', /dtoverlay=ssd1306/],
    ['ERR_MODULE_NOT_FOUND', /npm rebuild i2c-bus/],
  ];
  for (const [code, fix] of cases) {
    it(`tells what to do about ${code}`, () => {
      const fault = describeFault(Object.assign(new Error(code), { code }), at);
      assert.equal(fault.code, code);
      assert.match(fault.fix, fix);
    });
  }

  it('names the address the way i2cdetect prints it', () => {
    assert.match(describeFault(Object.assign(new Error('x'), { code: 'EREMOTEIO' }), { bus: 1, address: 0x3d }).problem, /0x3d on I2C bus 1/);
  });
});
