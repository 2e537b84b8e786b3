import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createRequire } from 'node:module';
import type { PNG as PngClass } from 'pngjs';
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

/** Encodes a frame as a PNG. */
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
  const PNG = pngjs();
  const png = new PNG({ width: frame.width * scale + 2 * bezel, height: frame.height * scale + 2 * bezel });
  const put = (px: number, py: number, [r, g, b]: Rgb): void => {
    const i = (py * png.width + px) * 4;
    png.data[i] = r;
    png.data[i + 1] = g;
    png.data[i + 2] = b;
    png.data[i + 3] = 255;
  };
  for (let py = 0; py < png.height; py++) {
    for (let px = 0; px < png.width; px++) {
      const ix = px - bezel;
      const iy = py - bezel;
      if (ix < 0 || iy < 0 || ix >= frame.width * scale || iy >= frame.height * scale) {
        const edge = px === 0 || py === 0 || px === png.width - 1 || py === png.height - 1;
        put(px, py, edge ? edgeColor : bezelColor);
        continue;
      }
      const inGap = ix % scale >= scale - gapWidth || iy % scale >= scale - gapWidth;
      const on = frame.get(Math.floor(ix / scale), Math.floor(iy / scale));
      put(px, py, on ? (inGap ? mix(lit, gap) : lit) : inGap ? gap : dark);
    }
  }
  // RGB without alpha: the pictures are opaque, and a quarter smaller.
  return PNG.sync.write(png, { colorType: 2, inputColorType: 6 });
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
    const data = frameToPng(frame, this.style);
    // 0644 as before: the picture is there to be shown, e.g. by a web server running as another
    // user. A reader (feh --reload) never sees half a file.
    const next = this.queue.then(() => writeFileAtomic(this.path, data, { mode: 0o644, dirMode: 0o755 }));
    // A failed write must not poison the writes after it; the caller still sees its own error.
    this.queue = next.catch(() => undefined);
    return next;
  }
}

/** pngjs is loaded on the first PNG written, not at start-up (most devices write none). */
let pngModule: typeof PngClass | undefined;
function pngjs(): typeof PngClass {
  pngModule ??= (createRequire(import.meta.url)('pngjs') as { PNG: typeof PngClass }).PNG;
  return pngModule;
}
