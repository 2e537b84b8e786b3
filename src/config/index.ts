export { ConfigError, EXIT_CONFIG } from './errors.js';
export { loadConfigFile, parseConfig, findConfigFile, resolveDisplay, type ResolvedConfig } from './load.js';
export type { Config, GraphJobConfig } from './schema.js';
