import { readFile } from 'node:fs/promises';
import pino from 'pino';
import type { ConfigError } from '../config/errors.js';
import { findConfigFile, loadConfigFile, type ResolvedConfig } from '../config/load.js';
import { createLogger, type Logger } from '../log.js';
import type { Account } from '../auth/identity.js';
import type { StatusFileContent } from '../service/status-file.js';
import { statusFileCandidates } from '../service/status-location.js';

/**
 * What the commands share: loading the configuration, their output and logger, finding out
 * whether the agent is running (its status.json), naming an account, reporting a bad
 * configuration. The adapters they use come from app/, like the daemon's.
 */

export interface CommandIo {
  /** -c/--config; the usual search otherwise. */
  configPath?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Where the command's text goes; process.stdout by default. */
  stdout?: NodeJS.WritableStream;
  /** Warnings (JSON lines) and errors; process.stderr by default. */
  stderr?: NodeJS.WritableStream;
}

export interface CommandContext {
  config: ResolvedConfig;
  env: NodeJS.ProcessEnv;
  out: (text: string) => void;
  /** Warnings and errors as JSON lines on stderr; info and below are dropped (the text says it). */
  logger: Logger;
  stderr: NodeJS.WritableStream;
}

export function commandContext(options: CommandIo): CommandContext {
  const env = options.env ?? process.env;
  const config = loadConfigFile(findConfigFile(options.configPath, env), env);
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const destination = options.stderr ? (stderr as unknown as pino.DestinationStream) : pino.destination({ dest: 2, sync: true });
  return { config, env, stderr, out: (text) => void stdout.write(text), logger: createLogger({ level: 'warn', destination }) };
}

/** The agent's status.json (src/service/status-file.ts), with what can be told about its process. */
export interface AgentProcess extends Partial<StatusFileContent> {
  /** The file's path. */
  file: string;
  /** The process is alive, has not said "stopped" and updated the file lately. */
  running: boolean;
  /** Seconds since the last update. */
  ageSec?: number;
}

/** The agent rewrites status.json at least every 30 s (DEFAULT_HEARTBEAT_MS); three missed beats and it is not trusted. */
const STATUS_FRESH_MS = 90_000;

export async function readAgentProcess(stateDirectory: string, now = Date.now(), env: NodeJS.ProcessEnv = process.env): Promise<AgentProcess | null> {
  // The newest of the places the agent may write it (/run under systemd, else the state folder).
  let found: { file: string; content: Partial<StatusFileContent>; at: number } | undefined;
  for (const candidate of statusFileCandidates(env, stateDirectory)) {
    try {
      const parsed = JSON.parse(await readFile(candidate, 'utf8')) as Partial<StatusFileContent>;
      const at = typeof parsed.updatedAt === 'string' ? Date.parse(parsed.updatedAt) || 0 : 0;
      if (!found || at > found.at) found = { file: candidate, content: parsed, at };
    } catch {
      // not there, or not ours to read: try the next place
    }
  }
  if (!found) return null;
  const { file, content } = found;
  const updated = typeof content.updatedAt === 'string' ? Date.parse(content.updatedAt) : NaN;
  const ageSec = Number.isNaN(updated) ? undefined : Math.max(0, Math.round((now - updated) / 1000));
  const alive = typeof content.pid === 'number' && isAlive(content.pid);
  // A pid alone is not proof: the file survives reboots and pids are reused.
  const running = alive && content.state !== 'stopped' && ageSec !== undefined && ageSec * 1000 <= STATUS_FRESH_MS;
  return { ...content, file, running, ...(ageSec !== undefined ? { ageSec } : {}) };
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** "user@example.com (Display Name)". */
export function describeAccount(a: Account): string {
  return a.name && a.name !== a.username ? `${a.username} (${a.name})` : a.username;
}

/**
 * A bad configuration: the report on stderr, and one JSON line for the journal, so
 * `journalctl -p err` shows why the service stopped. Returns that logger (for what follows).
 * `into`: the running daemon's logger (a problem found while running: commands/run.ts).
 */
export function reportConfigError(err: ConfigError, beforeLine?: (logger: Logger) => void, into?: Logger): Logger {
  process.stderr.write(`${err.report()}\n`);
  const logger = into ?? createLogger({ destination: process.stdout });
  // Lines kept until now (the early display's) go first: this one is the last word.
  beforeLine?.(logger);
  logger.error({ event: 'config.invalid', file: err.file, problems: err.problems }, err.report());
  return logger;
}
