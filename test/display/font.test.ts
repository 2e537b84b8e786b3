import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Frame } from '../../src/display/frame.js';
import {
  ELLIPSIS, LARGE, LARGE_CONDENSED, SMALL, charsThatFit, drawText, ellipsize, measureText, wrapText,
} from '../../src/display/font.js';
import type { Font } from '../../src/display/font.js';
import { decodeText } from './decode-text.js';

/** The rows of a frame's top-left corner, for comparing with pictures of glyphs. */
function corner(frame: Frame, width: number, height: number): string[] {
  return frame.toRows().slice(0, height).map((row) => row.slice(0, width));
}

describe('fonts from oled-font-pack', () => {
  it('draws small_6x8 glyphs column by column, LSB at the top, with real descenders', () => {
    const frame = new Frame(16, 8);
    const end = drawText(frame, 'Ag', 0, 0, SMALL);
    assert.equal(end, 11); // 5 px, 1 px spacing, 5 px
    assert.deepEqual(corner(frame, 11, 8), [
      '..#........',
      '.#.#.......',
      '#...#..####',
      '#...#.#...#',
      '#####.#...#',
      '#...#..####',
      '#...#.....#',
      '.......###.',
    ]);
  });

  it('draws the large font 16 px tall with a slashed zero (no 0/O mix-up)', () => {
    const frame = new Frame(8, 16);
    drawText(frame, '0', 0, 0, LARGE);
    assert.deepEqual(corner(frame, 6, 14), [
      '.####.',
      '.####.',
      '#....#',
      '#....#',
      '#...##',
      '#...##',
      '#.##.#',
      '#.##.#',
      '##...#',
      '##...#',
      '#....#',
      '#....#',
      '.####.',
      '.####.',
    ]);
    assert.ok(LARGE.height >= 12 && LARGE.capHeight >= 12, 'the code font is at least 12 px tall');
  });

  it('tells confusable code characters apart', () => {
    const pixels = (font: Font, ch: string): string => {
      const frame = new Frame(8, 16);
      drawText(frame, ch, 0, 0, font);
      return frame.toRows().join('');
    };
    for (const font of [LARGE, LARGE_CONDENSED, SMALL]) {
      for (const [a, b] of [['0', 'O'], ['1', 'I'], ['1', 'l'], ['I', 'l'], ['5', 'S'], ['8', 'B'], ['2', 'Z']] as const) {
        assert.notEqual(pixels(font, a), pixels(font, b), `${font.name}: ${a} and ${b} look the same`);
      }
    }
  });

  it('measures text as whole characters without trailing spacing', () => {
    assert.equal(measureText('', SMALL), 0);
    assert.equal(measureText('devicelogin', SMALL), 65);
    assert.equal(measureText('Q6GR3KMGL', LARGE), 70);
    assert.equal(measureText('Q6GR3KMGL', LARGE_CONDENSED), 62);
    assert.equal(charsThatFit(128, SMALL), 21);
    assert.equal(charsThatFit(64, SMALL), 10);
    assert.equal(charsThatFit(65, SMALL), 11);
  });

  it('draws accented letters, never "?" for a letter it can show', () => {
    const frame = new Frame(32, 8);
    drawText(frame, 'aé', 0, 0, SMALL);
    assert.deepEqual(decodeText(frame, SMALL).map((r) => r.text), ['aé']);
  });
});

describe('ellipsis and wrapping', () => {
  const sentence = 'The sign-in code was not used in time, so it expired';

  it('ends text too long for the line with "…" and never draws part of a glyph', () => {
    for (const font of [SMALL, LARGE, LARGE_CONDENSED]) {
      for (let width = 10; width <= 128; width += 7) {
        const fitted = ellipsize(sentence, width, font);
        assert.ok(measureText(fitted, font) <= width, `${font.name} ${width}: "${fitted}" is too wide`);
        // Draw into a frame exactly `width` wide: every glyph must come back whole.
        const frame = new Frame(width, Math.ceil(font.height / 8) * 8);
        drawText(frame, fitted, 0, 0, font);
        const read = decodeText(frame, font).map((r) => r.text).join('');
        assert.equal(read, fitted.trimEnd(), `${font.name} ${width}`);
        if (fitted !== sentence && fitted !== '') {
          assert.ok(fitted.endsWith(ELLIPSIS), `"${fitted}" should end with …`);
          assert.ok(sentence.startsWith(fitted.slice(0, -1).trimEnd()), `"${fitted}" is not a prefix`);
        }
      }
    }
  });

  it('leaves text that fits alone', () => {
    assert.equal(ellipsize('Signed out', 128, SMALL), 'Signed out');
    assert.equal(ellipsize('exactly twenty-one ch', 128, SMALL), 'exactly twenty-one ch');
    assert.equal(ellipsize('exactly twenty-one chr', 128, SMALL), `exactly twenty-one c${ELLIPSIS}`);
  });

  it('wraps at spaces, keeping every word and every line within the width', () => {
    const lines = wrapText(sentence, 128, SMALL);
    assert.deepEqual(lines, ['The sign-in code was', 'not used in time, so', 'it expired']);
    for (const line of lines) assert.ok(measureText(line, SMALL) <= 128);
  });

  it('ends the last allowed line with "…" when text is left over', () => {
    const lines = wrapText(sentence, 128, SMALL, { maxLines: 2 });
    assert.deepEqual(lines, ['The sign-in code was', `not used in time, so${ELLIPSIS}`]);
  });

  it('breaks URLs after "/", "." or ":" rather than inside a word', () => {
    const opts = { breakAfter: '/.:?&=-' };
    assert.deepEqual(wrapText('https://microsoft.com/devicelogin', 65, SMALL, opts), ['https://', 'microsoft.', 'com/', 'devicelogin']);
    assert.deepEqual(wrapText('https://127.0.0.1:8443/devicelogin', 128, SMALL, opts), ['https://127.0.0.1:', '8443/devicelogin']);
  });

  it('starts a word longer than a line on the current line instead of leaving a stub', () => {
    const lines = wrapText('missing in /etc/graph-device-agent/config.json', 128, SMALL);
    assert.deepEqual(lines, ['missing in /etc/', 'graph-device-agent/', 'config.json']);
  });

  it('breaks a word with no break characters anywhere, losing nothing', () => {
    const word = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    const lines = wrapText(word, 64, SMALL);
    assert.deepEqual(lines, ['ABCDEFGHIJ', 'KLMNOPQRST', 'UVWXYZ']);
  });

  it('keeps explicit line breaks', () => {
    assert.deepEqual(wrapText('one\ntwo', 128, SMALL), ['one', 'two']);
  });
});
