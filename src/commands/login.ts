import type { ResolvedConfig } from '../config/load.js';
import type { Logger } from '../log.js';
import { HttpsClient } from '../net/https.js';
import { msalIdentityOptions } from '../app/identity-and-graph.js';
import { MsalIdentity } from '../auth/msal-identity.js';
import { MsalNetworkClient } from '../auth/network.js';
import { SignInFailedError } from '../auth/identity.js';
import type { DeviceCode } from '../agent/machine.js';
import type { Display } from '../display/display.js';
import { TerminalDisplay } from '../display/terminal.js';
import { renderScreen, type Screen } from '../display/screens.js';
import { commandContext, readAgentProcess, type CommandIo } from './status.js';
import { describeAccount, openCommandCache } from './logout.js';

/**
 * `graph-device-agent login [--show]`: a device code sign-in in the terminal, for setting the
 * device up over SSH. Prints the code and the address; `--show` also draws the OLED screen in the
 * terminal, and the real panel (or PNG mirror) shows it too when the agent is not running (when
 * it is, the panel is the agent's). The tokens go to the shared cache under its lock, so a running
 * agent finds them at its next look at the cache. Signing in replaces the account that was
 * signed in before: the device shows one person.
 *
 * Exit codes: 0 signed in, 1 the sign-in did not complete, 130 cancelled (Ctrl-C).
 */

export interface LoginOptions extends CommandIo {
  /** Draw the device's screen in the terminal too. */
  show?: boolean;
  /** Cancels the sign-in (as Ctrl-C does). */
  signal?: AbortSignal;
}

/** How often the countdown on the screens is redrawn. */
const REDRAW_MS = 10_000;

export async function loginCommand(options: LoginOptions): Promise<number> {
  const ctx = commandContext(options);
  const { config, logger, out } = ctx;
  const opened = await openCommandCache(ctx);
  if ('refused' in opened) {
    ctx.stderr.write(`${opened.refused}\n`);
    return 1;
  }
  const { plugin, app } = opened;
  const before = await app.getTokenCache().getAllAccounts();
  const agent = await readAgentProcess(config.stateDirectory);
  if (agent?.running) {
    out(`The agent is running (pid ${agent.pid}) on this token cache: it picks up this sign-in from the cache.\n`);
  }
  if (before.length > 0) out(`Signed in now: ${before.map(describeAccount).join(', ')}. A new sign-in replaces it.\n`);

  const http = HttpsClient.fromCaFile(config.network.caFile);
  const identity = new MsalIdentity(msalIdentityOptions(config, logger, {
    cachePlugin: plugin,
    networkClient: new MsalNetworkClient({ http, timeoutMs: config.network.timeoutSec * 1000, logger }),
  }));
  const screens = await openScreens(config, logger, {
    terminal: options.show ? options.stdout ?? process.stdout : undefined,
    panel: !agent?.running,
  });

  const attempt = identity.startDeviceCode((code: DeviceCode) => {
    const minutes = Math.max(1, Math.round((code.expiresAt - Date.now()) / 60_000));
    out(`To sign in, open ${code.verificationUri} and enter the code ${code.userCode} (valid for ${minutes} min). Ctrl-C cancels.\n`);
    void screens.show({ kind: 'device-code', userCode: code.userCode, verificationUri: code.verificationUri, issuedAt: code.issuedAt, expiresAt: code.expiresAt });
  });
  let cancelled = false;
  const cancel = (): void => {
    cancelled = true;
    attempt.cancel();
  };
  process.once('SIGINT', cancel);
  options.signal?.addEventListener('abort', cancel, { once: true });

  try {
    const account = await attempt.result;
    // The device shows one person: the accounts from before go (with the lock, like any write).
    const cache = app.getTokenCache();
    for (const old of await cache.getAllAccounts()) {
      if (old.homeAccountId === account.homeAccountId) continue;
      await cache.removeAccount(old);
      out(`Signed out ${describeAccount(old)}.\n`);
    }
    out(`Signed in as ${account.username}${account.name !== account.username ? ` (${account.name})` : ''}.\n`);
    if (agent?.running) out('The running agent uses this account from its next look at the token cache.\n');
    await screens.show({ kind: 'signed-in', name: account.name, lines: ['Signed in'], online: true });
    return 0;
  } catch (err) {
    if (!(err instanceof SignInFailedError)) throw err;
    if (cancelled) {
      out('Sign-in cancelled.\n');
      return 130;
    }
    const f = err.failure;
    ctx.stderr.write(`Sign-in did not complete: ${f.reason}${f.action ? ` ${f.action}` : ''} (${err.detail})\n`);
    await screens.show({ kind: 'message', title: 'Sign-in failed', reason: f.reason, ...(f.action ? { action: f.action } : {}), tone: 'error' });
    return 1;
  } finally {
    process.off('SIGINT', cancel);
    options.signal?.removeEventListener('abort', cancel);
    await screens.close();
    http.close();
  }
}

interface Screens {
  show(screen: Screen): Promise<void>;
  close(): Promise<void>;
}

/**
 * The terminal (--show) and, when the agent is not using it, the configured panel or PNG mirror.
 * A display that fails is logged and left out: the code is printed as text anyway.
 */
async function openScreens(config: ResolvedConfig, logger: Logger, which: { terminal: NodeJS.WritableStream | undefined; panel: boolean }): Promise<Screens> {
  const size = { width: config.display.width, height: config.display.height };
  const displays: Display[] = [];
  if (which.terminal) displays.push(new TerminalDisplay({ ...size, output: which.terminal, label: `SSD1306 ${size.width}x${size.height}` }));
  const d = config.display;
  if (which.panel && (d.driver === 'ssd1306' || d.driver === 'png' || d.pngPath)) {
    try {
      const { createDisplay } = await import('../app/displays.js');
      // The panel only: the terminal driver would draw on our stdout a second time.
      displays.push(await createDisplay({ ...config, display: { ...d, driver: d.driver === 'terminal' ? 'none' : d.driver } }, logger));
    } catch (err) {
      logger.warn({ event: 'display.failed', error: (err as Error).message }, `the display is not available: ${(err as Error).message}`);
    }
  }
  const opened: Display[] = [];
  for (const display of displays) {
    try {
      await display.open();
      opened.push(display);
    } catch (err) {
      logger.warn({ event: 'display.failed', display: display.name, error: (err as Error).message }, `cannot open the ${display.name} display: ${(err as Error).message}`);
    }
  }
  let current: Screen | undefined;
  let timer: NodeJS.Timeout | undefined;
  const draw = async (): Promise<void> => {
    if (!current) return;
    const frame = renderScreen(current, Date.now(), size);
    await Promise.all(opened.map((display) => display.show(frame).catch((err: unknown) => {
      logger.warn({ event: 'display.failed', display: display.name, error: (err as Error).message }, `the ${display.name} display failed: ${(err as Error).message}`);
    })));
  };
  return {
    show: async (screen) => {
      current = screen;
      if (opened.length === 0) return;
      // The device code screen counts down.
      if (!timer && screen.kind === 'device-code') timer = setInterval(() => void draw(), REDRAW_MS).unref();
      if (screen.kind !== 'device-code' && timer) {
        clearInterval(timer);
        timer = undefined;
      }
      await draw();
    },
    close: async () => {
      if (timer) clearInterval(timer);
      // The last screen stays on a panel (the result of the sign-in) and in the terminal.
      await Promise.all(opened.map((display) => display.close({ blank: false }).catch(() => undefined)));
    },
  };
}
