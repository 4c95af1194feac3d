/**
 * The renewal scan's storage. `due` is one range read on the partial index over `renew_at`,
 * joined to the site certificates using each issuance; `startRenewal` marks the old issuance and
 * inserts the renewal with its job in one transaction, conditional on no renewal having started.
 */
import type { IssuanceKeyType, NewIssuance } from '../../core/issuance/model.js';
import type { DueCertificate, RenewalStore } from '../../core/renewal/ports.js';
import type { Db } from './database.js';
import { insertIssuanceWith } from './issuance-rows.js';

export class SqlRenewalStore implements RenewalStore {
  constructor(private readonly db: Db) {}

  async due(now: Date, limit: number): Promise<DueCertificate[]> {
    const rows = await this.db
      .selectFrom('acme_issuances as i')
      .select([
        'i.id',
        'i.account_id',
        'i.profile',
        'i.identifiers',
        'i.challenge_type',
        'i.key_type',
        'i.acme_account_id',
        'i.chain_pem',
        'i.not_before',
        'i.not_after',
        'i.renewal_failures',
        'i.renew_at',
        'i.ari_check_at',
      ])
      .where('i.renew_at', 'is not', null)
      .where('i.renew_at', '<=', now.toISOString())
      .where('i.renewed_by', 'is', null)
      .where('i.retired_at', 'is', null)
      .where('i.state', '=', 'valid')
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom('site_certificates as sc')
            .innerJoin('sites as s', 's.id', 'sc.site_id')
            .select('sc.id')
            .whereRef('sc.issuance_id', '=', 'i.id')
            .where('sc.type', '=', 'free')
            // certificatesRenewable: a pending, offline or moved site gets no certificate.
            .where('s.status', '=', 'active'),
        ),
      )
      .orderBy('i.renew_at')
      .orderBy('i.id')
      .limit(limit)
      .execute();
    return rows.map((row) => ({
      issuanceId: row.id,
      accountId: row.account_id,
      profile: row.profile,
      identifiers: JSON.parse(row.identifiers) as string[],
      challengeType: row.challenge_type as NewIssuance['challengeType'],
      keyType: (row.key_type ?? undefined) as IssuanceKeyType | undefined,
      acmeAccountId: row.acme_account_id ?? undefined,
      chainPem: row.chain_pem ?? '',
      notBefore: new Date(row.not_before ?? 0),
      notAfter: new Date(row.not_after ?? 0),
      failures: Number(row.renewal_failures),
      renewAt: new Date(row.renew_at!),
      ariCheckAt: row.ari_check_at === null ? undefined : new Date(row.ari_check_at),
    }));
  }

  async postpone(issuanceId: string, at: Date, now: Date, ariCheckAt?: Date): Promise<void> {
    await this.db
      .updateTable('acme_issuances')
      .set({ renew_at: at.toISOString(), ari_check_at: ariCheckAt?.toISOString() ?? null, updated_at: now.toISOString() })
      .where('id', '=', issuanceId)
      .where('renewed_by', 'is', null)
      .where('retired_at', 'is', null)
      .execute();
  }

  async startRenewal(issuanceId: string, renewal: NewIssuance, now: Date, jobId: string): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const marked = await tx
        .updateTable('acme_issuances')
        .set({ renewed_by: renewal.id, updated_at: now.toISOString() })
        .where('id', '=', issuanceId)
        .where('renewed_by', 'is', null)
        .where('retired_at', 'is', null)
        .where('state', '=', 'valid')
        .executeTakeFirst();
      if (marked.numUpdatedRows === 0n) return false;
      await insertIssuanceWith(tx, renewal, now, jobId);
      return true;
    });
  }
}
