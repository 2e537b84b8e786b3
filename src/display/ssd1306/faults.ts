/**
 * Turns an I2C error into words a person at the Pi can act on, like luma.core's I2C interface
 * does (ENOENT → no bus, EACCES → permission, EREMOTEIO → nothing at that address). The codes are
 * Linux errno names as Node reports them from i2c-bus's file operations.
 */
export interface DisplayFault {
  /** The errno name (`EREMOTEIO`), or a name of ours for what is not an errno. */
  code: string;
  /** What is wrong, in one sentence. */
  problem: string;
  /** What to do about it: the command to run or the setting to change. */
  fix: string;
}

export interface FaultContext {
  bus: number;
  address: number;
}

/** `0x3c`: how i2cdetect prints an address. */
export function hexAddress(address: number): string {
  return `0x${address.toString(16).padStart(2, '0')}`;
}

export function describeFault(error: unknown, { bus, address }: FaultContext): DisplayFault {
  const code = errorCode(error);
  const at = hexAddress(address);
  const detect = `run \`sudo i2cdetect -y ${bus}\` to see which address answers (0x3c or 0x3d) and set display.address to it`;
  switch (code) {
    case 'ENOENT':
      return {
        code,
        problem: `there is no I2C bus /dev/i2c-${bus}`,
        fix: 'enable I2C with `sudo raspi-config nonint do_i2c 0` (or dtparam=i2c_arm=on in /boot/firmware/config.txt) and reboot; check display.bus',
      };
    case 'EACCES':
    case 'EPERM':
      return {
        code,
        problem: `no permission to open /dev/i2c-${bus}`,
        fix: 'add the service user to the i2c group (`sudo usermod -aG i2c <user>`, or SupplementaryGroups=i2c in the systemd unit) and restart',
      };
    case 'EREMOTEIO':
    case 'ENXIO':
      return {
        code,
        problem: `nothing answers at address ${at} on I2C bus ${bus} (no display, a loose cable, or another address)`,
        fix: `check the wiring (VCC, GND, SDA to GPIO2, SCL to GPIO3), then ${detect}`,
      };
    case 'EIO':
    case 'ETIMEDOUT':
      return {
        code,
        problem: `the I2C transfer to ${at} on bus ${bus} failed`,
        fix: `check for a loose or long cable and a shared 3.3 V supply; lower the bus speed (i2c_arm_baudrate) if it is above 400000; ${detect}`,
      };
    case 'EBUSY':
      return {
        code,
        problem: `a kernel driver owns address ${at} on bus ${bus}`,
        fix: 'remove the ssd1306 framebuffer overlay (dtoverlay=ssd1306\u2026) from /boot/firmware/config.txt and reboot',
      };
    case 'ERR_MODULE_NOT_FOUND':
    case 'MODULE_NOT_FOUND':
    case 'ERR_DLOPEN_FAILED':
      return {
        code,
        problem: 'the native i2c-bus module is missing or was built for another Node.js',
        fix: 'install the build tools (`sudo apt install build-essential python3`) and run `npm rebuild i2c-bus` in the agent\'s directory',
      };
    default:
      return {
        code,
        problem: `the display at ${at} on I2C bus ${bus} failed: ${errorMessage(error)}`,
        fix: detect,
      };
  }
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code !== '' ? code : 'EUNKNOWN';
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
