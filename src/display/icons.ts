import { Frame } from './frame.js';

/**
 * Small pictures drawn next to text. Each is drawn in "copy" mode (dark pixels too), so keep
 * them rectangular and place them where nothing else is.
 */
export const ICONS = {
  /** Online: a filled dot. */
  online: Frame.fromRows([
    '.###.',
    '#####',
    '#####',
    '#####',
    '.###.',
  ]),
  /** Offline: a hollow dot with a slash, readable as "not connected". */
  offline: Frame.fromRows([
    '.###.',
    '#..##',
    '#.#.#',
    '##..#',
    '.###.',
  ]),
  /** Errors: an exclamation mark in a triangle. */
  error: Frame.fromRows([
    '......#......',
    '.....###.....',
    '.....#.#.....',
    '....##.##....',
    '....##.##....',
    '...###.###...',
    '...###.###...',
    '..#########..',
    '..####.####..',
    '.###########.',
    '#############',
  ], 13),
  /** Information: an "i" in a circle. */
  info: Frame.fromRows([
    '...#####...',
    '.##.....##.',
    '.#...#...#.',
    '#.........#',
    '#...##....#',
    '#....#....#',
    '#....#....#',
    '#....#....#',
    '.#..###..#.',
    '.##.....##.',
    '...#####...',
  ], 11),
  /** The action line: "press the button". */
  arrow: Frame.fromRows([
    '#...',
    '##..',
    '###.',
    '####',
    '###.',
    '##..',
    '#...',
  ], 4),
} as const;

/** The icon's own size (fromRows rounds frames up to whole pages). */
export const ICON_SIZE: Record<keyof typeof ICONS, { width: number; height: number }> = {
  online: { width: 5, height: 5 },
  offline: { width: 5, height: 5 },
  error: { width: 13, height: 11 },
  info: { width: 11, height: 11 },
  arrow: { width: 4, height: 7 },
};

/** Draws only the icon's rows and columns that belong to it (not the page padding). */
export function drawIcon(frame: Frame, name: keyof typeof ICONS, x: number, y: number): void {
  const icon = ICONS[name];
  const size = ICON_SIZE[name];
  for (let iy = 0; iy < size.height; iy++) {
    for (let ix = 0; ix < size.width; ix++) frame.set(x + ix, y + iy, icon.get(ix, iy));
  }
}
