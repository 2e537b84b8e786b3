import type { StatusFileContent } from './status-file.js';

/** Three missed heartbeats (30 s each) before the container counts as unhealthy. */
export const DEFAULT_MAX_AGE_MS = 90_000;

export interface HealthVerdict {
  healthy: boolean;
  /** One line for `docker inspect` / `docker ps`. */
  message: string;
}

/**
 * Reads what the agent wrote to status.json (undefined: no file) and decides. Healthy means: the
 * agent says so AND it said so recently (a stale file is a stalled event loop or a dead process).
 */
export function judgeHealth(text: string | undefined, nowMs: number, maxAgeMs: number = DEFAULT_MAX_AGE_MS): HealthVerdict {
  if (text === undefined) return { healthy: false, message: 'no status file yet: the agent has not started (or cannot write its state directory)' };
  let status: Partial<StatusFileContent>;
  try {
    status = JSON.parse(text) as Partial<StatusFileContent>;
  } catch {
    return { healthy: false, message: 'the status file is not JSON' };
  }
  const updatedAt = typeof status.updatedAt === 'string' ? Date.parse(status.updatedAt) : Number.NaN;
  if (typeof status.state !== 'string' || typeof status.healthy !== 'boolean' || Number.isNaN(updatedAt)) {
    return { healthy: false, message: 'the status file lacks state, healthy or updatedAt' };
  }
  const ageSec = Math.round((nowMs - updatedAt) / 1000);
  const what = status.detail ? `${status.state} (${status.detail})` : status.state;
  if (nowMs - updatedAt > maxAgeMs) {
    return { healthy: false, message: `${what}, but not updated for ${ageSec} s: the agent is stalled or stopped` };
  }
  if (status.state === 'stopped') return { healthy: false, message: 'the agent has stopped' };
  if (!status.healthy) return { healthy: false, message: `${what}: needs attention` };
  return { healthy: true, message: `${what}, updated ${ageSec} s ago` };
}
