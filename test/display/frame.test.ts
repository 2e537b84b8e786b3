import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Frame } from '../../src/display/frame.js';

describe('Frame', () => {
  it('stores pixels in SSD1306 page order: byte = page * width + x, LSB at the top', () => {
    const frame = new Frame(128, 64);
    assert.equal(frame.buffer.length, 1024);
    frame.set(0, 0);
    frame.set(3, 9); // page 1, bit 1
    frame.set(127, 63); // last page, bit 7
    assert.equal(frame.buffer[0], 0b0000_0001);
    assert.equal(frame.buffer[128 + 3], 0b0000_0010);
    assert.equal(frame.buffer[7 * 128 + 127], 0b1000_0000);
    assert.equal(frame.litCount(), 3);
  });

  it('reads back what was set, and turns pixels off again', () => {
    const frame = new Frame(128, 32);
    frame.set(10, 20);
    assert.equal(frame.get(10, 20), true);
    assert.equal(frame.get(10, 21), false);
    frame.set(10, 20, false);
    assert.equal(frame.get(10, 20), false);
    assert.equal(frame.litCount(), 0);
  });

  it('clips drawing at the edges instead of wrapping into other pages', () => {
    const frame = new Frame(16, 8);
    frame.set(-1, 0);
    frame.set(16, 0);
    frame.set(0, 8);
    frame.fillRect(12, 4, 10, 10);
    assert.equal(frame.litCount(), 4 * 4);
    assert.equal(frame.get(15, 7), true);
    assert.equal(frame.get(16, 7), false);
  });

  it('fills, outlines and clears rectangles', () => {
    const frame = new Frame(8, 8);
    frame.strokeRect(1, 1, 4, 3);
    assert.deepEqual(frame.toRows().slice(0, 5), [
      '........',
      '.####...',
      '.#..#...',
      '.####...',
      '........',
    ]);
    frame.fillRect(0, 0, 8, 8);
    assert.equal(frame.litCount(), 64);
    frame.clear();
    assert.equal(frame.litCount(), 0);
  });

  it('round-trips through text rows', () => {
    const rows = ['#..#', '.##.', '#..#', '....', '....', '....', '....', '....'];
    const frame = Frame.fromRows(rows);
    assert.equal(frame.width, 4);
    assert.equal(frame.height, 8);
    assert.deepEqual(frame.toRows(), rows);
  });

  it('copies another frame onto itself, dark pixels included', () => {
    const target = new Frame(8, 8).clear(true);
    const source = Frame.fromRows(['#.', '.#']);
    target.drawFrame(source, 2, 3);
    assert.equal(target.get(2, 3), true);
    assert.equal(target.get(3, 3), false);
    assert.equal(target.get(2, 4), false);
    assert.equal(target.get(3, 4), true);
  });

  it('compares by pixels, and a clone is independent', () => {
    const a = new Frame(32, 16);
    a.set(5, 5);
    const b = a.clone();
    assert.ok(a.equals(b));
    b.set(6, 5);
    assert.ok(!a.equals(b));
    assert.equal(a.get(6, 5), false);
    assert.ok(!a.equals(new Frame(32, 24)));
  });

  it('finds the smallest changed window in columns and pages', () => {
    const before = new Frame(128, 64);
    const after = before.clone();
    assert.equal(after.changedWindow(before), null);
    after.set(10, 9); // page 1
    after.set(40, 30); // page 3
    assert.deepEqual(after.changedWindow(before), { x0: 10, x1: 40, page0: 1, page1: 3 });
    assert.deepEqual(after.changedWindow(undefined), { x0: 0, x1: 127, page0: 0, page1: 7 });
    const bytes = after.windowBytes({ x0: 10, x1: 40, page0: 1, page1: 3 });
    assert.equal(bytes.length, 31 * 3);
    assert.equal(bytes[0], 0b10); // (10, 9): first column of page 1
    assert.equal(bytes[2 * 31 + 30], 1 << 6); // (40, 30): last column of page 3
  });

  it('refuses sizes that are not whole pages', () => {
    assert.throws(() => new Frame(128, 60), /multiple of 8/);
    assert.throws(() => new Frame(0, 8), /width/);
    assert.throws(() => new Frame(8, 8, new Uint8Array(7)), /needs 8 bytes/);
  });
});
