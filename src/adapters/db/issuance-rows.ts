import type { Kysely, Selectable, Transaction } from 'kysely';
import { ISSUE_JOB, type AuthorizationProgress, type Issuance, type IssuanceKeyType, type NewIssuance } from '../../core/issuance/model.js';
import type { Enqueued } from '../../core/jobs/ports.js';
import { enqueueWith } from './job-store.js';
import type { AcmeIssuancesTable, Schema } from './schema.js';

/**
 * Inserts an issuance and its `acme.issue` job in the caller's transaction, so a site certificate
 * or an order exists exactly when the work to fulfil it does. `jobId` is a fresh id for the job.
 */
export async function insertIssuanceWith(
  db: Kysely<Schema> | Transaction<Schema>,
  issuance: NewIssuance,
  now: Date,
  jobId: string,
): Promise<Enqueued> {
  const at = now.toISOString();
  await db
    .insertInto('acme_issuances')
    .values({
      id: issuance.id,
      account_id: issuance.accountId,
      profile: issuance.profile,
      identifiers: JSON.stringify(issuance.identifiers),
      challenge_type: issuance.challengeType,
      placement: issuance.placement,
      state: 'queued',
      csr_pem: issuance.csrPem ?? null,
      key_type: issuance.keyType ?? null,
      key_id: null,
      acme_account_id: null,
      order_url: null,
      replaces: issuance.replaces ?? null,
      error_code: null,
      error_detail: null,
      chain_pem: null,
      common_name: null,
      san: null,
      serial_number: null,
      fingerprint_sha256: null,
      issuer: null,
      issuer_cn: null,
      public_key_algorithm: null,
      signature_algorithm: null,
      not_before: null,
      not_after: null,
      created_at: at,
      updated_at: at,
      finished_at: null,
    })
    .execute();
  return enqueueWith(db, { name: ISSUE_JOB, payload: { issuanceId: issuance.id }, idempotencyKey: `${ISSUE_JOB}:${issuance.id}`, maxAttempts: 20 }, now, jobId);
}

/** An `acme_issuances` row as the core's Issuance. */
export function toIssuance(row: Selectable<AcmeIssuancesTable>): Issuance {
  const date = (value: string | null) => (value === null ? undefined : new Date(value));
  return {
    id: row.id,
    accountId: row.account_id,
    profile: row.profile,
    identifiers: JSON.parse(row.identifiers) as string[],
    challengeType: row.challenge_type as Issuance['challengeType'],
    placement: row.placement as Issuance['placement'],
    state: row.state as Issuance['state'],
    csrPem: row.csr_pem ?? undefined,
    keyType: (row.key_type ?? undefined) as IssuanceKeyType | undefined,
    keyId: row.key_id ?? undefined,
    acmeAccountId: row.acme_account_id ?? undefined,
    orderUrl: row.order_url ?? undefined,
    authorizations: JSON.parse(row.authorizations) as AuthorizationProgress[],
    replaces: row.replaces ?? undefined,
    errorCode: row.error_code ?? undefined,
    errorDetail: row.error_detail ?? undefined,
    issued:
      row.chain_pem === null
        ? undefined
        : {
            chainPem: row.chain_pem,
            commonName: row.common_name ?? '',
            san: row.san ?? '',
            serialNumber: row.serial_number ?? '',
            fingerprintSha256: row.fingerprint_sha256 ?? '',
            issuer: row.issuer ?? '',
            issuerCn: row.issuer_cn ?? '',
            publicKeyAlgorithm: row.public_key_algorithm ?? '',
            signatureAlgorithm: row.signature_algorithm ?? '',
            notBefore: new Date(row.not_before ?? 0),
            notAfter: new Date(row.not_after ?? 0),
          },
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    finishedAt: date(row.finished_at),
  };
}
