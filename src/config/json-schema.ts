import { z } from 'zod';
import { ConfigSchema, PythonSampleSchema } from './schema.js';

/**
 * config/schema.json: the configuration's JSON Schema, generated from the zod schema, so editors
 * (VS Code, with `"$schema": "./schema.json"` in the file) complete settings, show their meaning
 * and flag a wrong value while it is typed. `npm run schema` writes it; a test fails when it is
 * stale. Draft-07, which VS Code understands fully. Only the development tools and the tests load
 * this module.
 */

type JsonSchema = Record<string, unknown> & {
  properties?: Record<string, JsonSchema>;
  required?: string[];
};

export function configJsonSchema(): JsonSchema {
  // What a person writes ("input"): a setting with a default may be left out.
  const options = {
    target: 'draft-07',
    io: 'input',
    // zod marks startsWith() with a format of its own; the pattern beside it says the same in JSON Schema.
    override: ({ jsonSchema }: { jsonSchema: { format?: string } }) => {
      if (jsonSchema.format === 'starts_with') delete jsonSchema.format;
    },
  } as const;
  const config = z.toJSONSchema(ConfigSchema, options) as JsonSchema;
  const sample = z.toJSONSchema(PythonSampleSchema, options) as JsonSchema;
  const { $schema, properties, required: _required, ...rest } = config;
  const auth = properties!.auth!;
  const { required: authRequired, ...authRest } = auth;
  return {
    $schema,
    title: 'graph-device-agent configuration',
    description: 'The configuration file of graph-device-agent (/etc/graph-device-agent/config.json). Everything but auth.clientId has a default. Microsoft\'s Python sample\'s parameters.json keys (authority, client_id, scope, endpoint) are accepted at the top level.',
    ...rest,
    properties: { ...properties, auth: authRest, ...sample.properties },
    // The client id is needed once: as auth.clientId, or as the Python sample's client_id.
    anyOf: [
      { required: ['auth'], properties: { auth: { required: authRequired ?? ['clientId'] } } },
      { required: ['client_id'] },
    ],
  };
}

/** The file's text: two-space JSON and a final newline, as the other files in config/. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
