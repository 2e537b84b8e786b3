import { createHash, createPrivateKey, createPublicKey, generateKeyPair, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

/**
 * The key the emulator signs id tokens (and its JWT-shaped access tokens) with, RS256 like Entra,
 * published at the discovery document's `jwks_uri` so a test can verify what it received.
 */
export interface Jwk {
  kty: string;
  use: 'sig';
  alg: 'RS256';
  kid: string;
  n: string;
  e: string;
}

const generateKeyPairAsync = promisify(generateKeyPair);

export function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

export class SigningKey {
  private constructor(
    private readonly privateKey: KeyObject,
    readonly jwk: Jwk,
  ) {}

  static async generate(): Promise<SigningKey> {
    const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048 });
    return SigningKey.fromPrivateKey(privateKey);
  }

  /** A key made earlier (its PKCS #8 PEM), e.g. read back from the emulator's key cache. */
  static fromPem(pem: string): SigningKey {
    return SigningKey.fromPrivateKey(createPrivateKey(pem));
  }

  /** The private key as PKCS #8 PEM, to keep it. */
  toPem(): string {
    return this.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  }

  private static fromPrivateKey(privateKey: KeyObject): SigningKey {
    const publicKey = createPublicKey(privateKey);
    const exported = publicKey.export({ format: 'jwk' });
    if (typeof exported.n !== 'string' || typeof exported.e !== 'string') throw new Error('RSA public key has no n/e');
    // Like Entra's kid: an opaque, stable identifier derived from the key (here its thumbprint).
    const kid = base64url(createHash('sha256').update(`${exported.e}.${exported.n}`).digest()).slice(0, 27);
    return new SigningKey(privateKey, { kty: 'RSA', use: 'sig', alg: 'RS256', kid, n: exported.n, e: exported.e });
  }

  /** A compact JWS: header.payload.signature, base64url each. */
  sign(claims: Record<string, unknown>): string {
    const header = base64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid: this.jwk.kid }));
    const payload = base64url(JSON.stringify(claims));
    const signature = sign('sha256', Buffer.from(`${header}.${payload}`), this.privateKey);
    return `${header}.${payload}.${base64url(signature)}`;
  }

  jwks(): { keys: Jwk[] } {
    return { keys: [this.jwk] };
  }
}
