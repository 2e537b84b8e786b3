import type { Screen } from '../display/screens.js';
import type { State } from './machine.js';

/** What the display shows in each state: a pure function, so the OLED, terminal and PNG agree. */
/** How long a new code says why it is needed (in place of the QR code), before the QR comes back. */
export const WHY_SHOWN_MS = 20_000;

export interface ScreenForOptions {
  /** Which device this is (config device.label), for the code screen. */
  deviceLabel?: string;
}

export function screenFor(state: State, now = Date.now(), options: ScreenForOptions = {}): Screen {
  switch (state.name) {
    case 'starting':
      return { kind: 'starting' };
    case 'checking-cache':
      return { kind: 'starting', detail: 'Checking sign-in' };
    case 'requesting-code':
      return { kind: 'starting', detail: state.why ?? 'Getting a sign-in code' };
    case 'showing-code':
      return {
        kind: 'device-code',
        userCode: state.code.userCode,
        verificationUri: state.code.verificationUri,
        issuedAt: state.code.issuedAt,
        expiresAt: state.code.expiresAt,
        offline: state.offline,
        ...(state.why && now - state.code.issuedAt < WHY_SHOWN_MS ? { notice: state.why } : {}),
        ...(options.deviceLabel ? { device: options.deviceLabel } : {}),
      };
    case 'signed-in':
      return {
        kind: 'signed-in',
        name: state.account.name,
        lines: state.lines.map((l) => l.line).filter((l) => l.trim() !== ''),
        online: state.online,
        ...(state.lastSyncAt !== undefined ? { lastSyncAt: state.lastSyncAt } : {}),
      };
    case 'needs-press':
      return {
        kind: 'message', title: state.problem.title, reason: state.problem.reason, action: state.problem.action, tone: state.problem.tone,
        ...(state.problem.adminConsentUrl ? { qr: state.problem.adminConsentUrl } : {}),
      };
    case 'confirm-sign-out':
      return { kind: 'message', title: 'Sign out?', reason: `Press again to sign out ${state.signedIn.account.name}`, action: 'Wait to cancel', tone: 'info' };
    case 'stopping':
      return { kind: 'message', title: 'Stopped', reason: 'The agent is not running', tone: 'info' };
  }
}

/** One line for systemd's STATUS= and the log: what the device is doing. */
export function describeState(state: State): string {
  switch (state.name) {
    case 'starting':
      return 'Starting';
    case 'checking-cache':
      return 'Checking the cached sign-in';
    case 'requesting-code':
      return 'Requesting a sign-in code';
    case 'showing-code':
      return `Waiting for sign-in with code ${state.code.userCode} at ${state.code.verificationUri}${state.offline ? ' (offline, retrying)' : ''}`;
    case 'signed-in':
      return `Signed in as ${state.account.username}${state.online ? '' : ' (offline)'}`;
    case 'needs-press':
      return `${state.problem.title}: ${state.problem.reason}`;
    case 'confirm-sign-out':
      return `Asking whether to sign out ${state.signedIn.account.username}`;
    case 'stopping':
      return 'Stopping';
  }
}
