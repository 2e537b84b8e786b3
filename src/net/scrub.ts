/**
 * Taking credentials out of text a server sent, before it is logged, stored or shown.
 *
 * A misbehaving proxy (or a server bug) can echo the request's `Authorization` header into an
 * error message or body; Entra's and Graph's error texts end up in log lines, `last-graph.json`,
 * job output files and `run-job --json`. pino's redaction only knows field names, not what a
 * string holds, so every piece of server text goes through `scrubSecrets` first. Under net/ so
 * that every layer (auth/, graph/, notify/, the commands) may import it.
 */

export const REDACTED = '[redacted]';

/** RFC 6750's b64token (token68): what follows "Bearer " in an Authorization header. */
const BEARER = /\bBearer\s+[A-Za-z0-9\-._~+/]+=*/gi;
/**
 * A JWT (JWS, or JWE with five parts): base64url segments separated by dots, the first a JSON
 * header, so it starts with `eyJ` ('{"'). The signature may be empty (alg "none").
 */
const JWT = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*){2,4}/g;
/**
 * Entra's refresh tokens: "0.A" or "1.A" and a long run of base64url, often with more
 * dot-separated parts. At least 40 characters after the prefix, so ordinary text ("1.A" in a
 * version number or a list) is left alone.
 */
const REFRESH_TOKEN = /(?<![A-Za-z0-9_.-])[01]\.A[A-Za-z0-9_-]{40,}(?:\.[A-Za-z0-9_*-]+)*/g;

/** `text` with bearer tokens, JWTs and refresh-token-shaped strings replaced by "[redacted]". */
export function scrubSecrets(text: string): string {
  return text
    .replace(BEARER, `Bearer ${REDACTED}`)
    .replace(JWT, REDACTED)
    .replace(REFRESH_TOKEN, REDACTED);
}
