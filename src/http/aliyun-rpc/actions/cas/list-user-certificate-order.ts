import { expiryRange } from '../../../../core/certificates/expiry.js';
import type { CertificateFilter } from '../../../../core/certificates/model.js';
import type { IssuanceState } from '../../../../core/issuance/model.js';
import { phaseOf, type OrderFilter } from '../../../../core/orders/model.js';
import { checkText } from '../../../../core/orders/request.js';
import { errors } from '../../../../kernel/errors.js';
import type { App } from '../../../../main.js';
import { CAS_VERSION, type RpcAction } from '../../action.js';
import { anyOrder, CAS_ERRORS } from './orders.js';
import { resourceGroupOf } from './upload-user-certificate.js';
import { certificateStatus, presentOrder, presentUpload } from './user-certificates.js';

const ORDER_TYPES = ['CPACK', 'BUY', 'UPLOAD', 'CERT'] as const;
const STATUSES = ['PAYED', 'CHECKING', 'CHECKED_FAIL', 'ISSUED', 'WILLEXPIRED', 'EXPIRED', 'NOTACTIVATED', 'REVOKED'] as const;
type Status = (typeof STATUSES)[number];
const CERTIFICATE_STATUSES: readonly Status[] = ['ISSUED', 'WILLEXPIRED', 'EXPIRED'];

/** Issuance states behind each order status; NOTACTIVATED and REVOKED name none certplane has. */
const ORDER_STATES: Record<Status, readonly IssuanceState[]> = {
  PAYED: ['queued', 'canceled'],
  CHECKING: ['ordered', 'validating', 'finalizing'],
  CHECKED_FAIL: ['invalid'],
  ISSUED: ['valid'],
  WILLEXPIRED: ['valid'],
  EXPIRED: ['valid'],
  NOTACTIVATED: [],
  REVOKED: [],
};

type Page = { offset: number; limit: number };

/**
 * Orders (`OrderType` CPACK, the default; BUY lists none: packages are granted, not bought) or
 * certificates (UPLOAD: uploaded ones; CERT: issued orders, then uploaded ones), newest first, with
 * `Status` and `Keyword` (part of a name or an id) filters. Certificates are listed valid only
 * (ISSUED and WILLEXPIRED) unless `Status` says otherwise. `ResourceGroupId` lists what was placed
 * in that group: uploads made with it; orders are placed in none, so none of them.
 */
export const listUserCertificateOrder: RpcAction = {
  version: CAS_VERSION,
  name: 'ListUserCertificateOrder',
  permission: 'yundun-cert:ListUserCertificateOrder',
  writes: false,
  resource: anyOrder,
  errors: CAS_ERRORS,
  async handle({ app, principal, params }) {
    const orderType = params.enumOf('OrderType', ORDER_TYPES) ?? 'CPACK';
    const status = params.enumOf('Status', STATUSES);
    const keywordText = params.string('Keyword', { max: 256 });
    const keyword = keywordText === undefined ? undefined : checkText('keyword', keywordText, 128);
    const resourceGroupId = resourceGroupOf(params);
    const currentPage = params.integer('CurrentPage', { min: 1, max: 100_000, fallback: 1 });
    const showSize = params.integer('ShowSize', { min: 1, max: 500, fallback: 50 });
    const page = { offset: (currentPage - 1) * showSize, limit: showSize };
    const certificates = orderType === 'UPLOAD' || orderType === 'CERT';
    if (certificates && status !== undefined && !CERTIFICATE_STATUSES.includes(status)) {
      throw errors.invalidParameter('status', `${status} applies to orders only (OrderType CPACK or BUY)`);
    }
    const now = app.clock.now();
    const found =
      orderType === 'BUY' || (orderType === 'CPACK' && resourceGroupId !== undefined)
        ? { total: 0, items: [] }
        : orderType === 'CPACK'
          ? await listOrders(app, principal.accountId, { states: status && ORDER_STATES[status], ...expiry(status, now, app.config.expiringDays), keyword }, page)
          : await listCertificates(app, principal.accountId, orderType === 'CERT' && resourceGroupId === undefined, { ...expiry(status ?? 'VALID', now, app.config.expiringDays), keyword, resourceGroupId }, page);
    return { CurrentPage: currentPage, ShowSize: showSize, TotalCount: found.total, CertificateOrderList: found.items };
  },
};

/** The notAfter range of a certificate status; `VALID` is ISSUED and WILLEXPIRED together. */
function expiry(status: Status | 'VALID' | undefined, now: Date, expiringDays: number): Pick<OrderFilter, 'notAfterAfter' | 'notAfterUntil'> {
  const soon = expiryRange('expiring', now, expiringDays).until!;
  switch (status) {
    case 'VALID':
      return { notAfterAfter: now };
    case 'ISSUED':
      return { notAfterAfter: soon };
    case 'WILLEXPIRED':
      return { notAfterAfter: now, notAfterUntil: soon };
    case 'EXPIRED':
      return { notAfterUntil: now };
    default:
      return {};
  }
}

async function listOrders(app: App, accountId: string, filter: OrderFilter, page: Page) {
  const now = app.clock.now();
  const found = await app.orders.list(accountId, filter, page);
  return { total: found.total, items: found.items.map((record) => presentOrder(record, orderStatus(record, now, app.config.expiringDays), now)) };
}

function orderStatus(record: Parameters<typeof presentOrder>[0], now: Date, expiringDays: number): string {
  const phase = phaseOf(record.issuance).phase;
  if (phase === 'issued') return certificateStatus(record.issuance.issued?.notAfter ?? now, now, expiringDays);
  if (phase === 'failed') return 'CHECKED_FAIL';
  return phase === 'pending' || phase === 'canceled' ? 'PAYED' : 'CHECKING';
}

/** CERT: issued orders first, then uploaded certificates, each newest first, paged as one list. */
async function listCertificates(app: App, accountId: string, withOrders: boolean, filter: CertificateFilter & OrderFilter, page: Page) {
  const now = app.clock.now();
  const orders = withOrders ? await app.orders.list(accountId, { ...filter, states: ['valid'] }, page) : { total: 0, items: [] };
  const uploadPage = { offset: Math.max(0, page.offset - orders.total), limit: page.limit - orders.items.length };
  const uploads = await app.certificates.list(accountId, { ...filter, numericIdsOnly: true }, uploadPage);
  return {
    total: orders.total + uploads.total,
    items: [
      ...orders.items.map((record) => presentOrder(record, orderStatus(record, now, app.config.expiringDays), now)),
      ...(uploadPage.limit > 0 ? uploads.items.map((c) => presentUpload(c, now, app.config.expiringDays)) : []),
    ],
  };
}
