import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EvdevButton, type EvdevButtonOptions } from '../../src/button/evdev.js';
import { InputEventDecoder, eventSizeFor } from '../../src/button/input-event.js';
import { findInputDevice, kernelLongBits, parseKeyBitmap } from '../../src/button/input-device.js';
import { FakeInputTree, inputEvent, keyBitmap, keyRecords, EV_KEY, EV_SYN } from '../support/fake-input.js';
import { FakeClock } from '../support/fake-clock.js';
import { captureLog } from './log-lines.js';

const BTN_0 = 256;
const KEY_POWER = 116;

let tmp: string;
let treeCount = 0;
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'gda-evdev-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function freshTree(): Promise<FakeInputTree> {
  return new FakeInputTree(join(tmp, `t${treeCount++}`)).init();
}

/** Waits (in real time: the reads are real I/O) until `done()` holds. */
async function waitFor(what: string, done: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function events(lines: Array<Record<string, unknown>>, event: string): Array<Record<string, unknown>> {
  return lines.filter((l) => l.event === event);
}

async function setUp(tree: FakeInputTree, options: Partial<EvdevButtonOptions> = {}) {
  const clock = new FakeClock();
  const { logger, lines } = captureLog();
  const seen: string[] = [];
  const button = new EvdevButton({
    deviceName: 'graph-device-agent',
    keycode: BTN_0,
    bcmPin: 17,
    bounceTimeMs: 20,
    holdTimeMs: 1000,
    sysfsRoot: tree.sysfsRoot,
    devRoot: tree.devRoot,
    eventSize: 24,
    logger,
    timers: clock,
    now: clock.now,
    ...options,
  });
  await button.start({ pressed: () => seen.push('press'), held: () => seen.push('hold') });
  const keysSeen = (): number => events(lines, 'button.key').length;
  return { button, clock, lines, seen, keysSeen };
}

describe('input_event records', () => {
  it('takes the record size from the architecture: 24 bytes on 64-bit, 16 on 32-bit ARM', () => {
    assert.equal(eventSizeFor('arm64'), 24);
    assert.equal(eventSizeFor('x64'), 24);
    assert.equal(eventSizeFor('arm'), 16);
    assert.equal(eventSizeFor('ia32'), 16);
  });

  for (const size of [16, 24] as const) {
    it(`decodes ${size}-byte records cut anywhere, keeping the tail for the next read`, () => {
      const bytes = Buffer.concat([keyRecords(size, [[BTN_0, 1], [BTN_0, 2], [BTN_0, 0]]), inputEvent(size, EV_KEY, KEY_POWER, 1)]);
      const whole = new InputEventDecoder(size).push(bytes);
      assert.deepEqual(whole, [
        { type: EV_KEY, code: BTN_0, value: 1 }, { type: EV_SYN, code: 0, value: 0 },
        { type: EV_KEY, code: BTN_0, value: 2 }, { type: EV_SYN, code: 0, value: 0 },
        { type: EV_KEY, code: BTN_0, value: 0 }, { type: EV_SYN, code: 0, value: 0 },
        { type: EV_KEY, code: KEY_POWER, value: 1 },
      ]);
      for (const step of [1, 5, size - 1, size + 3]) {
        const decoder = new InputEventDecoder(size);
        const got = [];
        for (let i = 0; i < bytes.length; i += step) got.push(...decoder.push(bytes.subarray(i, i + step)));
        assert.deepEqual(got, whole, `chunks of ${step} bytes`);
        assert.equal(decoder.pending, 0);
      }
    });
  }

  it('reads the key bitmap whatever the kernel\'s word size', () => {
    assert.equal(keyBitmap([BTN_0], 64), '1 0 0 0 0');
    assert.deepEqual(parseKeyBitmap(keyBitmap([BTN_0], 64), 64), [BTN_0]);
    assert.deepEqual(parseKeyBitmap(keyBitmap([BTN_0], 32), 32), [BTN_0]);
    assert.deepEqual(parseKeyBitmap(keyBitmap([KEY_POWER, 148, 700], 32), 32), [KEY_POWER, 148, 700]);
    // What a gpio-key overlay with the default keycode shows on a 64-bit kernel: the long word
    // says 64 bits even to a 32-bit reader.
    assert.deepEqual(parseKeyBitmap('10000000000000 0', 32), [KEY_POWER]);
    assert.deepEqual(parseKeyBitmap('100000 0 0 0', 32), [KEY_POWER]);
    assert.deepEqual(parseKeyBitmap('0'), []);
    assert.deepEqual(parseKeyBitmap('garbage'), []);
    assert.equal(kernelLongBits('aarch64'), 64);
    assert.equal(kernelLongBits('armv7l'), 32);
  });
});

describe('finding the gpio-keys device in /sys/class/input', () => {
  it('by its name first, else a gpio-keys device that has the key code; a keyboard or another code is not ours', async () => {
    const tree = await freshTree();
    await tree.add({ event: 'event0', name: 'AT Translated Set 2 keyboard', driver: 'atkbd', keys: [1, 2, 30, BTN_0] });
    await tree.add({ event: 'event1', name: 'button@1a', driver: 'gpio-keys', keys: [KEY_POWER] });
    await tree.add({ event: 'event2', name: 'button@11', driver: 'gpio-keys', keys: [BTN_0] });
    const find = (name: string, keycode = BTN_0) => findInputDevice({ name, keycode, sysfsRoot: tree.sysfsRoot, devRoot: tree.devRoot });

    const byKey = await find('graph-device-agent');
    assert.equal(byKey?.path, join(tree.devRoot, 'input/event2'));
    assert.equal(byKey?.match, 'gpio-keys');
    assert.equal(byKey?.name, 'button@11');

    assert.equal((await find('button@1a'))?.event, 'event1', 'a name match wins');
    assert.equal((await find('button@1a'))?.match, 'name');
    assert.equal(await find('graph-device-agent', 148), undefined, 'no device sends KEY_PROG1');
    assert.equal(await findInputDevice({ name: 'x', keycode: BTN_0, sysfsRoot: join(tmp, 'nowhere') }), undefined);
  });
});

describe('EvdevButton', () => {
  for (const size of [16, 24] as const) {
    it(`${size}-byte records: a short press, a hold (autorepeat ignored), and key up/down only`, async () => {
      const tree = await freshTree();
      const dev = await tree.add({ event: 'event4', name: 'graph-device-agent', driver: 'gpio-keys', keys: [BTN_0] });
      const w = dev.openFifoWriter();
      const { button, clock, lines, seen, keysSeen } = await setUp(tree, { eventSize: size });
      try {
        assert.equal(button.available, true);
        const [started] = events(lines, 'button.started');
        assert.equal(started?.device, dev.node);
        assert.equal(started?.eventSize, size);

        w.write(keyRecords(size, [[BTN_0, 1]]));
        await waitFor('key down', () => keysSeen() === 1);
        clock.advanceBy(200);
        w.write(keyRecords(size, [[BTN_0, 0]]));
        await waitFor('the press', () => seen.length === 1);
        assert.deepEqual(seen, ['press']);

        clock.advanceBy(500);
        w.write(keyRecords(size, [[BTN_0, 1]]));
        await waitFor('key down', () => keysSeen() === 3);
        // Autorepeat while held: value 2, every 33 ms after 250 ms; nothing to do with gestures.
        w.write(keyRecords(size, [[BTN_0, 2], [BTN_0, 2], [BTN_0, 2]]));
        clock.advanceBy(999);
        assert.deepEqual(seen, ['press']);
        clock.advanceBy(1);
        assert.deepEqual(seen, ['press', 'hold']);
        w.write(keyRecords(size, [[BTN_0, 0]]));
        await waitFor('key up', () => keysSeen() === 4);
        assert.deepEqual(seen, ['press', 'hold'], 'the release after a hold reports nothing');
      } finally {
        await button.stop();
        w.close();
      }
    });
  }

  it('a record split across two writes, and contact bounce inside the lockout, make one press', async () => {
    const tree = await freshTree();
    const dev = await tree.add({ event: 'event0', name: 'graph-device-agent', driver: 'gpio-keys', keys: [BTN_0] });
    const w = dev.openFifoWriter();
    const { button, clock, seen, keysSeen } = await setUp(tree);
    try {
      const bytes = keyRecords(24, [[BTN_0, 1], [BTN_0, 0], [BTN_0, 1]]);
      w.write(bytes.subarray(0, 37));
      await waitFor('the first record', () => keysSeen() === 1);
      await new Promise((resolve) => setTimeout(resolve, 30));
      assert.equal(keysSeen(), 1, 'the whole first record, not the 13 bytes of the second');
      w.write(bytes.subarray(37));
      await waitFor('the bounce', () => keysSeen() === 3);
      clock.advanceBy(150);
      w.write(keyRecords(24, [[BTN_0, 0]]));
      await waitFor('the press', () => seen.length === 1);
      clock.advanceBy(100);
      assert.deepEqual(seen, ['press']);
    } finally {
      await button.stop();
      w.close();
    }
  });

  it('a plain file of records (a recording) is read the same way', async () => {
    const tree = await freshTree();
    await tree.add({ event: 'event0', name: 'graph-device-agent', keys: [BTN_0], file: keyRecords(16, [[BTN_0, 1], [BTN_0, 0]]) });
    // No lockout: the file ends right after the release, and a device that is gone takes its
    // pending gestures with it.
    const { button, seen, lines } = await setUp(tree, { eventSize: 16, bounceTimeMs: 0 });
    try {
      await waitFor('the press', () => seen.length === 1);
      assert.deepEqual(seen, ['press']);
      await waitFor('the end of the file', () => events(lines, 'button.evdev_lost').length === 1);
      assert.equal(events(lines, 'button.evdev_lost')[0]?.code, 'EOF');
    } finally {
      await button.stop();
    }
  });

  it('survives the device going away and coming back: looks again with a back-off, one line per problem', async () => {
    const tree = await freshTree();
    let dev = await tree.add({ event: 'event5', name: 'graph-device-agent', driver: 'gpio-keys', keys: [BTN_0] });
    let w = dev.openFifoWriter();
    const { button, clock, lines, seen } = await setUp(tree, { retryMinMs: 1000, retryMaxMs: 4000 });
    try {
      assert.equal(button.available, true);
      await tree.remove(dev);
      w.close();
      await waitFor('the loss', () => events(lines, 'button.evdev_lost').length === 1);
      assert.equal(button.available, false);

      // Not there at 1 s, 3 s, 7 s, 11 s (the back-off stops growing at 4 s): one line only.
      for (const at of [1000, 3000, 7000, 11_000]) {
        clock.advanceTo(at);
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
      const unavailable = events(lines, 'button.unavailable');
      assert.equal(unavailable.length, 1);
      assert.equal(unavailable[0]?.code, 'ENODEV');
      assert.match(String(unavailable[0]?.fix), /dtoverlay=gpio-key,gpio=17,active_low=1,gpio_pull=up,keycode=256,label=graph-device-agent/);

      dev = await tree.add({ event: 'event6', name: 'button@11', driver: 'gpio-keys', keys: [BTN_0] });
      w = dev.openFifoWriter();
      // Time moves on until the next look finds it (a look may still be under way in real time).
      await waitFor('the device again', () => {
        clock.advanceBy(4000);
        return events(lines, 'button.started').length === 2;
      });
      assert.equal(events(lines, 'button.started')[1]?.device, dev.node);
      w.write(keyRecords(24, [[BTN_0, 1]]));
      await waitFor('key down', () => events(lines, 'button.key').length === 1);
      clock.advanceBy(100);
      w.write(keyRecords(24, [[BTN_0, 0]]));
      await waitFor('the press', () => seen.length === 1);
      assert.equal(clock.pendingTimers, 0, 'no retry left once the device is open: nothing polls');
    } finally {
      await button.stop();
      w.close();
    }
  });

  it('cannot open the device (not in the input group): says so once with the fix, and keeps trying', async () => {
    const tree = await freshTree();
    await tree.add({ event: 'event0', name: 'graph-device-agent', driver: 'gpio-keys', keys: [BTN_0] });
    let attempts = 0;
    const refused = async (): Promise<never> => {
      attempts++;
      throw Object.assign(new Error('EACCES: permission denied, open'), { code: 'EACCES' });
    };
    const { button, clock, lines } = await setUp(tree, { openDevice: refused });
    try {
      clock.advanceBy(1000);
      await waitFor('a second attempt', () => attempts === 2);
      const unavailable = events(lines, 'button.unavailable');
      assert.equal(unavailable.length, 1);
      assert.equal(unavailable[0]?.code, 'EACCES');
      assert.match(String(unavailable[0]?.fix), /usermod -aG input/);
      assert.match(String(unavailable[0]?.fix), /SupplementaryGroups=input/);
      assert.equal(button.available, false);
    } finally {
      await button.stop();
    }
  });

  it('warns with the fix when the device sends KEY_POWER (the overlay\'s default: logind powers off)', async () => {
    const tree = await freshTree();
    const dev = await tree.add({ event: 'event0', name: 'graph-device-agent', driver: 'gpio-keys', keys: [KEY_POWER] });
    const w = dev.openFifoWriter();
    const { button, lines, seen, clock } = await setUp(tree);
    try {
      const [warning] = events(lines, 'button.power_key');
      assert.match(String(warning?.fix), /keycode=256/);
      w.write(keyRecords(24, [[KEY_POWER, 1], [KEY_POWER, 0]]));
      await waitFor('both keys', () => events(lines, 'button.key').length === 2);
      clock.advanceBy(100);
      assert.deepEqual(seen, ['press']);
      assert.equal(events(lines, 'button.power_key').length, 1, 'said once');
    } finally {
      await button.stop();
      w.close();
    }
  });
});
