/**
 * UploadClientCaCertificate's checks: one certificate, within the input limits, that is a CA
 * (basicConstraints cA TRUE) and has not expired. Such a CA is trusted for the site's mTLS; it
 * never signs anything here.
 */
import { AppError, errors } from '../../kernel/errors.js';
import { limitExceeded, type Limits } from '../../kernel/limits.js';
import { PkiError, isExpired, parseCertificateChain, type ParsedCertificate } from '../../pki/index.js';

const PARAMETER = 'certificate';

export function checkUploadedCa(text: string, now: Date, limits: Limits): ParsedCertificate {
  if (text.length > limits.pemCharacters) {
    throw limitExceeded(PARAMETER, `is ${text.length} characters long, more than the ${limits.pemCharacters} accepted`, 'pemCharacters');
  }
  let certs: ParsedCertificate[];
  try {
    certs = parseCertificateChain(text, {
      limits: { maxCertificates: limits.chainCertificates, rsaMinBits: limits.rsaMinBits, rsaMaxBits: limits.rsaMaxBits },
    });
  } catch (err) {
    if (!(err instanceof PkiError)) throw err;
    if (err.failure === 'limit') throw limitExceeded(PARAMETER, err.message, err.limit === 'maxCertificates' ? 'chainCertificates' : (err.limit ?? 'rsaMaxBits'));
    if (err.failure === 'pem.der') throw new AppError('certificate.der_not_pem', 'certificates must be PEM encoded, not DER', { parameter: PARAMETER });
    throw errors.invalidParameter(PARAMETER, `not a readable certificate (${err.message})`);
  }
  if (certs.length !== 1) throw errors.invalidParameter(PARAMETER, `holds ${certs.length} certificates; upload one CA certificate at a time`);
  const cert = certs[0]!;
  if (!cert.isCA) {
    throw errors.invalidParameter(PARAMETER, `"${cert.subjectText}" is not a CA certificate (basicConstraints cA is not TRUE); upload the CA that issues your client certificates`);
  }
  if (isExpired(cert, now)) {
    throw new AppError('certificate.expired', `the CA certificate "${cert.subjectText}" expired at ${cert.notAfter.toISOString()}`, { parameter: PARAMETER });
  }
  return cert;
}
