import { createHash, randomBytes } from 'node:crypto';
import { base64url, type SigningKey } from './jwt.js';
import type { EmulatedUser } from './users.js';

/**
 * Token issuing and checking: the success reply of the token endpoint, refresh-token rotation
 * and revocation, and the access-token check behind the Graph stand-in.
 */

/** The id of Microsoft Graph as a resource (the `aud` of real Graph access tokens). */
export const GRAPH_RESOURCE_ID = '00000003-0000-0000-c000-000000000000';

export interface TokenLifetimes {
  accessTokenMs: number;
  refreshTokenMs: number;
}

export interface TokenResponseBody {
  token_type: 'Bearer';
  scope: string;
  expires_in: number;
  ext_expires_in: number;
  access_token: string;
  refresh_token: string;
  id_token: string;
  client_info: string;
}

export interface AccessTokenRecord {
  userId: string;
  clientId: string;
  scopes: string[];
  expiresAt: number;
  /** Revoked by {@link TokenService.revokeSessions}: Graph answers 401 although the token is in date. */
  revoked?: boolean;
}

interface RefreshTokenRecord {
  userId: string;
  clientId: string;
  scopes: string[];
  tenant: string;
  expiresAt: number;
  revoked: boolean;
  /** A newer refresh token replaced this one. */
  replaced: boolean;
}

export type RefreshOutcome =
  | { ok: true; body: TokenResponseBody; userId: string }
  | { ok: false; reason: 'unknown' | 'expired' | 'revoked' | 'other-client' };

export type AccessTokenCheck =
  | { ok: true; record: AccessTokenRecord }
  | { ok: false; reason: 'missing' | 'malformed' | 'unknown' | 'expired' | 'revoked' };

export interface TokenServiceOptions {
  now: () => number;
  lifetimes: () => TokenLifetimes;
  signingKey: SigningKey;
  /** `${origin}`: issuers are `${origin}/${tid}/v2.0`, like Entra's v2 issuer. */
  origin: string;
  /**
   * false (Entra's behaviour): a refresh token stays valid after use until it expires; the reply
   * still carries a new one. true: the old one dies on use, to prove a client keeps the new one.
   */
  singleUseRefreshTokens: boolean;
}

/** OIDC scopes say what the token reply contains; Entra does not echo offline_access. */
function grantedScopes(requested: string[]): string[] {
  return requested.filter((s) => s.toLowerCase() !== 'offline_access');
}

export class TokenService {
  private readonly accessTokens = new Map<string, AccessTokenRecord>();
  private readonly refreshTokens = new Map<string, RefreshTokenRecord>();
  private readonly secrets: string[] = [];

  constructor(private readonly options: TokenServiceOptions) {}

  issue(user: EmulatedUser, clientId: string, scopes: string[], tenant: string): TokenResponseBody {
    const now = this.options.now();
    const { accessTokenMs, refreshTokenMs } = this.options.lifetimes();
    const granted = grantedScopes(scopes);
    const iat = Math.floor(now / 1000);
    const accessExp = Math.floor((now + accessTokenMs) / 1000);
    const issuer = `${this.options.origin}/${user.tenantId}/v2.0`;

    // JWT-shaped like a real Graph token (v1 claims), so logs and redaction see realistic strings;
    // clients must treat it as opaque. Checked by lookup, which makes expiry follow the clock.
    const accessToken = this.options.signingKey.sign({
      aud: GRAPH_RESOURCE_ID,
      iss: `${this.options.origin}/${user.tenantId}/`,
      iat, nbf: iat, exp: accessExp,
      appid: clientId,
      name: user.displayName,
      oid: user.id,
      scp: granted.filter((s) => !['openid', 'profile', 'email'].includes(s.toLowerCase())).join(' '),
      sub: user.id,
      tid: user.tenantId,
      upn: user.userPrincipalName,
      uti: randomBytes(16).toString('base64url'),
      ver: '1.0',
    });
    const idToken = this.options.signingKey.sign({
      aud: clientId,
      iss: issuer,
      iat, nbf: iat, exp: iat + 3600,
      name: user.displayName,
      oid: user.id,
      preferred_username: user.userPrincipalName,
      // Entra's sub is pairwise: stable per user and app, different across apps.
      sub: base64url(createHash('sha256').update(`${user.id}:${clientId}`).digest()).slice(0, 43),
      tid: user.tenantId,
      uti: randomBytes(16).toString('base64url'),
      ver: '2.0',
    });
    const refreshToken = `1.A${randomBytes(48).toString('base64url')}.${randomBytes(128).toString('base64url')}`;

    this.accessTokens.set(accessToken, { userId: user.id, clientId, scopes: granted, expiresAt: now + accessTokenMs });
    this.refreshTokens.set(refreshToken, {
      userId: user.id, clientId, scopes, tenant, expiresAt: now + refreshTokenMs, revoked: false, replaced: false,
    });
    this.secrets.push(accessToken, refreshToken, idToken);

    const expiresIn = Math.max(0, Math.round(accessTokenMs / 1000));
    return {
      token_type: 'Bearer',
      scope: granted.join(' '),
      expires_in: expiresIn,
      ext_expires_in: expiresIn,
      access_token: accessToken,
      refresh_token: refreshToken,
      id_token: idToken,
      client_info: base64url(JSON.stringify({ uid: user.id, utid: user.tenantId })),
    };
  }

  /** The refresh_token grant: a new token set and a new refresh token (sliding lifetime). */
  refresh(
    refreshToken: string,
    clientId: string,
    scopes: string[] | undefined,
    findUser: (id: string) => EmulatedUser | undefined,
  ): RefreshOutcome {
    const record = this.refreshTokens.get(refreshToken);
    if (!record) return { ok: false, reason: 'unknown' };
    if (record.clientId !== clientId) return { ok: false, reason: 'other-client' };
    if (record.revoked) return { ok: false, reason: 'revoked' };
    if (record.replaced && this.options.singleUseRefreshTokens) return { ok: false, reason: 'revoked' };
    if (this.options.now() >= record.expiresAt) return { ok: false, reason: 'expired' };
    const user = findUser(record.userId);
    if (!user) return { ok: false, reason: 'revoked' };
    record.replaced = true;
    const body = this.issue(user, clientId, scopes && scopes.length > 0 ? scopes : record.scopes, record.tenant);
    return { ok: true, body, userId: user.id };
  }

  /** As an admin's "revoke sessions" or a password reset: every refresh token dies; access tokens live on. */
  revokeRefreshTokens(userId?: string): number {
    let count = 0;
    for (const record of this.refreshTokens.values()) {
      if (!record.revoked && (userId === undefined || record.userId === userId)) {
        record.revoked = true;
        count++;
      }
    }
    return count;
  }

  /**
   * As a password change or an admin's "revoke sessions" with continuous access evaluation: the
   * refresh tokens die AND Graph refuses the access tokens still in date (401). Returns how many
   * tokens died.
   */
  revokeSessions(userId?: string): number {
    let count = this.revokeRefreshTokens(userId);
    for (const record of this.accessTokens.values()) {
      if (!record.revoked && (userId === undefined || record.userId === userId)) {
        record.revoked = true;
        count++;
      }
    }
    return count;
  }

  checkAccessToken(authorization: string | undefined): AccessTokenCheck {
    if (!authorization || authorization.trim() === '') return { ok: false, reason: 'missing' };
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match?.[1]) return { ok: false, reason: 'malformed' };
    const record = this.accessTokens.get(match[1]);
    if (!record) return { ok: false, reason: 'unknown' };
    if (record.revoked) return { ok: false, reason: 'revoked' };
    if (this.options.now() >= record.expiresAt) return { ok: false, reason: 'expired' };
    return { ok: true, record };
  }

  /** Every access, refresh and id token ever issued, oldest first. */
  issuedSecrets(): string[] {
    return [...this.secrets];
  }
}
