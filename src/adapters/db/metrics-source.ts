/**
 * What `/metrics` reads from the database at scrape time: every certificate's expiry, of every
 * kind, and the job queue. Plain SQL, one statement per kind, rows handed to the caller as they are
 * formatted (100,000 certificates make one scrape).
 */
import { sql } from 'kysely';
import type { Db } from './database.js';

/** Where a certificate lives: the inventory (APIG, CAS uploads), an ESA site, a client CA, a CAS order. */
export type CertificateKind = 'inventory' | 'site' | 'client' | 'order';

export interface ExpirationRow {
  id: string;
  account: string;
  common_name: string | null;
  /** The serial as the table keeps it: hex (issuances, client certificates) or decimal (the inventory). */
  serial_hex: string | null;
  serial_decimal: string | null;
  not_after: string;
}

export interface JobDepth {
  name: string;
  state: string;
  count: number;
}

/** Job states that are still the queue's business (`done` jobs are history). */
const OPEN_JOB_STATES = ['queued', 'running', 'failed'] as const;

/** The statement that lists one kind's certificates (id, account, common_name, serial, not_after). */
const EXPIRATIONS: Record<CertificateKind, ReturnType<typeof sql>> = {
  // Inventory certificates that no site owns (a site's own uploads are `site`; a `cas` site certificate points here).
  inventory: sql`SELECT id, account_id AS account, common_name, NULL AS serial_hex, serial_number AS serial_decimal, not_after
    FROM certificates WHERE site_id IS NULL`,
  // A site's free certificates once issued, and its uploads; named by the site certificate's id as ESA shows it.
  site: sql`SELECT sc.id AS id, sc.account_id AS account,
      COALESCE(i.common_name, c.common_name) AS common_name,
      i.serial_number AS serial_hex, c.serial_number AS serial_decimal,
      COALESCE(i.not_after, c.not_after) AS not_after
    FROM site_certificates sc
    LEFT JOIN acme_issuances i ON i.id = sc.issuance_id AND sc.type = 'free' AND i.state = 'valid'
    LEFT JOIN certificates c ON c.id = sc.certificate_id AND sc.type = 'upload'
    WHERE COALESCE(i.not_after, c.not_after) IS NOT NULL`,
  client: sql`SELECT id, account_id AS account, common_name, serial_number AS serial_hex, NULL AS serial_decimal, not_after
    FROM client_certificates WHERE status = 'active' AND deleted_at IS NULL`,
  order: sql`SELECT o.id AS id, o.account_id AS account, i.common_name AS common_name, i.serial_number AS serial_hex, NULL AS serial_decimal, i.not_after AS not_after
    FROM cas_orders o JOIN acme_issuances i ON i.id = o.issuance_id
    WHERE o.deleted_at IS NULL AND i.state = 'valid' AND i.not_after IS NOT NULL`,
};

export const CERTIFICATE_KINDS = Object.keys(EXPIRATIONS) as CertificateKind[];

export class SqlMetricsSource {
  constructor(private readonly db: Db) {}

  async expirations(kind: CertificateKind): Promise<ExpirationRow[]> {
    const result = await (EXPIRATIONS[kind] as ReturnType<typeof sql<ExpirationRow>>).execute(this.db);
    return result.rows;
  }

  /** Jobs per name and open state. */
  async jobDepths(): Promise<JobDepth[]> {
    const rows = await this.db
      .selectFrom('jobs')
      .select(['name', 'state', (eb) => eb.fn.countAll<string | number>().as('n')])
      .where('state', 'in', OPEN_JOB_STATES)
      .groupBy(['name', 'state'])
      .execute();
    return rows.map((r) => ({ name: r.name, state: r.state, count: Number(r.n) }));
  }

  /** The run_at of the queued job that has waited longest past its time; undefined when none is due. */
  async oldestDue(now: Date): Promise<Date | undefined> {
    const row = await this.db
      .selectFrom('jobs')
      .select((eb) => eb.fn.min('run_at').as('oldest'))
      .where('state', '=', 'queued')
      .where('run_at', '<=', now.toISOString())
      .executeTakeFirst();
    const oldest = row?.oldest as string | null | undefined;
    return oldest ? new Date(oldest) : undefined;
  }
}
