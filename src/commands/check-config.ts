import { readFileSync } from 'node:fs';
import { findConfigFile } from '../config/locate.js';
import { loadConfigFile } from '../config/load.js';
import { readEnvOverrides, valueSources } from '../config/env-overrides.js';

/**
 * `graph-device-agent check-config`: validates the configuration and prints it with every default
 * filled in, then where each value came from (the file, a GDA_ variable, or the default). A bad
 * file or variable throws ConfigError (exit 78, the report names the field, the variable and the fix).
 */
export function checkConfigCommand(options: { configPath?: string | undefined }): number {
  const config = loadConfigFile(findConfigFile(options.configPath));
  process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
  const file = config.configFile ? JSON.parse(readFileSync(config.configFile, 'utf8')) as Record<string, unknown> : {};
  const sources = valueSources(file, readEnvOverrides(process.env).overrides);
  const width = Math.max(...sources.map((s) => s.field.length));
  process.stdout.write(`where each value comes from:\n${sources.map((s) => `  ${s.field.padEnd(width)}  ${s.source}`).join('\n')}\n`);
  process.stdout.write(`configuration OK: ${config.configFile}\n`);
  return 0;
}
