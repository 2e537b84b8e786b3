/**
 * Reads a frame back into text the way a person would: by recognising glyphs. For every font,
 * every position whose pixels are exactly a glyph's pixels is a character; characters one advance
 * apart, with blank spacing between them, form a run. The tests then look for the user code and
 * the URL in what a person would actually see, whatever the layout chose.
 */
import type { Font } from '../../src/display/font.js';
import { FONTS } from '../../src/display/font.js';
import type { Frame } from '../../src/display/frame.js';

export interface TextRun {
  x: number;
  y: number;
  font: string;
  text: string;
}

/** Glyph ink (columns without the trailing spacing) → character, for one font. */
function glyphTable(font: Font): Map<string, string> {
  const ink = font.advance - font.spacing;
  const table = new Map<string, string>();
  for (const [char, glyph] of font.glyphs) {
    const columns = glyph.columns.slice(0, ink).map((c) => c & ((1 << font.height) - 1));
    if (columns.every((c) => c === 0)) continue; // a blank cell is a space, decided by context
    const key = columns.join(',');
    if (!table.has(key)) table.set(key, char);
  }
  return table;
}

/** Bits of column x, rows y .. y+height-1 (bit 0 = row y). */
function columnBits(frame: Frame, x: number, y: number, height: number): number {
  let bits = 0;
  for (let r = 0; r < height; r++) if (frame.get(x, y + r)) bits |= 1 << r;
  return bits;
}

/** Every run of text in `font` found in the frame, top to bottom, left to right. */
export function decodeText(frame: Frame, font: Font): TextRun[] {
  const table = glyphTable(font);
  const ink = font.advance - font.spacing;
  const runs: TextRun[] = [];
  for (let y = 0; y + font.height <= frame.height; y++) {
    const cols: number[] = [];
    for (let x = 0; x < frame.width; x++) cols.push(columnBits(frame, x, y, font.height));
    const charAt = (x: number): string | undefined => {
      if (x < 0 || x + ink > frame.width) return undefined;
      return table.get(cols.slice(x, x + ink).join(','));
    };
    const blank = (x0: number, x1: number): boolean => {
      for (let x = x0; x < x1; x++) if ((cols[x] ?? 0) !== 0) return false;
      return true;
    };
    let x = 0;
    while (x < frame.width) {
      const first = charAt(x);
      if (first === undefined) {
        x++;
        continue;
      }
      let text = first;
      let pos = x + font.advance;
      for (;;) {
        if (!blank(pos - font.spacing, pos)) break;
        const next = charAt(pos);
        if (next !== undefined) {
          text += next;
          pos += font.advance;
          continue;
        }
        // One blank cell between two characters is a space.
        const after = pos + font.advance;
        if (blank(pos, after) && charAt(after) !== undefined) {
          text += ' ';
          pos = after;
          continue;
        }
        break;
      }
      runs.push({ x, y, font: font.name, text });
      x = pos;
    }
  }
  return runs;
}

/** The runs of every font, each at least `minLength` characters long (single glyphs are noise). */
export function decodeAll(frame: Frame, minLength = 2): TextRun[] {
  return FONTS.flatMap((font) => decodeText(frame, font)).filter((run) => run.text.length >= minLength);
}

/** The texts of one font's runs in reading order, joined: wrapped lines read as one string. */
export function readingOrder(frame: Frame, font: Font, minLength = 2): string {
  return decodeText(frame, font)
    .filter((run) => run.text.length >= minLength)
    .sort((a, b) => a.y - b.y || a.x - b.x)
    .map((run) => run.text)
    .join('');
}
