import { AppError, errors } from '../../kernel/errors.js';
import {
  PkiError,
  checkChainOrder,
  type IssuerCache,
  isExpired,
  parseCertificateChain,
  parsePrivateKey,
  privateKeyMatches,
  type KeyAlgorithm,
  type ParsedCertificate,
  type ParsedPrivateKey,
} from '../../pki/index.js';
import type { AlgorithmType, CertificateFacts, CertificateUpload } from './model.js';

/** A certificate/key pair that passed every check, with its key still in clear text for sealing. */
export interface InspectedPair {
  chain: ParsedCertificate[];
  key: ParsedPrivateKey;
  chainPem: string;
}

export interface InspectedUpload {
  facts: CertificateFacts;
  main: InspectedPair;
  sign: InspectedPair | null;
  trustedRootCa: string | null;
}

export function algorithmTypeOf(algorithm: KeyAlgorithm): AlgorithmType {
  if (algorithm === 'RSA') return 'RSA';
  if (algorithm === 'SM2') return 'SM2';
  return 'ECC';
}

/**
 * Every check an upload must pass before anything is stored: PEM (not DER), chain order and
 * signatures, key format (no encrypted keys), key ↔ certificate match, SAN present, not expired,
 * declared algorithm matches the key, and for SM2 the signing pair of the dual certificate.
 */
export function inspectUpload(upload: CertificateUpload, now: Date, issuers?: IssuerCache): InspectedUpload {
  const main = inspectPair(upload.chainPem, upload.privateKeyPem, now, 'certificate', 'privateKey', issuers);
  const leaf = main.chain[0]!;
  const algorithmType = algorithmTypeOf(main.key.algorithm);
  if (upload.algorithmType && upload.algorithmType !== algorithmType) {
    throw new AppError(
      'certificate.algorithm_mismatch',
      `algorithmType ${upload.algorithmType} does not match the ${algorithmType} key`,
      { parameter: 'algorithmType' },
    );
  }
  const sign = inspectSignPair(upload, algorithmType, now, issuers);
  return {
    facts: factsOf(leaf, algorithmType),
    main,
    sign,
    trustedRootCa: upload.trustedRootCa ? inspectTrustedRoot(upload.trustedRootCa) : null,
  };
}

function inspectSignPair(
  upload: CertificateUpload,
  algorithmType: AlgorithmType,
  now: Date,
  issuers: IssuerCache | undefined,
): InspectedPair | null {
  const given = Boolean(upload.signChainPem) || Boolean(upload.signPrivateKeyPem);
  if (algorithmType !== 'SM2') {
    if (given) throw errors.invalidParameter('signCertificate', 'only SM2 dual certificates carry a signing pair');
    return null;
  }
  if (!upload.signChainPem) throw errors.missingParameter('signCertificate');
  if (!upload.signPrivateKeyPem) throw errors.missingParameter('signPrivateKey');
  const sign = inspectPair(upload.signChainPem, upload.signPrivateKeyPem, now, 'signCertificate', 'signPrivateKey', issuers);
  if (sign.key.algorithm !== 'SM2') {
    throw new AppError('certificate.algorithm_mismatch', 'the signing pair of an SM2 dual certificate must be SM2', {
      parameter: 'signCertificate',
    });
  }
  return sign;
}

function inspectPair(
  chainPem: string,
  keyPem: string,
  now: Date,
  certParam: string,
  keyParam: string,
  issuers?: IssuerCache,
): InspectedPair {
  const chain = parseChainOrThrow(chainPem, certParam, issuers);
  const leaf = chain[0]!;
  // Order first: an intermediate put before the leaf has no SAN either, but the fault is the order.
  try {
    checkChainOrder(chain);
  } catch (err) {
    throw mapPkiError(err, certParam);
  }
  if (leaf.dnsNames.length === 0 && leaf.ipAddresses.length === 0) {
    throw new AppError('certificate.no_san', 'the certificate has no subject alternative name', { parameter: certParam });
  }
  const key = parseKeyOrThrow(keyPem, keyParam);
  if (!privateKeyMatches(key, leaf)) {
    throw new AppError('certificate.key_mismatch', 'the certificate and private key do not match', {
      parameter: keyParam,
    });
  }
  const expiredAt = chain.findIndex((cert) => isExpired(cert, now));
  if (expiredAt >= 0) {
    throw new AppError('certificate.expired', `certificate ${expiredAt} of the chain has expired`, {
      parameter: certParam,
    });
  }
  return { chain, key, chainPem: chain.map((c) => c.pem).join('') };
}

function parseChainOrThrow(text: string, parameter: string, issuers?: IssuerCache): ParsedCertificate[] {
  try {
    return parseCertificateChain(text, issuers ? { issuers } : {});
  } catch (err) {
    throw mapPkiError(err, parameter);
  }
}

function parseKeyOrThrow(text: string, parameter: string): ParsedPrivateKey {
  try {
    return parsePrivateKey(text);
  } catch (err) {
    if (err instanceof PkiError && err.failure === 'key.encrypted') {
      throw new AppError('certificate.key_encrypted', 'encrypted private keys are not supported', { parameter });
    }
    if (err instanceof PkiError) {
      throw new AppError('certificate.key_invalid', `the private key is not valid (${err.failure})`, { parameter });
    }
    throw err;
  }
}

function inspectTrustedRoot(text: string): string {
  const certs = parseChainOrThrow(text, 'trustedRootCa');
  const notCa = certs.findIndex((cert) => !cert.isCA);
  if (notCa >= 0) throw errors.invalidParameter('trustedRootCa', `certificate ${notCa} is not a CA certificate`);
  return certs.map((c) => c.pem).join('');
}

function mapPkiError(err: unknown, parameter: string): unknown {
  if (!(err instanceof PkiError)) return err;
  switch (err.failure) {
    case 'pem.der':
      return new AppError('certificate.der_not_pem', 'certificates must be PEM encoded, not DER', { parameter });
    case 'chain.order':
      return new AppError(
        'certificate.chain_order',
        `the certificate chain is out of order at position ${err.index ?? 0}: server certificate first, then each issuer`,
        { parameter },
      );
    default:
      return new AppError('certificate.invalid', `the certificate is not valid (${err.failure})`, { parameter });
  }
}

function factsOf(leaf: ParsedCertificate, algorithmType: AlgorithmType): CertificateFacts {
  return {
    algorithmType,
    commonName: leaf.commonName,
    san: [...leaf.dnsNames, ...leaf.ipAddresses],
    subject: leaf.subject,
    issuer: leaf.issuer,
    notBefore: leaf.notBefore,
    notAfter: leaf.notAfter,
    serialNumber: leaf.serialNumber.decimal,
    signatureAlgorithm: leaf.signatureAlgorithm,
    version: leaf.version,
    fingerprintSha256: leaf.fingerprintSha256,
  };
}
