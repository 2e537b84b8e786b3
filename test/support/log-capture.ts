import { Writable } from 'node:stream';
import { createLogger, type Logger, type LogLevel } from '../../src/log.js';

export interface LogLine {
  level: string;
  event?: string;
  msg?: string;
  [key: string]: unknown;
}

/** A real pino logger whose JSON lines are kept, raw and parsed, for assertions. */
export function captureLogs(level: LogLevel = 'debug'): { logger: Logger; raw: string[]; lines: () => LogLine[]; events: () => string[] } {
  const raw: string[] = [];
  let partial = '';
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      partial += chunk.toString('utf8');
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      raw.push(...parts.filter(Boolean));
      cb();
    },
  });
  const logger = createLogger({ level, destination });
  const lines = (): LogLine[] => raw.map((l) => JSON.parse(l) as LogLine);
  return { logger, raw, lines, events: () => lines().map((l) => l.event ?? '') };
}

/** The same, as a live array of parsed lines (what the button and display tests read). */
export function captureLog(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), lines };
}
