import { AppError, errors } from '../../kernel/errors.js';
import { limitExceeded, type Limits } from '../../kernel/limits.js';
import {
  PkiError,
  checkChainLink,
  type IssuerCache,
  isExpired,
  parseCertificateChain,
  parsePrivateKey,
  privateKeyMatches,
  type KeyAlgorithm,
  type ParsedCertificate,
  type ParsedPrivateKey,
  type PkiLimits,
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

/** What an inspection runs against: the time, the shared issuer cache, and the input limits. */
export interface InspectContext {
  now: Date;
  limits: Limits;
  issuers?: IssuerCache | undefined;
}

/** What inspecting one pair needs: the time, the issuer cache, and the bounds the PKI toolkit checks itself. */
interface PairContext {
  now: Date;
  pki: PkiLimits;
  issuers?: IssuerCache | undefined;
}

/**
 * Every check an upload must pass before anything is stored: sizes within the limits, PEM (not
 * DER), chain order and signatures, key format (no encrypted keys), key ↔ certificate match, SAN
 * present, not expired, declared algorithm matches the key, and for SM2 the signing pair of the
 * dual certificate.
 */
export async function inspectUpload(upload: CertificateUpload, context: InspectContext): Promise<InspectedUpload> {
  checkPemSizes(upload, context.limits);
  const { limits } = context;
  const pair: PairContext = {
    now: context.now,
    issuers: context.issuers,
    pki: { maxCertificates: limits.chainCertificates, rsaMinBits: limits.rsaMinBits, rsaMaxBits: limits.rsaMaxBits },
  };
  const main = await inspectPair(upload.chainPem, upload.privateKeyPem, pair, 'certificate', 'privateKey');
  const leaf = main.chain[0]!;
  const algorithmType = algorithmTypeOf(main.key.algorithm);
  if (upload.algorithmType && upload.algorithmType !== algorithmType) {
    throw new AppError(
      'certificate.algorithm_mismatch',
      `algorithmType ${upload.algorithmType} does not match the ${algorithmType} key`,
      { parameter: 'algorithmType' },
    );
  }
  const sign = await inspectSignPair(upload, algorithmType, pair);
  return {
    facts: factsOf(leaf, algorithmType),
    main,
    sign,
    trustedRootCa: upload.trustedRootCa ? inspectTrustedRoot(upload.trustedRootCa, pair.pki) : null,
  };
}

/** Length first: every later step costs at least in proportion to it. */
function checkPemSizes(upload: CertificateUpload, limits: Limits): void {
  const fields: Array<[string, string | undefined]> = [
    ['certificate', upload.chainPem],
    ['privateKey', upload.privateKeyPem],
    ['signCertificate', upload.signChainPem],
    ['signPrivateKey', upload.signPrivateKeyPem],
    ['trustedRootCa', upload.trustedRootCa],
  ];
  for (const [parameter, text] of fields) {
    if (text !== undefined && text.length > limits.pemCharacters) {
      throw limitExceeded(parameter, `is ${text.length} characters long, more than the ${limits.pemCharacters} accepted`, 'pemCharacters');
    }
  }
}

async function inspectSignPair(
  upload: CertificateUpload,
  algorithmType: AlgorithmType,
  context: PairContext,
): Promise<InspectedPair | null> {
  const given = Boolean(upload.signChainPem) || Boolean(upload.signPrivateKeyPem);
  if (algorithmType !== 'SM2') {
    if (given) throw errors.invalidParameter('signCertificate', 'only SM2 dual certificates carry a signing pair');
    return null;
  }
  if (!upload.signChainPem) throw errors.missingParameter('signCertificate');
  if (!upload.signPrivateKeyPem) throw errors.missingParameter('signPrivateKey');
  const sign = await inspectPair(upload.signChainPem, upload.signPrivateKeyPem, context, 'signCertificate', 'signPrivateKey');
  if (sign.key.algorithm !== 'SM2') {
    throw new AppError('certificate.algorithm_mismatch', 'the signing pair of an SM2 dual certificate must be SM2', {
      parameter: 'signCertificate',
    });
  }
  return sign;
}

async function inspectPair(
  chainPem: string,
  keyPem: string,
  context: PairContext,
  certParam: string,
  keyParam: string,
): Promise<InspectedPair> {
  const chain = parseChainOrThrow(chainPem, certParam, context.pki, context.issuers);
  const leaf = chain[0]!;
  // Order first: an intermediate put before the leaf has no SAN either, but the fault is the order.
  await checkOrder(chain, certParam);
  if (leaf.dnsNames.length === 0 && leaf.ipAddresses.length === 0) {
    throw new AppError('certificate.no_san', 'the certificate has no subject alternative name', { parameter: certParam });
  }
  const key = parseKeyOrThrow(keyPem, keyParam, context.pki);
  if (!privateKeyMatches(key, leaf)) {
    throw new AppError('certificate.key_mismatch', 'the certificate and private key do not match', {
      parameter: keyParam,
    });
  }
  const expiredAt = chain.findIndex((cert) => isExpired(cert, context.now));
  if (expiredAt >= 0) {
    throw new AppError('certificate.expired', `certificate ${expiredAt} of the chain has expired`, {
      parameter: certParam,
    });
  }
  return { chain, key, chainPem: chain.map((c) => c.pem).join('') };
}

/** Lets other requests, the health probe among them, run between two links of a chain. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Link by link, giving way in between: an SM2 signature check is pure JS and costs milliseconds. */
async function checkOrder(chain: ParsedCertificate[], parameter: string): Promise<void> {
  for (let i = 0; i + 1 < chain.length; i++) {
    if (i > 0) await nextTurn();
    try {
      checkChainLink(chain, i);
    } catch (err) {
      throw mapPkiError(err, parameter);
    }
  }
}

function parseChainOrThrow(text: string, parameter: string, limits: PkiLimits, issuers?: IssuerCache): ParsedCertificate[] {
  try {
    return parseCertificateChain(text, issuers ? { issuers, limits } : { limits });
  } catch (err) {
    throw mapPkiError(err, parameter);
  }
}

function parseKeyOrThrow(text: string, parameter: string, limits: PkiLimits): ParsedPrivateKey {
  try {
    return parsePrivateKey(text, limits);
  } catch (err) {
    if (err instanceof PkiError && err.failure === 'limit') throw mapPkiError(err, parameter);
    if (err instanceof PkiError && err.failure === 'key.encrypted') {
      throw new AppError('certificate.key_encrypted', 'encrypted private keys are not supported', { parameter });
    }
    if (err instanceof PkiError) {
      throw new AppError('certificate.key_invalid', `the private key is not valid (${err.failure})`, { parameter });
    }
    throw err;
  }
}

function inspectTrustedRoot(text: string, limits: PkiLimits): string {
  const certs = parseChainOrThrow(text, 'trustedRootCa', limits);
  const notCa = certs.findIndex((cert) => !cert.isCA);
  if (notCa >= 0) throw errors.invalidParameter('trustedRootCa', `certificate ${notCa} is not a CA certificate`);
  return certs.map((c) => c.pem).join('');
}

/** Which setting each toolkit bound comes from. */
const LIMIT_SETTINGS: Record<keyof PkiLimits, keyof Limits> = {
  maxCertificates: 'chainCertificates',
  rsaMinBits: 'rsaMinBits',
  rsaMaxBits: 'rsaMaxBits',
};

function mapPkiError(err: unknown, parameter: string): unknown {
  if (!(err instanceof PkiError)) return err;
  switch (err.failure) {
    case 'limit':
      return limitExceeded(parameter, err.message, LIMIT_SETTINGS[err.limit ?? 'maxCertificates']);
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
