// The driver with `controller: 'sh1106'` against an emulated SH1106 (132-column RAM, page
// addressing only), and the mistake hardware/display.md warns about: the SSD1306 setting on one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderScreen, type Screen } from '../../../src/display/screens.js';
import { rotateFrame180 } from '../../support/ssd1306-emulator.js';
import { border, checker, countDifferences, assertShows, checkedRigs, textish } from './helpers.js';

const FULL_FRAME_WIRE_BYTES = 8 + 1026; // the SSD1306 budget's reference, as in driver.test.ts

/** Every rig is checked after its test: no protocol violation, no display.error. */
const rig = checkedRigs();

describe('Ssd1306Display on an SH1106', () => {
  it('initialises with SH1106 commands only (a strict SH1106 rejects the SSD1306-only ones)', async () => {
    const { emulator, display } = rig({ controller: 'sh1106' });
    await display.open();
    assert.ok(emulator.commandLog.includes('dc-dc 0x8b'), emulator.commandLog.join(', '));
    assert.equal(emulator.visibleFrame().litCount(), 0, 'dark until the first frame');
  });

  it('puts frames in RAM columns 2..129, so they show pixel for pixel', async () => {
    const { emulator, display } = rig({ controller: 'sh1106' });
    await display.open();
    for (const [name, frame] of [['checker', checker()], ['text', textish()], ['border', border()]] as const) {
      await display.show(frame);
      assertShows(emulator.visibleFrame(), frame, name);
      const ram = emulator.ramFrame();
      for (let page = 0; page < 8; page++) {
        assert.deepEqual(
          [...ram.buffer.subarray(page * 132 + 2, page * 132 + 130)],
          [...frame.buffer.subarray(page * 128, page * 128 + 128)],
          `${name}: page ${page} is not at columns 2..129`,
        );
      }
    }
  });

  it('draws upright on a panel mounted upside down', async () => {
    const { emulator, display } = rig({ controller: 'sh1106', rotate180: true });
    await display.open();
    const frame = textish();
    await display.show(frame);
    assertShows(rotateFrame180(emulator.visibleFrame()), frame, 'turned panel');
  });

  it('updates page by page, and keeps a countdown second within the budget', async () => {
    const { emulator, display } = rig({ controller: 'sh1106' });
    await display.open();
    const screen: Screen = {
      kind: 'device-code', userCode: 'ABCD-EFGH', verificationUri: 'https://microsoft.com/devicelogin', issuedAt: 0, expiresAt: 900_000,
    };
    await display.show(renderScreen(screen, 0, { width: 128, height: 64 }));
    for (let t = 1_000; t <= 900_000; t += 1_000) {
      emulator.resetStats();
      const frame = renderScreen(screen, t, { width: 128, height: 64 });
      await display.show(frame);
      assert.ok(emulator.stats.wireBytes <= 0.05 * FULL_FRAME_WIRE_BYTES, `tick at ${t / 1000} s sent ${emulator.stats.wireBytes} bytes`);
      if (t % 5_000 === 0) assertShows(emulator.visibleFrame(), frame, `countdown at ${t / 1000} s`);
    }
  });

  it('shows garbage when an SH1106 is driven with controller "ssd1306"', async () => {
    // The chip ignores 0x20/0x21/0x22/0x8D and reads their arguments as commands of its own.
    const { emulator, display } = rig({ controller: 'ssd1306' }, { controller: 'sh1106', foreignCommands: 'ignore' });
    await display.open();
    const frame = border();
    await display.show(frame);
    const visible = emulator.visibleFrame();
    assert.ok(countDifferences(visible, frame) > 128 * 64 / 4, `only ${countDifferences(visible, frame)} pixels wrong`);
    assert.ok(emulator.commandLog.includes('ignored SSD1306 command 0x21'));
  });
});
