import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.js';
import type { JobRun } from './jobs.js';
import { writeJsonAtomic } from './output.js';
import { scrubSecrets } from '../net/scrub.js';
import { runtimeFileCandidates } from '../service/status-location.js';

// The last Graph results, for `graph-device-agent status`: the agent writes, the command reads.

/**
 * `last-graph.json`: the agent writes it after every Graph job run (see {@link recordGraphRun}),
 * in its runtime directory (/run under systemd: a tmpfs, so job runs do not wear the SD card), else
 * the state folder.
 */
export const LAST_GRAPH_FILE = 'last-graph.json';

export interface GraphRunSummary {
  job: string;
  path: string;
  ok: boolean;
  /** ISO 8601, when the run ended. */
  at: string;
  durationMs: number;
  status?: number;
  /** Why it failed: forbidden, not-found, throttled, server, network, unauthorized, ... */
  kind?: string;
  /** One line a person understands (a failure), or the screen line (a success). */
  message?: string;
  line?: string;
  requestId?: string;
}

export interface LastGraphFile {
  /** The newest run of any job. */
  last: GraphRunSummary;
  /** The newest run of each job. */
  jobs: Record<string, GraphRunSummary>;
}

export function summarizeGraphRun(run: JobRun): GraphRunSummary {
  const r = run.result;
  return {
    job: run.job,
    path: run.path,
    ok: run.ok,
    at: new Date(Date.parse(run.startedAt) + run.durationMs).toISOString(),
    durationMs: run.durationMs,
    ...(r.status !== undefined ? { status: r.status } : {}),
    // The client scrubs Graph's words already; again here because this file outlives the log.
    ...(!r.ok ? { kind: r.kind, message: scrubSecrets(r.message) } : {}),
    ...(run.line !== undefined ? { line: run.line } : {}),
    ...(r.requestId !== undefined ? { requestId: r.requestId } : {}),
  };
}

/**
 * For the agent: records a finished Graph job in `DIR/last-graph.json` (atomically, 0600: the
 * screen lines name a person), DIR being the runtime directory. Never rejects; a failed write is logged at debug (it is only for
 * `status`). Job results hold no token.
 */
export async function recordGraphRun(directory: string, run: JobRun, logger?: Logger): Promise<void> {
  const file = path.join(directory, LAST_GRAPH_FILE);
  const summary = summarizeGraphRun(run);
  const previous = await readLastGraphFile(file);
  const content: LastGraphFile = { last: summary, jobs: { ...(previous?.jobs ?? {}), [run.job]: summary } };
  try {
    await writeJsonAtomic(file, content);
  } catch (err) {
    logger?.debug({ event: 'status.last_graph_failed', file, error: (err as Error).message }, `could not write ${file}`);
  }
}

/** The newest last-graph.json of the places the agent may keep it (see runtimeFileCandidates). */
export async function readLastGraph(stateDirectory: string, env: NodeJS.ProcessEnv = process.env): Promise<LastGraphFile | null> {
  let newest: LastGraphFile | null = null;
  for (const file of runtimeFileCandidates(LAST_GRAPH_FILE, env, stateDirectory)) {
    const found = await readLastGraphFile(file);
    if (found && (!newest || Date.parse(found.last.at) > Date.parse(newest.last.at))) newest = found;
  }
  return newest;
}

async function readLastGraphFile(file: string): Promise<LastGraphFile | null> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as LastGraphFile;
    return typeof parsed === 'object' && parsed !== null && typeof parsed.last === 'object' && parsed.last !== null ? parsed : null;
  } catch {
    return null;
  }
}
