import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The node flags the service runs the agent with: the words between `node` and the script in
 * ExecStart= of systemd/graph-device-agent.service. Tests and the bench that run the agent as
 * deployed take them from here, so they cannot drift from the unit.
 */
export function serviceNodeFlags(): string[] {
  const unit = readFileSync(path.join(REPO, 'systemd/graph-device-agent.service'), 'utf8');
  const execStart = /^ExecStart=(.*)$/m.exec(unit)?.[1];
  if (!execStart) throw new Error('no ExecStart= in systemd/graph-device-agent.service');
  const flags: string[] = [];
  for (const word of execStart.trim().split(/\s+/).slice(1)) {
    if (!word.startsWith('--')) break;
    flags.push(word);
  }
  return flags;
}
