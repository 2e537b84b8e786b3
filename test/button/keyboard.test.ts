import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { KeyboardButton, type KeyboardInput } from '../../src/button/keyboard.js';

function recorder(): { seen: string[]; listener: { pressed(): void; held(): void } } {
  const seen: string[] = [];
  return { seen, listener: { pressed: () => seen.push('press'), held: () => seen.push('hold') } };
}

/** A stand-in for a terminal's stdin: a stream with isTTY and a raw mode that records changes. */
class FakeTty extends PassThrough {
  readonly isTTY = true;
  isRaw = false;
  readonly rawModes: boolean[] = [];
  setRawMode(mode: boolean): this {
    this.isRaw = mode;
    this.rawModes.push(mode);
    return this;
  }
}

describe('KeyboardButton without a terminal (lines)', () => {
  it('a line "h" is a hold, any other line a press', async () => {
    const input = new PassThrough();
    const { seen, listener } = recorder();
    const button = new KeyboardButton({ input });
    await button.start(listener);
    input.write('h\n\nanything\n H \n');
    await tick();
    assert.deepEqual(seen, ['hold', 'press', 'press', 'hold']);
    await button.stop();
  });

  it('after stop(), lines are not gestures', async () => {
    const input = new PassThrough();
    const { seen, listener } = recorder();
    const button = new KeyboardButton({ input });
    await button.start(listener);
    await button.stop();
    input.write('x\nh\n');
    await tick();
    assert.deepEqual(seen, []);
  });
});

describe('KeyboardButton on a terminal (raw mode)', () => {
  it('switches to raw mode; h holds, other keys press, one escape sequence is one press', async () => {
    const input = new FakeTty();
    const { seen, listener } = recorder();
    const button = new KeyboardButton({ input: input as KeyboardInput, interrupt: () => seen.push('SIGINT') });
    await button.start(listener);
    assert.equal(input.isRaw, true);
    for (const key of ['h', ' ', '\r', 'x', '\u001b[A']) {
      input.write(key);
      await tick();
    }
    assert.deepEqual(seen, ['hold', 'press', 'press', 'press', 'press']);
    await button.stop();
  });

  it('q and Ctrl-C raise an interrupt instead of a gesture', async () => {
    const input = new FakeTty();
    const { seen, listener } = recorder();
    const button = new KeyboardButton({ input: input as KeyboardInput, interrupt: () => seen.push('SIGINT') });
    await button.start(listener);
    input.write('q');
    await tick();
    input.write('\u0003');
    await tick();
    assert.deepEqual(seen, ['SIGINT', 'SIGINT']);
    await button.stop();
  });

  it('by default, Ctrl-C raises a real SIGINT on the process', { timeout: 10_000 }, async () => {
    const input = new FakeTty();
    const button = new KeyboardButton({ input: input as KeyboardInput });
    const keepAlive = setInterval(() => undefined, 1000);
    try {
      const interrupted = new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
      await button.start({ pressed() {}, held() {} });
      input.write('\u0003');
      await interrupted;
    } finally {
      clearInterval(keepAlive);
      await button.stop();
    }
  });

  it('stop() restores the terminal mode it found and stops reading keys', async () => {
    const input = new FakeTty();
    const { seen, listener } = recorder();
    const button = new KeyboardButton({ input: input as KeyboardInput });
    await button.start(listener);
    await button.stop();
    assert.deepEqual(input.rawModes, [true, false]);
    assert.equal(input.isPaused(), true);
    input.write('h');
    await tick();
    assert.deepEqual(seen, []);
  });
});
