import { createRequire } from 'node:module';
import type { Frame } from './frame.js';

/**
 * Bitmap fonts from `oled-font-pack` (the oled-i2c-bus font format: `fontData` holds `width`
 * numbers per character, one per column, bit 0 at the top; `lookup` lists the characters in
 * order). We trim each font to the columns its glyphs actually use and add our own spacing, so
 * one source font gives a roomy and a condensed variant, and every character of a font has the
 * same advance (monospace keeps wrapping, ellipsis and the text decoder in the tests simple).
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
  /** Every character this font can draw; anything else is drawn as `?`. */
  readonly glyphs: ReadonlyMap<string, Glyph>;
}

/** The shape of an oled-font-pack font module. */
interface PackFont {
  name: string;
  width: number;
  height: number;
  fontData: number[];
  lookup: string[];
}

export const ELLIPSIS = '…';

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
  };
}

const small6x8 = packFont('small_6x8');
const retro8x16 = packFont('retro_8x16');

/** Body text: 5 px wide letters with real descenders on an 8 px pitch; 21 characters per 128 px. */
export const SMALL: Font = makeFont(small6x8, {
  name: 'small', firstColumn: 1, inkWidth: 5, spacing: 1, capHeight: 7,
  ellipsis: [0x40, 0x00, 0x40, 0x00, 0x40],
});

/**
 * The user code: 16 px tall, a slashed zero, serifed I and a flagged 1, so no two characters of a
 * code can be confused. 8 px per character.
 */
export const LARGE: Font = makeFont(retro8x16, {
  name: 'large', firstColumn: 1, inkWidth: 6, spacing: 2, capHeight: 14,
  ellipsis: [0x3000, 0x0000, 0x3000, 0x0000, 0x3000, 0x0000],
});

/** The same glyphs one column closer (7 px per character): a 9-character code in 62 px. */
export const LARGE_CONDENSED: Font = makeFont(retro8x16, {
  name: 'large-condensed', firstColumn: 1, inkWidth: 6, spacing: 1, capHeight: 14,
  ellipsis: [0x3000, 0x0000, 0x3000, 0x0000, 0x3000, 0x0000],
});

export const FONTS: readonly Font[] = [SMALL, LARGE, LARGE_CONDENSED];

/** The glyph drawn for a character (`?` for characters the font lacks). */
export function glyphOf(font: Font, char: string): Glyph {
  return font.glyphs.get(char) ?? font.glyphs.get('?') ?? { char: '?', columns: [] };
}

/** Width in pixels of the ink of `text` (no spacing after the last character). */
export function measureText(text: string, font: Font): number {
  const n = [...text].length;
  return n === 0 ? 0 : n * font.advance - font.spacing;
}

/** How many characters fit in `width` pixels. */
export function charsThatFit(width: number, font: Font): number {
  return Math.max(0, Math.floor((width + font.spacing) / font.advance));
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
  const chars = [...text];
  chars.forEach((char, i) => {
    const { columns } = glyphOf(font, char);
    const last = i === chars.length - 1;
    const width = last ? font.advance - font.spacing : font.advance;
    for (let c = 0; c < width; c++) {
      const bits = columns[c] ?? 0;
      for (let r = 0; r < font.height; r++) frame.set(cx + c, y + r, ((bits >> r) & 1) === 1 ? on : !on);
    }
    cx += font.advance;
  });
  return chars.length === 0 ? x : cx - font.spacing;
}

/**
 * Shortens `text` to fit `width`, ending it with "…" when something had to go. Never cuts a
 * glyph: the result is whole characters that fit.
 */
export function ellipsize(text: string, width: number, font: Font): string {
  const chars = [...text];
  const max = charsThatFit(width, font);
  if (chars.length <= max) return text;
  if (max <= 0) return '';
  return chars.slice(0, max - 1).join('').trimEnd() + ELLIPSIS;
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
  const perLine = charsThatFit(width, font);
  if (perLine <= 0) return [];
  const breakAfter = options.breakAfter ?? '-/._:';
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let rest = paragraph.trim();
    if (rest === '') {
      lines.push('');
      continue;
    }
    while (rest.length > 0) {
      const chars = [...rest];
      if (chars.length <= perLine) {
        lines.push(rest);
        break;
      }
      const cut = breakPoint(chars, perLine, breakAfter);
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
  const chars = [...text.trimEnd()];
  const max = charsThatFit(width, font);
  if (max <= 0) return '';
  return chars.slice(0, max - 1).join('').trimEnd() + ELLIPSIS;
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
