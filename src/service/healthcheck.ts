#!/usr/bin/env node
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_MAX_AGE_MS, judgeHealth } from './health.js';
import { statusFileCandidates } from './status-location.js';

/**
 * Docker's HEALTHCHECK: `node dist/src/service/healthcheck.js` exits 0 (healthy) or 1 (unhealthy)
 * and prints why. It reads status.json from `$RUNTIME_DIRECTORY`, else `$STATE_DIRECTORY` (or
 * `$GRAPH_DEVICE_AGENT_STATUS_FILE`);
 * `$HEALTHCHECK_MAX_AGE_SEC` overrides the 90 s staleness limit. Deliberately tiny: no logger,
 * no config loading, so it costs one bare Node start-up every interval.
 */
function main(env: NodeJS.ProcessEnv): number {
  const stateDir = (env.STATE_DIRECTORY ?? '/var/lib/graph-device-agent').split(':')[0] ?? '';
  const file = env.GRAPH_DEVICE_AGENT_STATUS_FILE ?? statusFileCandidates(env, stateDir).find((f) => existsSync(f)) ?? path.join(stateDir, 'status.json');
  const maxAgeSec = Number(env.HEALTHCHECK_MAX_AGE_SEC);
  const maxAgeMs = Number.isFinite(maxAgeSec) && maxAgeSec > 0 ? maxAgeSec * 1000 : DEFAULT_MAX_AGE_MS;
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      process.stdout.write(`unhealthy: cannot read ${file}: ${(err as Error).message}\n`);
      return 1;
    }
  }
  const verdict = judgeHealth(text, Date.now(), maxAgeMs);
  process.stdout.write(`${verdict.healthy ? 'healthy' : 'unhealthy'}: ${verdict.message}\n`);
  return verdict.healthy ? 0 : 1;
}

process.exitCode = main(process.env);
