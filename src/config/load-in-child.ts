import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { ConfigError } from './errors.js';
import type { ResolvedConfig } from './load.js';

/**
 * The daemon's configuration, checked in a short-lived child process.
 *
 * Why a process of its own: the schema library (zod) and the rest of the checker are needed once,
 * at start-up, yet a module once loaded stays in memory for the life of the process (Node never
 * unloads an ES module). On a 512 MB board that runs for months, that is about 4 MiB of resident
 * memory for nothing. The child loads them, prints the resolved configuration as JSON and exits;
 * the daemon only parses JSON. It costs one more Node start, after the first frame is already on
 * the panel: 0.14 s and 52 MiB for that moment here (`/usr/bin/time`), expect longer on a Pi.
 *
 * Same answers as loadConfigFile: the same ResolvedConfig, the same ConfigError (field, value and
 * fix) for a bad file. If the child cannot be started at all (no memory for a second process, say),
 * the check runs in this process instead: the daemon then carries the checker, but it runs.
 *
 * A check that has not answered within `timeoutMs` is stopped (SIGKILL) and reported as a
 * ConfigError naming the file: a pathological file (megabytes, deep nesting) must end in exit 78,
 * which systemd does not restart, well before its start timeout, not in a start-up that hangs.
 */
export async function loadConfigInChild(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  options: { timeoutMs?: number } = {},
): Promise<ResolvedConfig> {
  let reply: ChildReply;
  try {
    reply = await runChild(file, env, options.timeoutMs ?? CHECK_TIMEOUT_MS);
  } catch (err) {
    if (!(err instanceof SpawnFailed)) throw err;
    const { loadConfigFile } = await import('./load.js');
    return loadConfigFile(file, env);
  }
  if (reply.ok) return reply.config;
  throw new ConfigError(reply.file, reply.problems);
}

/** What the child prints on stdout: one JSON document. */
export type ChildReply =
  | { ok: true; config: ResolvedConfig }
  | { ok: false; file: string | undefined; problems: string[] };

class SpawnFailed extends Error {}

/**
 * How long the check may take. A good file takes 0.14 s here, a few seconds on a Pi Zero starting
 * up; systemd gives the whole start 90 s (DefaultTimeoutStartSec).
 */
export const CHECK_TIMEOUT_MS = 10_000;

/** The child's entry: this folder's load-in-child-main module, as .js when built and .ts when run from the sources (tsx, or the tests' loader). */
function childEntry(): string {
  const here = fileURLToPath(import.meta.url);
  return path.join(path.dirname(here), `load-in-child-main${path.extname(here)}`);
}

/**
 * The node flags the child gets: this process's loaders (the TypeScript loader in tests) and V8 flags, but never the
 * test runner's or the inspector's, which would turn the child into a test run or a second
 * debugger on the same port.
 */
function childExecArgv(): string[] {
  return process.execArgv.filter((arg) => !/^--(test|inspect|debug)/.test(arg) && arg !== '--watch');
}

function runChild(file: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ChildReply> {
  return new Promise<ChildReply>((resolve, reject) => {
    let child;
    try {
      child = spawn(process.execPath, [...childExecArgv(), childEntry(), file], {
        env: env as Record<string, string>,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      reject(new SpawnFailed((err as Error).message));
      return;
    }
    const out: Buffer[] = [];
    const errText: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => errText.push(d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new SpawnFailed(err.message));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        const seconds = Math.round(timeoutMs / 100) / 10;
        reject(new ConfigError(file, [
          `checking the configuration took longer than ${seconds} s and was stopped: is the file huge or deeply nested? Keep it a small JSON file (see config/*.example.json)`,
        ]));
        return;
      }
      const text = Buffer.concat(out).toString('utf8');
      try {
        const reply = JSON.parse(text) as ChildReply;
        if (typeof reply === 'object' && reply !== null && typeof reply.ok === 'boolean') {
          resolve(reply);
          return;
        }
      } catch {
        // not a reply: reported below
      }
      const why = errorLine(Buffer.concat(errText).toString('utf8'));
      reject(new Error(`the configuration check (a child process) ended with ${signal ?? `exit code ${code}`} and no answer${why ? `: ${why}` : ''}`));
    });
  });
}

/** The line of a crashed Node's stderr that says what went wrong ("Error: Cannot find module ..."). */
function errorLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /^[A-Za-z]*Error( \[\w+\])?: /.test(l)) ?? lines.slice(-3).join(' ');
}
