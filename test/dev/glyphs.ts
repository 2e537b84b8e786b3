/**
 * Regenerates the non-ASCII glyph files in src/display/glyphs/ (see src/display/unicode-glyphs.ts):
 *
 *   apt-get download xfonts-base pcf2bdf unifont      # Debian/Raspberry Pi OS; nothing installed
 *   for f in *.deb; do dpkg-deb -x "$f" x; done
 *   x/usr/bin/pcf2bdf -o 5x8.bdf x/usr/share/fonts/X11/misc/5x8.pcf.gz
 *   npx tsx test/dev/glyphs.ts 5x8.bdf x/usr/share/unifont/unifont.hex
 *
 * The 5x8 font is the X11 misc-fixed font ("Public domain font. Share and enjoy."); Unifont is
 * GNU Unifont 15 (GPL-2+ with the font embedding exception, or SIL OFL 1.1): see
 * src/display/glyphs/README.md.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CJK_GLYPH_BYTES, CJK_RANGES, FIXED_RANGES } from '../../src/display/unicode-glyphs.js';

const [bdfPath, hexPath] = process.argv.slice(2);
if (!bdfPath || !hexPath) {
  console.error('usage: tsx test/dev/glyphs.ts 5x8.bdf unifont.hex');
  process.exit(2);
}
const outDir = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), 'src', 'display', 'glyphs');

// ---- the 5x8 font: BDF, every glyph BBX 5 8 0 -1 (8 rows, a byte each)
const bdf = new Map<number, string>();
let encoding = -1;
let rows: string[] | undefined;
for (const line of readFileSync(bdfPath, 'latin1').split('\n')) {
  if (line.startsWith('ENCODING ')) encoding = Number(line.slice(9));
  else if (line.startsWith('BBX ') && line.trim() !== 'BBX 5 8 0 -1') throw new Error(`glyph ${encoding}: unexpected ${line}`);
  else if (line === 'BITMAP') rows = [];
  else if (line === 'ENDCHAR') {
    if (rows && rows.length === 8) bdf.set(encoding, rows.join('').toUpperCase());
    rows = undefined;
  } else if (rows) rows.push(line.trim());
}
const asciiByPixels = new Map<string, string>();
for (let c = 0x21; c <= 0x7e; c++) {
  const pixels = bdf.get(c);
  if (pixels && !asciiByPixels.has(pixels)) asciiByPixels.set(pixels, String.fromCharCode(c));
}
const fixedLines: string[] = [];
let aliases = 0;
for (const [first, last] of FIXED_RANGES) {
  for (let cp = first; cp <= last; cp++) {
    const pixels = bdf.get(cp);
    if (!pixels || cp === 0xa0 || cp === 0xad) continue; // no-break space and soft hyphen: the fonts' own
    const code = cp.toString(16).toUpperCase().padStart(4, '0');
    const same = asciiByPixels.get(pixels);
    if (same !== undefined) aliases++;
    fixedLines.push(same !== undefined ? `${code}:=${same}` : `${code}:${pixels}`);
  }
}
writeFileSync(join(outDir, 'fixed-5x8.hex'), `${fixedLines.join('\n')}\n`);
console.log(`fixed-5x8.hex: ${fixedLines.length} glyphs (${aliases} drawn as the ASCII letter they look like)`);

// ---- Unifont: CODE:HEX, 32 hex digits for 8 px wide, 64 for 16 px wide
const unifont = new Map<number, string>();
for (const line of readFileSync(hexPath, 'latin1').split('\n')) {
  const m = /^([0-9A-F]+):([0-9A-F]+)$/i.exec(line.trim());
  if (m) unifont.set(parseInt(m[1]!, 16), m[2]!.toUpperCase());
}
const total = CJK_RANGES.reduce((n, [a, b]) => n + b - a + 1, 0);
const bin = Buffer.alloc(total * CJK_GLYPH_BYTES);
let index = 0;
let present = 0;
for (const [first, last] of CJK_RANGES) {
  for (let cp = first; cp <= last; cp++, index++) {
    const hex = unifont.get(cp);
    if (!hex) continue;
    const glyph = Buffer.alloc(CJK_GLYPH_BYTES);
    if (hex.length === 64) Buffer.from(hex, 'hex').copy(glyph);
    else if (hex.length === 32) {
      // An 8 px wide glyph in a 16 px cell: left half, so full-width stays full-width.
      for (let r = 0; r < 16; r++) glyph[r * 2] = parseInt(hex.slice(r * 2, r * 2 + 2), 16);
    } else continue;
    glyph.copy(bin, index * CJK_GLYPH_BYTES);
    present++;
  }
}
writeFileSync(join(outDir, 'unifont-cjk.bin'), bin);
console.log(`unifont-cjk.bin: ${present} of ${total} code points, ${bin.length} bytes`);
