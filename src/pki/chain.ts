/** Chain order: each certificate must be issued by the next one (leaf first). */
import { certificateInternals } from './certificate.js';
import { PkiError } from './errors.js';
import { namesMatch } from './names.js';
import { OID } from './oids.js';
import { verifySm2 } from './sm2.js';
import type { ParsedCertificate } from './types.js';

/**
 * Signature check only (names are checkChainOrder's business): does `issuer`'s
 * key verify `cert`'s signature? SM2-with-SM3 is verified in JS with the default
 * user id, because node's X509Certificate.verify() always says false for SM2.
 * Never throws.
 */
export function verifiesWith(cert: ParsedCertificate, issuer: ParsedCertificate): boolean {
  try {
    const child = certificateInternals(cert);
    const parent = certificateInternals(issuer);
    if (cert.signatureAlgorithmOid === OID.sm2WithSm3) {
      const key = parent.key;
      return child.algorithmsAgree && key.kind === 'EC' && key.curve.name === 'SM2' && verifySm2(child.tbs, child.signature, key.point);
    }
    return child.x509.verify(parent.x509.publicKey);
  } catch {
    return false;
  }
}

/** Throws PkiError('chain.order', index i) at the first chain[i] not issued by chain[i+1]. */
export function checkChainOrder(chain: ParsedCertificate[]): void {
  for (let i = 0; i + 1 < chain.length; i++) checkChainLink(chain, i);
}

/**
 * One link: chain[i] names chain[i+1] as its issuer and carries its signature; throws
 * PkiError('chain.order', i) otherwise. Separate so a caller can let other work run between
 * links (an SM2 signature check is pure JS and takes milliseconds).
 */
export function checkChainLink(chain: ParsedCertificate[], i: number): void {
  const cert = chain[i]!;
  const next = chain[i + 1]!;
  if (!namesMatch(certificateInternals(cert).issuer, certificateInternals(next).subject)) {
    throw new PkiError(
      'chain.order',
      `certificate ${i} ("${cert.subjectText}") is issued by "${cert.issuerText}", but certificate ${i + 1} is "${next.subjectText}"`,
      i,
    );
  }
  if (!verifiesWith(cert, next)) {
    throw new PkiError('chain.order', `the signature of certificate ${i} ("${cert.subjectText}") does not verify with the key of certificate ${i + 1}`, i);
  }
}
