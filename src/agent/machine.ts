/**
 * THE agent, as a state machine. Pure: no I/O, no clock of its own. The runner (agent.ts) feeds it
 * events and carries out the effects it returns. Read it like its diagram:
 *
 *   starting ──started──▶ checking-cache ──silent ok──────────────────────────▶ signed-in
 *                               │ needs sign-in                                   │  ▲ │
 *                               ▼                                                 │  │ │ press: run jobs now
 *          ┌──────────── requesting-code ──code issued──▶ showing-code ──ok───────┘  │ │ hold: sign out
 *          │ press (new code)  ▲   ▲                          │  │ press: new code     │ ▼
 *          │                   │   └── expired (auto-renew) ──┘  │                     │ needs-press
 *          │                   │                                 │ declined, blocked,  │ (signed out,
 *          └───────────────────┴──── press ◀── needs-press ◀─────┘ expired too often   │  declined …)
 *                                                                                      │
 *        signed-in ── token needs sign-in (revoked, expired) ──▶ requesting-code ──────┘
 *        signed-in ── hold ──▶ confirm-sign-out ── press ──▶ (sign out) ──▶ needs-press
 *                                    └── timeout ──▶ signed-in
 *
 * Every device code attempt has a number. Results of an abandoned attempt (the person pressed for
 * a new code) are ignored, except a success: if someone approved the old code, they signed in.
 */

import type { Account, DeviceCode, SignInFailure, SignInFailureKind, SignInLapse } from '../auth/identity.js';
import { backoffMs, type Backoff } from '../retry/backoff.js';

export type { Account, DeviceCode, SignInFailure, SignInFailureKind, SignInLapse };

/** Why the device waits for a person, as a kind (health, exit codes and screens switch on it). */
export type ProblemKind = Exclude<SignInFailureKind, 'cancelled'> | 'signed-out';

export interface Problem {
  kind: ProblemKind;
  title: string;
  reason: string;
  action: string;
  tone: 'info' | 'error';
  /** For want of admin consent: the consent page, shown as a QR code beside the reason. */
  adminConsentUrl?: string;
}

export interface JobLine {
  job: string;
  line: string;
  /** The job's place in the configuration: lines keep that order on the screen. */
  order: number;
}

export type State =
  | { name: 'starting' }
  | { name: 'checking-cache' }
  | { name: 'requesting-code'; attempt: number; renewals: number; why?: string; lapse?: SignInLapse; offlineRetries?: number }
  | { name: 'showing-code'; attempt: number; renewals: number; code: DeviceCode; offline: boolean; why?: string; lapse?: SignInLapse }
  | { name: 'signed-in'; account: Account; lines: JobLine[]; lastSyncAt?: number; online: boolean; attempt: number;
      /** Offline: how many retries so far, and whether one is scheduled (back-off grows with each). */
      offlineRetries?: number; retryScheduled?: boolean }
  | { name: 'needs-press'; problem: Problem; attempt: number; retries?: number }
  /** A hold asks before signing out: a second press confirms, the timeout goes back. */
  | { name: 'confirm-sign-out'; signedIn: Extract<State, { name: 'signed-in' }> }
  | { name: 'stopping' };

export type Event =
  | { type: 'started' }
  | { type: 'silent-succeeded'; account: Account; online: boolean }
  /** `lapse`: a cached sign-in stopped working (none at a first start). */
  | { type: 'silent-needs-sign-in'; why?: string; lapse?: SignInLapse }
  | { type: 'code-issued'; attempt: number; code: DeviceCode }
  | { type: 'code-offline'; attempt: number; offline: boolean }
  | { type: 'sign-in-succeeded'; attempt: number; account: Account }
  /** Someone signed in with `graph-device-agent login` (another process) while a code was shown. */
  | { type: 'signed-in-elsewhere'; account: Account }
  | { type: 'sign-in-failed'; attempt: number; failure: SignInFailure }
  | { type: 'pressed' }
  | { type: 'held' }
  | { type: 'job-finished'; job: string; order?: number; ok: boolean; line?: string; online: boolean; at: number; notice?: string }
  | { type: 'token-needs-sign-in'; why: string; lapse?: SignInLapse }
  | { type: 'signed-out' }
  | { type: 'retry' }
  | { type: 'confirm-timed-out' }
  | { type: 'stop' };

export type Effect =
  | { type: 'try-silent' }
  | { type: 'start-device-code'; attempt: number }
  | { type: 'cancel-device-code'; attempt: number }
  | { type: 'resume-jobs' } // and run them once now: right after sign-in the screen needs its lines
  | { type: 'run-jobs-now' }
  | { type: 'pause-jobs' }
  | { type: 'sign-out' }
  | { type: 'retry-later'; afterMs: number }
  | { type: 'confirm-timeout'; afterMs: number };

export interface Transition {
  state: State;
  effects: Effect[];
}

export interface MachineOptions {
  /** Expired codes replaced automatically before the device waits for a press. */
  autoRenewCodes: number;
  /** How long the "Sign out?" question waits for the confirming press. */
  confirmTimeoutMs?: number;
}

export const initialState: State = { name: 'starting' };

const stay = (state: State): Transition => ({ state, effects: [] });

/** No network for sign-in (a Pi at boot, bad Wi-Fi): 10 s, doubling up to 5 minutes. The runner adds the jitter. */
const SIGN_IN_OFFLINE_RETRY: Backoff = { baseMs: 10_000, maxMs: 300_000, jitter: 'none' };
/** Signed in but offline: 15 s, doubling up to 5 minutes. The runner adds the jitter. */
const SIGNED_IN_OFFLINE_RETRY: Backoff = { baseMs: 15_000, maxMs: 300_000, jitter: 'none' };

export function transition(state: State, event: Event, options: MachineOptions): Transition {
  if (state.name === 'stopping') return stay(state);
  if (event.type === 'stop') {
    const effects: Effect[] = [{ type: 'pause-jobs' }];
    const attempt = currentAttempt(state);
    if (attempt !== undefined) effects.unshift({ type: 'cancel-device-code', attempt });
    return { state: { name: 'stopping' }, effects };
  }

  switch (event.type) {
    case 'started':
      if (state.name !== 'starting') return stay(state);
      return { state: { name: 'checking-cache' }, effects: [{ type: 'try-silent' }] };

    case 'silent-succeeded':
      if (state.name !== 'checking-cache') return stay(state);
      return signedIn(event.account, event.online, 0);

    case 'silent-needs-sign-in':
      if (state.name !== 'checking-cache') return stay(state);
      return newCode(0, 0, event.why, event.lapse);

    case 'code-issued':
      if (state.name !== 'requesting-code' || state.attempt !== event.attempt) return stay(state);
      return stay({
        name: 'showing-code', attempt: state.attempt, renewals: state.renewals, code: event.code, offline: false,
        ...(state.why ? { why: state.why } : {}), ...(state.lapse ? { lapse: state.lapse } : {}),
      });

    case 'code-offline':
      if (state.name !== 'showing-code' || state.attempt !== event.attempt || state.offline === event.offline) return stay(state);
      return stay({ ...state, offline: event.offline });

    case 'sign-in-succeeded':
      // Accepted from any attempt: whoever approved a code has signed in.
      if (state.name !== 'requesting-code' && state.name !== 'showing-code' && state.name !== 'needs-press') return stay(state);
      {
        const t = signedIn(event.account, true, Math.max(event.attempt, currentAttempt(state) ?? 0, state.name === 'needs-press' ? state.attempt : 0));
        const attempt = currentAttempt(state);
        if (attempt !== undefined && attempt !== event.attempt) t.effects.unshift({ type: 'cancel-device-code', attempt });
        return t;
      }

    case 'signed-in-elsewhere': {
      if (state.name !== 'requesting-code' && state.name !== 'showing-code' && state.name !== 'needs-press') return stay(state);
      const attempt = currentAttempt(state);
      const t = signedIn(event.account, true, attempt ?? (state.name === 'needs-press' ? state.attempt : 0));
      if (attempt !== undefined) t.effects.unshift({ type: 'cancel-device-code', attempt });
      return t;
    }

    case 'sign-in-failed': {
      if (currentAttempt(state) !== event.attempt || (state.name !== 'requesting-code' && state.name !== 'showing-code')) return stay(state);
      const { failure } = event;
      if (failure.kind === 'cancelled') return stay(state);
      if (failure.kind === 'expired' && state.renewals < options.autoRenewCodes) {
        return newCode(event.attempt, state.renewals + 1);
      }
      const retries = failure.kind === 'offline' ? state.name === 'requesting-code' ? (state.offlineRetries ?? 0) : 0 : undefined;
      return {
        state: {
          name: 'needs-press',
          attempt: event.attempt,
          ...(retries !== undefined ? { retries } : {}),
          problem: {
            kind: failure.kind,
            title: TITLES[failure.kind],
            reason: failure.reason,
            action: failure.action ?? 'Press the button for a new code',
            tone: 'error',
            ...(failure.adminConsentUrl ? { adminConsentUrl: failure.adminConsentUrl } : {}),
          },
        },
        // No network yet (a Pi at boot, bad Wi-Fi): try again by itself, backing off to 5 minutes.
        effects: retries !== undefined ? [{ type: 'retry-later', afterMs: backoffMs(retries, SIGN_IN_OFFLINE_RETRY) }] : [],
      };
    }

    case 'retry':
      if (state.name === 'signed-in') {
        if (!state.retryScheduled) return stay(state);
        return { state: { ...state, retryScheduled: false, offlineRetries: (state.offlineRetries ?? 0) + 1 }, effects: [{ type: 'run-jobs-now' }] };
      }
      if (state.name !== 'needs-press' || state.retries === undefined) return stay(state);
      {
        const t = newCode(state.attempt, 0);
        return { state: { ...(t.state as Extract<State, { name: 'requesting-code' }>), offlineRetries: state.retries + 1 }, effects: t.effects };
      }

    case 'pressed':
      switch (state.name) {
        case 'requesting-code':
        case 'showing-code':
          // A new code at once; the old one is cancelled and no longer polled after its current wait.
          return { state: { name: 'requesting-code', attempt: state.attempt + 1, renewals: 0 }, effects: [
            { type: 'cancel-device-code', attempt: state.attempt },
            { type: 'start-device-code', attempt: state.attempt + 1 },
          ] };
        case 'needs-press':
          return newCode(state.attempt, 0);
        case 'signed-in':
          return { state, effects: [{ type: 'run-jobs-now' }] };
        case 'confirm-sign-out':
          return { state, effects: [{ type: 'pause-jobs' }, { type: 'sign-out' }] };
        default:
          return stay(state);
      }

    case 'held':
      if (state.name !== 'signed-in') return stay(state);
      // Holding is easy to do by accident (a bag on the device): ask first.
      return { state: { name: 'confirm-sign-out', signedIn: state }, effects: [{ type: 'confirm-timeout', afterMs: options.confirmTimeoutMs ?? 10_000 }] };

    case 'confirm-timed-out':
      if (state.name !== 'confirm-sign-out') return stay(state);
      return stay(state.signedIn);

    case 'signed-out':
      return {
        state: {
          name: 'needs-press',
          attempt: state.name === 'signed-in' || state.name === 'needs-press' ? state.attempt
            : state.name === 'confirm-sign-out' ? state.signedIn.attempt : currentAttempt(state) ?? 0,
          problem: { kind: 'signed-out', title: 'Signed out', reason: 'The account was removed from this device', action: 'Press the button to sign in', tone: 'info' },
        },
        effects: [{ type: 'pause-jobs' }],
      };

    case 'job-finished':
      if (state.name === 'confirm-sign-out') {
        const inner = transition(state.signedIn, event, options);
        return { state: { name: 'confirm-sign-out', signedIn: inner.state as Extract<State, { name: 'signed-in' }> }, effects: inner.effects };
      }
      if (state.name !== 'signed-in') return stay(state);
      {
        // A job's notice (a missing permission, say) takes its line's place until the job succeeds.
        const shown = event.notice ?? event.line;
        const lines = state.lines.filter((l) => l.job !== event.job);
        if (shown !== undefined) lines.push({ job: event.job, line: shown, order: event.order ?? Number.MAX_SAFE_INTEGER });
        lines.sort((a, b) => a.order - b.order || a.job.localeCompare(b.job));
        const next: State = {
          ...state,
          lines: shown !== undefined ? lines : state.lines,
          online: event.online,
          ...(event.ok ? { lastSyncAt: event.at } : {}),
        };
        if (event.online) {
          delete next.offlineRetries;
          return stay(next);
        }
        // Offline (no network, the token endpoint unreachable): the tokens stay; try again with a
        // growing wait, 15 s up to 5 minutes, instead of waiting for the next scheduled run.
        if (state.retryScheduled) return stay(next);
        const retries = state.offlineRetries ?? 0;
        return { state: { ...next, retryScheduled: true, offlineRetries: retries }, effects: [{ type: 'retry-later', afterMs: backoffMs(retries, SIGNED_IN_OFFLINE_RETRY) }] };
      }

    case 'token-needs-sign-in':
      if (state.name !== 'signed-in') return stay(state);
      {
        const t = newCode(state.attempt, 0, event.why, event.lapse);
        t.effects.unshift({ type: 'pause-jobs' });
        return t;
      }
  }
  return stay(state);
}

const TITLES: Record<SignInFailureKind, string> = {
  expired: 'Code expired',
  declined: 'Sign-in declined',
  blocked: 'Blocked by policy',
  'app-config': 'App not set up',
  offline: 'Offline',
  server: 'Sign-in failed',
  cancelled: 'Cancelled',
};

function signedIn(account: Account, online: boolean, attempt: number): Transition {
  return { state: { name: 'signed-in', account, lines: [], online, attempt }, effects: [{ type: 'resume-jobs' }] };
}

function newCode(previousAttempt: number, renewals: number, why?: string, lapse?: SignInLapse): Transition {
  const attempt = previousAttempt + 1;
  return {
    state: { name: 'requesting-code', attempt, renewals, ...(why ? { why } : {}), ...(lapse ? { lapse } : {}) },
    effects: [{ type: 'start-device-code', attempt }],
  };
}

function currentAttempt(state: State): number | undefined {
  return state.name === 'requesting-code' || state.name === 'showing-code' ? state.attempt : undefined;
}
