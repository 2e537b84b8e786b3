import { findConfigFile } from '../config/locate.js';
import { loadConfigFile } from '../config/load.js';

/**
 * `graph-device-agent check-config`: validates the configuration and prints it with every default
 * filled in. A bad file throws ConfigError (exit 78, the report names the field and the fix).
 */
export function checkConfigCommand(options: { configPath?: string | undefined }): number {
  const config = loadConfigFile(findConfigFile(options.configPath));
  process.stdout.write(`${JSON.stringify(config, null, 2)}\nconfiguration OK: ${config.configFile}\n`);
  return 0;
}
