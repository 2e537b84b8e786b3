import { generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';

/**
 * A private CA and a server certificate signed by it, made fresh for each emulator.
 *
 * Why a CA and not one self-signed certificate: clients (msal-node's network module, our own
 * HTTPS client, curl --cacert) then trust the emulator the way a device trusts a corporate
 * TLS-inspecting proxy: through an extra CA, with hostname verification left on.
 */
export interface TlsMaterial {
  /** PEM of the CA certificate: what a client adds to its trust store. */
  caPem: string;
  /** PEM of the server certificate (SAN: IP 127.0.0.1 and ::1, DNS localhost and any extra names). */
  certPem: string;
  /** PEM (PKCS#8) of the server certificate's private key. */
  keyPem: string;
}

export interface TlsMaterialOptions {
  /** More DNS names or IP addresses for the server certificate's subjectAltName. */
  extraHosts?: string[];
  /** Validity in days from now (real time: TLS checks the wall clock, not the emulator's). */
  validDays?: number;
}

const generateKeyPairAsync = promisify(generateKeyPair);

/** RSA 2048 through node:crypto (native, off the event loop); forge only builds and signs certificates. */
async function rsaKeyPair(): Promise<{ privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; privatePem: string }> {
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    privateKey: forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey,
    publicKey: forge.pki.publicKeyFromPem(publicKey) as forge.pki.rsa.PublicKey,
    privatePem: privateKey,
  };
}

/** A positive serial number (the high bit clear), as RFC 5280 asks. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

function isIpAddress(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}

export async function createTlsMaterial(options: TlsMaterialOptions = {}): Promise<TlsMaterial> {
  const validDays = options.validDays ?? 30;
  const [caKeys, leafKeys] = await Promise.all([rsaKeyPair(), rsaKeyPair()]);
  // An hour of slack backwards: a client whose clock is a little behind still accepts the cert.
  const notBefore = new Date(Date.now() - 60 * 60 * 1000);
  const notAfter = new Date(Date.now() + validDays * 24 * 60 * 60 * 1000);

  const caSubject = [
    { name: 'commonName', value: 'graph-device-agent identity emulator CA' },
    { name: 'organizationName', value: 'graph-device-agent tests' },
  ];
  const ca = forge.pki.createCertificate();
  ca.publicKey = caKeys.publicKey;
  ca.serialNumber = serialNumber();
  ca.validity.notBefore = notBefore;
  ca.validity.notAfter = notAfter;
  ca.setSubject(caSubject);
  ca.setIssuer(caSubject);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());

  const hosts = ['127.0.0.1', '::1', 'localhost', ...(options.extraHosts ?? [])];
  const altNames = [...new Set(hosts)].map((host) =>
    isIpAddress(host) ? { type: 7, ip: host } : { type: 2, value: host },
  );
  const leaf = forge.pki.createCertificate();
  leaf.publicKey = leafKeys.publicKey;
  leaf.serialNumber = serialNumber();
  leaf.validity.notBefore = notBefore;
  leaf.validity.notAfter = notAfter;
  leaf.setSubject([{ name: 'commonName', value: '127.0.0.1' }]);
  leaf.setIssuer(caSubject);
  leaf.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
  ]);
  leaf.sign(caKeys.privateKey, forge.md.sha256.create());

  return {
    caPem: forge.pki.certificateToPem(ca),
    certPem: forge.pki.certificateToPem(leaf),
    keyPem: leafKeys.privatePem,
  };
}
