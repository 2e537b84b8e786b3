import path from 'node:path';

/**
 * Where status.json lives. Under systemd it goes to the service's RuntimeDirectory= (tmpfs,
 * `$RUNTIME_DIRECTORY`, /run/graph-device-agent): the agent rewrites it every 30 s, and a Pi's
 * SD card wears out with small writes; it need not survive a reboot. Elsewhere (a terminal, a
 * container without `RUNTIME_DIRECTORY`) it stays in the state directory.
 */

export const STATUS_FILE_NAME = 'status.json';
/** The unit's RuntimeDirectory=graph-device-agent, for commands run outside the unit (sudo … status). */
export const SERVICE_RUNTIME_DIRECTORY = '/run/graph-device-agent';

/** The folder the running agent writes status.json to. */
export function runtimeDirectory(env: NodeJS.ProcessEnv, stateDirectory: string): string {
  // systemd sets a colon-separated list; ours has one entry.
  return env.RUNTIME_DIRECTORY?.split(':')[0] || stateDirectory;
}

/**
 * Where a command looks for the agent's status.json, in order: the runtime directory it was told,
 * the service's, the state directory (an agent started by hand, or an older version). The reader
 * takes the newest of those that exist.
 */
export function statusFileCandidates(env: NodeJS.ProcessEnv, stateDirectory: string): string[] {
  return runtimeFileCandidates(STATUS_FILE_NAME, env, stateDirectory);
}

/**
 * The same places for any file the agent keeps in its runtime directory (status.json,
 * last-graph.json): what changes with every beat or job run, and need not survive a reboot.
 */
export function runtimeFileCandidates(name: string, env: NodeJS.ProcessEnv, stateDirectory: string): string[] {
  const dirs = [runtimeDirectory(env, stateDirectory), SERVICE_RUNTIME_DIRECTORY, stateDirectory];
  return [...new Set(dirs.map((d) => path.join(d, name)))];
}
