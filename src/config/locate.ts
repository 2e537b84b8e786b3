import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './errors.js';

// Finding the file is kept apart from validating it (zod), so `run` can draw its first frame
// before the schema library is even loaded.

/** Where `run` looks when no `--config` is given, in order. */
export function defaultConfigCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  return [
    env.GRAPH_DEVICE_AGENT_CONFIG,
    '/etc/graph-device-agent/config.json',
    path.resolve('parameters.json'), // Microsoft's Python sample keeps its settings here
  ].filter((p): p is string => Boolean(p));
}

export function findConfigFile(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) return path.resolve(explicit);
  const found = defaultConfigCandidates(env).find((p) => existsSync(p));
  if (!found) {
    throw new ConfigError(undefined, [
      `no configuration file found (looked in ${defaultConfigCandidates(env).join(', ')}): ` +
        'copy config/config.example.json to /etc/graph-device-agent/config.json, set auth.clientId, or pass --config FILE',
    ]);
  }
  return found;
}
