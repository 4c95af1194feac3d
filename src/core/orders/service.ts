import type { IssuerProfile } from '../../config/issuers.js';
import type { ProductDefinition } from '../../config/products.js';
import type { Clock } from '../../kernel/clock.js';
import { errors } from '../../kernel/errors.js';
import type { IdGenerator } from '../../kernel/ids.js';
import type { Sealer } from '../../kernel/sealer.js';
import { operatorEvent, type AuditStamp } from '../audit/ports.js';
import { privateKeyContext } from '../certificates/service.js';
import type { NewIssuance } from '../issuance/model.js';
import {
  ORDER_DEADLINE_JOB,
  phaseOf,
  type Contact,
  type Order,
  type OrderFilter,
  type OrderPhase,
  type OrderRecord,
  type PackageState,
  type Page,
  type Tag,
  type ValidationMethod,
} from './model.js';
import type { OrderStore } from './ports.js';
import { checkCsr, checkDomains } from './request.js';

const HOUR_MS = 3_600_000;
/** Fresh ids tried when a random order id is taken (one in 10^15 per existing order). */
const ID_ATTEMPTS = 3;
/** What one package may hold in all, grants added up (its count is an integer column on PostgreSQL). */
export const MAX_PACKAGE_TOTAL = 1_000_000_000;

export interface OrdersDeps {
  store: OrderStore;
  clock: Clock;
  ids: IdGenerator;
  sealer: Sealer;
  products: Record<string, ProductDefinition>;
  issuers: Record<string, IssuerProfile>;
  /** `casValidationDeadlineHours`. */
  deadlineHours: number;
  requireAccount(accountId: string): Promise<unknown>;
  /** Names the objects of the audit log (`certplane:{region}:{account}:…`). */
  regionId: string;
}

/** What every submission carries besides its names. */
export interface OrderInput {
  productCode: string;
  validation: ValidationMethod;
  contact: Contact;
  tags: Tag[];
}

/** An order as its owner reads it: where it stands, and the key certplane made once issued. */
export interface OrderView extends OrderRecord {
  phase: OrderPhase;
  /** The generated key (PEM), only once the certificate is issued. Secret. */
  privateKeyPem: string | undefined;
}

/**
 * Certificate orders over resource packages: submission (the CSR's or certplane's key), reading
 * where an order stands, cancelling, deleting, listing; the operator's package grants; and the
 * validation deadline, enforced when orders are read and by the `cas.order-deadline` job.
 */
export class OrdersService {
  constructor(private readonly deps: OrdersDeps) {}

  /** An order for the names of the user's CSR, which is what the CA will be asked to sign. */
  async submitWithCsr(accountId: string, csrPem: string, input: OrderInput, audit: AuditStamp): Promise<Order> {
    const csr = checkCsr(csrPem);
    return this.submit(accountId, input, audit, {
      identifiers: csr.identifiers,
      parameter: 'csr',
      keySource: 'csr',
      algorithm: csr.algorithm,
      csrPem: csr.pem,
    });
  }

  /**
   * An order for `domain` (one name, or up to `maxNames` joined by commas); certplane makes the key
   * (the issuer profile's `keyType`) and the CSR.
   */
  async submitForDomains(accountId: string, domain: string, maxNames: number, input: OrderInput, audit: AuditStamp): Promise<Order> {
    const identifiers = checkDomains(domain, maxNames);
    const keyType = this.profileOf(input.productCode, this.product(input.productCode)).keyType;
    return this.submit(accountId, input, audit, {
      identifiers,
      parameter: 'domain',
      keySource: 'certplane',
      algorithm: keyType.startsWith('RSA') ? 'RSA' : 'ECC',
      keyType,
    });
  }

  async describe(accountId: string, id: string): Promise<OrderView> {
    let record = await this.require(accountId, id);
    if (await this.failIfOverdue(record)) record = await this.require(accountId, id);
    const phase = phaseOf(record.issuance);
    return { ...record, phase, privateKeyPem: phase.phase === 'issued' ? await this.generatedKey(record) : undefined };
  }

  /** Withdraws an order that is not finished; its package unit is free again at once. */
  async cancel(accountId: string, id: string, audit: AuditStamp): Promise<void> {
    await this.failOverdue(accountId);
    const now = this.deps.clock.now();
    const outcome = await this.deps.store.cancel(accountId, id, audit.eventAt(now), now);
    if (outcome === 'missing') throw errors.orderNotFound(id);
    if (outcome === 'finished') {
      const state = (await this.require(accountId, id)).issuance.state;
      throw errors.orderStateConflict(id, `is ${STATE_WORDS[state] ?? state}; only an order awaiting validation or being reviewed can be cancelled`);
    }
  }

  /** Removes a failed or cancelled order from view. */
  async delete(accountId: string, id: string, audit: AuditStamp): Promise<void> {
    await this.failOverdue(accountId);
    const now = this.deps.clock.now();
    const outcome = await this.deps.store.delete(accountId, id, audit.eventAt(now), now);
    if (outcome === 'missing') throw errors.orderNotFound(id);
    if (outcome === 'not_deletable') {
      const state = (await this.require(accountId, id)).issuance.state;
      throw errors.orderStateConflict(id, `is ${STATE_WORDS[state] ?? state}; only a failed or cancelled order can be deleted`);
    }
  }

  async list(accountId: string, filter: OrderFilter, page: Page): Promise<{ total: number; items: OrderRecord[] }> {
    await this.failOverdue(accountId);
    return this.deps.store.list(accountId, filter, page);
  }

  async packageState(accountId: string, productCode: string): Promise<PackageState> {
    this.product(productCode);
    await this.failOverdue(accountId);
    const state = await this.deps.store.packageState(accountId, productCode);
    if (!state) throw errors.packageNotFound(productCode);
    return state;
  }

  /** The operator's grant: `count` more certificates of the product for the account. */
  async grant(accountId: string, productCode: string, count: number): Promise<PackageState> {
    this.product(productCode);
    if (!Number.isInteger(count) || count < 1 || count > 1_000_000) throw errors.invalidParameter('count', 'must be a whole number from 1 to 1000000');
    await this.deps.requireAccount(accountId);
    const at = this.deps.clock.now();
    const audit = operatorEvent(this.deps.regionId, accountId, 'certplane:GrantPackage', `package/${productCode}`, at);
    const total = await this.deps.store.grant(accountId, productCode, count, MAX_PACKAGE_TOTAL, at, audit);
    const state = await this.deps.store.packageState(accountId, productCode);
    if (!state) throw errors.internal(new Error('a granted package cannot be read back'));
    if (total === undefined) {
      throw errors.invalidParameter('count', `would bring the package to more than ${MAX_PACKAGE_TOTAL} certificates (it holds ${state.total})`);
    }
    return state;
  }

  /**
   * The deadline job: fails the order if its proof is still unseen at its deadline. Idempotent.
   * Answers when to look again if the deadline has not come yet (a job run early).
   */
  async failIfOverdueById(orderId: string): Promise<Date | undefined> {
    const record = await this.deps.store.findById(orderId);
    if (!record) return undefined;
    if (record.order.deadlineAt.getTime() > this.deps.clock.now().getTime()) return record.order.deadlineAt;
    await this.failIfOverdue(record);
    return undefined;
  }

  /** The product as configured; an unknown code is the caller's mistake. */
  product(code: string): ProductDefinition {
    const found = Object.hasOwn(this.deps.products, code) ? this.deps.products[code] : undefined;
    if (!found) throw errors.productNotFound(code, Object.keys(this.deps.products));
    return found;
  }

  private async submit(
    accountId: string,
    input: OrderInput,
    audit: AuditStamp,
    what: { identifiers: string[]; parameter: string; keySource: Order['keySource']; algorithm: Order['algorithm']; csrPem?: string; keyType?: NewIssuance['keyType'] },
  ): Promise<Order> {
    const product = this.product(input.productCode);
    const profile = this.profileOf(input.productCode, product);
    this.checkNames(what.identifiers, what.parameter, input, product, profile);
    await this.failOverdue(accountId);
    const now = this.deps.clock.now();
    for (let attempt = 1; ; attempt++) {
      const id = this.deps.ids.numeric(15);
      const issuanceId = this.deps.ids.hex32();
      const deadlineAt = new Date(now.getTime() + this.deps.deadlineHours * HOUR_MS);
      const order: Order = {
        id,
        accountId,
        productCode: input.productCode,
        issuanceId,
        validation: input.validation,
        domain: what.identifiers[0]!,
        keySource: what.keySource,
        algorithm: what.algorithm,
        contact: input.contact,
        tags: input.tags,
        deadlineAt,
        createdAt: now,
        updatedAt: now,
      };
      const outcome = await this.deps.store.submit({
        order,
        issuance: {
          id: issuanceId,
          accountId,
          profile: product.issuer,
          identifiers: what.identifiers,
          challengeType: input.validation === 'DNS' ? 'dns-01' : 'http-01',
          placement: 'user',
          csrPem: what.csrPem,
          keyType: what.keyType,
        },
        issueJobId: this.deps.ids.hex32(),
        deadlineJob: {
          id: this.deps.ids.hex32(),
          name: ORDER_DEADLINE_JOB,
          payload: { orderId: id },
          idempotencyKey: `${ORDER_DEADLINE_JOB}:${id}`,
          runAt: deadlineAt,
        },
        audit: audit.eventAt(now, id),
        now,
      });
      if (outcome === 'submitted') return order;
      if (outcome === 'no_package') throw errors.packageNotFound(input.productCode);
      if (outcome === 'exhausted') {
        const state = await this.deps.store.packageState(accountId, input.productCode);
        throw errors.packageExhausted(input.productCode, state?.total ?? 0);
      }
      if (attempt === ID_ATTEMPTS) throw errors.internal(new Error(`${ID_ATTEMPTS} random order ids were all taken`));
    }
  }

  private checkNames(names: string[], parameter: string, input: OrderInput, product: ProductDefinition, profile: IssuerProfile): void {
    if (names.length > profile.domainLimit) {
      throw errors.invalidParameter(parameter, `asks for ${names.length} names; product ${input.productCode} certifies at most ${profile.domainLimit}`);
    }
    const wildcard = names.find((n) => n.startsWith('*.'));
    if (wildcard === undefined) return;
    if (!product.wildcard) throw errors.invalidParameter(parameter, `${wildcard} is a wildcard name; product ${input.productCode} certifies no wildcard`);
    if (input.validation === 'FILE') {
      throw errors.invalidParameter('validateType', `${wildcard} is a wildcard name, which only DNS validation can prove; use ValidateType DNS`);
    }
  }

  private profileOf(productCode: string, product: ProductDefinition): IssuerProfile {
    const profile = this.deps.issuers[product.issuer];
    if (!profile?.directoryUrl) throw errors.orderIssuerUnavailable(productCode, product.issuer);
    return profile;
  }

  private async require(accountId: string, id: string): Promise<OrderRecord> {
    const found = await this.deps.store.find(accountId, id);
    if (!found) throw errors.orderNotFound(id);
    return found;
  }

  private async failOverdue(accountId: string): Promise<void> {
    await this.deps.store.failOverdue({ accountId }, this.deps.clock.now(), this.deadlineReason());
  }

  private async failIfOverdue(record: OrderRecord): Promise<boolean> {
    const now = this.deps.clock.now();
    if (record.order.deadlineAt.getTime() > now.getTime()) return false;
    if (record.issuance.state !== 'queued' && record.issuance.state !== 'ordered') return false;
    return (await this.deps.store.failOverdue({ orderId: record.order.id }, now, this.deadlineReason())) > 0;
  }

  private deadlineReason(): string {
    return `the validation record was not seen within ${this.deps.deadlineHours} hours of submission (casValidationDeadlineHours)`;
  }

  private async generatedKey(record: OrderRecord): Promise<string | undefined> {
    const keyId = record.issuance.keyId;
    if (record.order.keySource !== 'certplane' || keyId === undefined) return undefined;
    const sealed = await this.deps.store.sealedKey(record.order.accountId, keyId);
    return sealed === undefined ? undefined : this.deps.sealer.open(sealed, privateKeyContext(keyId));
  }
}

const STATE_WORDS: Partial<Record<string, string>> = {
  valid: 'issued',
  invalid: 'failed',
  canceled: 'cancelled',
  queued: 'pending',
  ordered: 'awaiting validation',
  validating: 'being reviewed',
  finalizing: 'being reviewed',
};
