import { parseCertificateChain, type KeyAlgorithm } from '../../pki/index.js';
import { IssuanceFailed } from './failure.js';
import type { IssuedFacts } from './model.js';

/** Names of key algorithms as the certificate APIs show them (`PubAlg`). */
const PUBLIC_KEY_ALGORITHMS: Record<KeyAlgorithm, string> = { EC: 'ECDSA', RSA: 'RSA', Ed25519: 'Ed25519', SM2: 'SM2' };

/**
 * What the leaf of a chain the CA issued says, read once with the PKI toolkit. A chain the toolkit
 * cannot read is the CA's failure, stored as such rather than retried.
 */
export function issuedFacts(chainPem: string): IssuedFacts {
  let leaf;
  try {
    leaf = parseCertificateChain(chainPem)[0];
  } catch (err) {
    throw new IssuanceFailed('badCertificate', `the CA's certificate chain cannot be read: ${(err as Error).message}`);
  }
  if (!leaf) throw new IssuanceFailed('badCertificate', 'the CA sent no certificate');
  const serial = leaf.serialNumber.hex;
  return {
    chainPem,
    commonName: leaf.commonName,
    san: leaf.dnsNames.join(','),
    serialNumber: serial.length % 2 === 1 ? `0${serial}` : serial,
    fingerprintSha256: leaf.fingerprintSha256,
    issuer: leaf.issuer.organization[0] ?? leaf.issuer.commonName[0] ?? leaf.issuerText,
    issuerCn: leaf.issuer.commonName[0] ?? '',
    publicKeyAlgorithm: PUBLIC_KEY_ALGORITHMS[leaf.publicKey.algorithm],
    signatureAlgorithm: leaf.signatureAlgorithm,
    notBefore: leaf.notBefore,
    notAfter: leaf.notAfter,
  };
}
