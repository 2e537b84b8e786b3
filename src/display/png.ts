import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { writeFileAtomic } from '../files/atomic-write.js';
import type { Logger } from '../log.js';
import type { Display } from './display.js';
import { Frame } from './frame.js';

export type Rgb = readonly [number, number, number];

/** How a frame becomes a picture. The defaults give one white or black image pixel per pixel. */
export interface PngStyle {
  /** Image pixels per panel pixel, each way (1 by default). */
  scale?: number;
  /** Colour of a lit pixel (white by default). */
  lit?: Rgb;
  /** Colour of a dark pixel (black by default). */
  dark?: Rgb;
  /** Image pixels of `gap` colour between panel pixels, right and below each one (0 by default). */
  pixelGap?: number;
  gap?: Rgb;
  /** Width in image pixels of a frame drawn around the panel (0 by default). */
  bezel?: number;
  bezelColor?: Rgb;
}

/**
 * An OLED as a person sees it: white-blue pixels on black, 4×, a faint grid between lit pixels,
 * a bezel. The gap colour is the panel's black, so dark areas stay flat (small files) and the QR
 * code in the picture still scans.
 */
export const OLED_STYLE: Required<PngStyle> = {
  scale: 4,
  lit: [214, 238, 255],
  dark: [6, 8, 12],
  pixelGap: 1,
  gap: [6, 8, 12],
  bezel: 12,
  bezelColor: [28, 31, 38],
};

/**
 * Encodes a frame as a PNG. Drawn by runs, not pixels: a run of equal panel pixels is one native
 * `Buffer.fill` with a repeating pattern (the pixel's colour, then its gap), each panel row becomes
 * two image rows (the pixels' and the gap's) copied `scale` times, and the rows go straight to
 * zlib with filter type 0. Under the service's `--lite-mode` (no optimizing compiler) pngjs's
 * per-pixel packer and filter search took half a second per countdown tick at scale 4; this
 * takes a few milliseconds (`npm run bench` measures it). pngjs still reads the pictures back in
 * the tests.
 */
export function frameToPng(frame: Frame, style: PngStyle = {}): Buffer {
  const scale = style.scale ?? 1;
  if (!Number.isInteger(scale) || scale < 1) throw new RangeError(`PNG scale must be a positive integer, got ${scale}`);
  const lit = style.lit ?? [255, 255, 255];
  const dark = style.dark ?? [0, 0, 0];
  const gapWidth = Math.min(style.pixelGap ?? 0, scale - 1);
  const gap = style.gap ?? dark;
  const bezel = style.bezel ?? 0;
  const bezelColor = style.bezelColor ?? [32, 32, 32];
  // A lighter line at the bezel's outer edge gives it some depth.
  const edgeColor: Rgb = [bezelColor[0] + 24, bezelColor[1] + 24, bezelColor[2] + 24].map((c) => Math.min(255, c)) as [number, number, number];
  const width = frame.width * scale + 2 * bezel;
  const height = frame.height * scale + 2 * bezel;
  // Each image row: a filter-type byte (0: none), then RGB.
  const stride = 1 + width * 3;
  const raw = Buffer.alloc(stride * height);

  const rgb = (c: Rgb): Buffer => Buffer.from(c);
  /** `count` pixels of `pattern` (whole pixels, repeating) from image column `x` of a row buffer. */
  const fill = (row: Buffer, x: number, count: number, pattern: Buffer): void => {
    if (count > 0) row.fill(pattern, 1 + x * 3, 1 + (x + count) * 3);
  };
  // One panel pixel as image pixels across: `scale - gapWidth` of its colour, then its gap.
  const across = (color: Rgb, gapColor: Rgb): Buffer =>
    Buffer.concat([...Array<Buffer>(scale - gapWidth).fill(rgb(color)), ...Array<Buffer>(gapWidth).fill(rgb(gapColor))]);
  const litAcross = across(lit, mix(lit, gap));
  const darkAcross = across(dark, gap);
  const litBelow = rgb(mix(lit, gap));
  const darkBelow = rgb(gap);

  // The bezel's rows (top and bottom), and the bezel's sides of every panel row.
  const bezelRow = Buffer.alloc(stride);
  fill(bezelRow, 0, width, rgb(bezelColor));
  fill(bezelRow, 0, 1, rgb(edgeColor));
  fill(bezelRow, width - 1, 1, rgb(edgeColor));
  const edgeRow = Buffer.alloc(stride);
  fill(edgeRow, 0, width, rgb(edgeColor));
  for (let y = 0; y < bezel; y++) {
    (y === 0 ? edgeRow : bezelRow).copy(raw, y * stride);
    (y === 0 ? edgeRow : bezelRow).copy(raw, (height - 1 - y) * stride);
  }

  const pixels = Buffer.from(bezelRow); // a panel row's pixels
  const below = Buffer.from(bezelRow); // the gap below them
  for (let y = 0; y < frame.height; y++) {
    for (let x = 0; x < frame.width;) {
      const on = frame.get(x, y);
      let end = x + 1;
      while (end < frame.width && frame.get(end, y) === on) end++;
      fill(pixels, bezel + x * scale, (end - x) * scale, on ? litAcross : darkAcross);
      fill(below, bezel + x * scale, (end - x) * scale, on ? litBelow : darkBelow);
      x = end;
    }
    const top = bezel + y * scale;
    for (let dy = 0; dy < scale; dy++) (dy < scale - gapWidth ? pixels : below).copy(raw, (top + dy) * stride);
  }
  return encodePng(width, height, raw);
}

/** The PNG container around rows that are already filtered: signature, IHDR (8-bit RGB), IDAT, IEND. */
function encodePng(width: number, height: number, rows: Buffer): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bits per sample
  header[9] = 2; // colour type: RGB, no alpha (the pictures are opaque, and a quarter smaller)
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/**
 * The gap beside a lit pixel: mostly the pixel's light (light bleeds, and a phone pointed at the
 * picture must still read the QR code as solid modules), a little of the gap's colour.
 */
function mix(a: Rgb, b: Rgb): Rgb {
  const w = 0.75;
  return [Math.round(a[0] * w + b[0] * (1 - w)), Math.round(a[1] * w + b[1] * (1 - w)), Math.round(a[2] * w + b[2] * (1 - w))];
}

export interface PngDisplayOptions {
  /** The picture to keep up to date, e.g. `/run/graph-device-agent/screen.png`. */
  path: string;
  width?: number;
  height?: number;
  /** Image pixels per panel pixel (1 by default); the rest of {@link PngStyle} for looks. */
  scale?: number;
  style?: PngStyle;
  log?: Logger;
}

/**
 * A display that is a PNG file: each frame replaces the picture. For a headless box, the demo and
 * screenshots; a web page or `feh --reload 1` can show it live.
 */
export class PngDisplay implements Display {
  readonly name = 'png';
  readonly width: number;
  readonly height: number;
  readonly path: string;
  private readonly style: PngStyle;
  private readonly log: Logger | undefined;
  private last: Frame;
  private on = true;
  /** The file shows `last` (not a blank frame from setPower or close). */
  private written = false;
  /** Writes run one after another, so the file ends as the last frame shown. */
  private queue: Promise<void> = Promise.resolve();

  constructor(options: PngDisplayOptions) {
    this.path = options.path;
    this.width = options.width ?? 128;
    this.height = options.height ?? 64;
    this.style = { ...options.style, ...(options.scale !== undefined ? { scale: options.scale } : {}) };
    this.log = options.log;
    this.last = new Frame(this.width, this.height);
  }

  async open(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    this.log?.debug({ event: 'display.opened', display: this.name, path: this.path }, 'writing frames to a PNG file');
  }

  async show(frame: Frame): Promise<void> {
    if (frame.width !== this.width || frame.height !== this.height) {
      throw new RangeError(`frame is ${frame.width}x${frame.height}, display is ${this.width}x${this.height}`);
    }
    // The same frame again (a redraw with nothing new): the file already shows it.
    if (this.written && frame.equals(this.last)) return;
    this.last = frame.clone();
    if (this.on) await this.write(this.last);
  }

  async setPower(on: boolean): Promise<void> {
    this.on = on;
    await this.write(on ? this.last : new Frame(this.width, this.height));
  }

  async close(options: { blank?: boolean } = {}): Promise<void> {
    if (options.blank ?? true) await this.write(new Frame(this.width, this.height));
    else await this.queue;
  }

  private write(frame: Frame): Promise<void> {
    this.written = frame === this.last;
    const data = frameToPng(frame, this.style);
    // 0644 as before: the picture is there to be shown, e.g. by a web server running as another
    // user. A reader (feh --reload) never sees half a file.
    const next = this.queue.then(() => writeFileAtomic(this.path, data, { mode: 0o644, dirMode: 0o755 }));
    // A failed write must not poison the writes after it; the caller still sees its own error.
    this.queue = next.catch(() => {
      this.written = false;
    });
    return next;
  }
}
