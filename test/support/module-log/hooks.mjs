// The module hooks of register.mjs. They run on Node's loader thread, in the same process.
import { appendFileSync } from 'node:fs';

let target;

export async function initialize(data) {
  target = data;
}

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  if (target) appendFileSync(target.file, `${target.pid} ${resolved.url}\n`);
  return resolved;
}
