/**
 * The button port, named after gpiozero's Button: a person *presses* (a short press, reported on
 * release) or *holds* (reported once when the hold time is reached, while still pressed).
 *
 * Drivers: the kernel's gpio-keys input device (evdev), GPIO through onoff, signals (SIGUSR1
 * press, SIGUSR2 hold, in every mode), and the keyboard in the demo; "auto" picks evdev or GPIO.
 * Several can feed the same listener.
 */
export interface ButtonListener {
  pressed(): void;
  held(): void;
}

export interface Button {
  /** A short name for logs: "gpio17", "evdev", "signals", "keyboard". */
  readonly name: string;
  start(listener: ButtonListener): Promise<void>;
  /** Stops listening and releases what was claimed (unexports the pin, restores the TTY). */
  stop(): Promise<void>;
}
