import type { Crossing, ExpiryScanStore, ScanResult } from '../../core/events/expiry-scan.js';
import type { NewJob } from '../../core/jobs/ports.js';
import type { IdGenerator } from '../../kernel/ids.js';
import type { Db } from './database.js';
import { enqueueManyWith } from './job-store.js';

export const EXPIRY_WATERMARK = 'expiry_scan_watermark';
const DAY_MS = 86_400_000;
/** Events queued per statement (enqueueManyWith inserts them 500 to a statement). */
const ENQUEUE_PAGE = 500;

/** notAfter in (after, until], or rows changed after `changedAfter` with notAfter in (after, until]. */
interface Window {
  after: string;
  until: string;
  changedAfter?: string;
}

/**
 * The expiry scan over the three tables that hold certificates: the inventory (`certificates`),
 * ACME issuances that are `valid` and still held by an ESA site certificate or a CAS order, and
 * active client certificates. Each query is a range on an indexed column (not_after, or updated_at / finished_at
 * for rows that arrived since the last scan).
 */
export class SqlExpiryScanStore implements ExpiryScanStore {
  constructor(
    private readonly db: Db,
    private readonly ids: IdGenerator,
  ) {}

  async scan(now: Date, expiringDays: number, jobFor: (crossing: Crossing) => NewJob): Promise<ScanResult> {
    const windowMs = expiringDays * DAY_MS;
    const stored = await this.db.selectFrom('service_facts').select('value').where('name', '=', EXPIRY_WATERMARK).executeTakeFirst();
    const from = stored ? new Date(stored.value) : undefined;
    // A clock set back (or a scan that started before the last one finished) reports nothing twice and moves nothing back.
    if (from && from.getTime() >= now.getTime()) return { expiring: 0, expired: 0, from, to: from };
    const n = now.getTime();
    const iso = (ms: number) => new Date(ms).toISOString();
    const w = from?.getTime();
    const expiringWindows: Window[] = [
      { after: iso(Math.max(w === undefined ? n : w + windowMs, n)), until: iso(n + windowMs) },
      ...(w === undefined ? [] : [{ after: iso(n), until: iso(n + windowMs), changedAfter: iso(w) }]),
    ];
    const expiredWindow: Window = { after: iso(w ?? n - windowMs), until: iso(n) };
    const seen = new Set<string>();
    const found: Crossing[] = [];
    for (const [kind, windows] of [['expiring', expiringWindows], ['expired', [expiredWindow]]] as const) {
      for (const window of windows) {
        for (const crossing of await crossings(this.db, kind, window)) {
          const key = `${kind}:${crossing.subject.kind}:${crossing.subject.id}`;
          if (seen.has(key)) continue;
          seen.add(key);
          found.push(crossing);
        }
      }
    }
    // A page of events per statement, and the event loop's turn between two: a first scan over a
    // large inventory (or thousands of short-lived client certificates) queues thousands of events,
    // and on SQLite one statement holds the only connection while it runs. A scan stopped half way
    // leaves the watermark where it was: the next one finds the same crossings again, and their
    // idempotency keys keep each event queued once.
    let expiring = 0;
    let expired = 0;
    for (let start = 0; start < found.length; start += ENQUEUE_PAGE) {
      if (start > 0) await new Promise((resolve) => setImmediate(resolve));
      const page = found.slice(start, start + ENQUEUE_PAGE).map((crossing) => ({ kind: crossing.kind, job: jobFor(crossing) }));
      const created = await enqueueManyWith(this.db, page.map((p) => p.job), now, () => this.ids.hex32());
      for (const { kind, job } of page) {
        if (!created.has(job.idempotencyKey!)) continue;
        if (kind === 'expiring') expiring += 1;
        else expired += 1;
      }
    }
    const at = now.toISOString();
    await this.db
      .insertInto('service_facts')
      .values({ name: EXPIRY_WATERMARK, value: at, updated_at: at })
      .onConflict((oc) => oc.column('name').doUpdateSet({ value: at, updated_at: at }).where('service_facts.value', '<', at))
      .execute();
    return { expiring, expired, from, to: now };
  }
}

async function crossings(db: Db, kind: Crossing['kind'], window: Window): Promise<Crossing[]> {
  const inventory = await db
    .selectFrom('certificates')
    .select(['id', 'account_id', 'serial_number', 'common_name', 'san', 'not_after'])
    .where('not_after', '>', window.after)
    .where('not_after', '<=', window.until)
    .$if(window.changedAfter !== undefined, (q) => q.where('updated_at', '>', window.changedAfter!))
    .execute();
  // An issuance is reported as what holds it (an ESA site certificate, a CAS order not deleted): one
  // that nothing holds any more (renewed, deleted) warns nobody.
  const issued = await db
    .selectFrom('acme_issuances as i')
    .leftJoin('site_certificates as sc', 'sc.issuance_id', 'i.id')
    .leftJoin('cas_orders as o', (join) => join.onRef('o.issuance_id', '=', 'i.id').on('o.deleted_at', 'is', null))
    .select(['i.account_id', 'i.serial_number', 'i.common_name', 'i.san', 'i.not_after', 'sc.id as site_certificate_id', 'sc.site_id', 'o.id as order_id'])
    .where('i.state', '=', 'valid')
    .where('i.retired_at', 'is', null)
    .where('i.not_after', '>', window.after)
    .where('i.not_after', '<=', window.until)
    .where((eb) => eb.or([eb('sc.id', 'is not', null), eb('o.id', 'is not', null)]))
    .$if(window.changedAfter !== undefined, (q) => q.where('i.finished_at', '>', window.changedAfter!))
    .execute();
  const clients = await db
    .selectFrom('client_certificates')
    .select(['id', 'account_id', 'site_id', 'serial_number', 'common_name', 'not_after'])
    .where('status', '=', 'active')
    .where('deleted_at', 'is', null)
    .where('not_after', '>', window.after)
    .where('not_after', '<=', window.until)
    .$if(window.changedAfter !== undefined, (q) => q.where('updated_at', '>', window.changedAfter!))
    .execute();
  return [
    ...inventory.map((r) => ({
      kind,
      accountId: r.account_id,
      subject: { kind: 'inventory' as const, id: r.id },
      serialNumber: r.serial_number,
      commonName: r.common_name,
      names: JSON.parse(r.san) as string[],
      notAfter: new Date(r.not_after),
    })),
    ...issued.map((r) => ({
      kind,
      accountId: r.account_id,
      subject: r.site_certificate_id !== null ? { kind: 'site' as const, id: r.site_certificate_id } : { kind: 'cas-order' as const, id: r.order_id! },
      ...(r.site_id !== null ? { siteId: r.site_id } : {}),
      serialNumber: r.serial_number ?? '',
      commonName: r.common_name ?? '',
      names: (r.san ?? '').split(',').filter((n) => n !== ''),
      notAfter: new Date(r.not_after!),
    })),
    ...clients.map((r) => ({
      kind,
      accountId: r.account_id,
      subject: { kind: 'client' as const, id: r.id },
      siteId: r.site_id,
      serialNumber: r.serial_number,
      commonName: r.common_name,
      names: [r.common_name],
      notAfter: new Date(r.not_after),
    })),
  ];
}
