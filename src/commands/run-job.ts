import { existsSync, statSync } from 'node:fs';
import pino from 'pino';
import { ConfigError, findConfigFile, loadConfigFile } from '../config/index.js';
import type { ResolvedConfig } from '../config/index.js';
import { createLogger, type Logger, type LogLevel } from '../log.js';
import { HttpsClient } from '../net/https.js';
import { NeedsSignInError, TokenUnavailableError } from '../auth/identity.js';
import { resolveKey } from '../auth/key-source.js';
import { GraphJobs, outputRecord, validateJobs, type JobRun } from '../graph/jobs.js';
import { configuredJobs, createGraphClient, createIdentity, createTokenCache } from '../app/identity-and-graph.js';

/**
 * `graph-device-agent run-job NAME [--json]`: runs one configured Graph job once, now, with the
 * agent's cached sign-in and the same Graph client, and prints what it got: to try a new job's
 * path and line before the daemon runs it, or to see why one fails.
 *
 * It never starts a device code sign-in (that is `login`, with a screen or a terminal someone
 * watches), never makes a cache key, and never moves a cache it cannot read aside: that cache may
 * be the running agent's, readable with a key this shell does not have.
 */

export interface RunJobOptions {
  configPath?: string;
  name: string;
  /** Print the run as one JSON document (the output file's shape) instead of the line and the data. */
  json?: boolean;
}

/** Where the command talks; the process's by default (tests pass their own). */
export interface RunJobIo {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /** Log lines; by default JSON on stderr, warnings and errors only unless log.level asks for debug. */
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
  /** The user this runs as; process.getuid() by default. */
  uid?: number;
}

export const SIGN_IN_FIRST = 'sign in first: graph-device-agent login';

/** Returns the exit code: 0 when the job got its answer, 1 otherwise. A bad config throws ConfigError (78). */
export async function runJobCommand(options: RunJobOptions, io: RunJobIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const env = io.env ?? process.env;
  const say = (stream: NodeJS.WritableStream, text: string): void => void stream.write(`${text}\n`);

  const config = loadConfigFile(findConfigFile(options.configPath, env), env);
  const logger = io.logger ?? createLogger({ level: commandLogLevel(config.log.level), destination: pino.destination({ dest: 2, sync: true }) });
  const specs = configuredJobs(config);
  const problems = validateJobs(specs);
  if (problems.length > 0) throw new ConfigError(config.configFile, problems.map((p) => `graph.jobs: ${p}`));
  const spec = specs.find((j) => j.name === options.name);
  if (!spec) {
    say(stderr, `no job named "${options.name}" in ${config.configFile ?? 'the configuration'}; the jobs are: ${specs.map((j) => j.name).join(', ')}`);
    return 1;
  }

  if (!existsSync(config.cache.path)) {
    say(stderr, `${SIGN_IN_FIRST} (there is no token cache at ${config.cache.path})`);
    return 1;
  }
  const notOwner = ownershipProblem(config, io.uid ?? process.getuid?.(), options.name);
  if (notOwner) {
    say(stderr, notOwner);
    return 1;
  }
  const { key } = await resolveKey({ config, logger, env, create: false });
  // Checked without msal: msal's cache plugin would move an unreadable file aside.
  const status = await createTokenCache(config, logger, key).status();
  if (!status.readable) {
    say(stderr, `the token cache cannot be used here: ${status.unreadableMessage ?? 'unreadable'}; ` +
      `is this the key the agent uses? If the agent cannot read it either, ${SIGN_IN_FIRST}`);
    return 1;
  }

  const http = HttpsClient.fromCaFile(config.network.caFile);
  const identity = createIdentity(config, logger, { key, http });
  try {
    const silent = await identity.trySilent();
    if (silent.kind === 'needs-sign-in') {
      say(stderr, `${SIGN_IN_FIRST} (${silent.why ?? 'no usable sign-in in the token cache'})`);
      return 1;
    }
    const jobs = new GraphJobs({
      client: createGraphClient(config, logger, { http, tokens: identity }),
      jobs: [spec],
      logger: logger.child({ component: 'jobs' }),
      onResult: () => undefined,
      lineTimeZone: config.graph.timeZone,
    });
    let run: JobRun;
    try {
      run = await jobs.runOne(spec.name);
    } catch (err) {
      if (err instanceof NeedsSignInError) {
        say(stderr, `${SIGN_IN_FIRST} (${err.why})`);
        return 1;
      }
      if (err instanceof TokenUnavailableError) {
        say(stderr, `no access token for Graph now (${err.message}): check the network, then try again`);
        return 1;
      }
      throw err;
    }
    printRun(run, options.json ?? false, (text) => say(stdout, text), (text) => say(stderr, text));
    return run.ok ? 0 : 1;
  } finally {
    await identity.close();
    http.close();
  }
}

function printRun(run: JobRun, json: boolean, out: (text: string) => void, err: (text: string) => void): void {
  const { result } = run;
  if (json) {
    out(JSON.stringify(outputRecord(run, result), null, 2));
    return;
  }
  if (run.line !== undefined) out(run.line);
  if (result.ok) {
    out(JSON.stringify(result.data, null, 2));
    return;
  }
  if (run.ok) return; // an expected 404 with its notFoundLine: the line says it all
  const ids = result.requestId ? ` (request-id ${result.requestId})` : '';
  err(`job ${run.job} failed: ${result.message}${ids}`);
}

/**
 * A cache refreshed by another user (root over SSH) would belong to that user, and the agent
 * could no longer read its own sign-in: refuse instead.
 */
function ownershipProblem(config: ResolvedConfig, uid: number | undefined, name: string): string | undefined {
  if (uid === undefined) return undefined;
  const owner = statSync(config.cache.path).uid;
  if (owner === uid) return undefined;
  return `the token cache ${config.cache.path} belongs to uid ${owner} and this runs as uid ${uid}: ` +
    'a token refresh would leave the agent a cache it cannot read. Run it as the agent\'s user ' +
    `(e.g. sudo -u '#${owner}' graph-device-agent run-job ${name}, with the agent's key)`;
}

/** A command's stderr is for people: only warnings and errors, unless the config asks for debug. */
function commandLogLevel(level: LogLevel): LogLevel {
  return level === 'debug' || level === 'trace' ? level : 'warn';
}
