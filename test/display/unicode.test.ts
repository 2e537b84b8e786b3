import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Frame } from '../../src/display/frame.js';
import { ELLIPSIS, FONTS, LARGE, LARGE_CONDENSED, SMALL, canDraw, drawText, measureText } from '../../src/display/font.js';
import type { Font } from '../../src/display/font.js';
import { renderScreen, signedInPaging, type Screen } from '../../src/display/screens.js';
import { asDrawn, decodeText } from './decode-text.js';
import { typescriptNodeFlags } from '../support/ts-loader/index.js';

/**
 * Names and job lines in the scripts Microsoft 365 users write them in, read back from the pixels
 * as a person would: Latin-1 and Latin Extended-A, Greek, Cyrillic (every font), CJK (the 16 px
 * fonts, from GNU Unifont), and what falls back: accents the font lacks are dropped, what it
 * cannot show at all is an empty box, never a "?".
 */

const SIZES = [{ width: 128, height: 64 }, { width: 128, height: 32 }] as const;
const now = Date.UTC(2025, 2, 14, 10, 42, 0);

/** `text` drawn alone in `font`, read back. */
function roundTrip(text: string, font: Font): string {
  const frame = new Frame(Math.max(8, measureText(text, font) + 2), font.height);
  drawText(frame, text, 0, 0, font);
  return decodeText(frame, font, text).map((r) => r.text).join(' ');
}

const SAMPLES = {
  'Latin-1': 'José Müller Ñandú Ærøskøbing Straße Çà',
  'Latin Extended-A': 'Łukasiewicz Dvořák Šťastný Őry Ğül İnce Żółć',
  Greek: 'Αλέξανδρος Παπαδόπουλος ψωΩ',
  Cyrillic: 'Анна Кузнецова Щербаков Юлия Ёжик',
  CJK: '山田太郎 定例会議 김민준 ミーティング',
};

describe('every font draws Latin-1, Latin Extended-A, Greek and Cyrillic', () => {
  for (const font of FONTS) {
    for (const [script, text] of Object.entries(SAMPLES)) {
      if (script === 'CJK') continue;
      it(`${font.name}: ${script}`, () => {
        assert.ok(canDraw(font, text), `${font.name} lacks some of "${text}"`);
        const read = roundTrip(text, font);
        assert.equal(read, asDrawn(text, font));
        assert.ok(!read.includes('?') && !read.includes('\ufffd'), read);
        // Letters that only look alike (Cyrillic А and Latin A) read the same; the rest read as themselves.
        const distinct = [...text].filter((c) => c !== ' ' && asDrawn(c, font) === c);
        assert.ok(distinct.length >= [...text.replace(/ /g, '')].length / 2, `too few letters of their own: ${read}`);
      });
    }
  }
});

describe('CJK in the 16 px fonts, from GNU Unifont', () => {
  for (const font of [LARGE, LARGE_CONDENSED]) {
    it(`${font.name}: kanji, kana and Hangul read back, 16 px a character`, () => {
      assert.ok(canDraw(font, SAMPLES.CJK));
      assert.equal(roundTrip(SAMPLES.CJK, font), SAMPLES.CJK);
      assert.equal(measureText('山田', font), 2 * 16 + font.spacing);
    });
  }

  it('the 8 px font has no CJK: boxes, so screens draw such lines in a 16 px font instead', () => {
    assert.equal(canDraw(SMALL, '山田'), false);
    assert.equal(roundTrip('山田', SMALL), '\ufffd\ufffd');
  });
});

describe('fallbacks: a letter without its accent, else a box; never "?"', () => {
  it('drops accents the fonts lack, and combining marks the text carries', () => {
    // "q̃" (q + combining tilde) has no precomposed form; "ǹ" (U+01F9) is not in the 5x8 font.
    assert.equal(roundTrip('Aq\u0303 n\u0300', SMALL), asDrawn('Aq n', SMALL));
    assert.equal(roundTrip('e\u0301', SMALL), 'é', 'decomposed input is composed first');
  });

  it('draws right-to-left scripts and emoji as boxes (README: not supported)', () => {
    for (const font of [SMALL, LARGE]) {
      assert.equal(roundTrip('שלום', font), '\ufffd'.repeat(4));
      assert.equal(roundTrip('مرحبا', font), '\ufffd'.repeat(5));
      assert.equal(roundTrip('🙂', font), '\ufffd');
      assert.ok(!roundTrip('שלום 🙂', font).includes('?'));
    }
  });
});

describe('the signed-in screen in every script, at both sizes', () => {
  const people: Array<{ name: string; lines: string[] }> = [
    { name: 'José Müller', lines: ['Nächstes: Straße', 'Manager: Łukasz Żółć'] },
    { name: 'Ана Јовановић', lines: ['Руководитель: Иван', 'Next: 10:30 Планёрка'] },
    { name: 'Νίκος Αλεξίου', lines: ['Επόμενο: 10:30 Σύσκεψη'] },
    { name: '山田 太郎', lines: ['Next: 10:30 定例会議', 'Manager: 佐藤 花子'] },
    { name: '김민준', lines: ['다음: 10:30 회의'] },
  ];
  for (const size of SIZES) {
    for (const person of people) {
      it(`${size.width}x${size.height}: "${person.name}" and every line of theirs, over the pages`, () => {
        const screen: Screen = { kind: 'signed-in', name: person.name, lines: person.lines, lastSyncAt: now - 60_000, online: true };
        const all = `${person.name}${person.lines.join('')}`;
        const { pages, periodMs } = signedInPaging(screen, size);
        const seen: string[] = [];
        for (let page = 0; page < pages; page++) {
          const frame = renderScreen(screen, page * periodMs + periodMs / 2, size, { timeZone: 'UTC' });
          for (const font of FONTS) seen.push(...decodeText(frame, font, all).filter((r) => [...r.text].length >= 2).map((r) => `${font.name}:${r.text}`));
        }
        const shows = (text: string): boolean => FONTS.some((font) => {
          const drawn = asDrawn(text, font, all);
          return seen.some((s) => s === `${font.name}:${drawn}` || (s.startsWith(`${font.name}:`) && s.endsWith(ELLIPSIS) && drawn.startsWith(s.slice(font.name.length + 1, -1)) && s.length > font.name.length + 6));
        });
        assert.ok(shows(person.name), `name not legible: ${JSON.stringify(seen)}`);
        for (const line of person.lines) assert.ok(shows(line), `"${line}" never legible: ${JSON.stringify(seen)}`);
        assert.ok(!seen.some((s) => s.includes('\ufffd') || s.includes('?')), JSON.stringify(seen));
      });
    }
  }
});

describe('glyph tables load lazily', () => {
  it('an ASCII-only first frame reads no glyph file; the first accent reads the small table, the first kanji one glyph', () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const script = `
      const { renderScreen } = await import('./src/display/screens.ts');
      const { glyphFilesLoaded } = await import('./src/display/unicode-glyphs.ts');
      const size = { width: 128, height: 64 };
      const t = Date.now();
      renderScreen({ kind: 'device-code', userCode: 'Q6GR3KMGL', verificationUri: 'https://microsoft.com/devicelogin', issuedAt: t, expiresAt: t + 900000 }, t, size);
      renderScreen({ kind: 'signed-in', name: 'Megan Bowen', lines: ['Manager: Miriam Graham'], online: true }, t, size);
      const ascii = glyphFilesLoaded();
      renderScreen({ kind: 'signed-in', name: 'José Müller', lines: [], online: true }, t, size);
      const accent = glyphFilesLoaded();
      renderScreen({ kind: 'signed-in', name: '山田 太郎', lines: [], online: true }, t, size);
      console.log(JSON.stringify({ ascii, accent, cjk: glyphFilesLoaded() }));`;
    const out = execFileSync(process.execPath, [...typescriptNodeFlags(), '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    assert.deepEqual(JSON.parse(out), {
      ascii: { fixed: false, cjk: false },
      accent: { fixed: true, cjk: false },
      cjk: { fixed: true, cjk: true },
    });
  });
});

describe('invisible characters take no room', () => {
  it('a soft hyphen, a zero-width joiner or a stray combining mark draws nothing', () => {
    assert.equal(measureText('Straße\u00ad\u200d', SMALL), measureText('Straße', SMALL));
  });

  it('Vietnamese letters the 5x8 font lacks read as their base letter', () => {
    // "ễ" (U+1EC5) is not in the 5x8 font: drawn as "e"; the name keeps its six letters.
    assert.equal(roundTrip('Nguy\u1ec5n', SMALL), 'Nguyen');
    assert.equal(roundTrip('Nguy\u1ec5n', LARGE), 'Nguyen');
  });
});
