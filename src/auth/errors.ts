import { AuthError, InteractionRequiredAuthError } from '@azure/msal-node';
import { LAPSE_WHY, type SignInFailure, type SignInLapse } from './identity.js';
import type { ServerErrorReply } from './polling-guard.js';
import { scrubSecrets } from '../net/scrub.js';

/**
 * Turning msal-node's errors into what the agent must do. msal-node throws `post_request_failed`
 * for every polling reply except `authorization_pending`, with only the server's `error` string;
 * the AADSTS number comes from the reply the polling guard saw (`lastReply`).
 */

/** AADSTS numbers that mean a policy refused the sign-in (see shared notes, identity.md). */
const POLICY_CODES = new Set([53003, 530033, 50097, 50076, 50079, 530035, 50105, 53000, 53001, 53002]);
/**
 * Conditional Access refusing the device code flow itself, each said so on the screen: the README's
 * Troubleshooting says which exception IT can grant.
 */
const CA_REASONS: Record<number, string> = {
  53003: 'Conditional Access blocks sign-in with a code here',
  530033: 'Conditional Access: this device or place may not sign in',
  50097: 'Policy needs a managed device: a code cannot sign in',
};
/** AADSTS numbers that mean an admin must consent to the app's permissions. */
export const CONSENT_CODES = new Set([65001, 90094, 90095]);
/** AADSTS numbers that mean the app registration needs fixing by an admin. */
const APP_CODES: Record<number, string> = {
  7000218: 'Public client flows are off: turn on "Allow public client flows" in the app registration',
  700016: 'App not found in this tenant: check auth.clientId and the tenant in auth.authority',
  65001: 'The app has no consent for these permissions: an admin must grant consent',
  90094: 'Admin consent is required for these permissions',
  90095: 'Admin consent is required: ask IT to approve this app',
};

/** Error codes after which the cached tokens cannot be used and the person must sign in again. */
const NEEDS_SIGN_IN = new Set(['invalid_grant', 'interaction_required', 'no_tokens_found', 'refresh_token_expired', 'consent_required', 'login_required', 'no_account_found']);

const OFFLINE_CODES = new Set(['network_error', 'endpoints_resolution_error', 'openid_config_error', 'token_parsing_error', 'network_request_failed']);

export function serverErrorString(err: unknown): string | undefined {
  if (!(err instanceof AuthError)) return undefined;
  if (err.errorCode === 'post_request_failed') return err.errorMessage.trim().split(/\s+/).pop();
  return err.errorCode;
}

export function classifySignInError(err: unknown, lastReply: ServerErrorReply | undefined): SignInFailure & { detail: string } {
  const serverError = serverErrorString(err);
  const reply = lastReply && lastReply.error === serverError ? lastReply : undefined;
  const aadsts = reply?.codes[0];
  // The server's words, scrubbed of tokens: the detail is logged and shown by `status`.
  const detail = reply ? scrubSecrets(`${reply.error}${aadsts ? ` (AADSTS${aadsts})` : ''}: ${reply.description}`) : describe(err);
  if (err instanceof AuthError && (err.errorCode === 'device_code_polling_cancelled')) {
    return { kind: 'cancelled', reason: 'Cancelled', detail };
  }
  if (err instanceof AuthError && (err.errorCode === 'device_code_expired' || err.errorCode === 'user_timeout_reached')) {
    return { kind: 'expired', reason: 'Nobody entered the code in time', detail };
  }
  if (aadsts !== undefined && POLICY_CODES.has(aadsts)) {
    const reason = CA_REASONS[aadsts] ? `${CA_REASONS[aadsts]} (AADSTS${aadsts})` : `Your organisation's policy blocked this sign-in (AADSTS${aadsts})`;
    return { kind: 'blocked', reason, action: 'Ask your admin; press for a new code', detail };
  }
  if (aadsts !== undefined && CONSENT_CODES.has(aadsts)) {
    // Short: at 128x64 it shares the screen with the consent page's QR code.
    return { kind: 'app-config', reason: `Needs admin consent (AADSTS${aadsts})`, action: 'Ask IT, then press', detail };
  }
  if (aadsts !== undefined && APP_CODES[aadsts]) {
    return { kind: 'app-config', reason: APP_CODES[aadsts]!, action: 'Fix the app registration, then press', detail };
  }
  switch (serverError) {
    case 'expired_token':
      return { kind: 'expired', reason: 'Nobody entered the code in time', detail };
    case 'authorization_declined':
      return { kind: 'declined', reason: 'The sign-in was declined on the phone', detail };
    case 'bad_verification_code':
      return { kind: 'server', reason: 'The server did not recognise the code', detail };
    case 'access_denied':
      return { kind: 'declined', reason: 'Access was denied', detail };
    case 'invalid_client':
    case 'unauthorized_client':
    case 'invalid_scope':
      return { kind: 'app-config', reason: `The server refused the app (${serverError})`, action: 'Check auth.clientId and auth.scopes, then press', detail };
    case 'interaction_required':
      return { kind: 'blocked', reason: 'A policy requires more than this device can do', action: 'Ask your admin; press for a new code', detail };
  }
  if (isOffline(err)) return { kind: 'offline', reason: 'No connection to the sign-in service', action: 'Check the network; press to retry', detail };
  return { kind: 'server', reason: 'The sign-in service answered with an error', detail };
}

/** AADSTS numbers of a sign-in that was revoked: a password change or reset, "revoke sessions". */
const REVOKED_CODES = new Set([50173, 50133, 50132, 50034, 50057]);
/** AADSTS numbers of a policy asking for a new sign-in: sign-in frequency (70043), MFA, Conditional Access. */
const POLICY_LAPSE_CODES = new Set([70043, 50076, 50079, 50078, 50158, 53003, 530033, 50097, 50105]);

/**
 * What kind of lapse a refused silent sign-in is, from its AADSTS number: revoked, a policy, or
 * (anything else, 700082 "inactive for 90 days" and 70008 among them) expired. The screen and the
 * notification say which, instead of a generic "Sign-in expired".
 */
export function lapseOf(err: unknown): { lapse: SignInLapse; why: string } {
  const aadsts = errorFields(err).aadsts;
  const lapse: SignInLapse = aadsts !== undefined && REVOKED_CODES.has(aadsts) ? 'revoked'
    : aadsts !== undefined && POLICY_LAPSE_CODES.has(aadsts) ? 'policy'
    : 'expired';
  return { lapse, why: LAPSE_WHY[lapse] };
}

/**
 * The tenant's admin-consent page for this app: where IT grants the consent a sign-in lacked.
 * The configured authority's host and tenant; "common" and "organizations" mean the admin's own
 * tenant, which "organizations" finds (an admin signing in there consents for their tenant).
 */
export function adminConsentUrl(authority: string, clientId: string): string | undefined {
  let u: URL;
  try {
    u = new URL(authority);
  } catch {
    return undefined;
  }
  const tenant = u.pathname.split('/').filter(Boolean)[0] ?? 'organizations';
  const consentTenant = tenant === 'common' || tenant === 'consumers' ? 'organizations' : tenant;
  return `https://${u.host}/${encodeURIComponent(consentTenant)}/adminconsent?client_id=${encodeURIComponent(clientId)}`;
}

export function needsSignIn(err: unknown): boolean {
  if (err instanceof InteractionRequiredAuthError) return true;
  if (!(err instanceof AuthError)) return false;
  return NEEDS_SIGN_IN.has(err.errorCode) || NEEDS_SIGN_IN.has(serverErrorString(err) ?? '');
}

export function isOffline(err: unknown): boolean {
  if (!(err instanceof AuthError)) return false;
  if (OFFLINE_CODES.has(err.errorCode)) return true;
  // msal's local throttle after a 429/5xx: an empty errorCode ServerError, no request sent.
  return err.errorCode === '' || serverErrorString(err) === 'temporarily_unavailable';
}

/**
 * One line for the log, without secrets: msal's messages carry none of ours, bodies are never
 * included, and the server's text is scrubbed of tokens (serverText).
 */
export function describe(err: unknown): string {
  const text = err instanceof AuthError ? `${err.errorCode || 'auth_error'}: ${err.errorMessage}`
    : err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return serverText(text).reason;
}

/** What a server's error text says, split into log fields: one line of reason, and its ids. */
export interface ServerTextFields {
  /** One line: the error and its description, without the trace, correlation and time lines. */
  reason: string;
  /** The AADSTS number, e.g. 50173. */
  aadsts?: number;
  trace_id?: string;
  correlation_id?: string;
}

/**
 * Entra's descriptions end with "\r\nTrace ID: …\r\nCorrelation ID: …\r\nTimestamp: …" (and msal
 * appends " - Correlation ID: … - Trace ID: …"): the ids go into fields of their own, so an
 * operator can search for them, and the message stays one line. Tokens a server or proxy echoed
 * are scrubbed first, before the cut to 300 characters could leave half of one.
 */
export function serverText(raw: string): ServerTextFields {
  const text = scrubSecrets(raw);
  const aadsts = /AADSTS(\d{4,8})/.exec(text)?.[1];
  const trace = /Trace ID:\s*([0-9a-fA-F-]{8,})/.exec(text)?.[1];
  const correlation = /Correlation ID:\s*([0-9a-fA-F-]{8,})/.exec(text)?.[1];
  const reason = text
    .split(/\s+-\s+(?:Correlation|Trace) ID:|[\r\n]+\s*(?:Trace ID|Correlation ID|Timestamp):/)[0]!
    // eslint-disable-next-line no-control-regex -- control characters are exactly what goes
    .replace(/[\x00-\x1f\x7f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300);
  return {
    reason,
    ...(aadsts ? { aadsts: Number(aadsts) } : {}),
    ...(trace ? { trace_id: trace } : {}),
    ...(correlation ? { correlation_id: correlation } : {}),
  };
}

/** The log fields of an error: `reason` on one line, and the AADSTS code and ids when the server sent them. */
export function errorFields(err: unknown): ServerTextFields {
  const text = err instanceof AuthError ? `${err.errorCode || 'auth_error'}: ${err.errorMessage}`
    : err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return serverText(text);
}
