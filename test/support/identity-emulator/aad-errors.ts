import { randomUUID } from 'node:crypto';

/**
 * Error replies in the shape Entra's token and device code endpoints use (see
 * /work/shared/notes/wire.md): `error`, an `error_description` that starts with the AADSTS number
 * and ends with trace/correlation ids and a timestamp, `error_codes`, `timestamp`, `trace_id`,
 * `correlation_id`, `error_uri`, and for some grants `suberror`.
 */
export interface AadErrorBody {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri: string;
  suberror?: string;
}

/** The errors the emulator answers with; `status` is Entra's HTTP status for each. */
export const AAD_ERRORS = {
  authorizationPending: {
    status: 400, error: 'authorization_pending', code: 70016,
    text: 'OAuth 2.0 device flow error. Authorization is pending. Continue polling.',
  },
  authorizationDeclined: {
    status: 400, error: 'authorization_declined', code: 70000,
    text: 'The end user denied the authorization request.',
  },
  expiredToken: {
    status: 400, error: 'expired_token', code: 70020,
    text: 'The provided value for the input parameter \'device_code\' is not valid. This device code has expired.',
  },
  badVerificationCode: {
    status: 400, error: 'bad_verification_code', code: 70018,
    text: 'The provided value for the input parameter \'device_code\' is not valid.',
  },
  codeAlreadyRedeemed: {
    status: 400, error: 'invalid_grant', code: 54005,
    text: 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
  },
  refreshTokenExpired: {
    status: 400, error: 'invalid_grant', code: 70008,
    text: 'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
  },
  refreshTokenRevoked: {
    status: 400, error: 'invalid_grant', code: 50173, suberror: 'bad_token',
    text: 'The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.',
  },
  refreshTokenMalformed: {
    status: 400, error: 'invalid_grant', code: 9002313,
    text: 'Invalid request. Request is malformed or invalid.',
  },
  refreshTokenOtherClient: {
    status: 400, error: 'invalid_grant', code: 70000,
    text: 'Provided grant is invalid or malformed: the refresh token was issued to another client.',
  },
  unsupportedGrantType: {
    status: 400, error: 'unsupported_grant_type', code: 70003,
    text: 'The app requested an unsupported grant type.',
  },
  temporarilyUnavailable: {
    status: 503, error: 'temporarily_unavailable', code: 50012,
    text: 'The service is temporarily unavailable.',
  },
} as const satisfies Record<string, { status: number; error: string; code: number; text: string; suberror?: string }>;

export type AadErrorName = keyof typeof AAD_ERRORS;

/** "2026-11-28 10:00:00Z", the timestamp format of Entra error replies. */
export function aadTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export interface AadErrorInput {
  error: string;
  code: number;
  text: string;
  suberror?: string;
  /** The client's `client-request-id` (msal-node sends its correlation id there); else a new GUID. */
  correlationId?: string;
  /** Used for `error_uri`; Entra's is https://login.microsoftonline.com. */
  origin?: string;
  /** Clock time in ms (the emulator's clock). */
  now?: number;
}

/** Any AAD-style error body: for the emulator's own replies and for faults a test injects. */
export function aadErrorBody(input: AadErrorInput): AadErrorBody {
  const now = input.now ?? Date.now();
  const traceId = randomUUID();
  const correlationId = input.correlationId ?? randomUUID();
  const timestamp = aadTimestamp(now);
  const body: AadErrorBody = {
    error: input.error,
    error_description:
      `AADSTS${input.code}: ${input.text}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
    error_codes: [input.code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `${input.origin ?? 'https://login.microsoftonline.com'}/error?code=${input.code}`,
  };
  if (input.suberror) body.suberror = input.suberror;
  return body;
}
