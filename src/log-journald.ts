import { fstatSync } from 'node:fs';
import pino from 'pino';

/**
 * Log lines with journald priorities, without a native journald binding.
 *
 * journald stores every stdout line of a service at priority 6 (info) unless the line starts with a
 * syslog prefix `<N>` (`SyslogLevelPrefix=`, on by default): then the line gets priority N and the
 * prefix is removed. So `journalctl -p warning` / `-p err` work, and the stored line is still the
 * plain JSON (`journalctl -o cat | npx pino-pretty` keeps working).
 *
 * Only when stdout really is the journal: systemd sets `JOURNAL_STREAM=<device>:<inode>` of the
 * stream it connected to fd 1, and a process whose stdout was redirected since (a pipe, a file,
 * `| jq`) must not print `<6>{…}` there. The check compares that pair with fstat(fd).
 */

/** syslog(3) priorities for pino's levels. debug and trace are both LOG_DEBUG. */
export const SYSLOG_PRIORITY = { fatal: 2, error: 3, warn: 4, info: 6, debug: 7, trace: 7 } as const;

/** True when `fd` is the journal stream systemd announced in `JOURNAL_STREAM`. */
export function isJournalStream(env: NodeJS.ProcessEnv = process.env, fd = 1): boolean {
  const match = /^(\d+):(\d+)$/.exec((env.JOURNAL_STREAM ?? '').trim());
  if (!match) return false;
  try {
    // bigint: device and inode numbers can exceed 2^53.
    const stat = fstatSync(fd, { bigint: true });
    return stat.dev === BigInt(match[1]!) && stat.ino === BigInt(match[2]!);
  } catch {
    return false;
  }
}

/** A destination that prefixes each line with `<N>` for its level and hands it to `target`. */
export function syslogPrefixed(target: { write(line: string): unknown }): pino.DestinationStream {
  const prefixed = (priority: number): pino.DestinationStream => ({
    write: (line: string) => {
      target.write(`<${priority}>${line}`);
    },
  });
  // With dedupe, multistream hands each line only to the stream of the highest level not above
  // the line's level: exactly one prefix per line, chosen from pino's numeric level (no parsing).
  return pino.multistream(
    [
      { level: 'trace', stream: prefixed(SYSLOG_PRIORITY.trace) },
      { level: 'debug', stream: prefixed(SYSLOG_PRIORITY.debug) },
      { level: 'info', stream: prefixed(SYSLOG_PRIORITY.info) },
      { level: 'warn', stream: prefixed(SYSLOG_PRIORITY.warn) },
      { level: 'error', stream: prefixed(SYSLOG_PRIORITY.error) },
      { level: 'fatal', stream: prefixed(SYSLOG_PRIORITY.fatal) },
    ],
    { dedupe: true },
  );
}

/**
 * The destination for `createLogger({ destination })` when stdout is the journal: synchronous
 * writes to fd 1 (no line lost at exit) with syslog prefixes. Undefined otherwise: keep the
 * default plain stdout.
 */
export function journaldDestination(env: NodeJS.ProcessEnv = process.env, fd = 1): pino.DestinationStream | undefined {
  if (!isJournalStream(env, fd)) return undefined;
  return syslogPrefixed(pino.destination({ dest: fd, sync: true }));
}
