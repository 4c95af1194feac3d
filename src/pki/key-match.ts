/** Does a private key belong to a certificate? */
import { certificateInternals } from './certificate.js';
import { sameMagnitude } from './der.js';
import { samePoint } from './key-material.js';
import { derivedPublicKey } from './private-key.js';
import type { ParsedCertificate, ParsedPrivateKey } from './types.js';

/**
 * Compares the public key derived from the private key (at parse time) with the
 * certificate's SubjectPublicKeyInfo. Works for SM2, which node:crypto cannot
 * compare because it reports SM2 keys with no type.
 */
export function privateKeyMatches(key: ParsedPrivateKey, cert: ParsedCertificate): boolean {
  const mine = derivedPublicKey(key);
  const theirs = certificateInternals(cert).key;
  switch (mine.kind) {
    case 'RSA':
      return theirs.kind === 'RSA' && sameMagnitude(mine.n, theirs.n) && sameMagnitude(mine.e, theirs.e);
    case 'EC':
      return theirs.kind === 'EC' && theirs.curve.name === mine.curve.name && samePoint(mine.point, theirs.point);
    case 'Ed25519':
      return theirs.kind === 'Ed25519' && mine.raw.equals(theirs.raw);
  }
}
