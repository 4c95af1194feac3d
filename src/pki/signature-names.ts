/** Display names for signature algorithms (Go's x509.SignatureAlgorithm.String() vocabulary). */
import { ctx, DerReader, TAG } from './der.js';
import { OID, PSS_NAMES, SIGNATURE_NAMES } from './oids.js';

/**
 * `params` reads the AlgorithmIdentifier parameters (positioned after the OID).
 * Unknown algorithms, and PSS variants Go would not name, show as the dotted OID.
 */
export function signatureAlgorithmName(oid: string, params: DerReader): string {
  if (oid === OID.rsassaPss) {
    try {
      return pssName(params) ?? oid;
    } catch {
      return oid; // odd PSS parameters are node's problem when verifying, not a naming error
    }
  }
  return SIGNATURE_NAMES.get(oid) ?? oid;
}

/** Mirrors Go: SHA-2 hash, MGF1 with the same hash, salt length = hash length, trailer 1. */
function pssName(r: DerReader): string | undefined {
  const p = readPssParams(r);
  if (!p || p.mgfHash !== p.hash || p.trailer !== 1) return undefined;
  const known = PSS_NAMES.get(p.hash);
  return known && known.saltLength === p.saltLength ? known.name : undefined;
}

export interface PssParams {
  hash: string;
  mgfHash: string;
  saltLength: number;
  trailer: number;
}

/**
 * RSASSA-PSS-params (RFC 4055 §3.1) after the algorithm OID. Undefined when the
 * hash or MGF is left at its SHA-1 default, which nothing we accept uses.
 */
export function readPssParams(r: DerReader): PssParams | undefined {
  const p = r.enter(TAG.SEQUENCE, 'RSASSA-PSS-params');
  const hashTlv = p.optional(ctx(0, true));
  if (!hashTlv) return undefined;
  const hash = hashOid(p.inside(hashTlv));
  const mgfTlv = p.optional(ctx(1, true));
  if (!mgfTlv) return undefined;
  const mgf = p.inside(mgfTlv).enter(TAG.SEQUENCE, 'MaskGenAlgorithm');
  if (mgf.oid() !== OID.mgf1) return undefined;
  const mgfHash = hashOid(mgf);
  const saltTlv = p.optional(ctx(2, true));
  const saltLength = saltTlv ? p.inside(saltTlv).smallInt() : 20;
  const trailerTlv = p.optional(ctx(3, true));
  const trailer = trailerTlv ? p.inside(trailerTlv).smallInt() : 1;
  p.finish('RSASSA-PSS-params');
  return { hash, mgfHash, saltLength, trailer };
}

/** AlgorithmIdentifier of a hash; its parameters must be absent or NULL. */
function hashOid(r: DerReader): string {
  const alg = r.enter(TAG.SEQUENCE, 'AlgorithmIdentifier');
  const oid = alg.oid();
  const nul = alg.optional(TAG.NULL);
  if (nul && nul.end !== nul.valueStart) alg.fail('malformed NULL');
  alg.finish('hash AlgorithmIdentifier');
  return oid;
}
