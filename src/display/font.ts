import { createRequire } from 'node:module';
import type { Frame } from './frame.js';
import { cjkGlyph, fixedGlyphs } from './unicode-glyphs.js';

/**
 * Bitmap fonts from `oled-font-pack` (the oled-i2c-bus font format: `fontData` holds `width`
 * numbers per character, one per column, bit 0 at the top; `lookup` lists the characters in
 * order). We trim each font to the columns its glyphs actually use and add our own spacing, so
 * one source font gives a roomy and a condensed variant, and every character of a font has the
 * same advance (monospace keeps wrapping, ellipsis and the text decoder in the tests simple),
 * except CJK characters, which take a 16 px cell (two of the 16 px fonts' cells).
 *
 * Beyond ASCII (unicode-glyphs.ts, loaded on the first such character): Latin-1, Latin
 * Extended-A, Greek and Cyrillic from the public-domain 5x8 font in every font (rows doubled in
 * the 16 px ones), CJK from GNU Unifont in the 16 px fonts. Anything else falls back to its
 * letter without accents (NFKD, marks dropped: "ệ" → "e"), else to an empty box: right-to-left
 * scripts, emoji and CJK in the 8 px font. Never to "?", which stays a question mark.
 */

/** One character's pixels: `columns[i]` is column i, bit r lit = row r lit. */
export interface Glyph {
  readonly char: string;
  readonly columns: readonly number[];
}

export interface Font {
  readonly name: string;
  /** Rows in a cell (line pitch when lines are stacked tightly). */
  readonly height: number;
  /** Columns from one character's left edge to the next: ink plus spacing. */
  readonly advance: number;
  /** Blank columns at the right of every cell (not counted after the last character). */
  readonly spacing: number;
  /** Rows that hold capitals and digits (the rest is room for descenders). */
  readonly capHeight: number;
  /** The ASCII characters (and "…") this font draws from its own pack font; see {@link glyphOf} for the rest. */
  readonly glyphs: ReadonlyMap<string, Glyph>;
  /** Rows per row of a 5x8 glyph beyond ASCII: 1 in the 8 px font, 2 in the 16 px ones. */
  readonly unicodeScale: 1 | 2;
  /** Draws CJK from Unifont (16 px tall fonts only). */
  readonly cjk: boolean;
}

/** The shape of an oled-font-pack font module. */
interface PackFont {
  name: string;
  width: number;
  height: number;
  fontData: number[];
  lookup: string[];
}

/**
 * Written as an escape, as every character beyond ASCII in src/ code is (eslint.config.js): one
 * such character in a module makes V8 keep the module's whole source two bytes a character, about
 * 48 KB more resident in the daemon.
 */
export const ELLIPSIS = '\u2026';

const require = createRequire(import.meta.url);
const fontPack = require('oled-font-pack') as Record<string, PackFont | undefined>;

function packFont(name: string): PackFont {
  const font = fontPack[name];
  if (!font || !Array.isArray(font.fontData) || !Array.isArray(font.lookup)) {
    throw new Error(`oled-font-pack has no font named ${name}`);
  }
  return font;
}

interface FontOptions {
  /** Our name for the variant. */
  name: string;
  /** Leftmost source column to keep (fonts carry their spacing in blank columns). */
  firstColumn: number;
  /** Number of source columns to keep. */
  inkWidth: number;
  /** Blank columns added after each character. */
  spacing: number;
  capHeight: number;
  /** Columns (already trimmed) of the ellipsis, which no pack font has. */
  ellipsis: number[];
  unicodeScale: 1 | 2;
  cjk: boolean;
}

function makeFont(source: PackFont, options: FontOptions): Font {
  const glyphs = new Map<string, Glyph>();
  const pad = new Array<number>(options.spacing).fill(0);
  source.lookup.forEach((char, index) => {
    if (char.length !== 1 || char < ' ' || char > '~') return; // printable ASCII only
    const start = index * source.width + options.firstColumn;
    const ink = source.fontData.slice(start, start + options.inkWidth);
    glyphs.set(char, { char, columns: [...ink, ...pad] });
  });
  glyphs.set(ELLIPSIS, { char: ELLIPSIS, columns: [...options.ellipsis, ...pad] });
  return {
    name: options.name,
    height: source.height,
    advance: options.inkWidth + options.spacing,
    spacing: options.spacing,
    capHeight: options.capHeight,
    glyphs,
    unicodeScale: options.unicodeScale,
    cjk: options.cjk,
  };
}

const small6x8 = packFont('small_6x8');
const retro8x16 = packFont('retro_8x16');

/** Body text: 5 px wide letters with real descenders on an 8 px pitch; 21 characters per 128 px. */
export const SMALL: Font = makeFont(small6x8, {
  name: 'small', firstColumn: 1, inkWidth: 5, spacing: 1, capHeight: 7,
  ellipsis: [0x40, 0x00, 0x40, 0x00, 0x40], unicodeScale: 1, cjk: false,
});

/**
 * The user code: 16 px tall, a slashed zero, serifed I and a flagged 1, so no two characters of a
 * code can be confused. 8 px per character.
 */
export const LARGE: Font = makeFont(retro8x16, {
  name: 'large', firstColumn: 1, inkWidth: 6, spacing: 2, capHeight: 14,
  ellipsis: [0x3000, 0x0000, 0x3000, 0x0000, 0x3000, 0x0000], unicodeScale: 2, cjk: true,
});

/** The same glyphs one column closer (7 px per character): a 9-character code in 62 px. */
export const LARGE_CONDENSED: Font = makeFont(retro8x16, {
  name: 'large-condensed', firstColumn: 1, inkWidth: 6, spacing: 1, capHeight: 14,
  ellipsis: [0x3000, 0x0000, 0x3000, 0x0000, 0x3000, 0x0000], unicodeScale: 2, cjk: true,
});

export const FONTS: readonly Font[] = [SMALL, LARGE, LARGE_CONDENSED];

/** Glyphs beyond ASCII, per font, as they were first asked for (null: the font has none). */
const resolved = new WeakMap<Font, Map<string, Glyph | null>>();

/** The font's own glyph for `char` (ASCII, the 5x8 table, Unifont), without any fallback. */
function ownGlyph(font: Font, char: string): Glyph | undefined {
  const ascii = font.glyphs.get(char);
  if (ascii || char < '\u00a0') return ascii;
  let cache = resolved.get(font);
  if (!cache) resolved.set(font, (cache = new Map()));
  const known = cache.get(char);
  if (known !== undefined) return known ?? undefined;
  const glyph = fixedGlyph(font, char) ?? (font.cjk ? wideGlyph(font, char) : undefined);
  cache.set(char, glyph ?? null);
  return glyph;
}

function fixedGlyph(font: Font, char: string): Glyph | undefined {
  const fixed = fixedGlyphs().get(char);
  if (!fixed) return undefined;
  if ('sameAs' in fixed) {
    const same = font.glyphs.get(fixed.sameAs);
    return same && { char, columns: same.columns };
  }
  const ink = font.advance - font.spacing;
  const columns = new Array<number>(font.advance).fill(0);
  for (let c = 0; c < Math.min(5, ink); c++) {
    let bits = 0;
    fixed.rows.forEach((row, r) => {
      if ((row >> (7 - c)) & 1) bits |= font.unicodeScale === 2 ? 0b11 << (2 * r) : 1 << r;
    });
    columns[c] = bits;
  }
  return { char, columns };
}

/** A CJK glyph: Unifont's 16 columns, then the font's spacing. */
function wideGlyph(font: Font, char: string): Glyph | undefined {
  const rows = cjkGlyph(char);
  if (!rows) return undefined;
  const columns = new Array<number>(16 + font.spacing).fill(0);
  for (let c = 0; c < 16; c++) {
    let bits = 0;
    rows.forEach((row, r) => {
      if ((row >> (15 - c)) & 1) bits |= 1 << r;
    });
    columns[c] = bits;
  }
  return { char, columns };
}

/** The letter without its accents ("ệ" → "e", "ﬀ" stays), when the font has that. */
function accentlessGlyph(font: Font, char: string): Glyph | undefined {
  const base = char.normalize('NFKD').replace(/\p{M}/gu, '');
  if (base === char || [...base].length !== 1) return undefined;
  const glyph = ownGlyph(font, base);
  return glyph && { char, columns: glyph.columns };
}

/** An empty box, one cell wide: "a character this panel cannot show" (emoji, Arabic, Hebrew...). */
function boxGlyph(font: Font): Glyph {
  const scale = font.unicodeScale;
  const row = (r: number): number => (scale === 2 ? 0b11 << (2 * r) : 1 << r);
  const side = [1, 2, 3, 4, 5, 6].reduce((bits, r) => bits | row(r), 0);
  const edge = row(1) | row(6);
  const ink = [side, edge, edge, side];
  const columns = new Array<number>(font.advance).fill(0);
  ink.forEach((bits, c) => (columns[c] = bits));
  return { char: '\ufffd', columns };
}

/** The glyph drawn for a character: the font's, else the letter without accents, else an empty box. */
export function glyphOf(font: Font, char: string): Glyph {
  return ownGlyph(font, char) ?? accentlessGlyph(font, char) ?? boxGlyph(font);
}

/** True when the font draws every character of `text` as itself or its letter (no box). */
export function canDraw(font: Font, text: string): boolean {
  return textChars(text).every((char) => ownGlyph(font, char) !== undefined || accentlessGlyph(font, char) !== undefined);
}

/**
 * The characters of `text` as drawn: composed (NFC: "e" + U+0301 is "é"), without the marks and
 * invisible joiners that are left (they would each take a cell).
 */
export function textChars(text: string): string[] {
  return [...text.normalize('NFC')].filter((char) => !/[\p{M}\u00ad\u200b-\u200f\u2060\ufeff]/u.test(char));
}

/** Columns from this character's left edge to the next one's. */
function advanceOf(font: Font, char: string): number {
  return glyphOf(font, char).columns.length;
}

/** Width in pixels of the ink of `text` (no spacing after the last character). */
export function measureText(text: string, font: Font): number {
  return measureChars(textChars(text), font);
}

function measureChars(chars: readonly string[], font: Font): number {
  if (chars.length === 0) return 0;
  return chars.reduce((w, char) => w + advanceOf(font, char), 0) - font.spacing;
}

/** How many characters of the narrow cell fit in `width` pixels. */
export function charsThatFit(width: number, font: Font): number {
  return Math.max(0, Math.floor((width + font.spacing) / font.advance));
}

/** How many of the first `chars` fit in `width` pixels. */
function fitCount(chars: readonly string[], width: number, font: Font): number {
  let used = -font.spacing;
  for (let i = 0; i < chars.length; i++) {
    used += advanceOf(font, chars[i]!);
    if (used > width) return i;
  }
  return chars.length;
}

/** The first of `chars` that fit in `width` with "…" after them, and the "…". */
function cutWithEllipsis(chars: readonly string[], width: number, font: Font): string {
  const room = width - advanceOf(font, ELLIPSIS);
  if (room < -font.spacing) return '';
  const keep = room < 0 ? 0 : fitCount(chars, room, font);
  return chars.slice(0, keep).join('').trimEnd() + ELLIPSIS;
}

export interface DrawTextOptions {
  /** Lit text (the default) or dark text, for drawing on a lit background. */
  on?: boolean;
}

/**
 * Draws `text` with its top-left corner at (x, y): the glyph's lit pixels are set to `on` and its
 * dark pixels (spacing included) to `!on`, so text over anything stays readable.
 * Returns the x just after the text.
 */
export function drawText(frame: Frame, text: string, x: number, y: number, font: Font, options: DrawTextOptions = {}): number {
  const on = options.on ?? true;
  let cx = x;
  const chars = textChars(text);
  chars.forEach((char, i) => {
    const { columns } = glyphOf(font, char);
    const last = i === chars.length - 1;
    const width = last ? columns.length - font.spacing : columns.length;
    for (let c = 0; c < width; c++) {
      const bits = columns[c] ?? 0;
      for (let r = 0; r < font.height; r++) frame.set(cx + c, y + r, ((bits >> r) & 1) === 1 ? on : !on);
    }
    cx += columns.length;
  });
  return chars.length === 0 ? x : cx - font.spacing;
}

/**
 * Shortens `text` to fit `width`, ending it with "…" when something had to go. Never cuts a
 * glyph: the result is whole characters that fit.
 */
export function ellipsize(text: string, width: number, font: Font): string {
  const chars = textChars(text);
  if (measureChars(chars, font) <= width) return text;
  return cutWithEllipsis(chars, width, font);
}

export interface WrapOptions {
  /** At most this many lines; the last one ends with "…" if text is left over. */
  maxLines?: number;
  /**
   * Where a word longer than a line may break: after one of these characters if possible, else
   * anywhere. "-/._:" by default; URLs use "/.:?&=-".
   */
  breakAfter?: string;
}

/**
 * Wraps text into lines of at most `width` pixels: at spaces, then after `breakAfter`
 * characters, then anywhere in a word too long for a line. Explicit "\n" starts a new line.
 */
export function wrapText(text: string, width: number, font: Font, options: WrapOptions = {}): string[] {
  if (charsThatFit(width, font) <= 0) return [];
  const breakAfter = options.breakAfter ?? '-/._:';
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let rest = paragraph.trim();
    if (rest === '') {
      lines.push('');
      continue;
    }
    while (rest.length > 0) {
      const chars = textChars(rest);
      const perLine = fitCount(chars, width, font);
      if (perLine >= chars.length) {
        lines.push(rest);
        break;
      }
      const cut = breakPoint(chars, Math.max(1, perLine), breakAfter);
      lines.push(chars.slice(0, cut).join('').trimEnd());
      rest = chars.slice(cut).join('').trimStart();
    }
  }
  const maxLines = options.maxLines ?? Infinity;
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, Math.max(0, maxLines));
  const lastIndex = kept.length - 1;
  if (lastIndex >= 0) kept[lastIndex] = withEllipsis(kept[lastIndex] ?? '', width, font);
  return kept;
}

/** `text` ending in "…" (shortened if needed) to say that more was left out. */
export function withEllipsis(text: string, width: number, font: Font): string {
  if (charsThatFit(width, font) <= 0) return '';
  return cutWithEllipsis(textChars(text.trimEnd()), width, font);
}

/** Index at which to cut `chars` so the first line has at most `perLine` characters. */
function breakPoint(chars: string[], perLine: number, breakAfter: string): number {
  let space = 0;
  for (let i = perLine; i > 0; i--) {
    if (chars[i] === ' ') {
      space = i;
      break;
    }
  }
  // A word longer than any line has to be broken anyway: start it on this line rather than leave
  // a short line ("in" alone above a long path).
  const nextWordEnd = chars.indexOf(' ', space + 1);
  const nextWordLength = (nextWordEnd < 0 ? chars.length : nextWordEnd) - (space + 1);
  if (space > 0 && nextWordLength <= perLine) return space;
  // Inside a long word (a URL, a path): after the last break character that fits.
  for (let i = perLine; i > space + 1; i--) {
    if (breakAfter.includes(chars[i - 1] ?? '')) return i;
  }
  return perLine;
}
