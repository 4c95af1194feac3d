/**
 * OCSP responses (RFC 6960 §4.2): a signed BasicOCSPResponse with one
 * SingleResponse per CertID asked about, or one of the unsigned error
 * statuses. The responder is named by key hash (byKey), which stays right
 * whether the CA signs or a delegated responder does.
 */
import { TAG } from './der.js';
import {
  derConstructed,
  derEnumerated,
  derExplicit,
  derGeneralizedTime,
  derOctetString,
  derOid,
  derSequence,
} from './der-writer.js';
import { REVOCATION_REASONS, type RevocationReason } from './crl.js';
import { PkiError } from './errors.js';
import { extension, extensionsBlock } from './extension-writer.js';
import { OID } from './oids.js';
import type { OcspCertId } from './ocsp.js';
import { signStructure, subjectKeyId, type SigningIssuer } from './signer.js';

export type OcspCertStatus =
  | { status: 'good' }
  | { status: 'revoked'; revokedAt: Date; /** Absent or 'unspecified': no reason is sent. */ reason?: RevocationReason }
  | { status: 'unknown' };

export type OcspSingleResponse = OcspCertStatus & {
  /** The CertID from the request (its DER is echoed). */
  certId: Pick<OcspCertId, 'der'>;
  thisUpdate: Date;
  /** When a newer answer will be available; absent means "at any time". */
  nextUpdate?: Date;
};

export interface OcspResponseInput {
  /** The CA itself, or a delegated responder whose certificate the CA issued (profile ocspResponder). */
  responder: SigningIssuer;
  /** DER certificates for the `certs` field: the delegated responder's certificate; none when the CA signs. */
  certificates?: readonly Buffer[];
  producedAt: Date;
  responses: readonly OcspSingleResponse[];
  /** The request's nonce (OcspRequest.nonce), echoed verbatim. */
  nonce?: Buffer;
}

/** RFC 6960 §4.2.1 OCSPResponseStatus values other than successful (4 is unused). */
export const OCSP_ERROR_STATUS = {
  malformedRequest: 1,
  internalError: 2,
  tryLater: 3,
  sigRequired: 5,
  unauthorized: 6,
} as const;

export type OcspErrorStatus = keyof typeof OCSP_ERROR_STATUS;

const SUCCESSFUL = derEnumerated(0);
const GOOD = Buffer.from([0x80, 0x00]); // [0] IMPLICIT NULL
const UNKNOWN = Buffer.from([0x82, 0x00]); // [2] IMPLICIT UnknownInfo (NULL)

/** OCSPResponse with responseStatus successful and a signed BasicOCSPResponse. */
export function buildOcspResponse(input: OcspResponseInput): Buffer {
  if (input.responses.length === 0) throw new PkiError('build.invalid', 'an OCSP response answers at least one CertID');
  const { responder } = input;
  const data = [
    derExplicit(2, derOctetString(subjectKeyId(responder.spki))), // ResponderID byKey: SHA-1 of the key bits
    derGeneralizedTime(input.producedAt),
    derConstructed(TAG.SEQUENCE, input.responses.map(singleResponse)),
  ];
  if (input.nonce) data.push(extensionsBlock(1, [extension(OID.ocspNonce, false, input.nonce)]));
  const certs = input.certificates?.length ? [derExplicit(0, derConstructed(TAG.SEQUENCE, input.certificates))] : [];
  const basic = signStructure(responder, derConstructed(TAG.SEQUENCE, data), certs);
  const responseBytes = derSequence([derOid(OID.ocspBasic), derOctetString(basic)]);
  return derSequence([SUCCESSFUL, derExplicit(0, responseBytes)]);
}

/** The unsigned answers: OCSPResponse with a status and no responseBytes. */
export function ocspErrorResponse(status: OcspErrorStatus): Buffer {
  const code = OCSP_ERROR_STATUS[status];
  if (code === undefined) throw new PkiError('build.invalid', `unknown OCSP response status "${status}"`);
  return derSequence([derEnumerated(code)]);
}

function singleResponse(r: OcspSingleResponse): Buffer {
  if (r.nextUpdate && !(r.nextUpdate.getTime() > r.thisUpdate.getTime())) throw new PkiError('build.invalid', 'nextUpdate must be later than thisUpdate');
  const fields = [r.certId.der, certStatus(r), derGeneralizedTime(r.thisUpdate)];
  if (r.nextUpdate) fields.push(derExplicit(0, derGeneralizedTime(r.nextUpdate)));
  return derSequence(fields);
}

function certStatus(r: OcspCertStatus): Buffer {
  switch (r.status) {
    case 'good':
      return GOOD;
    case 'unknown':
      return UNKNOWN;
    case 'revoked': {
      // RevokedInfo ::= SEQUENCE { revocationTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }, tagged [1] IMPLICIT.
      const parts = [derGeneralizedTime(r.revokedAt)];
      const code = REVOCATION_REASONS[r.reason ?? 'unspecified'];
      if (code === undefined) throw new PkiError('build.invalid', `unknown revocation reason "${r.reason}"`);
      if (code !== 0) parts.push(derExplicit(0, derEnumerated(code)));
      return derConstructed(0xa1, parts);
    }
    default:
      throw new PkiError('build.invalid', `unknown certificate status "${(r as { status: string }).status}"`);
  }
}
