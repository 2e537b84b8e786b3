import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import jsqr from 'jsqr';
import { ELLIPSIS, LARGE, LARGE_CONDENSED, SMALL } from '../../src/display/font.js';
import type { Frame } from '../../src/display/frame.js';
import { fitQr } from '../../src/display/qr.js';
import { APP_NAME, deviceLabelLines, formatCountdown, renderScreen, renderTestPattern, showsDeviceLabel, signedInPaging, testPatternText } from '../../src/display/screens.js';
import type { Screen } from '../../src/display/screens.js';
import { decodeAll, decodeText, readingOrder } from './decode-text.js';

/** The frame with its top 8 rows inverted (lit ↔ dark). */
function invertTopLine(frame: Frame): Frame {
  const inverted = frame.clone();
  for (let y = 0; y < 8; y++) for (let x = 0; x < frame.width; x++) inverted.set(x, y, !frame.get(x, y));
  return inverted;
}

/** Small-font lines top to bottom (runs of two or more characters). */
function readLines(frame: Frame): string[] {
  return decodeText(frame, SMALL).filter((r) => r.text.length >= 2).sort((a, b) => a.y - b.y || a.x - b.x).map((r) => r.text);
}

const now = Date.UTC(2025, 2, 14, 10, 42, 0);
const REAL_URL = 'https://microsoft.com/devicelogin';
const DEMO_URL = 'https://127.0.0.1:8443/devicelogin';
// jsqr is CommonJS with a `default` property; under NodeNext the import is module.exports.
const jsQR = jsqr.default;
const SIZES = [{ width: 128, height: 64 }, { width: 128, height: 32 }] as const;

function deviceCode(userCode: string, verificationUri: string, extra: Partial<Screen> = {}): Screen {
  return { kind: 'device-code', userCode, verificationUri, issuedAt: now - 28_000, expiresAt: now + 872_000, ...extra } as Screen;
}

/** The QR code in the frame, read from its pixels as a camera would (lit = light). */
function scanQr(frame: Frame): string | undefined {
  const data = new Uint8ClampedArray(frame.width * frame.height * 4);
  for (let y = 0; y < frame.height; y++) {
    for (let x = 0; x < frame.width; x++) {
      const i = (y * frame.width + x) * 4;
      const v = frame.get(x, y) ? 255 : 0;
      data[i] = v;
      data[i + 1] = v;
      data[i + 2] = v;
      data[i + 3] = 255;
    }
  }
  // Not inverted: the code must read as dark modules on a light background, like print.
  return jsQR(data, frame.width, frame.height, { inversionAttempts: 'dontInvert' })?.data;
}

/** One layout the device-code renderer can choose, and what a person must be able to read on it. */
interface Layout {
  name: string;
  height: 64 | 32;
  code: string;
  url: string;
  offline?: boolean;
  /** Whether the layout carries a QR code; false says the renderer drops it, and why. */
  qr: boolean;
  /** The font the code is drawn in: a large one, or the small one as the last resort. */
  codeFont: 'large' | 'small';
  /** Whether the time left ("14:32") is shown. */
  countdown: boolean;
}

const LONG_URL = 'https://login.microsoftonline.com/common/oauth2/deviceauth';
// Azure China's device login page: a long URL a real tenant hands out.
const CHINA_URL = 'https://login.chinacloudapi.cn/common/oauth2/deviceauth';
const SHORT_URL = 'https://login.microsoft.com/device';

/** Every layout the renderer chooses between, each reached by the inputs that pick it. */
const LAYOUTS: readonly Layout[] = [
  { name: '128x64 with QR: a 9-character code and Entra\'s URL', height: 64, code: 'Q6GR3KMGL', url: REAL_URL, qr: true, codeFont: 'large', countdown: true },
  { name: '128x64 with QR: the emulator\'s URL', height: 64, code: 'FJ7KQ2XYZ', url: DEMO_URL, qr: true, codeFont: 'large', countdown: true },
  { name: '128x64 with QR: login.microsoft.com/device', height: 64, code: 'Q6GR3KMGL', url: SHORT_URL, qr: true, codeFont: 'large', countdown: true },
  { name: '128x64 without QR: a URL too long for one beside the code', height: 64, code: 'Q6GR3KMGL', url: LONG_URL, qr: false, codeFont: 'large', countdown: true },
  { name: '128x64 without QR: Azure China\'s URL', height: 64, code: 'Q6GR3KMGL', url: CHINA_URL, qr: false, codeFont: 'large', countdown: true },
  { name: '128x64 without QR: a 12-character code stays large', height: 64, code: 'FJ7KQ2XYZABC', url: REAL_URL, qr: false, codeFont: 'large', countdown: true },
  { name: '128x64 without QR: a 14-character code with dashes', height: 64, code: 'Q6GR-3KMG-L7XD', url: DEMO_URL, qr: false, codeFont: 'large', countdown: true },
  { name: '128x64 without QR: offline', height: 64, code: 'Q6GR3KMGL', url: REAL_URL, offline: true, qr: false, codeFont: 'large', countdown: true },
  { name: '128x64 without QR: offline with a 12-character code', height: 64, code: 'FJ7KQ2XYZABC', url: LONG_URL, offline: true, qr: false, codeFont: 'large', countdown: true },
  { name: '128x64 without QR: a 28-character code in the small font', height: 64, code: 'ABCDEFGHJKLMNPQRSTUVWXYZ2345', url: REAL_URL, qr: false, codeFont: 'small', countdown: true },
  { name: '128x32: a 9-character code large, the time left beside it', height: 32, code: 'Q6GR3KMGL', url: REAL_URL, qr: false, codeFont: 'large', countdown: true },
  { name: '128x32: the emulator\'s URL', height: 32, code: 'FJ7KQ2XYZ', url: DEMO_URL, qr: false, codeFont: 'large', countdown: true },
  { name: '128x32: a 12-character code large, the time left beside it', height: 32, code: 'FJ7KQ2XYZABC', url: REAL_URL, qr: false, codeFont: 'large', countdown: true },
  { name: '128x32: a 14-character code takes the width, no time left', height: 32, code: 'Q6GR-3KMG-L7XD', url: REAL_URL, qr: false, codeFont: 'large', countdown: false },
  { name: '128x32: offline', height: 32, code: 'Q6GR3KMGL', url: REAL_URL, offline: true, qr: false, codeFont: 'large', countdown: false },
  { name: '128x32: a long URL takes three lines, the code goes small', height: 32, code: 'Q6GR3KMGL', url: LONG_URL, qr: false, codeFont: 'small', countdown: true },
  { name: '128x32: Azure China\'s URL, offline', height: 32, code: 'Q6GR3KMGL', url: CHINA_URL, offline: true, qr: false, codeFont: 'small', countdown: false },
  { name: '128x32: a 28-character code in the small font', height: 32, code: 'ABCDEFGHJKLMNPQRSTUVWXYZ2345', url: REAL_URL, qr: false, codeFont: 'small', countdown: true },
];

function renderLayout(layout: Layout): Frame {
  const extra = layout.offline ? { offline: true } as Partial<Screen> : {};
  return renderScreen(deviceCode(layout.code, layout.url, extra), now, { width: 128, height: layout.height });
}

describe('device-code screen: legible in every layout', () => {
  for (const layout of LAYOUTS) {
    it(`${layout.name}: the exact code and URL read back from the pixels`, () => {
      const frame = renderLayout(layout);
      const small = readingOrder(frame, SMALL);
      if (layout.codeFont === 'large') {
        const large = [...decodeText(frame, LARGE), ...decodeText(frame, LARGE_CONDENSED)];
        assert.ok(large.some((run) => run.text === layout.code), `code not found in a large font: ${JSON.stringify(decodeAll(frame))}`);
      } else {
        assert.ok(small.includes(layout.code), `code not found in the small font: ${small}`);
      }
      assert.ok(small.includes(layout.url), `URL not found whole: ${small}`);
      assert.ok(!small.includes(ELLIPSIS), `something was cut short: ${small}`);
      if (layout.countdown) assert.ok(small.includes('14:32'), `no time left: ${small}`);
      if (layout.offline) assert.ok(decodeText(frame, SMALL).some((r) => r.text.startsWith('Offline')), `offline not said: ${small}`);
    });

    it(`${layout.name}: ${layout.qr ? 'a QR code of the exact URL' : 'no QR code (dropped), the URL as text'}`, () => {
      const frame = renderLayout(layout);
      if (layout.qr) {
        assert.equal(scanQr(frame), layout.url);
      } else {
        assert.equal(scanQr(frame), undefined, 'this layout has no QR code');
        assert.ok(readingOrder(frame, SMALL).includes(layout.url), readingOrder(frame, SMALL));
      }
    });
  }
});

/** Short and long device labels: a hostname, and the 40 characters the setting allows. */
const LABELS = ['kiosk-3', 'Reception desk, 2nd floor, Building B-12'];

/** The first moment from `now` on at which the label is (or is not) shown instead of the URL. */
function momentWhen(label: boolean, device: string): number {
  const screen = { device, issuedAt: now - 28_000 };
  let t = now;
  while (showsDeviceLabel(screen, t) !== label) t += 1000;
  return t;
}

describe('device-code screen: the device label takes turns with the URL, the code and QR stay as they are', () => {
  for (const layout of LAYOUTS) {
    for (const device of LABELS) {
      it(`${layout.name}, label "${device}"`, () => {
        const size = { width: 128, height: layout.height };
        const extra = { ...(layout.offline ? { offline: true } : {}), device } as Partial<Screen>;
        const withLabel = deviceCode(layout.code, layout.url, extra);
        const { device: _d, ...withoutLabel } = withLabel as Extract<Screen, { kind: 'device-code' }>;

        // The URL's turn: exactly the pixels of the screen without a label.
        const urlTime = momentWhen(false, device);
        assert.ok(renderScreen(withLabel, urlTime, size).equals(renderScreen(withoutLabel, urlTime, size)));

        // The label's turn: the code in the same font, the QR code, the time left, and the label.
        const labelTime = momentWhen(true, device);
        const frame = renderScreen(withLabel, labelTime, size);
        const plain = renderScreen(withoutLabel, labelTime, size);
        const small = readingOrder(frame, SMALL);
        const codeRuns = (f: Frame): string[] => [...decodeText(f, LARGE), ...decodeText(f, LARGE_CONDENSED), ...decodeText(f, SMALL)]
          .filter((r) => r.text.includes(layout.code) || layout.code.includes(r.text) && r.text.length >= 4).map((r) => `${r.font}@${r.x},${r.y}:${r.text}`);
        assert.deepEqual(codeRuns(frame), codeRuns(plain), 'the code is drawn as without a label');
        if (layout.qr) assert.equal(scanQr(frame), layout.url);
        if (layout.countdown) assert.ok(small.includes(formatCountdown(now + 872_000 - labelTime)), `no time left: ${small}`);
        // A 40-character label does not fit every layout whole: then it is shortened, never the warning.
        const words = (text: string): string => text.replace(/\s+/g, '');
        if (!words(small).includes(words(device))) {
          assert.ok(device.length > 20 && words(small).includes(words(device.slice(0, 9))) && small.includes(ELLIPSIS), `label not legible: ${small}`);
        }
        assert.match(words(small), /[Oo]nlyifyouareat|Onlyat/, small);
        assert.ok(!small.includes(layout.url), 'the label is in place of the URL, not beside it');
      });
    }
  }

  it('names the app and says "only if you are at" when the lines allow it, the label alone when they do not', () => {
    assert.deepEqual(deviceLabelLines('kiosk-3', 128, 3), [`${APP_NAME}:`, 'sign in only if you', 'are at kiosk-3']);
    assert.deepEqual(deviceLabelLines('kiosk-3', 128, 2), ['Sign in only if you', 'are at kiosk-3']);
    assert.deepEqual(deviceLabelLines('kiosk-3', 62, 4), ['Sign in', 'only if', 'you are at', 'kiosk-3']);
    assert.deepEqual(deviceLabelLines('kiosk-3', 128, 1), ['Only at kiosk-3']);
  });

  it('shows the label 3 s in every 10, and the URL the rest', () => {
    const screen = { device: 'kiosk-3', issuedAt: 0 };
    const seconds = Array.from({ length: 20 }, (_, s) => (showsDeviceLabel(screen, s * 1000 + 500) ? 'L' : 'u')).join('');
    assert.equal(seconds, 'uuuuuuuLLLuuuuuuuLLL');
    assert.equal(showsDeviceLabel({ issuedAt: 0 }, 8500), false, 'no label configured: the URL all the time');
  });
});

describe('device-code screen', () => {
  it('puts a QR code of the exact URL beside a 9-character code at 128x64, at 2+ px per module', () => {
    for (const url of [DEMO_URL, REAL_URL, 'https://www.microsoft.com/link']) {
      const frame = renderScreen(deviceCode('Q6GR3KMGL', url), now, { width: 128, height: 64 });
      assert.equal(scanQr(frame), url);
      assert.ok((fitQr(url, 64)?.scale ?? 0) >= 2);
    }
  });

  it('counts down the time left and empties the bar', () => {
    const screen = deviceCode('Q6GR3KMGL', REAL_URL);
    const early = renderScreen(screen, now, { width: 128, height: 64 });
    assert.ok(readingOrder(early, SMALL).endsWith('14:32'), readingOrder(early, SMALL));
    const late = renderScreen(screen, now + 872_000 - 59_500, { width: 128, height: 64 });
    assert.ok(readingOrder(late, SMALL).endsWith('1:00'), readingOrder(late, SMALL));
    const expired = renderScreen(screen, now + 900_000, { width: 128, height: 64 });
    assert.ok(readingOrder(expired, SMALL).endsWith('0:00'));
    // The bar's fill shrinks: fewer lit pixels as time passes.
    assert.ok(early.litCount() > late.litCount());
  });

  it('says "Offline - retrying" and keeps the code and URL when offline', () => {
    const screen = deviceCode('Q6GR3KMGL', REAL_URL, { offline: true } as Partial<Screen>);
    const tall = renderScreen(screen, now, { width: 128, height: 64 });
    assert.ok(decodeText(tall, SMALL).some((r) => r.text === 'Offline - retrying'));
    assert.ok(decodeText(tall, LARGE).some((r) => r.text === 'Q6GR3KMGL'));
    assert.ok(readingOrder(tall, SMALL).includes(REAL_URL));
    const compact = renderScreen(screen, now, { width: 128, height: 32 });
    assert.ok(decodeText(compact, SMALL).some((r) => r.text === 'Offline'));
    assert.ok(decodeText(compact, LARGE).some((r) => r.text === 'Q6GR3KMGL'));
    assert.ok(readingOrder(compact, SMALL).includes(REAL_URL));
  });

  it('formats the time left as m:ss, rounding up', () => {
    assert.equal(formatCountdown(872_000), '14:32');
    assert.equal(formatCountdown(871_001), '14:32');
    assert.equal(formatCountdown(59_000), '0:59');
    assert.equal(formatCountdown(-5_000), '0:00');
    assert.equal(formatCountdown(3_723_000), '1:02:03');
  });
});

describe('signed-in screen', () => {
  const screen: Screen = {
    kind: 'signed-in', name: 'Megan Bowen', lines: ['Manager: Miriam Graham', 'Mail: 3 unread'],
    lastSyncAt: now - 60_000, online: true,
  };

  for (const size of SIZES) {
    it(`shows the name, a line, the sync time and the connection at ${size.width}x${size.height}`, () => {
      const frame = renderScreen(screen, now, size, { timeZone: 'UTC' });
      const texts = decodeAll(frame).map((r) => r.text);
      assert.ok(texts.includes('Megan Bowen'), JSON.stringify(texts));
      assert.ok(texts.includes(`Manager: Miriam Grah${ELLIPSIS}`), JSON.stringify(texts));
      assert.ok(texts.includes('Synced 10:41'), JSON.stringify(texts));
      // 128x32 has room for one of the two lines: they take turns, "1/2" says so, and the dot alone says online.
      assert.ok(texts.includes(size.height === 64 ? 'Online' : '1/2'), JSON.stringify(texts));
    });
  }

  const jobs = ['Manager: Miriam Graham', 'Next: 10:30 Stand-up', 'Status: Available', 'Unread mail: 3', 'Job title: Retail Manager'];
  for (const size of SIZES) {
    it(`shows every job line over time at ${size.width}x${size.height}: pages with a page mark, then round again`, () => {
      const paging = signedInPaging({ ...screen, lines: jobs }, size);
      assert.equal(paging.pages, size.height === 64 ? 2 : 5);
      const seen: string[] = [];
      const marks: string[] = [];
      for (let page = 0; page < paging.pages * 2; page++) {
        // Mid-page moments: pages follow the clock, so any moment within one draws the same page.
        const at = Math.ceil(now / paging.periodMs) * paging.periodMs + page * paging.periodMs + paging.periodMs / 2;
        const frame = renderScreen({ ...screen, lines: jobs }, at, size, { timeZone: 'UTC' });
        const small = decodeText(frame, SMALL).map((r) => r.text);
        seen.push(...small.filter((t) => jobs.some((j) => j.startsWith(t.replace(ELLIPSIS, '')) && t.length > 4)));
        marks.push(small.find((t) => /^\d\/\d$/.test(t)) ?? '');
      }
      for (const job of jobs) assert.ok(seen.some((t) => job.startsWith(t.replace(ELLIPSIS, ''))), `"${job}" never shown: ${JSON.stringify(seen)}`);
      const expectedMarks = Array.from({ length: paging.pages }, (_, i) => `${i + 1}/${paging.pages}`);
      assert.deepEqual(marks.slice(0, paging.pages).sort(), expectedMarks, 'each page once per round, each with its mark');
      assert.deepEqual(marks.slice(paging.pages), marks.slice(0, paging.pages), 'then round again in the same order');
    });
  }

  it('does not page, and so needs no redraws, when every line fits', () => {
    assert.deepEqual(signedInPaging({ ...screen, lines: jobs.slice(0, 4) }, SIZES[0]), { pages: 1, periodMs: 14_000 });
    const frame = renderScreen({ ...screen, lines: jobs.slice(0, 4) }, now, SIZES[0], { timeZone: 'UTC' });
    assert.ok(!decodeText(frame, SMALL).some((r) => /^\d\/\d$/.test(r.text)), 'no page mark');
  });

  it('shows both lines at 128x64, and "Offline" with an older day as a date', () => {
    const frame = renderScreen({ ...screen, online: false, lastSyncAt: now - 3 * 86_400_000 }, now, { width: 128, height: 64 }, { timeZone: 'UTC' });
    const texts = decodeText(frame, SMALL).map((r) => r.text);
    assert.ok(texts.includes('Mail: 3 unread'), JSON.stringify(texts));
    assert.ok(texts.includes('Offline'), JSON.stringify(texts));
    assert.ok(texts.some((t) => t.endsWith('11 Mar')), JSON.stringify(texts));
  });

  it('says when nothing was synced yet', () => {
    const { lastSyncAt: _unused, ...neverSynced } = screen as Extract<Screen, { kind: 'signed-in' }>;
    const frame = renderScreen(neverSynced, now, { width: 128, height: 64 });
    assert.ok(decodeText(frame, SMALL).some((r) => r.text === 'Not synced yet'));
  });

  it('ellipsizes a long name and long lines instead of cutting glyphs', () => {
    const name = 'Bartholomew Featherstonehaugh-Smythe';
    const line = 'Next meeting: Quarterly architecture review with the platform team';
    for (const size of SIZES) {
      const frame = renderScreen({ ...screen, name, lines: [line] }, now, size);
      const runs = decodeAll(frame);
      const shownName = runs.find((r) => r.y === 0)?.text ?? '';
      assert.ok(shownName.endsWith(ELLIPSIS) && name.startsWith(shownName.slice(0, -1)), `name: "${shownName}"`);
      const shownLine = runs.find((r) => r.text.startsWith('Next'))?.text ?? '';
      assert.ok(shownLine.endsWith(ELLIPSIS) && line.startsWith(shownLine.slice(0, -1)), `line: "${shownLine}"`);
      assert.equal(shownLine.length, 21, 'the line uses the whole width');
    }
  });
});

describe('message screen', () => {
  const expired: Screen = {
    kind: 'message', tone: 'info', title: 'Code expired', reason: 'Nobody signed in within 15 minutes.',
    action: 'Press button for a new code',
  };

  for (const size of SIZES) {
    it(`shows the title, the reason and the action at ${size.width}x${size.height}`, () => {
      const frame = renderScreen(expired, now, size);
      const runs = decodeAll(frame).map((r) => r.text);
      // At 128x32 the title is dark on a lit bar: read it as a person would, inverted.
      const titles = decodeAll(size.height < 64 ? invertTopLine(frame) : frame).map((r) => r.text);
      assert.ok(titles.includes('Code expired'), JSON.stringify(titles));
      assert.ok(runs.some((t) => t.startsWith('Nobody signed in')), JSON.stringify(runs));
      const small = readLines(frame).join(' ');
      assert.ok(small.includes('Press button for a new code'), small);
    });
  }

  it('wraps a long reason into lines that each fit, ending with "…" when out of room', () => {
    const reason = 'A Conditional Access policy in your organization blocks sign-in with a device code on this kind of device (AADSTS53003).';
    const frame = renderScreen({ kind: 'message', tone: 'error', title: 'Sign-in blocked', reason, action: 'Ask your admin' }, now, { width: 128, height: 64 });
    const lines = decodeText(frame, SMALL).filter((r) => r.x === 0).sort((a, b) => a.y - b.y).map((r) => r.text);
    const shown = lines.filter((l) => reason.includes(l.replace(ELLIPSIS, '')));
    assert.ok(shown.length >= 2, JSON.stringify(lines));
    assert.ok(shown[shown.length - 1]?.endsWith(ELLIPSIS), JSON.stringify(shown));
    assert.ok(reason.replace(/\s+/g, ' ').startsWith(shown.join(' ').slice(0, -1).trimEnd()), JSON.stringify(shown));
  });

  it('draws error titles inverted at 128x32', () => {
    const frame = renderScreen({ kind: 'message', tone: 'error', title: 'Config problem', reason: 'clientId is missing' }, now, { width: 128, height: 32 });
    // Lit bar across the top row, the title in dark pixels on it.
    assert.equal(frame.get(127, 0), true);
    assert.ok(decodeText(invertTopLine(frame), SMALL).some((r) => r.text === 'Config problem'));
  });
});

describe('starting screen and purity', () => {
  it('says it is starting, with the detail', () => {
    for (const size of SIZES) {
      const frame = renderScreen({ kind: 'starting', detail: 'Checking sign-in' }, now, size);
      const runs = decodeAll(frame).map((r) => r.text);
      assert.ok(runs.includes(`Starting${ELLIPSIS}`), JSON.stringify(runs));
      assert.ok(runs.includes('Checking sign-in'), JSON.stringify(runs));
    }
  });

  it('draws the same pixels for the same screen and time', () => {
    const screen = deviceCode('Q6GR3KMGL', REAL_URL);
    assert.ok(renderScreen(screen, now, SIZES[0]).equals(renderScreen(screen, now, SIZES[0])));
    assert.ok(!renderScreen(screen, now, SIZES[0]).equals(renderScreen(screen, now + 1000, SIZES[0])));
  });
});

describe('hw-test pattern', () => {
  const label = { controller: 'ssd1306', address: 0x3c };
  const corners = { 64: ['TOP-LEFT', 'TOP-RIGHT', 'BOTTOM-LEFT', 'BOTTOM-RIGHT'], 32: ['TOP-LEFT', 'TOP-RIGHT', 'BOT-LEFT', 'BOT-RIGHT'] } as const;
  const middles = {
    64: [undefined, ['Press: seen', 'Now hold the button', 'down for 2.0 s']],
    32: [undefined, ['Hold it 2.0 s']],
  } as const;

  for (const size of SIZES) {
    for (const middle of middles[size.height]) {
      it(`at ${size.width}x${size.height}${middle ? ` with "${middle.join(' / ')}"` : ''}: a whole frame, legible corner labels and middle text`, () => {
        const frame = renderTestPattern(size, label, middle);
        for (let x = 0; x < size.width; x++) assert.ok(frame.get(x, 0) && frame.get(x, size.height - 1), `frame missing at column ${x}`);
        for (let y = 0; y < size.height; y++) assert.ok(frame.get(0, y) && frame.get(size.width - 1, y), `frame missing at row ${y}`);
        const runs = decodeText(frame, SMALL);
        const expected = [...corners[size.height], ...(middle ?? testPatternText(size, label))];
        for (const text of expected) assert.ok(runs.some((r) => r.text === text), `"${text}" not legible: ${JSON.stringify(runs.map((r) => r.text))}`);
        // Nothing else is there to misread: every run is one of the expected texts.
        assert.deepEqual(runs.filter((r) => r.text.length >= 2 && !expected.includes(r.text)).map((r) => r.text), []);
      });
    }
  }

  it('names the configured controller, address and size', () => {
    assert.deepEqual(testPatternText({ width: 128, height: 64 }, { controller: 'sh1106', address: 0x3d }), ['hw-test SH1106', '0x3D 128x64']);
    assert.deepEqual(testPatternText({ width: 128, height: 32 }, label), ['SSD1306 0x3C 128x32']);
  });

  it('has ruler ticks every 8 px on the top and bottom edges, so a 2-px shift shows', () => {
    for (const size of SIZES) {
      const frame = renderTestPattern(size, label);
      for (let x = 8; x < size.width - 1; x += 8) {
        assert.ok(frame.get(x, 1) && frame.get(x, size.height - 2), `no tick at ${x}`);
        assert.ok(!frame.get(x + 2, 1) && !frame.get(x - 2, 1), `the tick at ${x} is not alone`);
      }
    }
  });
});

describe('message screen with a QR code (admin consent)', () => {
  const url = 'https://login.microsoftonline.com/organizations/adminconsent?client_id=d1f4e3c2-1111-2222-3333-444455556666';
  const tenantUrl = 'https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/adminconsent?client_id=d1f4e3c2-1111-2222-3333-444455556666';
  const consent = (qr: string): Screen => ({
    kind: 'message', tone: 'error', title: 'App not set up', reason: 'Needs admin consent (AADSTS65001)',
    action: 'Ask IT, then press', qr,
  });

  for (const u of [url, tenantUrl]) {
    it(`128x64: the consent URL scans back exactly, and the reason and the action read beside it (${u.length} characters)`, () => {
      const frame = renderScreen(consent(u), now, { width: 128, height: 64 });
      assert.equal(scanQr(frame), u);
      const text = decodeText(frame, SMALL).sort((a, b) => a.y - b.y || a.x - b.x).map((r) => r.text).join(' ');
      assert.ok(!text.includes(ELLIPSIS), `nothing cut short: ${text}`);
      for (const words of ['App not', 'set up', 'Needs admin', 'consent', '(AADSTS65001)', 'Ask IT, then', 'press']) assert.ok(text.includes(words), `"${words}" in ${text}`);
    });
  }

  it('128x32: no room for the QR code (shorter than its 37 modules); the title, reason and action stay legible', () => {
    const frame = renderScreen(consent(url), now, { width: 128, height: 32 });
    assert.equal(scanQr(frame), undefined);
    const titles = decodeAll(invertTopLine(frame)).map((r) => r.text);
    assert.ok(titles.includes('App not set up'), JSON.stringify(titles));
    const small = readLines(frame).join(' ');
    assert.ok(small.includes('Ask IT, then press'), small);
    assert.ok(small.includes('AADSTS65001'), small);
  });
});
