import type { Kysely, Selectable, Transaction } from 'kysely';
import { cleanupOf, type RemovalJob } from '../../core/issuance/cleanup.js';
import { FINISHED_STATES, ISSUE_JOB, type AuthorizationProgress, type Issuance, type IssuanceKeyType, type NewIssuance } from '../../core/issuance/model.js';
import type { Enqueued } from '../../core/jobs/ports.js';
import type { IdGenerator } from '../../kernel/ids.js';
import { enqueueWith } from './job-store.js';
import { forgetRenewals, withRenewalsInProgress } from './renewal-rows.js';
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

/** What withdrawing an issuance in an owner's transaction needs: the job that removes a dns-01 record, and ids for those jobs. */
export interface IssuanceWithdrawal {
  removalJob: RemovalJob;
  ids: IdGenerator;
}

/**
 * Cancels the unfinished issuances among `issuanceIds` in the caller's transaction, as
 * IssuanceService.cancel does: `canceled`, each dns-01 record published for it queued for removal,
 * its http-01 tokens dropped. For an owner letting go of them (a site certificate deleted or
 * replaced, a site deleted). The update is conditional: an issuance that finished meanwhile keeps
 * its state (it cleaned up as it finished), and a run still working one stops at its next write,
 * removing what it made after this. The renewals in progress of these issuances (`renewed_by`) are
 * canceled with them, and none of them is renewed any more. Returns how many removal jobs were queued.
 */
export async function cancelIssuancesWith(tx: Transaction<Schema>, released: readonly string[], now: Date, withdrawal: IssuanceWithdrawal): Promise<number> {
  if (released.length === 0) return 0;
  const at = now.toISOString();
  // A certificate let go of is no longer renewed, and its renewal in progress is withdrawn with it.
  await forgetRenewals(tx, released, now);
  const issuanceIds = await withRenewalsInProgress(tx, released);
  // RETURNING reads the row as this update left it: the records the engine noted before it.
  const canceled = await tx
    .updateTable('acme_issuances')
    .set({ state: 'canceled', updated_at: at, finished_at: at })
    .where('id', 'in', [...issuanceIds])
    .where('state', 'not in', [...FINISHED_STATES])
    .returning(['id', 'authorizations'])
    .execute();
  let queued = 0;
  for (const row of canceled) {
    const { jobs } = cleanupOf(row, JSON.parse(row.authorizations) as AuthorizationProgress[], withdrawal.removalJob);
    for (const job of jobs) await enqueueWith(tx, job, now, withdrawal.ids.hex32());
    queued += jobs.length;
  }
  if (canceled.length > 0) await tx.deleteFrom('http01_challenges').where('issuance_id', 'in', canceled.map((row) => row.id)).execute();
  return queued;
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
