/**
 * Every setting's type, range or choices, default and meaning, as plain data: the one place they
 * are written. The zod schema (schema.ts) is built from these tables, and the first frame reads
 * the display section with `readSection` below, before zod is loaded (app/early-display.ts), so
 * this module must not import zod or the schema. test/config/settings.test.ts holds the three to
 * the same answers. The meanings are the README's Configuration tables; they become the
 * descriptions in config/schema.json, which editors show.
 */

export type Setting =
  /** A whole number in [min, max]; without a default, the setting is optional. */
  | { type: 'integer'; min: number; max?: number; default?: number; doc: string }
  /** A number in [min, max], or (above, max] when `above` is given. */
  | { type: 'number'; min?: number; above?: number; max: number; default: number; doc: string }
  | { type: 'boolean'; default: boolean; doc: string }
  /** One of a few words. */
  | { type: 'enum'; values: readonly [string, ...string[]]; default: string; doc: string }
  /** One of a few numbers. */
  | { type: 'choice'; values: readonly [number, ...number[]]; default: number; doc: string }
  /** Free text: optional (a path, say), or with a default (a name); of `minLength`..`maxLength` characters when given. */
  | { type: 'string'; default?: string; minLength?: number; maxLength?: number; doc: string };

export type Section = Readonly<Record<string, Setting>>;

export const DISPLAY = {
  driver: {
    type: 'enum', values: ['auto', 'ssd1306', 'terminal', 'png', 'none'], default: 'auto',
    doc: '"ssd1306" (the OLED on I2C), "terminal" (drawn with half blocks), "png" (a file), "none"; "auto" is the terminal when the agent runs in one, else none (frames never go to the journal)',
  },
  width: { type: 'choice', values: [128], default: 128, doc: 'the panel\'s width in pixels: 128' },
  height: { type: 'choice', values: [64, 32], default: 64, doc: '64 for 0.96" 128x64 modules, 32 for 128x32 ones (a compact layout)' },
  pngPath: { type: 'string', doc: 'also write every frame to this PNG file (replaced atomically): for the "png" driver, or as a mirror' },
  pngScale: { type: 'integer', min: 1, max: 16, default: 4, doc: 'the PNG file\'s pixels per panel pixel' },
  bus: { type: 'integer', min: 0, max: 99, default: 1, doc: 'the I2C bus (1 is /dev/i2c-1)' },
  address: { type: 'integer', min: 0x03, max: 0x77, default: 0x3c, doc: 'the I2C address: 60 (0x3C), 61 (0x3D) on some modules; `sudo i2cdetect -y 1` shows it' },
  controller: {
    type: 'enum', values: ['ssd1306', 'sh1106'], default: 'ssd1306',
    doc: '"sh1106" for the many 1.3" modules sold as SSD1306 that are not (132 columns): see hardware/display.md',
  },
  contrast: { type: 'integer', min: 0, max: 255, doc: 'brightness (0-255)' },
  rotate180: { type: 'boolean', default: false, doc: 'for a panel mounted upside down' },
  sleepAfterSec: {
    type: 'number', min: 0, max: 86_400, default: 300,
    doc: 'burn-in protection: the signed-in screen goes dark after this long with nothing happening; 0 = never',
  },
} as const satisfies Section;

export const BUTTON = {
  driver: {
    type: 'enum', values: ['auto', 'evdev', 'gpio', 'keyboard', 'none'], default: 'auto',
    doc: '"evdev" (the kernel\'s gpio-keys input device, from the gpio-key overlay: hardware/button.md), "gpio" (sysfs GPIO, through onoff), "keyboard" (a terminal\'s keys), "none" (signals only); "auto" is evdev when such a device is there, else gpio when the Pi\'s sysfs GPIO is there, else none',
  },
  evdevName: {
    type: 'string', default: 'graph-device-agent',
    doc: 'the input device to use (its name in /sys/class/input/*/device/name); a gpio-keys device that has evdevKeycode is used too, as the gpio-key overlay names the key, not the device',
  },
  evdevKeycode: {
    type: 'integer', min: 1, max: 767, default: 256,
    doc: 'the key code of the gpio-key overlay line (install.sh writes it): 256 (BTN_0) is mapped by nothing; never 116 (KEY_POWER: systemd-logind shuts the Pi down)',
  },
  bcmPin: { type: 'integer', min: 0, max: 57, default: 17, doc: 'the BCM GPIO number (GPIO17 is header pin 11), not the header pin number' },
  sysfsPin: { type: 'integer', min: 0, max: 4095, doc: 'the sysfs number (base + BCM), if the lookup guesses wrong' },
  activeLow: { type: 'boolean', default: true, doc: 'the button connects the pin to ground (with the pull-up from config.txt)' },
  bounceTimeMs: { type: 'integer', min: 0, max: 1000, default: 30, doc: 'contact bounce lockout, in milliseconds' },
  holdTimeMs: { type: 'integer', min: 100, max: 30_000, default: 2000, doc: 'how long a press must last to be a hold, in milliseconds' },
  confirmTimeoutMs: { type: 'integer', min: 1000, max: 120_000, default: 10_000, doc: 'after a hold, how long "Sign out?" waits for the confirming press, in milliseconds' },
} as const satisfies Section;

export const NETWORK = {
  caFile: { type: 'string', doc: 'extra CA certificates (PEM) to trust besides the system\'s: a private CA, or a TLS-inspecting proxy. TLS verification is never turned off' },
  timeoutSec: { type: 'number', min: 0.1, max: 300, default: 30, doc: 'every request\'s timeout, in seconds (0.1-300); a hung connection never hangs a poll' },
} as const satisfies Section;

export const CACHE = {
  path: { type: 'string', doc: 'the encrypted token cache (AES-256-GCM, 0600, written atomically); defaults to STATE/token-cache.bin' },
  keyFile: { type: 'string', doc: 'the 32-byte key; defaults to $CREDENTIALS_DIRECTORY/token-cache-key if present, else STATE/token-cache.key (made on first start if missing)' },
} as const satisfies Section;

export const LOG = {
  level: {
    type: 'enum', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace'], default: 'info',
    doc: '"debug" adds every HTTP request (never a body, a token or a device code)',
  },
} as const satisfies Section;

export const SIGN_IN = {
  autoRenewCodes: { type: 'integer', min: 0, max: 20, default: 3, doc: 'expired codes replaced automatically before the device waits for a press' },
  minPollIntervalSec: { type: 'number', min: 0.05, max: 60, default: 1, doc: 'never poll the token endpoint faster than this, whatever the server says' },
  offlineRetryMaxSec: { type: 'number', min: 0.05, max: 600, default: 30, doc: 'while a code is shown and the network is down, the longest wait between polls' },
} as const satisfies Section;

/** A Graph job's settings that are plain data; its name, schedule and path have patterns of their own (schema.ts). */
export const GRAPH_JOB = {
  timeoutSec: { type: 'number', min: 0.1, max: 300, default: 30, doc: 'this job\'s request timeout, in seconds (0.1-300)' },
} as const satisfies Section;

/**
 * graph.splay: "off", "auto" or a maximum in seconds. A union of words and a number, which the
 * tables above cannot say, so schema.ts builds its check from these values.
 */
export const GRAPH_SPLAY = {
  words: ['off', 'auto'],
  maxSec: 86_400,
  default: 'auto',
  doc: 'a per-device delay for scheduled runs, derived from /etc/machine-id (stable on one device, different across devices), always shorter than the job\'s period, so a fleet does not call Graph in the same second: "auto" (up to the period, at most 900 s), "off", or a maximum in seconds',
} as const;

/** The Prometheus textfile metrics (app/metrics.ts). */
export const METRICS = {
  textfileDirectory: {
    type: 'string',
    doc: 'write graph_device_agent.prom here for node_exporter\'s textfile collector (usually /var/lib/prometheus/node-exporter); off when unset',
  },
  includeAccount: { type: 'boolean', default: false, doc: 'add the signed-in account (UPN) as a label; off keeps user data out of the metrics' },
  minIntervalSec: { type: 'number', min: 1, max: 3600, default: 15, doc: 'write the file on every change, but at most this often, in seconds' },
} as const satisfies Section;

export const AUTH = {
  protocolMode: {
    type: 'enum', values: ['AAD', 'OIDC', 'EAR'], default: 'AAD',
    doc: '"OIDC" for a generic OpenID Connect / RFC 8628 server (discovery at /.well-known/openid-configuration instead of /v2.0/...)',
  },
} as const satisfies Section;

/** Which device this is: on the code screen, in the sign-in log lines and in notifications. */
export const DEVICE = {
  label: {
    type: 'string', minLength: 1, maxLength: 40,
    doc: 'a short name for this device (1-40 characters), shown on the code screen ("Sign in only if you are at LABEL") and logged with each sign-in; the hostname by default',
  },
} as const satisfies Section;

/** The device label when none is configured: the hostname, cut to the label's 40 characters. */
export function defaultDeviceLabel(hostname: string): string {
  const label = hostname.trim().slice(0, DEVICE.label.maxLength);
  return label === '' ? 'this device' : label;
}

/** Graph settings that are plain data (the base URL and the jobs have checks of their own: schema.ts). */
export const GRAPH = {
  timeZone: {
    type: 'string', minLength: 1, maxLength: 64,
    doc: 'the zone Graph gives calendar times in (its `Prefer: outlook.timezone` header): an IANA name ("Europe/Berlin") or a Windows one ("W. Europe Standard Time"); the device\'s zone by default (TZ, else /etc/localtime), UTC if it has none',
  },
} as const satisfies Section;

/** Notifications (the list of targets is not plain data: schema.ts). */
export const NOTIFY = {
  includeUserCode: { type: 'boolean', default: false, doc: 'put the user code in "sign-in needed" notifications; off by default: a code travelling over a chat channel can be phished' },
  graphFailingAfterMin: { type: 'number', min: 1, max: 10_080, default: 30, doc: 'notify when Graph has failed for this many minutes (and again when it works)' },
  refreshAgeWarnDays: { type: 'number', min: 1, max: 89, default: 60, doc: 'warn at start (and notify) when the tokens were last refreshed longer ago than this; refresh tokens die after 90 days unused (AADSTS700082)' },
  timeoutSec: { type: 'number', above: 0, max: 60, default: 10, doc: 'each notification request\'s timeout, in seconds' },
  queueSize: { type: 'integer', min: 1, max: 100, default: 20, doc: 'notifications kept per target while it is unreachable; the oldest are dropped (and counted) beyond this' },
} as const satisfies Section;

/** The defaults of the settings whose checks are not plain data (URLs, lists): schema.ts adds the checks. */
export const DEFAULTS = {
  authority: 'https://login.microsoftonline.com/organizations',
  scopes: ['User.Read'],
  graphBaseUrl: 'https://graph.microsoft.com/v1.0',
} as const;

/** True when `value` is a valid value of the setting (undefined is not: see `readSection`). */
export function accepts(setting: Setting, value: unknown): boolean {
  switch (setting.type) {
    case 'integer':
      return Number.isSafeInteger(value) && (value as number) >= setting.min && (setting.max === undefined || (value as number) <= setting.max);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) && value <= setting.max
        && (setting.above !== undefined ? value > setting.above : value >= (setting.min ?? -Infinity));
    case 'boolean':
      return typeof value === 'boolean';
    case 'enum':
      return typeof value === 'string' && (setting.values as readonly string[]).includes(value);
    case 'choice':
      return typeof value === 'number' && (setting.values as readonly number[]).includes(value);
    case 'string':
      return typeof value === 'string' && value.length >= (setting.minLength ?? 0) && value.length <= (setting.maxLength ?? Infinity);
  }
}

/**
 * A section checked by these rules, with the defaults filled in; undefined when a setting has a
 * wrong value or the section is not an object. Keys not in the table are ignored, not refused:
 * the early display still opens for a misspelt key, so the config problem can be shown on it.
 */
export function readSection(section: Section, value: unknown): Record<string, unknown> | undefined {
  const given = value === undefined ? {} : value;
  if (typeof given !== 'object' || given === null || Array.isArray(given)) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(section)) {
    const v = (given as Record<string, unknown>)[key];
    if (v === undefined) {
      if ('default' in setting && setting.default !== undefined) out[key] = setting.default;
      continue;
    }
    if (!accepts(setting, v)) return undefined;
    out[key] = v;
  }
  return out;
}
