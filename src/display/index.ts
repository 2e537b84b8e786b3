/** The display layer's public API: the port, frames, fonts, QR codes, screens and the drivers. */
export type { Display } from './display.js';
export { Frame } from './frame.js';
export type { FrameSize, FrameWindow } from './frame.js';
export {
  ELLIPSIS, FONTS, LARGE, LARGE_CONDENSED, SMALL,
  charsThatFit, drawText, ellipsize, glyphOf, measureText, withEllipsis, wrapText,
} from './font.js';
export type { DrawTextOptions, Font, Glyph, WrapOptions } from './font.js';
export { drawQr, fitQr, qrMatrix } from './qr.js';
export type { QrFitOptions, QrMatrix, QrPlacement } from './qr.js';
export { formatCountdown, formatSyncTime, renderScreen } from './screens.js';
export type { RenderOptions, Screen } from './screens.js';
export { TerminalDisplay, frameToBox, frameToHalfBlocks } from './terminal.js';
export type { TerminalDisplayOptions } from './terminal.js';
export { OLED_STYLE, PngDisplay, frameToPng } from './png.js';
export type { PngDisplayOptions, PngStyle, Rgb } from './png.js';
