import { createRequire } from 'node:module';
import type * as QRCodeModule from 'qrcode';
import type { Frame } from './frame.js';

/**
 * QR codes for the verification URL. Entra sends no `verification_uri_complete`, so the code only
 * saves typing the URL; the person still types the user code.
 *
 * On an OLED "light" is a lit pixel. Phone cameras look for dark modules on a light background,
 * so the quiet zone is lit and the dark modules are dark pixels: a light square on the black
 * panel, like a printed code.
 */

export interface QrMatrix {
  /** Modules per side (21 for version 1, +4 per version). */
  readonly size: number;
  readonly version: number;
  readonly errorCorrection: 'L' | 'M' | 'Q' | 'H';
  /** Whether the module at column x, row y is dark. */
  dark(x: number, y: number): boolean;
}

/** A QR code placed at a scale, with its quiet zone: the square it needs on the screen. */
export interface QrPlacement {
  readonly matrix: QrMatrix;
  /** Pixels per module (at least 2). */
  readonly scale: number;
  /** Lit pixels around the modules, each side. */
  readonly quiet: number;
  /** Side of the whole lit square: `size * scale + 2 * quiet`. */
  readonly side: number;
}

const LEVELS = ['L', 'M', 'Q'] as const;

/**
 * The QR code for `text` with the strongest error correction that does not make it bigger than
 * the smallest one (a smudged screen or a glare still scans).
 */
export function qrMatrix(text: string): QrMatrix {
  // The countdown redraws the code screen every second with the same URL: encode it once.
  if (lastMatrix?.text === text) return lastMatrix.matrix;
  const matrix = encodeQr(text);
  lastMatrix = { text, matrix };
  return matrix;
}

let lastMatrix: { text: string; matrix: QrMatrix } | undefined;

function encodeQr(text: string): QrMatrix {
  const QRCode = qrcode();
  const smallest = QRCode.create(text, { errorCorrectionLevel: 'L' });
  let chosen = smallest;
  let level: QrMatrix['errorCorrection'] = 'L';
  for (const candidate of LEVELS.slice(1)) {
    try {
      // With the version fixed, qrcode throws if the data no longer fits.
      chosen = QRCode.create(text, { errorCorrectionLevel: candidate, version: smallest.version });
      level = candidate;
    } catch {
      break;
    }
  }
  const modules = chosen.modules;
  return {
    size: modules.size,
    version: chosen.version,
    errorCorrection: level,
    dark: (x, y) => Boolean(modules.get(y, x)),
  };
}

export interface QrFitOptions {
  /** Smallest pixels per module; fewer than 2 is too fine for a phone camera on a 0.96" panel. */
  minScale?: number;
  /** Largest pixels per module to use when there is room. */
  maxScale?: number;
  /** Smallest quiet zone in modules each side (the standard asks 4; 1 still scans on a dark panel). */
  minQuietModules?: number;
  /** Quiet zone to aim for when there is room, in modules. */
  quietModules?: number;
}

/**
 * The placement of `text` that fits a `maxSide` square, or null if even the smallest scale and
 * quiet zone do not fit (the layout then drops the QR code, never the user code).
 */
export function fitQr(text: string, maxSide: number, options: QrFitOptions = {}): QrPlacement | null {
  const minScale = options.minScale ?? 2;
  const maxScale = Math.max(minScale, options.maxScale ?? 2);
  const minQuietModules = options.minQuietModules ?? 1;
  const quietModules = Math.max(minQuietModules, options.quietModules ?? 2);
  let matrix: QrMatrix;
  try {
    matrix = qrMatrix(text);
  } catch {
    return null; // too long for any QR version
  }
  for (let scale = maxScale; scale >= minScale; scale--) {
    const modulesSide = matrix.size * scale;
    const room = Math.floor((maxSide - modulesSide) / 2);
    const quiet = Math.min(room, quietModules * scale);
    if (quiet >= minQuietModules * scale) {
      return { matrix, scale, quiet, side: modulesSide + 2 * quiet };
    }
  }
  return null;
}

/** Draws the placement with its top-left corner (quiet zone included) at (x, y). */
export function drawQr(frame: Frame, placement: QrPlacement, x: number, y: number): void {
  const { matrix, scale, quiet, side } = placement;
  frame.fillRect(x, y, side, side, true);
  for (let my = 0; my < matrix.size; my++) {
    for (let mx = 0; mx < matrix.size; mx++) {
      if (matrix.dark(mx, my)) frame.fillRect(x + quiet + mx * scale, y + quiet + my * scale, scale, scale, false);
    }
  }
}

/**
 * Loaded on the first QR code, not at start-up: the first frame ("Starting") has none. Only the
 * encoder (`lib/core/qrcode`, whose `create` is the package's `create`): the package's main also
 * loads its PNG, SVG and terminal renderers, and with them pngjs and zlib, which a daemon that
 * draws its own pixels would carry for months.
 */
let qrcodeModule: Pick<typeof QRCodeModule, 'create'> | undefined;
function qrcode(): Pick<typeof QRCodeModule, 'create'> {
  qrcodeModule ??= createRequire(import.meta.url)('qrcode/lib/core/qrcode') as Pick<typeof QRCodeModule, 'create'>;
  return qrcodeModule;
}
