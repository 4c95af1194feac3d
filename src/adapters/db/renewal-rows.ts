/**
 * What an issuance finishing means for the site certificates that use it, done in the transaction
 * of the issuance's own final write (SqlIssuanceStore.finish), so a certificate never serves a
 * half-stored renewal and every event exists exactly when its change does:
 *
 * - a first issuance of a free certificate becomes valid: `certificate.issued`, and a `deploy.run`
 *   job for each deploy target of the certificate or its site;
 * - a renewal becomes valid: every site certificate on the old issuance moves to the new one, the
 *   old one is retired, `certificate.renewed`, deploy jobs;
 * - a renewal fails: the old issuance keeps serving, its failure count rises and its next attempt
 *   is planned with backoff (`retryAfterFailure`), `certificate.renewal_failed`;
 * - a valid issuance no site certificate uses (a CAS order) gets no renewal time.
 */
import type { Transaction } from 'kysely';
import { deployJob } from '../../core/deploy/model.js';
import { eventJob, type CertificateEvent } from '../../core/events/model.js';
import { FINISHED_STATES } from '../../core/issuance/model.js';
import type { IssuanceOutcome } from '../../core/issuance/ports.js';
import { retryAfterFailure } from '../../core/renewal/policy.js';
import type { IdGenerator } from '../../kernel/ids.js';
import { enqueueWith } from './job-store.js';
import type { Schema } from './schema.js';

type Tx = Transaction<Schema>;

interface Using {
  id: string;
  account_id: string;
  site_id: string;
  domain: string | null;
}

export async function afterIssuanceFinished(tx: Tx, issuanceId: string, outcome: IssuanceOutcome, now: Date, ids: IdGenerator): Promise<void> {
  const row = await tx.selectFrom('acme_issuances').select(['id', 'account_id', 'replaces', 'serial_number', 'not_after', 'san']).where('id', '=', issuanceId).executeTakeFirst();
  if (!row) return;
  const at = now.toISOString();
  const old = row.replaces === null ? undefined : await tx.selectFrom('acme_issuances').selectAll().where('id', '=', row.replaces).executeTakeFirst();
  if (outcome.state === 'valid') {
    const data = { serialNumber: outcome.issued.serialNumber.toLowerCase(), notAfter: outcome.issued.notAfter.toISOString(), names: outcome.issued.san };
    if (old) {
      const moved = await tx
        .updateTable('site_certificates')
        .set({ issuance_id: issuanceId, updated_at: at })
        .where('issuance_id', '=', old.id)
        .returning(['id', 'account_id', 'site_id', 'domain'])
        .execute();
      await tx.updateTable('acme_issuances').set({ retired_at: at, renew_at: null, renewed_by: issuanceId, renewal_failures: 0, updated_at: at }).where('id', '=', old.id).execute();
      for (const sc of moved) {
        const previous = (old.serial_number ?? '').toLowerCase();
        await publish(tx, sc, 'certificate.renewed', { ...data, previousSerialNumber: previous }, data.serialNumber, now, ids);
        await enqueueDeploys(tx, sc, issuanceId, now, ids);
      }
      if (moved.length === 0) await tx.updateTable('acme_issuances').set({ renew_at: null }).where('id', '=', issuanceId).execute();
      return;
    }
    const using = await usersOf(tx, issuanceId);
    if (using.length === 0) {
      await tx.updateTable('acme_issuances').set({ renew_at: null }).where('id', '=', issuanceId).execute();
      return;
    }
    for (const sc of using) {
      await publish(tx, sc, 'certificate.issued', data, data.serialNumber, now, ids);
      await enqueueDeploys(tx, sc, issuanceId, now, ids);
    }
    return;
  }
  // A renewal that ended otherwise: the old issuance serves on and is tried again later.
  if (!old || old.renewed_by !== issuanceId) return;
  const failures = Number(old.renewal_failures) + 1;
  const validity = { notBefore: new Date(old.not_before ?? at), notAfter: new Date(old.not_after ?? at) };
  const next = retryAfterFailure(failures, now, validity);
  await tx
    .updateTable('acme_issuances')
    .set({ renewed_by: null, renewal_failures: failures, renew_at: next.toISOString(), ari_check_at: null, updated_at: at })
    .where('id', '=', old.id)
    .where('renewed_by', '=', issuanceId)
    .execute();
  if (outcome.state !== 'invalid') return;
  for (const sc of await usersOf(tx, old.id)) {
    const data = {
      serialNumber: (old.serial_number ?? '').toLowerCase(),
      notAfter: validity.notAfter.toISOString(),
      errorCode: outcome.errorCode,
      errorDetail: outcome.errorDetail,
      failures,
      nextAttemptAt: next.toISOString(),
    };
    await publish(tx, sc, 'certificate.renewal_failed', data, issuanceId, now, ids);
  }
}

/**
 * The ids an owner lets go of, with the renewals in progress of each (`renewed_by` not finished):
 * withdrawing a certificate withdraws its renewal too.
 */
export async function withRenewalsInProgress(tx: Tx, issuanceIds: readonly string[]): Promise<string[]> {
  if (issuanceIds.length === 0) return [];
  const renewals = await tx
    .selectFrom('acme_issuances as old')
    .innerJoin('acme_issuances as renewal', 'renewal.id', 'old.renewed_by')
    .select('renewal.id')
    .where('old.id', 'in', [...issuanceIds])
    .where('renewal.state', 'not in', [...FINISHED_STATES])
    .execute();
  return [...new Set([...issuanceIds, ...renewals.map((r) => r.id)])];
}

/** Issuances no longer anyone's are not renewed. */
export async function forgetRenewals(tx: Tx, issuanceIds: readonly string[], now: Date): Promise<void> {
  if (issuanceIds.length === 0) return;
  await tx.updateTable('acme_issuances').set({ renew_at: null, updated_at: now.toISOString() }).where('id', 'in', [...issuanceIds]).where('renew_at', 'is not', null).execute();
}

/** A `deploy.run` job for each deploy target of the site certificate or of its site. */
export async function enqueueDeploys(tx: Tx, sc: Using, issuanceId: string, now: Date, ids: IdGenerator): Promise<number> {
  const targets = await tx
    .selectFrom('deploy_targets')
    .select('id')
    .where('account_id', '=', sc.account_id)
    .where((eb) => eb.or([eb('site_certificate_id', '=', sc.id), eb('site_id', '=', sc.site_id)]))
    // A client CA target has its CA's site as site_id: it holds no certificates.
    .where('client_ca_id', 'is', null)
    .execute();
  for (const target of targets) await enqueueWith(tx, deployJob({ targetId: target.id, siteCertificateId: sc.id, issuanceId }), now, ids.hex32());
  return targets.length;
}

async function usersOf(tx: Tx, issuanceId: string): Promise<Using[]> {
  return tx.selectFrom('site_certificates').select(['id', 'account_id', 'site_id', 'domain']).where('issuance_id', '=', issuanceId).where('type', '=', 'free').execute();
}

async function publish(tx: Tx, sc: Using, type: CertificateEvent['type'], data: CertificateEvent['data'], dedupe: string, now: Date, ids: IdGenerator): Promise<void> {
  const event: CertificateEvent = {
    accountId: sc.account_id,
    type,
    subject: { kind: 'site', id: sc.id },
    occurredAt: now,
    data: { siteId: sc.site_id, domain: sc.domain, ...data },
  };
  await enqueueWith(tx, eventJob(event, dedupe), now, ids.hex32());
}
