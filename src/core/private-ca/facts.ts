import type { KeyAlgorithm, ParsedCertificate } from '../../pki/index.js';
import type { ClientCa, PublicKeyAlgorithm } from './model.js';

/** ESA's names for key algorithms. */
export function publicKeyAlgorithmOf(algorithm: KeyAlgorithm): PublicKeyAlgorithm {
  return algorithm === 'EC' ? 'ECC' : algorithm;
}

/** What the API shows of a CA certificate, read from the certificate itself. `name` defaults to its CN. */
export function caFacts(cert: ParsedCertificate): Omit<ClientCa, 'id' | 'accountId' | 'siteId' | 'kind' | 'hostnames' | 'createdAt' | 'updatedAt'> {
  return {
    name: cert.commonName || cert.subjectText,
    certificatePem: cert.pem,
    commonName: cert.commonName,
    issuer: cert.issuer.commonName[0] ?? cert.issuerText,
    serialNumber: serialHex(cert.serialNumber.hex),
    fingerprintSha256: cert.fingerprintSha256,
    signatureAlgorithm: cert.signatureAlgorithm,
    publicKeyAlgorithm: publicKeyAlgorithmOf(cert.publicKey.algorithm),
    san: cert.dnsNames.join(','),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
  };
}

/** Lower-case hex of the serial's octets, as `openssl x509 -serial` shows it (an even number of digits). */
function serialHex(hex: string): string {
  return hex.length % 2 === 1 ? `0${hex}` : hex;
}
