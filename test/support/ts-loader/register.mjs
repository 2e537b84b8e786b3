/**
 * `node --import ./test/support/ts-loader/register.mjs`: runs the TypeScript sources as they are,
 * for the tests and every process the tests start (npm test, npm run test:long).
 *
 * Why not tsx, which the dev scripts use: tsx's loader cost each Node process about 0.4 s of CPU
 * before the first line ran, and every import paid a round trip to its hooks thread; the suite
 * starts some 200 processes, and that was a third of `npm test`'s time on 2 cores. This loader
 * does the one thing the tests need (type stripping by esbuild, the transpiler tsx uses, with the
 * same tsconfig settings) and keeps each file's output in a cache, so a warm run never calls
 * esbuild at all.
 */
import { register } from 'node:module';

// Stack traces point into the .ts files (esbuild writes an inline source map).
process.setSourceMapsEnabled(true);
register(new URL('./hooks.mjs', import.meta.url));
