import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { configJsonSchemaText } from '../../src/config/json-schema.js';

/** `npm run schema`: writes config/schema.json from the zod schema (test/config/json-schema.test.ts fails when it is stale). */
const file = path.resolve(import.meta.dirname, '../../config/schema.json');
writeFileSync(file, configJsonSchemaText());
console.log(`wrote ${path.relative(process.cwd(), file)}`);
