import type { AuditEvent } from '../audit/ports.js';
import type { NewIssuance } from '../issuance/model.js';
import type { NewJob } from '../jobs/ports.js';
import type { Order, OrderFilter, OrderRecord, Page, PackageState } from './model.js';

/** A submission as the store writes it: the order, its issuance with its job, and the deadline job. */
export interface Submission {
  order: Order;
  issuance: NewIssuance;
  issueJobId: string;
  deadlineJob: NewJob & { id: string };
  audit: AuditEvent;
  now: Date;
}

export type SubmitOutcome = 'submitted' | 'no_package' | 'exhausted' | 'id_taken';

/**
 * Orders and packages. Every write takes the audit event of its change and records it in the same
 * transaction; package accounting is exact under concurrency (see `submit`).
 */
export interface OrderStore {
  /**
   * In one transaction: takes the package row of (account, product) for update, counts the orders
   * of that product still live (issuance neither invalid nor canceled), and when one is left
   * inserts the order, its issuance with its `acme.issue` job, the deadline job and the audit row.
   * Nothing is written unless it answers `submitted`; `id_taken` when the order id exists already.
   */
  submit(submission: Submission): Promise<SubmitOutcome>;
  /** A visible (not deleted) order of the account, with its issuance. */
  find(accountId: string, id: string): Promise<OrderRecord | undefined>;
  /** Any order by id, deleted ones included (the deadline job). */
  findById(id: string): Promise<OrderRecord | undefined>;
  /** Newest first; deleted orders are not listed. */
  list(accountId: string, filter: OrderFilter, page: Page): Promise<{ total: number; items: OrderRecord[] }>;
  /**
   * Sets the order's issuance `canceled` (with one conditional update: only while it is not
   * finished) and records the audit row. `missing`: no such visible order; `finished`: the issuance
   * was valid, invalid or canceled already, nothing changed.
   */
  cancel(accountId: string, id: string, audit: AuditEvent, now: Date): Promise<'canceled' | 'missing' | 'finished'>;
  /** Hides the order (conditional: only while its issuance is invalid or canceled) with its audit row. */
  delete(accountId: string, id: string, audit: AuditEvent, now: Date): Promise<'deleted' | 'missing' | 'not_deletable'>;
  /**
   * Fails (issuance `invalid`, `error_code` DEADLINE_ERROR_CODE) the orders whose deadline is at or
   * before `now` and whose proof has not been seen (issuance queued or ordered), with one
   * conditional update: an issuance the engine moved on meanwhile is left alone. `scope`: one
   * account's orders, or one order. Returns how many failed.
   */
  failOverdue(scope: { accountId: string } | { orderId: string }, now: Date, reason: string): Promise<number>;
  /**
   * Adds `count` to the package of (account, product), creating it, with its audit event in one
   * transaction; returns the new total, or undefined (nothing written) when it would pass `max`.
   */
  grant(accountId: string, productCode: string, count: number, max: number, now: Date, audit: AuditEvent): Promise<number | undefined>;
  packageState(accountId: string, productCode: string): Promise<PackageState | undefined>;
  /** The sealed text of a private key certplane made for an issuance. */
  sealedKey(accountId: string, keyId: string): Promise<string | undefined>;
}
