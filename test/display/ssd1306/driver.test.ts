// The real driver and the real oled-i2c-bus, writing into the emulated controller.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Frame } from '../../../src/display/frame.js';
import { renderScreen, signedInPaging, type Screen } from '../../../src/display/screens.js';
import { rotateFrame180 } from '../../support/ssd1306-emulator.js';
import { border, checker, assertShows, checkedRigs, textish } from './helpers.js';

/**
 * A full 128×64 frame on the bus: the window command (address + 7 bytes) and the data write
 * (address + control byte + 1,024 bytes). The tick budget is 5% of it, on either panel height
 * (issue 4's reference frame; a 128×32 frame is half of it, and its ticks cost the same bytes).
 */
const FULL_FRAME_WIRE_BYTES = 8 + 1026;
const TICK_BUDGET = 0.05 * FULL_FRAME_WIRE_BYTES;

/** Every rig is checked after its test: no protocol violation, no display.error. */
const rig = checkedRigs();

describe('Ssd1306Display on an SSD1306', () => {
  for (const height of [64, 32] as const) {
    it(`initialises a 128x${height} panel through oled-i2c-bus and stays dark until the first frame`, async () => {
      const { emulator, display, events } = rig({ height });
      await display.open();
      for (const command of [`multiplex ${height === 64 ? '0x3f' : '0x1f'}`, `com pins ${height === 64 ? '0x12' : '0x02'}`, 'charge pump 0x14', 'addressing 0x00']) {
        assert.ok(emulator.commandLog.includes(command), `init lacks "${command}": ${emulator.commandLog.join(', ')}`);
      }
      assert.equal(emulator.visibleFrame().litCount(), 0, 'the power-on noise in the RAM is not shown');
      assert.equal(events('display.opened').length, 1);
    });

    it(`shows the first frame pixel for pixel on a 128x${height} panel`, async () => {
      const { emulator, display } = rig({ height });
      await display.open();
      for (const [name, frame] of [['checker', checker(128, height)], ['text', textish(128, height)], ['border', border(128, height)]] as const) {
        await display.show(frame);
        assertShows(emulator.visibleFrame(), frame, name);
      }
    });
  }

  it('draws upright on a panel mounted upside down (rotate180)', async () => {
    const { emulator, display } = rig({ rotate180: true });
    await display.open();
    const frame = textish();
    await display.show(frame);
    // visibleFrame() is the panel seen the usual way up; turned round, it must read right.
    assertShows(rotateFrame180(emulator.visibleFrame()), frame, 'turned panel');
    assert.ok(!emulator.visibleFrame().equals(frame));
  });

  it('sets the contrast asked for', async () => {
    const { emulator, display } = rig({ contrast: 0x20 });
    await display.open();
    assert.equal(emulator.contrast, 0x20);
  });

  it('sends only the changed window after the first frame, and nothing for an identical frame', async () => {
    const { emulator, display } = rig();
    await display.open();
    emulator.resetStats();
    const frame = textish();
    await display.show(frame);
    assert.equal(emulator.stats.dataBytes, 1024);
    assert.equal(emulator.stats.wireBytes, FULL_FRAME_WIRE_BYTES + 3, 'the whole frame, then display on (0xAF)');

    emulator.resetStats();
    await display.show(checker());
    assert.equal(emulator.stats.wireBytes, FULL_FRAME_WIRE_BYTES - 8, 'the window registers already hold the whole frame: data only');
    await display.show(frame);

    emulator.resetStats();
    const digits = frame.clone().fillRect(40, 24, 12, 16, false).fillRect(41, 26, 4, 12).fillRect(47, 26, 4, 12);
    await display.show(digits);
    assertShows(emulator.visibleFrame(), digits, 'two digits changed');
    assert.ok(emulator.stats.wireBytes <= TICK_BUDGET, `${emulator.stats.wireBytes} bytes for two digits`);
    assert.ok(emulator.stats.dataBytes <= 12 * 3, `${emulator.stats.dataBytes} data bytes for a 12x16 box`);

    emulator.resetStats();
    await display.show(digits.clone());
    assert.equal(emulator.stats.transactions, 0);
  });

  // Every layout that counts down, at both heights: every tick of a 15-minute code, at the odd
  // phase the agent's setInterval has, including the minute roll-overs ("10:00" -> " 9:59").
  const countdowns: Array<{ height: 64 | 32; layout: string; code: string; url: string; offline?: boolean }> = [
    { height: 64, layout: 'QR beside the code', code: 'Q6GR3KMGL', url: 'https://microsoft.com/devicelogin' },
    { height: 64, layout: 'text only (long URL)', code: 'ABCD-EFGH', url: 'https://login.microsoftonline.com/common/oauth2/deviceauth' },
    { height: 64, layout: 'text only (offline)', code: 'Q6GR3KMGL', url: 'https://microsoft.com/devicelogin', offline: true },
    { height: 32, layout: 'large code, time left beside it', code: 'Q6GR3KMGL', url: 'https://microsoft.com/devicelogin' },
    { height: 32, layout: 'small code (long URL)', code: 'ABCD-EFGH', url: 'https://login.microsoftonline.com/common/oauth2/deviceauth' },
  ];
  for (const c of countdowns) {
    it(`keeps every second of a 15-minute countdown within 5% of a full frame: 128x${c.height}, ${c.layout}`, async () => {
      const { emulator, display } = rig({ height: c.height });
      await display.open();
      const size = { width: 128, height: c.height };
      const screen: Screen = {
        kind: 'device-code', userCode: c.code, verificationUri: c.url, issuedAt: 0, expiresAt: 900_000, ...(c.offline ? { offline: true } : {}),
      };
      await display.show(renderScreen(screen, 0, size));
      let ticksThatSentSomething = 0;
      for (let t = 1_400; t <= 900_400; t += 1_000) {
        emulator.resetStats();
        const frame = renderScreen(screen, t, size);
        await display.show(frame);
        assert.ok(emulator.stats.wireBytes <= TICK_BUDGET, `tick at ${t / 1000} s sent ${emulator.stats.wireBytes} bytes (budget ${TICK_BUDGET})`);
        if (emulator.stats.wireBytes > 0) ticksThatSentSomething++;
        if (t % 10_000 === 1_400) assertShows(emulator.visibleFrame(), frame, `countdown at ${t / 1000} s`);
      }
      assert.ok(ticksThatSentSomething >= 899, `only ${ticksThatSentSomething} ticks changed the panel: is the countdown drawn?`);
    });
  }

  for (const c of countdowns.filter((x) => !x.offline)) {
    it(`with a device label taking turns with the URL: the median tick within the countdown's budget, a turn rewrites the URL's lines only: 128x${c.height}, ${c.layout}`, async () => {
      const { emulator, display } = rig({ height: c.height });
      await display.open();
      const size = { width: 128, height: c.height };
      const screen: Screen = { kind: 'device-code', userCode: c.code, verificationUri: c.url, issuedAt: 0, expiresAt: 900_000, device: 'Reception 2nd floor' };
      await display.show(renderScreen(screen, 0, size));
      const ticks: number[] = [];
      for (let t = 1_400; t <= 900_400; t += 1_000) {
        emulator.resetStats();
        const frame = renderScreen(screen, t, size);
        await display.show(frame);
        ticks.push(emulator.stats.wireBytes);
        if (t % 10_000 === 7_400) assertShows(emulator.visibleFrame(), frame, `label at ${t / 1000} s`);
      }
      const sorted = [...ticks].sort((a, b) => a - b);
      const turns = ticks.filter((b) => b > TICK_BUDGET);
      assert.ok(sorted[Math.floor(sorted.length / 2)]! <= TICK_BUDGET, 'the median tick is a countdown tick');
      assert.ok(turns.length <= Math.ceil(ticks.length / 5), `${turns.length} of ${ticks.length} ticks were turns: two in ten seconds at most`);
      // A turn rewrites the URL's lines and nothing else: well under half a frame (~35 ms at 100 kHz).
      assert.ok(Math.max(...turns) <= 0.4 * FULL_FRAME_WIRE_BYTES, `a turn sent ${Math.max(...turns)} bytes`);
      const perSecond = ticks.reduce((a, b) => a + b, 0) / ticks.length;
      // About 80 B/s against the countdown's 7: 8% of a full frame a second, ~7 ms of bus a second at 100 kHz.
      assert.ok(perSecond <= 2 * TICK_BUDGET, `${perSecond.toFixed(1)} bytes a second on average`);
    });
  }

  for (const height of [64, 32] as const) {
    it(`turns a page of job lines within the countdown's bus budget a second: 128x${height}`, async () => {
      const { emulator, display } = rig({ height });
      await display.open();
      const size = { width: 128, height };
      const lines = ['Manager: Miriam Graham', 'Next: 10:30 Stand-up', 'Status: Available', 'Unread mail: 3', 'Job title: Retail Manager',
        'Presence: In a meeting', 'Next: 14:00 Design review', 'Location: Building 4'];
      const screen: Screen = { kind: 'signed-in', name: 'Megan Bowen', lines, lastSyncAt: 0, online: true };
      const { pages, periodMs } = signedInPaging(screen, size);
      assert.ok(pages > 1);
      await display.show(renderScreen(screen, periodMs / 2, size, { timeZone: 'UTC' }));
      for (let page = 1; page <= pages; page++) {
        emulator.resetStats();
        const frame = renderScreen(screen, page * periodMs + periodMs / 2, size, { timeZone: 'UTC' });
        await display.show(frame);
        assertShows(emulator.visibleFrame(), frame, `page ${page}`);
        const perSecond = emulator.stats.wireBytes / (periodMs / 1000);
        assert.ok(perSecond <= TICK_BUDGET, `page ${page} sent ${emulator.stats.wireBytes} bytes, ${perSecond.toFixed(1)} a second (budget ${TICK_BUDGET})`);
      }
    });
  }

  it('sends only the newest of the frames shown while one is on the bus, one write at a time', async () => {
    const snapshots: Frame[] = [];
    const setup = rig({}, { onTransaction: () => snapshots.push(setup.emulator.visibleFrame()) });
    const { emulator, display } = setup;
    await display.open();
    const base = textish();
    await display.show(base);
    const boxes = [[0, 0], [60, 24], [110, 48]] as const;
    const [b, c, d] = boxes.map(([x, y]) => base.clone().fillRect(x, y, 16, 16, true).fillRect(x + 4, y + 4, 8, 8, false));

    snapshots.length = 0;
    const release = emulator.hold();
    const shown = [display.show(b!)];
    await new Promise((resolve) => setImmediate(resolve)); // b's first write is on the bus (held)
    assert.equal(snapshots.length, 0);
    shown.push(display.show(c!), display.show(d!));
    release();
    await Promise.all(shown);

    assertShows(emulator.visibleFrame(), d!, 'the newest frame');
    assert.ok(snapshots.some((s) => s.equals(b!)), 'the frame already on the bus is finished');
    const showsBoxOfC = (s: Frame): boolean => {
      for (let y = 24; y < 40; y++) for (let x = 60; x < 76; x++) if (s.get(x, y) !== c!.get(x, y)) return false;
      return true;
    };
    assert.ok(!showsBoxOfC(base));
    assert.ok(!snapshots.some(showsBoxOfC), 'the frame in between is never drawn');
    assert.equal(emulator.stats.maxInFlight, 1);
  });

  it('writes frames asynchronously: i2cWriteSync is for oled-i2c-bus\'s init only', async () => {
    const { emulator, display } = rig();
    await display.open();
    assert.ok(emulator.stats.syncWrites > 20);
    emulator.resetStats();
    await display.show(textish());
    await display.show(checker());
    await display.setPower(false);
    assert.equal(emulator.stats.syncWrites, 0);
    assert.ok(emulator.stats.writes > 0);
  });

  it('keeps the event loop turning while a frame is on a 100 kHz bus', async () => {
    const { emulator, display } = rig({}, { bytesPerSecond: 11_000 }); // ~93 ms for a full frame
    await display.open();
    let turns = 0;
    let spinning = true;
    const spin = (): void => {
      if (!spinning) return;
      turns++;
      setImmediate(spin);
    };
    spin();
    const frame = textish();
    await display.show(frame);
    spinning = false;
    assert.ok(turns > 10, `the event loop turned only ${turns} times while the frame was sent`);
    assert.ok(emulator.visibleFrame().equals(frame));
  });

  it('splits data writes below the write limit', async () => {
    const { emulator, display } = rig({ maxWriteBytes: 100 });
    await display.open();
    emulator.resetStats();
    const frame = textish();
    await display.show(frame);
    assertShows(emulator.visibleFrame(), frame, 'chunked frame');
    assert.equal(emulator.stats.largestWrite, 100);
    assert.equal(emulator.stats.dataBytes, 1024);
  });

  it('turns the panel off and on, keeping the frame, and shows frames drawn meanwhile when it comes back', async () => {
    const { emulator, display } = rig();
    await display.open();
    const first = textish();
    await display.show(first);
    await display.setPower(false);
    assert.equal(emulator.displayOn, false);
    assert.equal(emulator.visibleFrame().litCount(), 0);

    const second = checker();
    await display.show(second);
    assert.equal(emulator.visibleFrame().litCount(), 0, 'off stays off');
    await display.setPower(true);
    assertShows(emulator.visibleFrame(), second, 'back on');
  });

  it('close() turns the panel off and clears it; close({ blank: false }) leaves the last frame up', async () => {
    const blanked = rig();
    await blanked.display.open();
    await blanked.display.show(textish());
    await blanked.display.close();
    assert.equal(blanked.emulator.displayOn, false);
    assert.ok(blanked.emulator.ram.subarray(0, 1024).every((byte) => byte === 0), 'the RAM is clear for whoever comes next');
    assert.equal(blanked.emulator.closes, 1);

    const kept = rig();
    await kept.display.open();
    const last = border();
    await kept.display.show(last);
    await kept.display.close({ blank: false });
    assertShows(kept.emulator.visibleFrame(), last, 'after close');
    assert.equal(kept.emulator.closes, 1);
  });

  it('rejects a frame of another size (a programming error, not a hardware fault)', async () => {
    const { display } = rig();
    await display.open();
    await assert.rejects(display.show(new Frame(128, 32)), RangeError);
  });
});
