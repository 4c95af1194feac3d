/**
 * Proof of possession: a CSR's self-signature, checked with node:crypto.
 * `openssl req -verify` (3.0) exits 0 on a bad signature, so nothing else may
 * be trusted to do this. SHA-1 and MD5 are refused: collisions make the
 * signature prove nothing.
 */
import { constants, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { DerReader, TAG } from './der.js';
import { PkiError } from './errors.js';
import { OID } from './oids.js';
import { readPssParams } from './signature-names.js';
import { signatureWork, type VerifyKey } from './signature-work.js';
import { readSpki } from './spki.js';
import type { KeyAlgorithm } from './types.js';

interface Scheme {
  name: string;
  key: KeyAlgorithm;
  hash: string;
  /** RSASSA-PSS only. */
  saltLength?: number;
}

const SCHEMES: ReadonlyMap<string, Scheme> = new Map([
  [OID.sha256WithRsa, { name: 'SHA256-RSA', key: 'RSA', hash: 'sha256' }],
  [OID.sha384WithRsa, { name: 'SHA384-RSA', key: 'RSA', hash: 'sha384' }],
  [OID.sha512WithRsa, { name: 'SHA512-RSA', key: 'RSA', hash: 'sha512' }],
  [OID.ecdsaWithSha256, { name: 'ECDSA-SHA256', key: 'EC', hash: 'sha256' }],
  [OID.ecdsaWithSha384, { name: 'ECDSA-SHA384', key: 'EC', hash: 'sha384' }],
  [OID.ecdsaWithSha512, { name: 'ECDSA-SHA512', key: 'EC', hash: 'sha512' }],
]);

const WEAK: ReadonlyMap<string, string> = new Map([
  [OID.sha1WithRsa, 'SHA1-RSA'],
  [OID.ecdsaWithSha1, 'ECDSA-SHA1'],
  ['1.2.840.113549.1.1.4', 'MD5-RSA'],
]);

const PSS_HASHES: ReadonlyMap<string, string> = new Map([
  [OID.sha256, 'sha256'],
  [OID.sha384, 'sha384'],
  [OID.sha512, 'sha512'],
]);

function fail(message: string): never {
  throw new PkiError('csr.invalid', message);
}

/**
 * Verify `signature` over `signed` with the CSR's own key (`spki`, of algorithm
 * `keyAlgorithm`); `algorithm` is the AlgorithmIdentifier DER. Returns the
 * signature algorithm's name (as ParsedCertificate names them).
 */
export function verifyCsrSignature(signed: Buffer, algorithm: Buffer, signature: Buffer, spki: Buffer, keyAlgorithm: KeyAlgorithm): string {
  const { scheme, options } = prepare(algorithm, spki, keyAlgorithm);
  let ok: boolean;
  try {
    ok = verify(scheme.hash, signed, options, signature);
  } catch {
    ok = false; // a malformed signature value is as wrong as a mismatched one
  }
  if (!ok) badSignature();
  return scheme.name;
}

/** verifyCsrSignature, with the signature verified off the event loop (signatureWork). */
export async function verifyCsrSignatureAsync(signed: Buffer, algorithm: Buffer, signature: Buffer, spki: Buffer, keyAlgorithm: KeyAlgorithm): Promise<string> {
  const { scheme, options } = prepare(algorithm, spki, keyAlgorithm);
  if (!(await signatureWork().verify(scheme.hash, signed, options, signature))) badSignature();
  return scheme.name;
}

function badSignature(): never {
  return fail('bad signature: the CSR signature does not verify with its own public key (altered, or signed with another key)');
}

/** The signature scheme `algorithm` names (weak and unknown ones refused) and the key to verify with. */
function prepare(algorithm: Buffer, spki: Buffer, keyAlgorithm: KeyAlgorithm): { scheme: Scheme; options: VerifyKey } {
  const alg = new DerReader(algorithm, 'csr.invalid').enter(TAG.SEQUENCE, 'signatureAlgorithm');
  const oid = alg.oid();
  const weak = WEAK.get(oid);
  if (weak) fail(`bad signature: the CSR is signed with ${weak}, which is not accepted; sign it with SHA-256`);
  const plain = SCHEMES.get(oid);
  const scheme = plain ?? (oid === OID.rsassaPss ? pssScheme(alg) : undefined);
  if (!scheme) fail(`bad signature: unsupported signature algorithm ${oid}`);
  if (scheme.key !== keyAlgorithm) fail(`bad signature: a ${scheme.name} signature cannot come from a ${keyAlgorithm} key`);
  const key = publicKey(spki);
  return { scheme, options: scheme.saltLength === undefined ? key : { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.saltLength } };
}

/** RSASSA-PSS with a SHA-2 hash and MGF1 over the same hash (what node's verify can express). */
function pssScheme(alg: DerReader): Scheme & { saltLength: number } {
  const params = alg.peekTag() === TAG.SEQUENCE ? readPssParams(alg) : undefined;
  const hash = params && PSS_HASHES.get(params.hash);
  if (!params || !hash || params.mgfHash !== params.hash || params.trailer !== 1) {
    fail('bad signature: RSASSA-PSS parameters other than SHA-2 with MGF1 over the same hash are not supported');
  }
  return { name: `${hash.toUpperCase()}-RSAPSS`, key: 'RSA', hash, saltLength: params.saltLength };
}

/** JWK names of the curves whose keys load faster as JWK; others load from DER. */
const JWK_CURVES: ReadonlyMap<string, string> = new Map([
  ['P-256', 'P-256'],
  ['P-384', 'P-384'],
]);

/** Keys loaded lately, by their SPKI bytes; past this many the memory is cleared (it is only a cache). */
const REMEMBERED_KEYS = 1024;
const loadedKeys = new Map<string, KeyObject>();

/**
 * The CSR's key as a KeyObject. An uncompressed P-256/P-384 point is loaded as a JWK: OpenSSL 3's
 * DER decoder costs ≈ 185 µs a key, the JWK path ≈ 85 µs, and both refuse a point off the curve.
 * A key that loaded is remembered by its exact SPKI bytes (a client renewing with the same key
 * sends them again); the signature is verified on every CSR all the same.
 */
function publicKey(spki: Buffer): KeyObject {
  const id = spki.toString('base64');
  const known = loadedKeys.get(id);
  if (known) return known;
  let key: KeyObject;
  try {
    const jwk = ecJwk(spki);
    key = jwk ? createPublicKey({ key: jwk, format: 'jwk' }) : createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch (err) {
    return fail(`unsupported key: the public key does not load (${err instanceof Error ? err.message : String(err)})`);
  }
  if (loadedKeys.size >= REMEMBERED_KEYS) loadedKeys.clear();
  loadedKeys.set(id, key);
  return key;
}

function ecJwk(spki: Buffer): { kty: 'EC'; crv: string; x: string; y: string } | undefined {
  const { material } = readSpki(new DerReader(spki, 'csr.invalid'));
  const crv = material.kind === 'EC' ? JWK_CURVES.get(material.curve.name) : undefined;
  if (!crv || material.kind !== 'EC' || material.point[0] !== 0x04) return undefined;
  const size = (material.point.length - 1) / 2;
  const x = material.point.subarray(1, 1 + size).toString('base64url');
  const y = material.point.subarray(1 + size).toString('base64url');
  return { kty: 'EC', crv, x, y };
}
