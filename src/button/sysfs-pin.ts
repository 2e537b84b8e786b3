import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Labels of the GPIO controller that drives the 40-pin header, newest board first. A Pi 5 also
 * has `gpio-brcmstb@…` chips for the SoC's own lines; those are not the header, so they are not
 * here.
 */
export const HEADER_GPIO_LABELS = [
  'pinctrl-rp1', // Pi 5 (base 571 on kernel 6.6)
  'pinctrl-bcm2711', // Pi 4 / 400 / CM4 (base 512 on kernel 6.6)
  'pinctrl-bcm2835', // Pi 1-3, Zero (base 0 before 6.6, 512 after)
] as const;

/** One `<sysfsRoot>/gpiochipN` directory. */
export interface GpioChip {
  /** The directory name, `gpiochip512`. */
  name: string;
  label: string;
  base: number;
  ngpio: number;
}

export interface SysfsPin {
  /** The number to export: base + BCM number, or the override. */
  sysfsPin: number;
  base: number;
  /** The header's controller, when one was recognised. */
  chip: GpioChip | undefined;
  /**
   * `override`: the sysfsPin option. `chip`: a recognised controller. `fallback`: none
   * recognised, so base 0 (what every kernel before 6.6 used); `chips` says what was seen.
   */
  how: 'override' | 'chip' | 'fallback';
  chips: GpioChip[];
}

/** The chips under `sysfsRoot`, sorted by base; unreadable or malformed ones are left out. */
export async function listGpioChips(sysfsRoot: string): Promise<GpioChip[]> {
  let names: string[];
  try {
    names = (await readdir(sysfsRoot)).filter((n) => /^gpiochip\d+$/.test(n));
  } catch {
    return [];
  }
  const chips: GpioChip[] = [];
  for (const name of names) {
    try {
      const read = (file: string) => readFile(join(sysfsRoot, name, file), 'utf8').then((s) => s.trim());
      const [label, base, ngpio] = await Promise.all([read('label'), read('base'), read('ngpio')]);
      const chip = { name, label, base: Number(base), ngpio: Number(ngpio) };
      if (Number.isInteger(chip.base) && Number.isInteger(chip.ngpio)) chips.push(chip);
    } catch {
      // A chip we cannot read cannot be ours to use either.
    }
  }
  return chips.sort((a, b) => a.base - b.base);
}

/**
 * Maps a BCM GPIO number to the number sysfs wants. Raspberry Pi OS kernels from 6.6 on number
 * sysfs GPIOs from the controller's base (`new Gpio(17)` fails with EINVAL there), so the base
 * is read from the controller whose label is the header's.
 */
export async function resolveSysfsPin(
  bcmPin: number,
  sysfsRoot: string,
  override?: number,
): Promise<SysfsPin> {
  const chips = await listGpioChips(sysfsRoot);
  if (override !== undefined) {
    const chip = chips.find((c) => override >= c.base && override < c.base + c.ngpio);
    return { sysfsPin: override, base: chip?.base ?? override - bcmPin, chip, how: 'override', chips };
  }
  for (const label of HEADER_GPIO_LABELS) {
    const chip = chips.find((c) => c.label === label);
    if (chip) return { sysfsPin: chip.base + bcmPin, base: chip.base, chip, how: 'chip', chips };
  }
  return { sysfsPin: bcmPin, base: 0, chip: undefined, how: 'fallback', chips };
}
