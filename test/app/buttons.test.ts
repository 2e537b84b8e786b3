import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ButtonSchema } from '../../src/config/schema.js';
import { createButtons, reportButton, type GpioButtonParts } from '../../src/app/buttons.js';
import type { ResolvedConfig } from '../../src/config/index.js';
import { FakeInputTree, keyRecords } from '../support/fake-input.js';
import { FakeGpioBoard } from '../support/fake-gpio.js';
import { captureLog } from '../button/log-lines.js';

const BTN_0 = 256;

let tmp: string;
let n = 0;
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'gda-buttons-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function buttonConfig(button: Record<string, unknown> = {}): ResolvedConfig {
  return { button: ButtonSchema.parse({ bounceTimeMs: 0, ...button }) } as unknown as ResolvedConfig;
}

/** Three machines: a Pi with the gpio-key overlay, a Pi without it, a PC. */
async function machine(kind: 'overlay' | 'sysfs' | 'pc') {
  const dir = join(tmp, `m${n++}`);
  const input = await new FakeInputTree(dir).init();
  await input.add({ event: 'event0', name: 'vc4-hdmi', keys: [] });
  const board = FakeGpioBoard.pi4();
  const parts: GpioButtonParts = { inputSysfsRoot: input.sysfsRoot, devRoot: input.devRoot, sysfsRoot: join(dir, 'sys/class/gpio'), gpioFactory: board.Gpio, eventSize: 24 };
  if (kind !== 'pc') await board.writeSysfs(join(dir, 'sys/class/gpio'));
  const device = kind === 'overlay' ? await input.add({ event: 'event1', name: 'button@11', driver: 'gpio-keys', keys: [BTN_0] }) : undefined;
  return { parts, device, board };
}

describe('button.driver "auto"', () => {
  it('is the default', () => {
    assert.equal(ButtonSchema.parse({}).driver, 'auto');
    assert.equal(ButtonSchema.parse({}).evdevName, 'graph-device-agent');
    assert.equal(ButtonSchema.parse({}).evdevKeycode, BTN_0);
  });

  it('takes the gpio-keys input device when there is one, and says so', async () => {
    const { parts, device } = await machine('overlay');
    const w = device!.openFifoWriter();
    const { logger, lines } = captureLog();
    const buttons = createButtons(buttonConfig(), logger, undefined, parts);
    const seen: string[] = [];
    await buttons.start({ pressed: () => seen.push('press'), held: () => seen.push('hold') });
    try {
      const selected = lines.find((l) => l.event === 'button.selected');
      assert.equal(selected?.driver, 'evdev');
      assert.equal(selected?.device, device!.node);
      assert.match(String(selected?.why), /gpio-keys device with key 256/);
      w.write(keyRecords(24, [[BTN_0, 1], [BTN_0, 0]]));
      const end = Date.now() + 3000;
      while (seen.length === 0 && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.deepEqual(seen, ['press']);
      const report = await reportButton(buttonConfig().button, parts);
      assert.deepEqual([report.setting, report.driver, report.device], ['auto', 'evdev', device!.node]);
    } finally {
      await buttons.stop();
      w.close();
    }
  });

  it('without the overlay, sysfs GPIO through onoff when the Pi\'s controller is there', async () => {
    const { parts, board } = await machine('sysfs');
    const { logger, lines } = captureLog();
    const buttons = createButtons(buttonConfig(), logger, undefined, parts);
    await buttons.start({ pressed: () => undefined, held: () => undefined });
    try {
      const selected = lines.find((l) => l.event === 'button.selected');
      assert.equal(selected?.driver, 'gpio');
      assert.match(String(selected?.why), /pinctrl-bcm2711 \(gpiochip512, base 512\)/);
      assert.deepEqual(board.opened.map((o) => o.gpio), [529]);
      assert.equal((await reportButton(buttonConfig().button, parts)).driver, 'gpio');
    } finally {
      await buttons.stop();
    }
  });

  it('on a PC (neither): signals only, quietly', async () => {
    const { parts, board } = await machine('pc');
    const { logger, lines } = captureLog();
    const buttons = createButtons(buttonConfig(), logger, undefined, parts);
    await buttons.start({ pressed: () => undefined, held: () => undefined });
    try {
      const selected = lines.find((l) => l.event === 'button.selected');
      assert.equal(selected?.driver, 'none');
      assert.match(String(selected?.why), /signals only/);
      assert.equal(board.opened.length, 0);
      assert.deepEqual(lines.filter((l) => Number(l.level) >= 40), [], 'no warning about a button that cannot exist');
    } finally {
      await buttons.stop();
    }
  });

  it('"gpio" stays sysfs GPIO even with the overlay\'s device present; "evdev" is the device', async () => {
    const { parts, board, device } = await machine('overlay');
    const w = device!.openFifoWriter();
    try {
      const { logger, lines } = captureLog();
      const gpio = createButtons(buttonConfig({ driver: 'gpio' }), logger, undefined, parts);
      await gpio.start({ pressed: () => undefined, held: () => undefined });
      await gpio.stop();
      assert.deepEqual(board.opened.map((o) => o.gpio), [529]);
      assert.equal(lines.find((l) => l.event === 'button.selected'), undefined);

      const evdev = createButtons(buttonConfig({ driver: 'evdev' }), logger, undefined, parts);
      await evdev.start({ pressed: () => undefined, held: () => undefined });
      await evdev.stop();
      assert.equal(lines.filter((l) => l.event === 'button.started' && l.button === 'evdev')[0]?.device, device!.node);
      const report = await reportButton(buttonConfig({ driver: 'evdev' }).button, parts);
      assert.deepEqual([report.driver, report.device], ['evdev', device!.node]);
    } finally {
      w.close();
    }
  });
});
