import pino from 'pino';

export type Logger = pino.Logger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * Keys whose values are secrets, wherever they appear (two levels deep is where our own code and
 * msal-node's objects put them). Redaction is the safety net; the code never logs a token on
 * purpose. The log test signs in fully and greps every line for the tokens the emulator issued.
 */
const SECRET_KEYS = [
  'access_token', 'accessToken', 'refresh_token', 'refreshToken', 'id_token', 'idToken',
  'device_code', 'deviceCode', 'client_secret', 'clientSecret', 'authorization', 'Authorization',
  'secret', 'key', 'password', 'code_verifier', 'assertion',
];
export const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  ...SECRET_KEYS.map((k) => `*.*.${k}`),
  'headers.authorization',
  'req.headers.authorization',
];

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; stdout (fd 1, synchronously, so no line is lost at exit) by default. */
  destination?: pino.DestinationStream;
}

/**
 * One JSON line per event on stdout, for journald. Every line carries a stable `event` name
 * (`device_code.issued`, `signin.succeeded`, `graph.job`, `error`, ...) so a person can filter
 * with `journalctl -o cat | jq 'select(.event=="graph.job")'`.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? pino.destination({ dest: 1, sync: true });
  return pino(
    {
      level: options.level ?? 'info',
      base: { name: 'graph-device-agent' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** A logger that discards everything: for library use and tests that do not read logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
