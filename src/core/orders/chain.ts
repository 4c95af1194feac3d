import { createHash } from 'node:crypto';
import { parseCertificateChain } from '../../pki/index.js';

/** One certificate of a stored chain, as the CAS certificate views show it. */
export interface ChainLink {
  commonName: string;
  issuerCommonName: string;
  notBefore: Date;
  notAfter: Date;
  /** Upper-case hex SHA-1 of the DER (CAS's `Fingerprint`). */
  sha1: string;
  /** Lower-case hex serial number. */
  serialHex: string;
}

/** The links of a chain certplane stored (checked when it was stored), leaf first. */
export function chainLinks(chainPem: string): ChainLink[] {
  return parseCertificateChain(chainPem).map((c) => ({
    commonName: c.commonName,
    issuerCommonName: c.issuer.commonName[0] ?? c.issuer.organization[0] ?? '',
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    sha1: createHash('sha1').update(c.der).digest('hex').toUpperCase(),
    // The serial's octets in lower-case hex, as `openssl x509 -serial` shows them (an even number of digits).
    serialHex: (c.serialNumber.hex.length % 2 === 1 ? `0${c.serialNumber.hex}` : c.serialNumber.hex).toLowerCase(),
  }));
}
