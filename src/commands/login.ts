import { SignInFailedError, type DeviceCode } from '../auth/identity.js';
import type { Screen } from '../display/screens.js';
import { ScreenSession } from '../display/screen-session.js';
import { openCommandIdentity } from '../app/identity-and-graph.js';
import { createLoginDisplay } from '../app/displays.js';
import { commandContext, describeAccount, readAgentProcess, type CommandIo } from './context.js';

/**
 * `graph-device-agent login [--show]`: a device code sign-in in the terminal, for setting the
 * device up over SSH. Prints the code and the address; `--show` also draws the OLED screen in the
 * terminal, and the real panel (or PNG mirror) shows it too when the agent is not running (when
 * it is, the panel is the agent's). The identity, the displays and the screen session (the
 * countdown redrawn every second) are the daemon's. The tokens go to the shared cache under its
 * lock, so a running agent finds them at its next look at the cache. Signing in replaces the
 * account that was signed in before: the device shows one person.
 *
 * Exit codes: 0 signed in, 1 the sign-in did not complete, 130 cancelled (Ctrl-C).
 */

export interface LoginOptions extends CommandIo {
  /** Draw the device's screen in the terminal too. */
  show?: boolean;
  /** Cancels the sign-in (as Ctrl-C does). */
  signal?: AbortSignal;
}

export async function loginCommand(options: LoginOptions): Promise<number> {
  const ctx = commandContext(options);
  const { config, logger, out } = ctx;
  const opened = await openCommandIdentity(ctx);
  if ('refused' in opened) {
    ctx.stderr.write(`${opened.refused}\n`);
    return 1;
  }
  const { identity } = opened;
  const before = await identity.accounts();
  const agent = await readAgentProcess(config.stateDirectory);
  if (agent?.running) {
    out(`The agent is running (pid ${agent.pid}) on this token cache: it picks up this sign-in from the cache.\n`);
  }
  if (before.length > 0) out(`Signed in now: ${before.map(describeAccount).join(', ')}. A new sign-in replaces it.\n`);

  const display = await createLoginDisplay(config, logger, {
    terminal: options.show ? options.stdout ?? process.stdout : undefined,
    panel: !agent?.running,
  });
  const screens = new ScreenSession({ display, logger, whileFailed: 'the code is printed as text' });
  await screens.open();
  let current: Screen | undefined;
  const show = (screen: Screen): Promise<void> => {
    current = screen;
    // The device code screen counts down; the others stay as drawn.
    if (screen.kind === 'device-code') screens.startCountdown(() => void redraw());
    else screens.stopCountdown();
    return redraw();
  };
  const redraw = (): Promise<void> => {
    const screen = current;
    return screen ? screens.draw(() => screen, () => current !== screen) : Promise.resolve();
  };

  const attempt = identity.startDeviceCode((code: DeviceCode) => {
    const minutes = Math.max(1, Math.round((code.expiresAt - Date.now()) / 60_000));
    out(`To sign in, open ${code.verificationUri} and enter the code ${code.userCode} (valid for ${minutes} min). Ctrl-C cancels.\n`);
    void show({ kind: 'device-code', userCode: code.userCode, verificationUri: code.verificationUri, issuedAt: code.issuedAt, expiresAt: code.expiresAt, device: config.device.label });
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
    for (const old of await identity.accounts()) {
      if (old.homeAccountId === account.homeAccountId) continue;
      await identity.signOutAccount(old);
      out(`Signed out ${describeAccount(old)}.\n`);
    }
    out(`Signed in as ${account.username}${account.name !== account.username ? ` (${account.name})` : ''}.\n`);
    if (agent?.running) out('The running agent uses this account from its next look at the token cache.\n');
    await show({ kind: 'signed-in', name: account.name, lines: ['Signed in'], online: true });
    return 0;
  } catch (err) {
    if (!(err instanceof SignInFailedError)) throw err;
    if (cancelled) {
      out('Sign-in cancelled.\n');
      return 130;
    }
    const f = err.failure;
    ctx.stderr.write(`Sign-in did not complete: ${f.reason}${f.action ? ` ${f.action}` : ''} (${err.detail})\n`);
    await show({ kind: 'message', title: 'Sign-in failed', reason: f.reason, ...(f.action ? { action: f.action } : {}), tone: 'error' });
    return 1;
  } finally {
    process.off('SIGINT', cancel);
    options.signal?.removeEventListener('abort', cancel);
    // The last screen stays on a panel (the result of the sign-in) and in the terminal.
    await screens.close();
    await identity.close();
    opened.close();
  }
}
