import type { Button, ButtonListener } from './button.js';

export type { Button, ButtonListener } from './button.js';
export { Gestures, type GestureOptions } from './gestures.js';
export { SignalButton, type SignalButtonOptions } from './signals.js';
export { KeyboardButton, type KeyboardButtonOptions, type KeyboardInput } from './keyboard.js';
export { GpioButton, type GpioButtonOptions, type GpioConstructor, type GpioPin } from './gpio.js';
export { EvdevButton, gpioKeyOverlayLine, type EvdevButtonOptions } from './evdev.js';
export { AutoButton, chooseButtonDriver, type ButtonChoice } from './auto.js';
export { findInputDevice, listInputDevices, parseKeyBitmap, type InputDevice } from './input-device.js';
export { BTN_0, EV_KEY, EV_SYN, KEY_POWER, InputEventDecoder, eventSizeFor, type EventSize, type InputEvent } from './input-event.js';
export { HEADER_GPIO_LABELS, listGpioChips, resolveSysfsPin, type GpioChip, type SysfsPin } from './sysfs-pin.js';

/**
 * Several buttons as one: the GPIO button, the signals and (in the demo) the keyboard all feed the
 * same listener, so the agent sees one button.
 *
 * start() starts them in order; if one throws, those already started are stopped again and the
 * error is rethrown. stop() stops all of them in reverse order, even when one fails, and then
 * throws the first failure. (A GPIO button that finds no pin does not throw: it is just absent.)
 */
export function combineButtons(...buttons: Button[]): Button {
  return {
    name: buttons.map((b) => b.name).join('+'),

    async start(listener: ButtonListener): Promise<void> {
      const started: Button[] = [];
      try {
        for (const button of buttons) {
          await button.start(listener);
          started.push(button);
        }
      } catch (err) {
        await stopAll(started).catch(() => undefined);
        throw err;
      }
    },

    stop: () => stopAll(buttons),
  };
}

async function stopAll(buttons: readonly Button[]): Promise<void> {
  const failures: unknown[] = [];
  for (const button of [...buttons].reverse()) {
    try {
      await button.stop();
    } catch (err) {
      failures.push(err);
    }
  }
  if (failures.length > 0) throw failures[0];
}
