import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import {
  combineButtons,
  GpioButton,
  KeyboardButton,
  type Button,
  type ButtonListener,
} from '../../src/button/index.js';
import { FakeGpioBoard } from '../support/fake-gpio.js';
import { FakeClock } from '../support/fake-clock.js';

/** A button that records what happens to it and can be told to fail. */
class RecordingButton implements Button {
  listener: ButtonListener | undefined;
  constructor(
    readonly name: string,
    private readonly journal: string[],
    private readonly fail: { start?: boolean; stop?: boolean } = {},
  ) {}
  async start(listener: ButtonListener): Promise<void> {
    if (this.fail.start) throw new Error(`${this.name} cannot start`);
    this.listener = listener;
    this.journal.push(`start ${this.name}`);
  }
  async stop(): Promise<void> {
    this.journal.push(`stop ${this.name}`);
    if (this.fail.stop) throw new Error(`${this.name} cannot stop`);
  }
}

describe('combineButtons', () => {
  it('starts all in order with the same listener and stops them in reverse', async () => {
    const journal: string[] = [];
    const a = new RecordingButton('a', journal);
    const b = new RecordingButton('b', journal);
    const combined = combineButtons(a, b);
    assert.equal(combined.name, 'a+b');
    const listener = { pressed() {}, held() {} };
    await combined.start(listener);
    assert.equal(a.listener, listener);
    assert.equal(b.listener, listener);
    await combined.stop();
    assert.deepEqual(journal, ['start a', 'start b', 'stop b', 'stop a']);
  });

  it('when one fails to start, stops those already started and rethrows', async () => {
    const journal: string[] = [];
    const combined = combineButtons(
      new RecordingButton('a', journal),
      new RecordingButton('b', journal, { start: true }),
      new RecordingButton('c', journal),
    );
    await assert.rejects(combined.start({ pressed() {}, held() {} }), /b cannot start/);
    assert.deepEqual(journal, ['start a', 'stop a']);
  });

  it('stop() stops every button even when one fails, then reports the failure', async () => {
    const journal: string[] = [];
    const combined = combineButtons(
      new RecordingButton('a', journal),
      new RecordingButton('b', journal, { stop: true }),
    );
    await combined.start({ pressed() {}, held() {} });
    await assert.rejects(combined.stop(), /b cannot stop/);
    assert.deepEqual(journal, ['start a', 'start b', 'stop b', 'stop a']);
  });

  it('with the GPIO pin busy, the other buttons still reach the agent', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'gda-combined-'));
    try {
      const board = FakeGpioBoard.pi4();
      await board.writeSysfs(tmp);
      board.claim(529);
      const clock = new FakeClock();
      const input = new PassThrough();
      const seen: string[] = [];
      const combined = combineButtons(
        new GpioButton({
          bcmPin: 17, bounceTimeMs: 20, holdTimeMs: 1000, sysfsRoot: tmp,
          gpioFactory: board.Gpio, timers: clock, now: clock.now,
        }),
        new KeyboardButton({ input }),
      );
      await combined.start({ pressed: () => seen.push('press'), held: () => seen.push('hold') });
      input.write('\nh\n');
      await tick();
      assert.deepEqual(seen, ['press', 'hold']);
      await combined.stop();
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
