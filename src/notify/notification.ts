import type { SignInLapse } from '../auth/identity.js';

/**
 * What a notification says, as data: the JSON body a webhook or Home Assistant receives (the
 * README's "Notifications" section documents it field by field), and what ntfy's title and message
 * are made of. Pure: no I/O. Nothing secret goes in: no token, refresh token or device code ever
 * reaches this module; the user code only when the operator allows it (`notify.includeUserCode`).
 */

export type { SignInLapse };

/** The events, as named in the body's `event` field and in a target's `events` filter. */
export type NotifyEvent =
  | 'signin.needed'
  | 'signin.succeeded'
  | 'graph.failing'
  | 'graph.recovered'
  | 'signin.refresh_old'
  | 'device.display_failed'
  | 'device.button_failed'
  | 'test';


export type Severity = 'info' | 'warning' | 'error';

/** The JSON body, version 1. Optional fields are left out when they do not apply. */
export interface NotificationBody {
  source: 'graph-device-agent';
  version: 1;
  event: NotifyEvent;
  /** The device's label (`device.label`, default the hostname). */
  device: string;
  /** When it happened, ISO 8601 UTC. */
  time: string;
  severity: Severity;
  /** One short line: "kitchen-pi: sign-in needed". */
  title: string;
  /** A sentence or two, with what to do. */
  message: string;
  /** signin.needed: expired, revoked, policy or signed-out. */
  reason?: SignInLapse;
  /** signin.needed: who was signed in; signin.succeeded: who signed in; signin.refresh_old. */
  account?: string;
  /** signin.needed: where to sign in (public: the identity provider's page). */
  verificationUri?: string;
  /** signin.needed, only with notify.includeUserCode: the code on the screen when it was sent. */
  userCode?: string;
  /** graph.failing, graph.recovered: since when Graph has failed (ISO 8601). */
  since?: string;
  /** signin.refresh_old: when the tokens were last refreshed (ISO 8601). */
  lastRefresh?: string;
  /** device.display_failed, device.button_failed: the error, one line. */
  error?: string;
}

/** What the agent reports; the body is made from it with the device's label and the time. */
export type NotificationInput =
  | { event: 'signin.needed'; reason: SignInLapse; account?: string; verificationUri?: string; userCode?: string }
  | { event: 'signin.succeeded'; account: string; name?: string }
  | { event: 'graph.failing'; since: number }
  | { event: 'graph.recovered'; since: number }
  | { event: 'signin.refresh_old'; lastRefresh: number; account?: string; days: number }
  | { event: 'device.display_failed' | 'device.button_failed'; error: string }
  | { event: 'test' };

const LAPSE_TEXT: Record<SignInLapse, string> = {
  expired: 'The sign-in expired',
  revoked: 'The sign-in was revoked (a password change, or an admin revoked the sessions)',
  policy: 'A sign-in policy of the organisation asks for a new sign-in',
  'signed-out': 'The account was signed out on the device',
};

export function notificationBody(input: NotificationInput, device: string, at: number): NotificationBody {
  const base = { source: 'graph-device-agent' as const, version: 1 as const, event: input.event, device, time: new Date(at).toISOString() };
  const iso = (ms: number): string => new Date(ms).toISOString();
  switch (input.event) {
    case 'signin.needed': {
      const where = input.verificationUri ? ` at ${input.verificationUri}` : '';
      const code = input.userCode ? ` with the code ${input.userCode}` : ' with the code on its screen';
      return {
        ...base, severity: 'warning', title: `${device}: sign-in needed`,
        message: `${LAPSE_TEXT[input.reason]}${input.account ? ` (${input.account})` : ''}. Sign in${where}${code}, only if you are at ${device}.`,
        reason: input.reason,
        ...(input.account ? { account: input.account } : {}),
        ...(input.verificationUri ? { verificationUri: input.verificationUri } : {}),
        ...(input.userCode ? { userCode: input.userCode } : {}),
      };
    }
    case 'signin.succeeded':
      return {
        ...base, severity: 'info', title: `${device}: signed in`,
        message: `Signed in as ${input.account}${input.name && input.name !== input.account ? ` (${input.name})` : ''} at ${base.time}.`,
        account: input.account,
      };
    case 'graph.failing':
      return {
        ...base, severity: 'warning', title: `${device}: Graph is failing`,
        message: `Microsoft Graph has failed since ${iso(input.since)}. Check the network; \`journalctl -u graph-device-agent -p warning\` says why.`,
        since: iso(input.since),
      };
    case 'graph.recovered':
      return {
        ...base, severity: 'info', title: `${device}: Graph works again`,
        message: `Microsoft Graph answers again (it had failed since ${iso(input.since)}).`,
        since: iso(input.since),
      };
    case 'signin.refresh_old':
      return {
        ...base, severity: 'warning', title: `${device}: sign-in getting old`,
        message: `The tokens were last refreshed ${Math.floor(input.days)} days ago (${iso(input.lastRefresh)}); refresh tokens die after 90 days unused. Keep the device on and online, or be ready to sign in again.`,
        lastRefresh: iso(input.lastRefresh),
        ...(input.account ? { account: input.account } : {}),
      };
    case 'device.display_failed':
    case 'device.button_failed': {
      const part = input.event === 'device.display_failed' ? 'display' : 'button';
      return {
        ...base, severity: 'error', title: `${device}: ${part} failed`,
        message: `The ${part} could not be started: ${input.error}. The agent runs on without it; \`journalctl -u graph-device-agent\` has the fix.`,
        error: input.error.slice(0, 300),
      };
    }
    case 'test':
      return { ...base, severity: 'info', title: `${device}: test`, message: `A test notification from ${device} (graph-device-agent notify-test).` };
  }
}
