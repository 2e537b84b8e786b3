import { Frame } from './frame.js';
import type { FrameSize } from './frame.js';
import {
  LARGE, LARGE_CONDENSED, SMALL, canDraw, drawText, ellipsize, measureText, wrapText,
} from './font.js';
import type { Font } from './font.js';
import { drawIcon, ICON_SIZE } from './icons.js';
import { drawQr, fitQr } from './qr.js';
import type { QrPlacement } from './qr.js';

/** What the agent wants shown. Screens are pure: the same screen and clock draw the same pixels. */
export type Screen =
  | { kind: 'starting'; detail?: string }
  | {
      kind: 'device-code';
      userCode: string;
      verificationUri: string;
      /** Epoch ms. */
      expiresAt: number;
      /** Epoch ms. */
      issuedAt: number;
      /** The device cannot reach the identity platform: say so, and keep showing the code. */
      offline?: boolean;
      /** Why a new sign-in is needed ("The sign-in expired"): one line under the code, in place of the QR. */
      notice?: string;
      /**
       * Which device this is (config device.label): "Sign in only if you are at LABEL" takes turns
       * with the URL (RFC 8628 §5.4), so a code sent to someone elsewhere reads as what it is.
       */
      device?: string;
    }
  | { kind: 'signed-in'; name: string; lines: string[]; lastSyncAt?: number; online: boolean }
  | {
      kind: 'message'; title: string; reason: string; action?: string; tone: 'info' | 'error';
      /**
       * A URL to hand on, as a QR code beside the text (the tenant's admin-consent page, for IT):
       * at 128×64 only; a 128×32 panel is shorter than the smallest QR code of such a URL.
       */
      qr?: string;
    };

export interface RenderOptions {
  /** IANA zone for clock times ("Synced 10:42"); the process's zone (TZ) by default. */
  timeZone?: string;
}

/** Characters a URL may break after when it needs more than one line. */
const URL_BREAKS = '/.:?&=-';

/** Layouts are for 128×64 and 128×32 panels; shorter panels get the compact one. */
function isCompact(size: FrameSize): boolean {
  return size.height < 64;
}

/** Draws `screen` as it looks at time `now` (epoch ms) on a panel of `size`. */
export function renderScreen(screen: Screen, now: number, size: FrameSize, options: RenderOptions = {}): Frame {
  const frame = new Frame(size.width, size.height);
  switch (screen.kind) {
    case 'starting':
      drawStarting(frame, screen);
      break;
    case 'device-code':
      drawDeviceCode(frame, screen, now);
      break;
    case 'signed-in':
      drawSignedIn(frame, screen, now, options);
      break;
    case 'message':
      drawMessage(frame, screen);
      break;
  }
  return frame;
}

// ---------------------------------------------------------------------------------------------
// Device code

type DeviceCodeScreen = Extract<Screen, { kind: 'device-code' }>;

/** Time left as "14:32" (or "1:02:03" past an hour), rounded up so 0:00 means expired. */
export function formatCountdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** The name Microsoft's sign-in page asks about is the app registration's; this is the program's. */
export const APP_NAME = 'graph-device-agent';

/**
 * How the device label takes turns with the URL, in whole seconds of the code's life: the URL for
 * 7 s (it has to be read and typed), then the label for 3 s. Not every other second: a turn
 * rewrites the URL's lines (up to ~400 bytes on the I2C bus, ~35 ms at 100 kHz), so every other
 * second would make each tick cost that; two turns in ten seconds leave 8 of 10 ticks at the
 * countdown's few bytes (hardware/display.md).
 */
export const DEVICE_LABEL_TURN = { urlSec: 7, labelSec: 3 } as const;

/** True when the device-code screen shows the device label (in place of the URL) at `now`. */
export function showsDeviceLabel(screen: { device?: string; issuedAt: number }, now: number): boolean {
  if (!screen.device) return false;
  const cycle = DEVICE_LABEL_TURN.urlSec + DEVICE_LABEL_TURN.labelSec;
  const second = Math.floor((now - screen.issuedAt) / 1000);
  return ((second % cycle) + cycle) % cycle >= DEVICE_LABEL_TURN.urlSec;
}

/**
 * The label's words in at most `maxLines` lines of `width`: the longest wording that fits whole
 * ("graph-device-agent: sign in only if you are at kiosk-3" down to "Only at kiosk-3"), else
 * "Only at:" and the label shortened with "…".
 */
export function deviceLabelLines(label: string, width: number, maxLines: number): string[] {
  const wordings = [
    `${APP_NAME}: sign in only if you are at ${label}`,
    `Sign in only if you are at ${label}`,
    `Only if you are at ${label}`,
    `Only at ${label}`,
  ];
  for (const wording of wordings) {
    const lines = wrapText(wording, width, SMALL, { breakAfter: '-_.' });
    if (lines.length <= maxLines) return lines;
  }
  // A label too long for the room: the warning stays whole, the label is shortened.
  if (maxLines < 2) return wrapText(`Only at ${label}`, width, SMALL, { breakAfter: '-_.', maxLines });
  return ['Only at:', ...wrapText(label, width, SMALL, { breakAfter: '-_.', maxLines: maxLines - 1 })];
}

/** The URL's lines, or at the label's turn, the label's in as many lines at most. */
function urlOrLabel(screen: DeviceCodeScreen, now: number, url: string[], width: number): string[] {
  if (!showsDeviceLabel(screen, now) || !screen.device) return url;
  return deviceLabelLines(screen.device, width, url.length);
}

/** Seconds left as the countdown shows them: rounded up, so 0 means expired. */
function secondsLeft(screen: DeviceCodeScreen, now: number): number {
  return Math.max(0, Math.ceil((screen.expiresAt - now) / 1000));
}

/**
 * The time left, padded on the left to the width of the longest value this code will show (its
 * whole lifetime, "15:00"): tabular, so the colon and the bar beside the digits never move, and
 * "10:00" → " 9:59" rewrites digits only, not the whole line.
 */
function countdownText(screen: DeviceCodeScreen, now: number): string {
  const longest = formatCountdown(Math.max(0, screen.expiresAt - screen.issuedAt));
  return formatCountdown(screen.expiresAt - now).padStart(longest.length, ' ');
}

/**
 * The share of the code's lifetime left, for the bar, in 10-second steps taken on the ticks where
 * only the last digit changes ("…5" → "…4"). The ticks where the tens or the minutes roll over
 * ("5:00" → "4:59") already rewrite three or four digits; the bar never moves on those too, so no
 * tick of the countdown costs more than a few dozen bytes on the I2C bus (hardware/display.md).
 */
function barFraction(screen: DeviceCodeScreen, now: number): number {
  const lifetimeSec = (screen.expiresAt - screen.issuedAt) / 1000;
  if (lifetimeSec <= 0) return 0;
  const stepped = 10 * Math.floor((secondsLeft(screen, now) + 5) / 10);
  return Math.min(1, stepped / lifetimeSec);
}

/** The largest of `fonts` the code fits in, if any. */
function largestFitting(text: string, width: number, fonts: readonly Font[]): Font | undefined {
  return fonts.find((font) => measureText(text, font) <= width);
}

/** The largest font the code fits in, down to the small font (a code is never cut or shortened). */
function codeFont(code: string, width: number): Font {
  return largestFitting(code, width, [LARGE, LARGE_CONDENSED]) ?? SMALL;
}

/** The code in lines that fit `width` (one line unless it is longer than the panel). */
function codeLines(code: string, width: number, font: Font): string[] {
  return wrapText(code, width, font, { breakAfter: '-' });
}

function drawDeviceCode(frame: Frame, screen: DeviceCodeScreen, now: number): void {
  if (isCompact(frame)) {
    drawDeviceCodeCompact(frame, screen, now);
    return;
  }
  if (!screen.offline && !screen.notice && drawDeviceCodeWithQr(frame, screen, now)) return;
  drawDeviceCodeTextOnly(frame, screen, now);
}

/** Time left and a bar that empties, on one line at (x, y) across `width`. */
function drawCountdown(frame: Frame, screen: DeviceCodeScreen, now: number, x: number, y: number, width: number): void {
  const textEnd = drawText(frame, countdownText(screen, now), x, y, SMALL);
  const barX = textEnd + 4;
  const barWidth = x + width - barX;
  if (barWidth >= MIN_BAR_WIDTH) drawBar(frame, barX, y, barWidth, SMALL.capHeight, barFraction(screen, now));
}

/** Narrower than this, a bar says nothing the digits do not. */
const MIN_BAR_WIDTH = 12;

/** Width of the time left and a bar after it, at the least. */
function countdownWidth(screen: DeviceCodeScreen): number {
  return measureText(countdownText(screen, screen.issuedAt), SMALL) + 4 + MIN_BAR_WIDTH;
}

/** An outlined bar filled from the left to `fraction`. */
function drawBar(frame: Frame, x: number, y: number, width: number, height: number, fraction: number): void {
  frame.strokeRect(x, y, width, height);
  const inner = width - 4;
  const fill = Math.round(inner * fraction);
  if (fill > 0) frame.fillRect(x + 2, y + 2, fill, height - 4);
}

/**
 * 128×64 with room for a QR code: code, URL and countdown in a column on the left, the QR code
 * as a lit square on the right. Returns false when the code or URL would not fit beside it.
 */
function drawDeviceCodeWithQr(frame: Frame, screen: DeviceCodeScreen, now: number): boolean {
  // A wider quiet zone scans better; a narrower one leaves the text column room for a line.
  for (const quietModules of [2, 1]) {
    const qr = fitQr(screen.verificationUri, frame.height, { quietModules, minQuietModules: 1 });
    if (qr && drawQrLayout(frame, screen, now, qr)) return true;
  }
  return false;
}

function drawQrLayout(frame: Frame, screen: DeviceCodeScreen, now: number, qr: QrPlacement): boolean {
  const gap = 1;
  const column = frame.width - qr.side - gap;
  // Beside a QR code only if the code stays large.
  const font = largestFitting(screen.userCode, column, [LARGE, LARGE_CONDENSED]);
  if (!font) return false;
  const url = wrapText(screen.verificationUri, column, SMALL, { breakAfter: URL_BREAKS });
  if (url.length > 4 || url.some((line) => measureText(line, SMALL) > column)) return false;

  drawQr(frame, qr, frame.width - qr.side, Math.floor((frame.height - qr.side) / 2));

  const codeY = 1;
  drawText(frame, screen.userCode, 0, codeY, font);
  const countdownY = frame.height - SMALL.height;
  // The URL block sits in the middle of the space between the code and the countdown.
  const top = codeY + font.capHeight + 3;
  const room = countdownY - 2 - top;
  const urlHeight = url.length * SMALL.height;
  let y = top + Math.max(0, Math.floor((room - urlHeight) / 2));
  for (const line of urlOrLabel(screen, now, url, column)) {
    drawText(frame, line, 0, y, SMALL);
    y += SMALL.height;
  }
  drawCountdown(frame, screen, now, 0, countdownY, column);
  return true;
}

/** 128×64 without a QR code (offline, a long URL or a long code): everything centred. */
function drawDeviceCodeTextOnly(frame: Frame, screen: DeviceCodeScreen, now: number): void {
  const width = frame.width;
  const countdownY = frame.height - SMALL.height;
  const statusY = countdownY - SMALL.height - 1;
  const bottom = screen.offline || screen.notice ? statusY : countdownY;

  const font = codeFont(screen.userCode, width - 6);
  const lines = codeLines(screen.userCode, width - 6, font);
  const codeHeight = lines.length * font.height - (font.height - font.capHeight);
  // The URL may take what the code leaves, up to three lines.
  const urlRoom = Math.min(3, Math.floor((bottom - codeHeight - 4) / SMALL.height));
  const url = wrapUrl(screen.verificationUri, width, urlRoom);
  urlOrLabel(screen, now, url, width).forEach((line, i) => drawCentered(frame, line, i * SMALL.height, SMALL));
  const y = url.length * SMALL.height;

  // Centre the code between the URL and the status lines, in a box when there is room for one.
  const free = bottom - y - codeHeight;
  const codeY = y + Math.max(1, Math.floor(free / 2));
  const boxWidth = Math.max(...lines.map((l) => measureText(l, font))) + 8;
  if (lines.length === 1 && font !== SMALL && boxWidth <= width && free >= 8) {
    frame.strokeRect(Math.floor((width - boxWidth) / 2), codeY - 3, boxWidth, codeHeight + 6);
  }
  lines.forEach((line, i) => drawCentered(frame, line, codeY + i * font.height, font));

  if (screen.offline) {
    drawCentered(frame, 'Offline - retrying', statusY, SMALL);
    drawIconBefore(frame, 'offline', 'Offline - retrying', statusY);
  } else if (screen.notice) {
    drawCentered(frame, ellipsize(screen.notice, width, SMALL), statusY, SMALL);
  }
  drawCountdown(frame, screen, now, 0, countdownY, width);
}

/**
 * A URL in at most `maxLines` lines: broken after "/", "." or ":" when that fits, else broken
 * anywhere (showing more of it beats a tidy break), else shortened with "…".
 */
function wrapUrl(url: string, width: number, maxLines: number): string[] {
  return wrapUrlWhole(url, width, maxLines) ?? wrapText(url, width, SMALL, { breakAfter: '', maxLines });
}

/** The whole URL in at most `maxLines` lines (tidy breaks first), or undefined if it needs more. */
function wrapUrlWhole(url: string, width: number, maxLines: number): string[] | undefined {
  for (const breakAfter of [URL_BREAKS, '']) {
    const lines = wrapText(url, width, SMALL, { breakAfter });
    if (lines.length <= maxLines) return lines;
  }
  return undefined;
}

/**
 * 128×32. A person needs the whole code and the whole URL; a large code is the nicer of two
 * layouts, not worth a URL cut short.
 */
function drawDeviceCodeCompact(frame: Frame, screen: DeviceCodeScreen, now: number): void {
  if (!drawCompactLargeCode(frame, screen, now)) drawCompactSmallCode(frame, screen, now);
}

/** Rows of the compact layout's bar under the time left: an outline around a one-row fill. */
const COMPACT_BAR_HEIGHT = 5;

/**
 * 128×32, the usual case: the code large at the top left, the time left beside it (digits in
 * page 0, the bar under them in page 1, so a tick rewrites a few bytes of one page), the URL on
 * the two lines below. Returns false, drawing nothing, when the code is too long for a large font
 * or the URL would not fit whole in the lines left.
 */
function drawCompactLargeCode(frame: Frame, screen: DeviceCodeScreen, now: number): boolean {
  const width = frame.width;
  const side = screen.offline ? 'Offline' : countdownText(screen, now);
  const sideWidth = measureText(side, SMALL);
  // The time left goes beside the code when both fit; otherwise the code gets the whole width.
  const besideSide = largestFitting(screen.userCode, width - sideWidth - 4, [LARGE, LARGE_CONDENSED]);
  const font = besideSide ?? largestFitting(screen.userCode, width, [LARGE, LARGE_CONDENSED]);
  if (!font) return false;
  const url = wrapUrlWhole(screen.verificationUri, width, Math.floor((frame.height - font.height) / SMALL.height));
  if (!url) return false;

  drawText(frame, screen.userCode, 0, 0, font);
  if (besideSide) {
    const sideX = width - sideWidth;
    if (screen.offline) {
      drawText(frame, side, sideX, Math.floor((font.capHeight - SMALL.capHeight) / 2), SMALL);
    } else {
      drawText(frame, side, sideX, 0, SMALL);
      const barY = font.capHeight - COMPACT_BAR_HEIGHT;
      drawBar(frame, sideX, barY, sideWidth, COMPACT_BAR_HEIGHT, barFraction(screen, now));
    }
  }
  const urlY = frame.height - url.length * SMALL.height;
  urlOrLabel(screen, now, url, width).forEach((line, i) => drawText(frame, line, 0, urlY + i * SMALL.height, SMALL));
  return true;
}

/**
 * 128×32 when a large code would leave too little room for the URL (a long verification URL, a
 * code longer than the panel): all in the small font, the code first, the time left after its
 * last line when there is room, the URL below.
 */
function drawCompactSmallCode(frame: Frame, screen: DeviceCodeScreen, now: number): void {
  const width = frame.width;
  const code = codeLines(screen.userCode, width, SMALL);
  code.forEach((line, i) => drawText(frame, line, 0, i * SMALL.height, SMALL));
  const lastY = (code.length - 1) * SMALL.height;
  // Two blank cells after the code, so the time left never reads as part of it.
  const sideX = measureText(code[code.length - 1] ?? '', SMALL) + 2 * SMALL.advance;
  if (screen.offline) {
    const offlineWidth = measureText('Offline', SMALL);
    if (sideX + offlineWidth <= width) drawText(frame, 'Offline', width - offlineWidth, lastY, SMALL);
  } else if (sideX + countdownWidth(screen) <= width) {
    drawCountdown(frame, screen, now, sideX, lastY, width - sideX);
  }
  const urlTop = code.length * SMALL.height;
  const url = wrapUrl(screen.verificationUri, width, Math.max(1, Math.floor((frame.height - urlTop) / SMALL.height)));
  const urlY = Math.min(urlTop, frame.height - url.length * SMALL.height);
  urlOrLabel(screen, now, url, width).forEach((line, i) => drawText(frame, line, 0, urlY + i * SMALL.height, SMALL));
}

// ---------------------------------------------------------------------------------------------
// Signed in

type SignedInScreen = Extract<Screen, { kind: 'signed-in' }>;

const SYNC_FORMATS = {
  day: { year: 'numeric', month: 'numeric', day: 'numeric' },
  time: { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' },
  date: { day: 'numeric', month: 'short' },
} as const satisfies Record<string, Intl.DateTimeFormatOptions>;

/**
 * The formatters, made once per zone: making an Intl.DateTimeFormat costs far more than using
 * one, and the signed-in screen is drawn on every change.
 */
const syncFormatters = new Map<string, Intl.DateTimeFormat>();

function syncFormatter(kind: keyof typeof SYNC_FORMATS, timeZone: string | undefined): Intl.DateTimeFormat {
  const key = `${kind} ${timeZone ?? ''}`;
  let formatter = syncFormatters.get(key);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-GB', { ...(timeZone ? { timeZone } : {}), ...SYNC_FORMATS[kind] });
    syncFormatters.set(key, formatter);
  }
  return formatter;
}

/** "10:42" for today, "12 Mar" for an older day. */
export function formatSyncTime(at: number, now: number, timeZone?: string): string {
  const day = syncFormatter('day', timeZone);
  if (day.format(at) === day.format(now)) return syncFormatter('time', timeZone).format(at);
  return syncFormatter('date', timeZone).format(at);
}

/** "Synced 10:42", then shorter forms for when the line is tight. */
function syncTexts(screen: SignedInScreen, now: number, options: RenderOptions): string[] {
  if (screen.lastSyncAt === undefined) return ['Not synced yet', 'Not synced'];
  const at = formatSyncTime(screen.lastSyncAt, now, options.timeZone);
  return [`Synced ${at}`, `Sync ${at}`, at];
}

/**
 * The status line: sync time on the left, connection on the right, and between them the page
 * mark ("2/3") when the job lines take turns. When it is tight, "Online" goes first (the dot says
 * it), then the sync text gets shorter; "Offline" and the page mark always stay.
 */
function drawStatusLine(frame: Frame, screen: SignedInScreen, now: number, options: RenderOptions, y: number, mark: string): void {
  const icon = screen.online ? 'online' : 'offline';
  const iconWidth = ICON_SIZE[icon].width;
  const word = screen.online ? 'Online' : 'Offline';
  const markWidth = mark ? measureText(mark, SMALL) + 4 : 0;
  const choices = syncTexts(screen, now, options).flatMap((sync) =>
    screen.online ? [{ sync, word }, { sync, word: '' }] : [{ sync, word }]);
  const stateWidth = (w: string): number => iconWidth + (w ? 2 + measureText(w, SMALL) : 0);
  const fit = choices.find((c) => measureText(c.sync, SMALL) + 6 + markWidth + stateWidth(c.word) <= frame.width);
  const chosen = fit ?? { sync: ellipsize(choices[choices.length - 1]?.sync ?? '', frame.width - 6 - markWidth - stateWidth(word), SMALL), word };
  drawText(frame, chosen.sync, 0, y, SMALL);
  const stateX = frame.width - stateWidth(chosen.word);
  drawIcon(frame, icon, stateX, y + 1);
  if (chosen.word) drawText(frame, chosen.word, stateX + iconWidth + 2, y, SMALL);
  if (mark) drawText(frame, mark, stateX - markWidth, y, SMALL);
}

/**
 * The I2C bytes a second a page change may cost on average: under the countdown's budget of 5% of
 * a full frame (1,034 bytes) a tick (test/display/ssd1306/driver.test.ts).
 */
const PAGING_BYTES_PER_SECOND = 50;
/** The shortest a page stays, however few its lines: long enough to read one. */
const MIN_PAGE_MS = 4000;

/**
 * How long a page stays: the bytes a change rewrites (every controller page, 8 rows, that the
 * lines cross, plus the page mark and the commands) at {@link PAGING_BYTES_PER_SECOND}.
 */
function pagePeriodMs(linesTop: number, linesHeight: number, width: number): number {
  const controllerPages = Math.ceil((linesTop + linesHeight) / 8) - Math.floor(linesTop / 8);
  const bytes = controllerPages * width + 40;
  return Math.max(MIN_PAGE_MS, Math.ceil(bytes / PAGING_BYTES_PER_SECOND) * 1000);
}

/** A job line as drawn: the small font, or for CJK (which it lacks) a 16 px one. */
interface JobLine {
  text: string;
  font: Font;
}

function jobLine(line: string, width: number): JobLine {
  if (canDraw(SMALL, line) || !canDraw(LARGE, line)) return { text: ellipsize(line, width, SMALL), font: SMALL };
  const font = largestFitting(line, width, [LARGE, LARGE_CONDENSED]) ?? LARGE_CONDENSED;
  return { text: ellipsize(line, width, font), font };
}

/** Where the signed-in screen puts things on a panel of `size`, and its job lines in pages. */
interface SignedInLayout {
  nameFont: Font;
  name: string;
  linesTop: number;
  statusY: number;
  /** The lines, page by page: each page fills the room between the name and the status line. */
  pages: JobLine[][];
  /** Pages whose 16 px line takes the status line's row (128x32 with a CJK name and a CJK line). */
  overStatus: ReadonlySet<number>;
  /** How long each page stays, when there are two or more. */
  periodMs: number;
}

/** The name large when it fits; long names drop to the small font rather than lose letters (CJK: the condensed one). */
function nameFontFor(name: string, width: number): Font {
  return largestFitting(name, width, [LARGE, LARGE_CONDENSED]) ?? (canDraw(SMALL, name) ? SMALL : LARGE_CONDENSED);
}

function signedInLayout(screen: SignedInScreen, size: FrameSize): SignedInLayout {
  const width = size.width;
  const compact = isCompact(size);
  const statusY = size.height - SMALL.height;
  const lines = screen.lines.map((line) => jobLine(line, width));
  const tallest = Math.max(0, ...lines.map((l) => l.font.height));
  let nameFont = nameFontFor(screen.name, width);
  const top = (font: Font): number => (font === SMALL ? SMALL.height : font.height) + (compact ? 0 : 4); // 4: the rule under the name
  const room = (font: Font): number => statusY - top(font) - (compact ? 0 : 1);
  // A CJK line on 128x32 needs 16 rows: the name goes small for it when it can.
  if (room(nameFont) < tallest && canDraw(SMALL, screen.name)) nameFont = SMALL;
  const linesTop = top(nameFont);
  const height = Math.max(0, room(nameFont));
  const pages: JobLine[][] = [];
  const overStatus = new Set<number>();
  let page: JobLine[] = [];
  let used = 0;
  for (const line of lines) {
    if (page.length > 0 && used + line.font.height > height) {
      pages.push(page);
      page = [];
      used = 0;
    }
    if (line.font.height > height) {
      if (line.font.height > height + SMALL.height) continue; // no room on this panel at all
      overStatus.add(pages.length);
    }
    page.push(line);
    used += line.font.height;
  }
  if (page.length > 0 || pages.length === 0) pages.push(page);
  const name = ellipsize(screen.name, width, nameFont);
  return { nameFont, name, linesTop, statusY, pages, overStatus, periodMs: pagePeriodMs(linesTop, Math.max(height, tallest), width) };
}

/**
 * How the signed-in screen's job lines take turns on a panel of `size`: in `pages` pages (1 when
 * they all fit), each for `periodMs`. The agent redraws every `periodMs` only while pages > 1.
 * The period grows with the rows a page rewrites (4 s for one line, 14 s for four), so a page
 * change costs the I2C bus no more a second than a tick of the code screen's countdown may (5% of
 * a full frame).
 */
export function signedInPaging(screen: Screen, size: FrameSize): { pages: number; periodMs: number } {
  if (screen.kind !== 'signed-in') return { pages: 1, periodMs: 0 };
  const layout = signedInLayout(screen, size);
  return { pages: layout.pages.length, periodMs: layout.periodMs };
}

/** The page shown at `now`: pages follow the wall clock, so the same moment draws the same page. */
function pageAt(layout: SignedInLayout, now: number): number {
  return Math.floor(now / layout.periodMs) % layout.pages.length;
}

function drawSignedIn(frame: Frame, screen: SignedInScreen, now: number, options: RenderOptions): void {
  const layout = signedInLayout(screen, frame);
  drawText(frame, layout.name, 0, 0, layout.nameFont);
  if (!isCompact(frame)) frame.fillRect(0, layout.linesTop - 3, frame.width, 1); // a rule under the name
  const page = pageAt(layout, now);
  let y = layout.linesTop;
  for (const line of layout.pages[page] ?? []) {
    drawText(frame, line.text, 0, y, line.font);
    y += line.font.height;
  }
  const mark = layout.pages.length > 1 ? `${page + 1}/${layout.pages.length}` : '';
  if (!layout.overStatus.has(page)) drawStatusLine(frame, screen, now, options, layout.statusY, mark);
}

// ---------------------------------------------------------------------------------------------
// Messages and start-up

type MessageScreen = Extract<Screen, { kind: 'message' }>;

/**
 * A QR code at one pixel per module: a consent URL needs version 5 or 6 (37 or 41 modules),
 * which only fits a 64-pixel panel that way. Legible to a phone held close, and on a photo of the
 * screen handed to IT; the reason and action stay beside it in the small font.
 */
function messageQr(frame: Frame, url: string): QrPlacement | null {
  if (isCompact(frame)) return null;
  return fitQr(url, frame.height, { minScale: 1, maxScale: 1, quietModules: 2, minQuietModules: 1 });
}

function drawMessage(frame: Frame, screen: MessageScreen): void {
  const qr = screen.qr ? messageQr(frame, screen.qr) : null;
  if (qr) {
    drawQr(frame, qr, frame.width - qr.side, Math.floor((frame.height - qr.side) / 2));
    drawMessageText(frame, screen, frame.width - qr.side - 2);
    return;
  }
  drawMessageText(frame, screen, frame.width);
}

/** Title, reason and action in the `width` pixels on the left. */
function drawMessageText(frame: Frame, screen: MessageScreen, width: number): void {
  const compact = isCompact(frame);
  const icon = screen.tone === 'error' ? 'error' : 'info';
  // The action is what the person has to do: it gets its lines first, the reason the rest.
  const action = screen.action
    ? wrapText(screen.action, width - 7, SMALL, { maxLines: compact ? 2 : 3 })
    : [];
  let y: number;
  if (compact) {
    // One small title line, inverted: across the panel for errors, just around the words for info.
    const title = ellipsize(screen.title, width - 4, SMALL);
    const barWidth = screen.tone === 'error' ? width : measureText(title, SMALL) + 4;
    frame.fillRect(0, 0, barWidth, SMALL.height);
    drawText(frame, title, 2, 0, SMALL, { on: false });
    y = SMALL.height;
  } else {
    const iconSize = ICON_SIZE[icon];
    drawIcon(frame, icon, 0, Math.floor((LARGE.capHeight - iconSize.height) / 2));
    const titleX = iconSize.width + 4;
    const titleWidth = width - titleX;
    const titleFont = largestFitting(screen.title, titleWidth, [LARGE, LARGE_CONDENSED]);
    if (titleFont) {
      drawText(frame, screen.title, titleX, 0, titleFont);
    } else {
      const title = wrapText(screen.title, titleWidth, SMALL, { maxLines: 2 });
      title.forEach((line, i) => drawText(frame, line, titleX, i * SMALL.height, SMALL));
    }
    y = LARGE.capHeight + 4;
  }
  const actionY = frame.height - action.length * SMALL.height;
  const reasonRoom = Math.floor((actionY - (action.length && !compact ? 2 : 0) - y) / SMALL.height);
  const reason = wrapText(screen.reason, width, SMALL, { maxLines: Math.max(0, reasonRoom) });
  reason.forEach((line, i) => drawText(frame, line, 0, y + i * SMALL.height, SMALL));
  action.forEach((line, i) => {
    if (i === 0) drawIcon(frame, 'arrow', 0, actionY);
    drawText(frame, line, 7, actionY + i * SMALL.height, SMALL);
  });
}

function drawStarting(frame: Frame, screen: Extract<Screen, { kind: 'starting' }>): void {
  const compact = isCompact(frame);
  const title = 'Starting\u2026';
  const detail = screen.detail ? wrapText(screen.detail, frame.width, SMALL, { maxLines: compact ? 1 : 2 }) : [];
  const blockHeight = LARGE.capHeight + (detail.length ? 4 + detail.length * SMALL.height : 0);
  let y = Math.max(0, Math.floor((frame.height - blockHeight) / 2));
  drawCentered(frame, title, y, LARGE);
  y += LARGE.capHeight + 4;
  for (const line of detail) {
    drawCentered(frame, line, y, SMALL);
    y += SMALL.height;
  }
}

// ---------------------------------------------------------------------------------------------
// hw-test's pattern

/** What the pattern names: the settings the configuration asks the panel to be driven with. */
export interface TestPatternLabel {
  /** `ssd1306` or `sh1106`. */
  controller: string;
  /** The I2C address, 0x3C on most modules. */
  address: number;
}

/** The corner names the pattern writes, clockwise from the top left. 128×32 has no room for "BOTTOM-". */
export function testPatternCorners(size: FrameSize): [string, string, string, string] {
  return isCompact(size)
    ? ['TOP-LEFT', 'TOP-RIGHT', 'BOT-RIGHT', 'BOT-LEFT']
    : ['TOP-LEFT', 'TOP-RIGHT', 'BOTTOM-RIGHT', 'BOTTOM-LEFT'];
}

/** The text in the middle of the pattern, line by line: "hw-test SSD1306" and "0x3C 128x64". */
export function testPatternText(size: FrameSize, label: TestPatternLabel): string[] {
  const chip = label.controller.toUpperCase();
  const address = `0x${label.address.toString(16).toUpperCase().padStart(2, '0')}`;
  const panel = `${size.width}x${size.height}`;
  return isCompact(size) ? [`${chip} ${address} ${panel}`] : [`hw-test ${chip}`, `${address} ${panel}`];
}

/** How many lines of text fit in the middle of the pattern: 3 at 128×64, 1 at 128×32. */
export function testPatternLines(size: FrameSize): number {
  return isCompact(size) ? 1 : 3;
}

/**
 * What `graph-device-agent hw-test` draws: a picture on which a wrong setting is obvious.
 *
 * - A 1-pixel frame on all four edges. An SH1106 (132 columns, the panel shows 2..129) driven as an
 *   SSD1306, or the other way round, loses one side of it or moves it 2 pixels in, with garbage
 *   beyond; the wrong height halves or interleaves it.
 * - Ruler ticks every 8 pixels along the top and bottom edges (longer every 32 at 128×64): a
 *   shift or a stretch shows against them.
 * - An arrow into each corner, labelled with that corner's name: a panel upside down or mirrored
 *   reads wrong at once.
 * - In the middle, `lines` (up to {@link testPatternLines}; each shortened with "…" to fit): the
 *   controller, address and size the configuration names by default, later what hw-test asks
 *   for and what it saw, so the frame stays up for the person to check all along.
 */
export function renderTestPattern(size: FrameSize, label: TestPatternLabel, lines: readonly string[] = testPatternText(size, label)): Frame {
  const frame = new Frame(size.width, size.height);
  const { width, height } = frame;
  const compact = isCompact(frame);
  frame.strokeRect(0, 0, width, height);
  for (let x = 8; x < width - 1; x += 8) {
    const tick = !compact && x % 32 === 0 ? 3 : 2;
    frame.fillRect(x, 1, 1, tick);
    frame.fillRect(x, height - 1 - tick, 1, tick);
  }

  const arrow = compact ? 5 : 7;
  drawCornerArrow(frame, 2, 2, 1, 1, arrow);
  drawCornerArrow(frame, width - 3, 2, -1, 1, arrow);
  drawCornerArrow(frame, width - 3, height - 3, -1, -1, arrow);
  drawCornerArrow(frame, 2, height - 3, 1, -1, arrow);

  const [topLeft, topRight, bottomRight, bottomLeft] = testPatternCorners(frame);
  // Labels start just past the arrows; the right-hand ones end just before theirs.
  const left = arrow + 4;
  const rightEnd = (text: string): number => width - arrow - 4 - measureText(text, SMALL);
  // Clear of the ruler ticks (3 rows long every 32 px at 128×64).
  const top = compact ? 4 : 5;
  drawText(frame, topLeft, left, top, SMALL);
  drawText(frame, topRight, rightEnd(topRight), top, SMALL);
  const bottom = height - 4 - SMALL.height;
  drawText(frame, bottomLeft, left, bottom, SMALL);
  let middleTop: number;
  let middleBottom: number;
  if (compact) {
    drawText(frame, bottomRight, rightEnd(bottomRight), bottom, SMALL);
    middleTop = top + SMALL.height;
    middleBottom = bottom;
  } else {
    // "BOTTOM-LEFT" and "BOTTOM-RIGHT" do not fit side by side: the right one sits above its arrow.
    const bottomRightY = bottom - arrow - 1;
    drawText(frame, bottomRight, width - 3 - measureText(bottomRight, SMALL), bottomRightY, SMALL);
    middleTop = top + SMALL.height;
    middleBottom = bottomRightY;
  }
  // The text block centred between the labels, clear of the frame's sides.
  const shown = lines.slice(0, testPatternLines(frame));
  const pitch = SMALL.height + 1;
  const blockHeight = shown.length * pitch - 1;
  let y = middleTop + Math.max(0, Math.floor((middleBottom - middleTop - blockHeight) / 2));
  for (const line of shown) {
    const fitted = ellipsize(line, width - 6, SMALL);
    drawText(frame, fitted, Math.floor((width - measureText(fitted, SMALL)) / 2), y, SMALL);
    y += pitch;
  }
  return frame;
}

/** An arrow whose tip is at (x, y), pointing into the corner it came from: (dx, dy) leads away from it. */
function drawCornerArrow(frame: Frame, x: number, y: number, dx: number, dy: number, length: number): void {
  for (let i = 0; i < length; i++) frame.set(x + i * dx, y + i * dy);
  const head = Math.ceil(length / 2);
  for (let i = 1; i < head; i++) {
    frame.set(x + i * dx, y);
    frame.set(x, y + i * dy);
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

function drawCentered(frame: Frame, text: string, y: number, font: Font): void {
  const fitted = ellipsize(text, frame.width, font);
  drawText(frame, fitted, Math.floor((frame.width - measureText(fitted, font)) / 2), y, font);
}

/** An icon just left of a centred small-font line. */
function drawIconBefore(frame: Frame, icon: 'offline' | 'online', text: string, y: number): void {
  const textX = Math.floor((frame.width - measureText(text, SMALL)) / 2);
  const iconX = textX - ICON_SIZE[icon].width - 3;
  if (iconX >= 0) drawIcon(frame, icon, iconX, y + 1);
}

/**
 * Draws a device-code screen nobody sees: loads and compiles the QR encoder and the layout code
 * while nothing is on its way to the panel, so the first real code screen is not the one that
 * pays for it (about 20-30 ms of event loop on a cold start, against 4 ms warm).
 */
export function warmUpScreens(): void {
  const now = Date.now();
  renderScreen({ kind: 'device-code', userCode: 'WARMUP123', verificationUri: 'https://microsoft.com/devicelogin', issuedAt: now, expiresAt: now + 900_000 }, now, { width: 128, height: 64 });
}
