#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { ConfigError, EXIT_CONFIG } from './config/errors.js';
import { findConfigFile } from './config/locate.js';

/**
 * graph-device-agent: argv → one command. Kept small and free of heavy imports (each command loads
 * what it needs), so `run` draws its first frame before the schema library, the logger and
 * msal-node are loaded.
 */

const USAGE = `Usage: graph-device-agent [command] [options]

Commands:
  run            run the agent (the default): sign in, show the code, call Graph on schedule
  login          sign in with a device code in this terminal (--show: draw the screen too)
  logout         remove the signed-in account from the token cache (--all: every account)
  status         account, token lifetimes, key source, cache file, agent, last Graph (--json)
  rekey          re-encrypt the token cache under a new key (--new-key-file FILE); stop the agent first
  run-job NAME   run one Graph job once with the cached sign-in and print its result (--json)
  hw-test        draw a test pattern on the display, then test a press and a hold of the button
  check-config   validate the configuration and print it with defaults filled in
  keygen         create a token-cache key file (--out FILE, --force to replace)

Options:
  -c, --config FILE   the configuration file (default: $GRAPH_DEVICE_AGENT_CONFIG,
                      /etc/graph-device-agent/config.json, ./parameters.json)
  -h, --help          this help
  -v, --version       the version

Signals while running: SIGUSR1 = a short button press (new code / refresh now),
SIGUSR2 = a button hold (sign out), SIGTERM/SIGINT = stop.
Exit codes: 0 stopped, 1 unexpected error, 78 configuration error (systemd will not restart).`;

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        out: { type: 'string' },
        force: { type: 'boolean' },
        json: { type: 'boolean' },
        all: { type: 'boolean' },
        show: { type: 'boolean' },
        'new-key-file': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    return 64; // EX_USAGE
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const command = positionals[0] ?? 'run';
  let early: import('./app/early-display.js').EarlyDisplay | undefined;
  try {
    switch (command) {
      case 'run': {
        // Until the signal button is listening, SIGUSR1 would open Node's debugger: ignore it.
        process.on('SIGUSR1', () => undefined);
        const file = findConfigFile(values.config);
        const { openEarlyDisplay } = await import('./app/early-display.js');
        early = await openEarlyDisplay(file);
        // Checked in a child process, so the daemon never holds the checker (see load-in-child.ts).
        const { loadConfigInChild } = await import('./config/load-in-child.js');
        const config = await loadConfigInChild(file);
        const { runDaemon } = await import('./commands/run.js');
        return await runDaemon(config, { ...(early ? { early } : {}) });
      }
      case 'check-config': {
        const { loadConfigFile } = await import('./config/load.js');
        const config = loadConfigFile(findConfigFile(values.config));
        process.stdout.write(`${JSON.stringify(config, null, 2)}\nconfiguration OK: ${config.configFile}\n`);
        return 0;
      }
      case 'login': {
        const { loginCommand } = await import('./commands/login.js');
        return await loginCommand({ configPath: values.config, show: values.show ?? false });
      }
      case 'logout': {
        const { logoutCommand } = await import('./commands/logout.js');
        return await logoutCommand({ configPath: values.config, all: values.all ?? false });
      }
      case 'status': {
        const { statusCommand } = await import('./commands/status.js');
        return await statusCommand({ configPath: values.config, json: values.json ?? false });
      }
      case 'rekey': {
        const { rekeyCommand } = await import('./commands/rekey.js');
        return await rekeyCommand({ configPath: values.config, newKeyFile: values['new-key-file'] });
      }
      case 'run-job': {
        const name = positionals[1];
        if (!name) {
          process.stderr.write(`run-job needs a job name\n\n${USAGE}\n`);
          return 64;
        }
        const { runJobCommand } = await import('./commands/run-job.js');
        return await runJobCommand({ name, json: values.json ?? false, ...(values.config ? { configPath: values.config } : {}) });
      }
      case 'hw-test': {
        const { hwTestCommand } = await import('./commands/hw-test.js');
        return await hwTestCommand({ configPath: values.config });
      }
      case 'keygen': {
        const { keygen } = await import('./commands/keygen.js');
        return await keygen({ out: values.out, force: values.force ?? false, configPath: values.config });
      }
      default:
        process.stderr.write(`unknown command "${command}"\n\n${USAGE}\n`);
        return 64;
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.report()}\n`);
      // Also one JSON line for the journal, so `journalctl -p err` shows why the service stopped.
      const { createLogger } = await import('./log.js');
      const logger = createLogger({ destination: process.stdout });
      early?.logger.attach(logger);
      logger.error({ event: 'config.invalid', file: err.file, problems: err.problems }, err.report());
      if (command === 'run') {
        const { showConfigProblem } = await import('./app/config-problem-screen.js');
        await showConfigProblem(err, early?.display);
      }
      return EXIT_CONFIG;
    }
    throw err;
  }
}

function version(): string {
  // dist/src/cli.js when installed, src/cli.ts under tsx: the package.json is one or two folders up.
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'graph-device-agent') return pkg.version;
    } catch {
      // try the next place
    }
  }
  return 'unknown';
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`graph-device-agent: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
