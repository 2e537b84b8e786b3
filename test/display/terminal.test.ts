import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { Frame } from '../../src/display/frame.js';
import { renderScreen } from '../../src/display/screens.js';
import { TerminalDisplay } from '../../src/display/terminal.js';

/** Everything written to the stream so far. */
function drain(stream: PassThrough): string {
  const chunks: Buffer[] = [];
  let chunk: Buffer | null;
  while ((chunk = stream.read() as Buffer | null) !== null) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads the boxed half-block picture back into pixels. */
function parseBox(text: string, width: number, height: number): Frame {
  const lines = text.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, height / 2 + 2, 'a top edge, height/2 rows, a bottom edge');
  assert.match(lines[0] ?? '', /^┌.*┐$/);
  assert.equal(lines[lines.length - 1], `└${'─'.repeat(width)}┘`);
  const frame = new Frame(width, height);
  lines.slice(1, -1).forEach((line, row) => {
    const cells = [...line];
    assert.equal(cells.length, width + 2);
    assert.equal(cells[0], '│');
    assert.equal(cells[width + 1], '│');
    cells.slice(1, -1).forEach((cell, x) => {
      assert.ok(' ▀▄█'.includes(cell), `unexpected character ${JSON.stringify(cell)}`);
      frame.set(x, row * 2, cell === '▀' || cell === '█');
      frame.set(x, row * 2 + 1, cell === '▄' || cell === '█');
    });
  });
  return frame;
}

const screen = renderScreen(
  { kind: 'device-code', userCode: 'Q6GR3KMGL', verificationUri: 'https://microsoft.com/devicelogin', issuedAt: 0, expiresAt: 900_000 },
  60_000,
  { width: 128, height: 64 },
);

describe('terminal display', () => {
  it('draws a frame as half blocks in a box, pixel for pixel', async () => {
    const output = new PassThrough();
    const display = new TerminalDisplay({ output, label: 'SSD1306 128x64' });
    await display.open();
    await display.show(screen);
    const text = drain(output);
    assert.ok(!text.includes('\u001b'), 'no escape codes into a pipe');
    assert.ok(text.startsWith('┌─ SSD1306 128x64 ─'));
    assert.ok(parseBox(text, 128, 64).equals(screen));
  });

  it('draws 128x32 panels in 16 rows', async () => {
    const output = new PassThrough();
    const frame = renderScreen({ kind: 'starting' }, 0, { width: 128, height: 32 });
    const display = new TerminalDisplay({ output, height: 32 });
    await display.open();
    await display.show(frame);
    assert.ok(parseBox(drain(output), 128, 32).equals(frame));
  });

  it('appends every frame into a pipe, and draws black while powered off', async () => {
    const output = new PassThrough();
    const display = new TerminalDisplay({ output });
    await display.open();
    await display.show(screen);
    drain(output);
    await display.setPower(false);
    assert.equal(parseBox(drain(output), 128, 64).litCount(), 0);
    await display.setPower(true);
    assert.ok(parseBox(drain(output), 128, 64).equals(screen));
    await display.close();
    assert.equal(parseBox(drain(output), 128, 64).litCount(), 0, 'close() blanks by default');
  });

  it('redraws in place on a TTY: cursor up over the last frame, cursor hidden until close', async () => {
    const output = Object.assign(new PassThrough(), { isTTY: true });
    const display = new TerminalDisplay({ output });
    await display.open();
    await display.show(screen);
    const first = drain(output);
    assert.ok(first.startsWith('\u001b[?25l'));
    await display.show(new Frame(128, 64));
    const second = drain(output);
    assert.ok(second.startsWith('\u001b[34A\r'), JSON.stringify(second.slice(0, 12)));
    // Without colour codes the picture is the new frame.
    const plain = second.slice('\u001b[34A\r'.length).replaceAll('\u001b[38;5;195m', '').replaceAll('\u001b[0m', '');
    assert.equal(parseBox(plain, 128, 64).litCount(), 0);
    await display.close({ blank: false });
    assert.equal(drain(output), '\u001b[?25h');
  });

  it('refuses a frame of another size', async () => {
    const display = new TerminalDisplay({ output: new PassThrough(), height: 32 });
    await assert.rejects(display.show(screen), /128x64/);
  });
});
