/**
 * The child process of load-in-child.ts: checks the configuration file named on the command line and
 * prints one JSON reply on stdout (see ChildReply). Exits 0 whether the file is good or bad: the
 * reply says which. Anything else (a crash) leaves stdout without a reply, which the parent reports.
 */
import { ConfigError } from './errors.js';
import { loadConfigFile } from './load.js';
import type { ChildReply } from './load-in-child.js';

const file = process.argv[2];
let reply: ChildReply;
if (!file) {
  reply = { ok: false, file: undefined, problems: ['no configuration file was named: pass its path'] };
} else {
  try {
    reply = { ok: true, config: loadConfigFile(file) };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    reply = { ok: false, file: err.file, problems: err.problems };
  }
}
// On Linux a write to a pipe is synchronous: the reply is out before the process ends.
process.stdout.write(JSON.stringify(reply));
