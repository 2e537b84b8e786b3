import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SignalButton } from '../../src/button/signals.js';
import { captureLog } from './log-lines.js';

/**
 * Waits for `promise` with the event loop held open: signal handles do not keep Node alive, so
 * without this the loop could run dry before the kernel delivers the signal.
 */
async function awaitSignal<T>(promise: Promise<T>): Promise<T> {
  const keepAlive = setInterval(() => undefined, 1000);
  try {
    return await promise;
  } finally {
    clearInterval(keepAlive);
  }
}

/** Resolves with the gesture the listener sees first. */
function nextGesture(button: SignalButton): Promise<'press' | 'hold'> {
  return awaitSignal(
    new Promise((resolve, reject) => {
      button.start({ pressed: () => resolve('press'), held: () => resolve('hold') }).catch(reject);
    }),
  );
}

describe('SignalButton', { timeout: 10_000 }, () => {
  it('SIGUSR1 sent to the process is a press', async () => {
    const { logger, lines } = captureLog();
    const button = new SignalButton({ logger });
    const gesture = nextGesture(button);
    process.kill(process.pid, 'SIGUSR1');
    assert.equal(await gesture, 'press');
    await button.stop();
    assert.ok(lines.some((l) => l.event === 'button.signal' && l.signal === 'SIGUSR1'));
  });

  it('SIGUSR2 sent to the process is a hold', async () => {
    const button = new SignalButton();
    const gesture = nextGesture(button);
    process.kill(process.pid, 'SIGUSR2');
    assert.equal(await gesture, 'hold');
    await button.stop();
  });

  it('stop() removes both handlers, giving the signals back to Node', async () => {
    const before = [process.listenerCount('SIGUSR1'), process.listenerCount('SIGUSR2')];
    const button = new SignalButton();
    await button.start({ pressed() {}, held() {} });
    assert.deepEqual(
      [process.listenerCount('SIGUSR1'), process.listenerCount('SIGUSR2')],
      [before[0]! + 1, before[1]! + 1],
    );
    await button.stop();
    assert.deepEqual([process.listenerCount('SIGUSR1'), process.listenerCount('SIGUSR2')], before);
    // Sending SIGUSR2 now would end this process: Node's default is back.
  });

  it('a listener that throws is logged, and the process lives on', async () => {
    const { logger, lines } = captureLog();
    const button = new SignalButton({ logger });
    const thrown = new Promise<void>((resolve) => {
      void button.start({
        pressed: () => {
          resolve();
          throw new Error('agent bug');
        },
        held() {},
      });
    });
    process.kill(process.pid, 'SIGUSR1');
    await awaitSignal(thrown);
    await button.stop();
    assert.ok(lines.some((l) => l.event === 'button.listener_failed' && l.gesture === 'press'));
  });
});
