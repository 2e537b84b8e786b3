// `node --import ./register.mjs`: appends "<pid> <url>" to $MODULE_LOG for every ES module the
// process resolves (tests use it to see which packages a process loads). Plain JS: it runs before,
// and beside, any TypeScript loader.
import { register } from 'node:module';
import process from 'node:process';

if (process.env.MODULE_LOG) {
  register('./hooks.mjs', import.meta.url, { data: { file: process.env.MODULE_LOG, pid: process.pid } });
}
