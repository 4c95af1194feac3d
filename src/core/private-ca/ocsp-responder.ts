/**
 * The OCSP responder (RFC 6960) of the managed CAs, answering from the inventory as it is at the
 * moment of the request: `good` only for a serial the CA issued and has not revoked (`active`),
 * `revoked` with its time for revoked and void serials (as the CRL lists them), `unknown` for
 * anything else. Each response is signed by the CA itself, through the signer.
 *
 * The CA is found from the CertID's issuer name and key hashes (SHA-1 or SHA-256), looked up in
 * the database by the ids stored with each managed CA, so a CA made by another server process is
 * known at once and a deleted one is not.
 */
import type { Clock } from '../../kernel/clock.js';
import { isPkiError, ocspErrorResponse, parseOcspRequest, type OcspCertId, type OcspCertStatus, type OcspErrorStatus, type OcspRequest } from '../../pki/index.js';
import { wholeSeconds } from './model.js';
import type { CaSigner, OcspSubject, RevocationStore } from './ports.js';
import { OCSP_REQUEST_MAX_BYTES, revocationOf, type RevocationSettings } from './revocation.js';

export interface OcspResponderDeps {
  store: RevocationStore;
  signer: Pick<CaSigner, 'signOcspResponse'>;
  clock: Clock;
  settings: Pick<RevocationSettings, 'ocspValidityMinutes'>;
}

/** An OCSPResponse, and whether it is an answer or one of the unsigned refusals. */
export interface OcspAnswer {
  der: Buffer;
  outcome: 'successful' | OcspErrorStatus;
}

/** CertIDs in one request (each costs a lookup); OpenSSL and nginx send one. */
const MAX_CERT_IDS = 16;

/** Serials certplane gives are 16 octets (newSerial): anything else was never issued here. */
const SERIAL_HEX_DIGITS = 32;

export class OcspResponder {
  constructor(private readonly deps: OcspResponderDeps) {}

  /** The answer to one DER OCSPRequest. A request that does not parse gets `malformedRequest`. */
  async respond(der: Buffer): Promise<OcspAnswer> {
    let request: OcspRequest;
    try {
      request = parseOcspRequest(der, { maxBytes: OCSP_REQUEST_MAX_BYTES, maxRequests: MAX_CERT_IDS });
    } catch (err) {
      if (isPkiError(err)) return refusal('malformedRequest');
      throw err;
    }
    const subjects = await Promise.all(request.certIds.map((id) => this.subjectOf(id)));
    // One response has one signer: the CA named first. No managed CA named at all → no key may answer.
    const responder = subjects.find((s) => s !== undefined)?.caId;
    if (responder === undefined) return refusal('unauthorized');
    const thisUpdate = wholeSeconds(this.deps.clock.now());
    const nextUpdate = new Date(thisUpdate.getTime() + this.deps.settings.ocspValidityMinutes * 60_000);
    const responses = request.certIds.map((certId, i) => ({
      certId,
      thisUpdate,
      nextUpdate,
      ...statusOf(subjects[i], responder),
    }));
    const signed = await this.deps.signer.signOcspResponse(responder, {
      producedAt: thisUpdate,
      responses,
      ...(request.nonce ? { nonce: request.nonce } : {}),
    });
    return { der: signed, outcome: 'successful' };
  }

  private subjectOf(certId: OcspCertId): Promise<OcspSubject | undefined> {
    const issuerId = certId.issuerNameHash.toString('hex') + certId.issuerKeyHash.toString('hex');
    const serial = certId.serial.toString('hex');
    // A serial of another length still names the CA (it answers `unknown`); it matches no record.
    return this.deps.store.ocspSubject(certId.hashAlgorithm, issuerId, serial.length === SERIAL_HEX_DIGITS ? serial : '');
  }
}

/** One of the unsigned answers (malformedRequest, unauthorized, internalError…). */
export function refusal(status: OcspErrorStatus): OcspAnswer {
  return { der: ocspErrorResponse(status), outcome: status };
}

function statusOf(subject: OcspSubject | undefined, responder: string): OcspCertStatus {
  // Another CA's CertID in the same request: this signer cannot speak for it.
  if (!subject || subject.caId !== responder || !subject.record) return { status: 'unknown' };
  if (subject.record.status === 'active') return { status: 'good' };
  const revocation = revocationOf(subject.record);
  return revocation ? { status: 'revoked', ...revocation } : { status: 'unknown' };
}
