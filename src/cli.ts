#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { realpathSync } from 'node:fs';
import { packageVersion } from './version.js';
import { fileURLToPath } from 'node:url';
import { ConfigError, EXIT_CONFIG } from './config/errors.js';

/**
 * graph-device-agent: argv → one command of the table below. Kept small and free of heavy imports
 * (each command's module is imported only when it runs, and loads what it needs), so `run` draws
 * its first frame before the schema library, the logger and msal-node are loaded.
 */

interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** The value's name in the help (FILE). */
  value?: string;
  help: string;
}

/** What a command gets from the command line. */
interface CommandCall {
  configPath: string | undefined;
  /** Its required arguments, in the order of {@link CommandSpec.args}. */
  args: string[];
  flag(name: string): boolean;
  text(name: string): string | undefined;
}

interface CommandSpec {
  name: string;
  /** Required arguments, by the name the usage shows (run-job's NAME). */
  args?: string[];
  /** The one line `--help` shows for it. */
  help: string;
  /** Its own options (the global ones, --config, --help and --version, come on top). */
  options: Readonly<Record<string, OptionSpec>>;
  /** More lines for `COMMAND --help`. */
  more?: string;
  /** Imports the command's module (only when it runs) and runs it; resolves to the exit code. */
  run(call: CommandCall): Promise<number>;
}

const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  config: {
    type: 'string',
    short: 'c',
    value: 'FILE',
    help: 'the configuration file (default: $GRAPH_DEVICE_AGENT_CONFIG,\n/etc/graph-device-agent/config.json, ./parameters.json)',
  },
  help: { type: 'boolean', short: 'h', help: 'this help; COMMAND --help: the command\'s' },
  version: { type: 'boolean', short: 'v', help: 'the version' },
};

const SIGNALS = `Signals while running: SIGUSR1 = a short button press (new code / refresh now),
SIGUSR2 = a button hold (sign out), SIGTERM/SIGINT = stop.
Exit codes: 0 stopped, 1 unexpected error, 78 configuration error (systemd will not restart).`;

const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'run',
    help: 'run the agent (the default): sign in, show the code, call Graph on schedule',
    options: {},
    more: SIGNALS,
    run: async (c) => (await import('./commands/run.js')).runCommand({ configPath: c.configPath }),
  },
  {
    name: 'login',
    help: 'sign in with a device code in this terminal (--show: draw the screen too)',
    options: { show: { type: 'boolean', help: 'draw the device\'s screen in this terminal too' } },
    run: async (c) => (await import('./commands/login.js')).loginCommand({ configPath: c.configPath, show: c.flag('show') }),
  },
  {
    name: 'logout',
    help: 'remove the signed-in account from the token cache (--all: every account)',
    options: { all: { type: 'boolean', help: 'remove every account, not only the one the agent uses' } },
    run: async (c) => (await import('./commands/logout.js')).logoutCommand({ configPath: c.configPath, all: c.flag('all') }),
  },
  {
    name: 'status',
    help: 'account, token lifetimes, key source, cache file, agent, last Graph (--json)',
    options: { json: { type: 'boolean', help: 'the report as one JSON document' } },
    run: async (c) => (await import('./commands/status.js')).statusCommand({ configPath: c.configPath, json: c.flag('json') }),
  },
  {
    name: 'rekey',
    help: 're-encrypt the token cache under a new key (--new-key-file FILE); stop the agent first',
    options: { 'new-key-file': { type: 'string', value: 'FILE', help: 'where the new key goes (default: in place of the key file)' } },
    run: async (c) => (await import('./commands/rekey.js')).rekeyCommand({ configPath: c.configPath, newKeyFile: c.text('new-key-file') }),
  },
  {
    name: 'run-job',
    args: ['NAME'],
    help: 'run one Graph job once with the cached sign-in and print its result (--json)',
    options: { json: { type: 'boolean', help: 'the run as one JSON document (the output file\'s shape)' } },
    run: async (c) => (await import('./commands/run-job.js')).runJobCommand({
      name: c.args[0]!,
      json: c.flag('json'),
      ...(c.configPath ? { configPath: c.configPath } : {}),
    }),
  },
  {
    name: 'hw-test',
    help: 'draw a test pattern on the display, then test a press and a hold of the button',
    options: {},
    run: async (c) => (await import('./commands/hw-test.js')).hwTestCommand({ configPath: c.configPath }),
  },
  {
    name: 'notify-test',
    help: 'send a test notification to every notification target and say what each answered',
    options: {},
    run: async (c) => (await import('./commands/notify-test.js')).notifyTestCommand({ configPath: c.configPath }),
  },
  {
    name: 'check-config',
    help: 'validate the configuration and print it with defaults filled in',
    options: {},
    run: async (c) => (await import('./commands/check-config.js')).checkConfigCommand({ configPath: c.configPath }),
  },
  {
    name: 'keygen',
    help: 'create a token-cache key file (--out FILE, --force to replace)',
    options: {
      out: { type: 'string', value: 'FILE', help: 'where the key goes (default: cache.keyFile, else ./token-cache.key)' },
      force: { type: 'boolean', help: 'replace a key file that exists' },
    },
    run: async (c) => (await import('./commands/keygen.js')).keygen({ out: c.text('out'), force: c.flag('force'), configPath: c.configPath }),
  },
];

const DEFAULT_COMMAND = 'run';
const EX_USAGE = 64;

/** `name ARG` as the usage shows it. */
function signature(spec: CommandSpec): string {
  return [spec.name, ...(spec.args ?? [])].join(' ');
}

function optionLines(options: Readonly<Record<string, OptionSpec>>): string[] {
  const lines: string[] = [];
  for (const [name, o] of Object.entries(options)) {
    const left = `${o.short ? `-${o.short}, ` : ''}--${name}${o.value ? ` ${o.value}` : ''}`;
    const [first, ...rest] = o.help.split('\n');
    lines.push(`  ${left.padEnd(20)}${first}`, ...rest.map((line) => `  ${' '.repeat(20)}${line}`));
  }
  return lines;
}

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => signature(c).length)) + 2;
  return [
    'Usage: graph-device-agent [command] [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${signature(c).padEnd(width)} ${c.help}`),
    '',
    'Options:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    SIGNALS,
  ].join('\n');
}

function commandUsage(spec: CommandSpec): string {
  return [
    `Usage: graph-device-agent ${signature(spec)} [options]`,
    '',
    spec.help,
    '',
    'Options:',
    ...optionLines({ ...spec.options, config: GLOBAL_OPTIONS.config!, help: { type: 'boolean', short: 'h', help: 'this help' } }),
    ...(spec.more ? ['', spec.more] : []),
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  // Every command's options are known to every command, as they always were: one parse.
  const all = Object.assign({}, GLOBAL_OPTIONS, ...COMMANDS.map((c) => c.options)) as Record<string, OptionSpec>;
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: Object.fromEntries(Object.entries(all).map(([name, o]) => [name, { type: o.type, ...(o.short ? { short: o.short } : {}) }])),
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${usage()}\n`);
    return EX_USAGE;
  }
  const { values, positionals } = parsed;
  const name = positionals[0] ?? DEFAULT_COMMAND;
  const spec = COMMANDS.find((c) => c.name === name);
  if (values.help) {
    process.stdout.write(`${spec && positionals[0] ? commandUsage(spec) : usage()}\n`);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  if (!spec) {
    process.stderr.write(`unknown command "${name}"\n\n${usage()}\n`);
    return EX_USAGE;
  }
  const args = positionals.slice(1);
  const missing = (spec.args ?? []).slice(args.length);
  if (missing.length > 0) {
    process.stderr.write(`${spec.name} needs ${missing.join(' and ')}\n\n${commandUsage(spec)}\n`);
    return EX_USAGE;
  }
  const value = (key: string): string | boolean | undefined => (values as Record<string, string | boolean | undefined>)[key];
  try {
    return await spec.run({
      configPath: typeof values.config === 'string' ? values.config : undefined,
      args,
      flag: (key) => value(key) === true,
      text: (key) => {
        const v = value(key);
        return typeof v === 'string' ? v : undefined;
      },
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // `run` reports its own (on the display too); the other commands' end here.
    const { reportConfigError } = await import('./commands/context.js');
    reportConfigError(err);
    return EXIT_CONFIG;
  }
}

/**
 * True when this module is the program (`graph-device-agent`, npm's link to it, `node
 * dist/src/cli.js`), not a module imported by another (the tests of `--help` call main()).
 */
function isProgram(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return true;
  }
}

if (isProgram()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exit(code);
    },
    (err: unknown) => {
      process.stderr.write(`graph-device-agent: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
