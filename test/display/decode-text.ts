/**
 * Reads a frame back into text the way a person would: by recognising glyphs. For every font,
 * every position whose pixels are exactly a glyph's pixels is a character; characters one advance
 * apart, with blank spacing between them, form a run. The tests then look for the user code and
 * the URL in what a person would actually see, whatever the layout chose.
 */
import type { Font } from '../../src/display/font.js';
import { FONTS, glyphOf, textChars } from '../../src/display/font.js';
import type { Frame } from '../../src/display/frame.js';
import { fixedGlyphs } from '../../src/display/unicode-glyphs.js';

export interface TextRun {
  x: number;
  y: number;
  font: string;
  text: string;
}

/** One glyph's ink columns (without the trailing spacing), masked to the font's height. */
interface Ink {
  columns: number[];
  char: string;
}

/**
 * Glyph ink → character, for one font, by ink width (CJK glyphs are 16 px wide) and then by the
 * ink's first two columns ({@link startKey}), so that reading a position compares a handful of
 * candidates instead of building a string for every width at every pixel. It holds ASCII, every letter and digit of the
 * 5x8 table (Latin, Greek, Cyrillic), the box drawn for what the font lacks ("\ufffd"), and
 * `extraChars` (CJK: Unifont's are too many to try them all, so a test names the ones it looks for).
 * When two characters draw the same ink, the first one added wins.
 */
type GlyphTable = Map<number, Map<number, Ink[]>>;

/** Tables by font and extra characters: building one walks the whole 5x8 table. */
const tableCache = new WeakMap<Font, Map<string, GlyphTable>>();

function inkOf(font: Font, char: string): { ink: number; columns: number[]; drawn: string } {
  const glyph = glyphOf(font, char);
  const ink = glyph.columns.length - font.spacing;
  const mask = (1 << font.height) - 1;
  return { ink, columns: glyph.columns.slice(0, ink).map((c) => c & mask), drawn: glyph.char };
}

function glyphTable(font: Font, extraChars = ''): GlyphTable {
  let byExtra = tableCache.get(font);
  if (!byExtra) tableCache.set(font, (byExtra = new Map()));
  const known = byExtra.get(extraChars);
  if (known) return known;
  const tables: GlyphTable = new Map();
  const seen = new Set<string>();
  const add = (char: string): void => {
    const { ink, columns, drawn } = inkOf(font, char);
    if (columns.every((c) => c === 0)) return; // a blank cell is a space, decided by context
    const key = `${ink}:${columns.join(',')}`;
    if (seen.has(key)) return;
    seen.add(key);
    let byFirst = tables.get(ink);
    if (!byFirst) tables.set(ink, (byFirst = new Map()));
    const start = startKey(columns, 0, ink);
    let candidates = byFirst.get(start);
    if (!candidates) byFirst.set(start, (candidates = []));
    candidates.push({ columns, char: drawn === '\ufffd' ? '\ufffd' : char });
  };
  for (const char of font.glyphs.keys()) add(char);
  // Letters and digits only: lone accents and dots ("¸", "·") would match any speck (a QR module).
  for (const char of fixedGlyphs().keys()) if (/[\p{Lu}\p{Ll}\p{Lt}\p{Lo}\p{N}]/u.test(char)) add(char);
  add('\ufffd');
  for (const char of textChars(extraChars)) add(char);
  byExtra.set(extraChars, tables);
  return tables;
}

/** A glyph's first two columns as one number (columns are at most 16 bits: the tallest font is 16 px). */
function startKey(cols: ArrayLike<number>, x: number, ink: number): number {
  return cols[x]! * 131_072 + (ink >= 2 ? cols[x + 1]! + 1 : 0);
}

/** The first column of a {@link startKey}. */
const firstColumn = (key: number): number => Math.floor(key / 131_072);

/** The character whose ink is exactly `cols[x .. x+ink-1]`, if any. */
function lookup(tables: GlyphTable, ink: number, cols: ArrayLike<number>, x: number): string | undefined {
  const candidates = tables.get(ink)?.get(startKey(cols, x, ink));
  if (!candidates) return undefined;
  for (const candidate of candidates) {
    let same = true;
    for (let i = 2; i < ink; i++) {
      if (candidate.columns[i] !== cols[x + i]) {
        same = false;
        break;
      }
    }
    if (same) return candidate.char;
  }
  return undefined;
}

/**
 * `text` as the decoder reads it back in `font`: letters that look exactly alike are one glyph
 * (Cyrillic "А" is drawn as Latin "A", so it reads back as "A"), accents the font lacks are gone.
 */
export function asDrawn(text: string, font: Font, extraChars = ''): string {
  const tables = glyphTable(font, `${extraChars}${text}`);
  return textChars(text).map((char) => {
    if (char === ' ') return ' ';
    const { ink, columns } = inkOf(font, char);
    return lookup(tables, ink, columns, 0) ?? '?';
  }).join('');
}

/** Bits of column x, rows y .. y+height-1 (bit 0 = row y). */
function columnBits(frame: Frame, x: number, y: number, height: number): number {
  let bits = 0;
  for (let r = 0; r < height; r++) if (frame.get(x, y + r)) bits |= 1 << r;
  return bits;
}

/** Every run of text in `font` found in the frame, top to bottom, left to right. */
export function decodeText(frame: Frame, font: Font, extraChars = ''): TextRun[] {
  const tables = glyphTable(font, extraChars);
  // For each first column, the ink widths that have a glyph starting with it, wide (CJK) first:
  // their patterns are the more specific. Most positions start no glyph at all.
  const inksByFirst = new Map<number, number[]>();
  for (const ink of [...tables.keys()].sort((a, b) => b - a)) {
    for (const first of new Set([...tables.get(ink)!.keys()].map(firstColumn))) {
      const list = inksByFirst.get(first);
      if (list) list.push(ink);
      else inksByFirst.set(first, [ink]);
    }
  }
  const runs: TextRun[] = [];
  // Each column's bits for rows y .. y+height-1, moved down one row at a time.
  const cols: number[] = [];
  for (let x = 0; x < frame.width; x++) cols.push(columnBits(frame, x, 0, font.height));
  for (let y = 0; y + font.height <= frame.height; y++) {
    if (y > 0) {
      const bottom = y + font.height - 1;
      for (let x = 0; x < frame.width; x++) cols[x] = (cols[x]! >>> 1) | (frame.get(x, bottom) ? 1 << (font.height - 1) : 0);
    }
    const charAt = (x: number): { char: string; ink: number } | undefined => {
      for (const ink of inksByFirst.get(cols[x]!) ?? []) {
        if (x < 0 || x + ink > frame.width) continue;
        const char = lookup(tables, ink, cols, x);
        if (char !== undefined) return { char, ink };
      }
      return undefined;
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
      let text = first.char;
      let pos = x + first.ink + font.spacing;
      for (;;) {
        if (!blank(pos - font.spacing, pos)) break;
        const next = charAt(pos);
        if (next !== undefined) {
          text += next.char;
          pos += next.ink + font.spacing;
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
export function decodeAll(frame: Frame, minLength = 2, extraChars = ''): TextRun[] {
  return FONTS.flatMap((font) => decodeText(frame, font, extraChars)).filter((run) => [...run.text].length >= minLength);
}

/** The texts of one font's runs in reading order, joined: wrapped lines read as one string. */
export function readingOrder(frame: Frame, font: Font, minLength = 2, extraChars = ''): string {
  return decodeText(frame, font, extraChars)
    .filter((run) => [...run.text].length >= minLength)
    .sort((a, b) => a.y - b.y || a.x - b.x)
    .map((run) => run.text)
    .join('');
}
