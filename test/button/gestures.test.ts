import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Gestures, type GestureOptions } from '../../src/button/gestures.js';
import { FakeClock } from '../support/fake-clock.js';

/** Timestamped levels: `[ms, pressed]`. */
type Edge = readonly [number, boolean];

/** Feeds levels at their times and returns what the person would have seen happen, with times. */
function run(edges: readonly Edge[], options: Partial<GestureOptions> = {}, until = 10_000): string[] {
  const clock = new FakeClock();
  const seen: string[] = [];
  const gestures = new Gestures(
    { bounceTimeMs: 20, holdTimeMs: 1000, timers: clock, now: clock.now, ...options },
    {
      pressed: () => seen.push(`press@${clock.now()}`),
      held: () => seen.push(`hold@${clock.now()}`),
    },
  );
  for (const [t, pressed] of edges) {
    clock.advanceTo(t);
    gestures.level(pressed);
  }
  clock.advanceTo(until);
  gestures.dispose();
  return seen;
}

/** Contact bounce: the level flips several times within 5 ms and settles on `final`. */
function bouncy(t: number, final: boolean): Edge[] {
  return [
    [t, final], [t + 1, !final], [t + 2, final], [t + 3, !final], [t + 4, final],
  ];
}

describe('Gestures', () => {
  it('reports a clean short press on release', () => {
    assert.deepEqual(run([[100, true], [250, false]]), ['press@250']);
  });

  it('reports one press for a press and a release that both bounce', () => {
    assert.deepEqual(run([...bouncy(100, true), ...bouncy(300, false)]), ['press@300']);
  });

  it('without a bounce time, the same bouncing contacts read as several presses', () => {
    // The reason bounceTimeMs exists: this is what an undebounced pin does.
    const seen = run([...bouncy(100, true), ...bouncy(300, false)], { bounceTimeMs: 0 });
    assert.ok(seen.length > 1, `expected several presses, got ${JSON.stringify(seen)}`);
  });

  it('counts two separate presses as two', () => {
    assert.deepEqual(
      run([...bouncy(100, true), ...bouncy(200, false), ...bouncy(400, true), ...bouncy(500, false)]),
      ['press@200', 'press@500'],
    );
  });

  it('a press just under the hold time is a press, not a hold', () => {
    assert.deepEqual(run([...bouncy(0, true), ...bouncy(999, false)]), ['press@999']);
  });

  it('a press just over the hold time is a hold, reported when the hold time is reached', () => {
    assert.deepEqual(run([...bouncy(0, true), ...bouncy(1001, false)]), ['hold@1000']);
  });

  it('a long hold reports exactly one hold and no press on release', () => {
    assert.deepEqual(run([...bouncy(500, true), ...bouncy(6500, false)]), ['hold@1500']);
  });

  it('a hold followed by a short press reports both, in order', () => {
    assert.deepEqual(
      run([...bouncy(0, true), ...bouncy(2000, false), ...bouncy(3000, true), ...bouncy(3100, false)]),
      ['hold@1000', 'press@3100'],
    );
  });

  it('ignores bounce at the hold boundary: release bounce does not add a press after a hold', () => {
    // Release bouncing back to "pressed" for a moment must not start a new press.
    assert.deepEqual(run([[0, true], [1200, false], [1201, true], [1203, false]]), ['hold@1000']);
  });

  it('a tap shorter than the bounce time is still a press (not a stuck button, not a hold)', () => {
    assert.deepEqual(run([[100, true], [110, false]], { bounceTimeMs: 50 }), ['press@150']);
  });

  it('a press still down after a bounce-time lockout keeps counting towards a hold', () => {
    assert.deepEqual(run([[0, true], [3, false], [4, true]], { bounceTimeMs: 50 }), ['hold@1000']);
  });

  it('when the hold timer is late, a release after the hold time is a hold, not a press', () => {
    // Timers that never fire: an event loop too busy to run the hold timer before the release.
    const clock = new FakeClock();
    const seen: string[] = [];
    const gestures = new Gestures(
      {
        bounceTimeMs: 20,
        holdTimeMs: 1000,
        timers: { setTimeout: () => 0, clearTimeout: () => undefined },
        now: clock.now,
      },
      { pressed: () => seen.push('press'), held: () => seen.push('hold') },
    );
    gestures.level(true);
    clock.advanceTo(1500);
    gestures.level(false);
    assert.deepEqual(seen, ['hold']);
  });

  it('ignores repeated levels and a release that was never pressed', () => {
    assert.deepEqual(run([[0, false], [10, false], [100, true], [150, true], [300, false]]), ['press@300']);
  });

  it('dispose() cancels a pending hold and ignores later levels', () => {
    const clock = new FakeClock();
    const seen: string[] = [];
    const gestures = new Gestures(
      { bounceTimeMs: 20, holdTimeMs: 1000, timers: clock, now: clock.now },
      { pressed: () => seen.push('press'), held: () => seen.push('hold') },
    );
    gestures.level(true);
    clock.advanceTo(5);
    gestures.level(false); // inside the lockout: a settle timer is pending too
    gestures.dispose();
    assert.equal(clock.pendingTimers, 0);
    clock.advanceTo(5000);
    gestures.level(true);
    gestures.level(false);
    assert.deepEqual(seen, []);
  });

  it('rejects a hold time of zero', () => {
    assert.throws(
      () => new Gestures({ bounceTimeMs: 0, holdTimeMs: 0 }, { pressed() {}, held() {} }),
      RangeError,
    );
  });
});
