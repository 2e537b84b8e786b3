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
