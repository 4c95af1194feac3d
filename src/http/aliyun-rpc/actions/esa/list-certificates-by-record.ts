import { ESA_VERSION, type RpcAction } from '../../action.js';
import { onSite } from './client-certificates.js';
import { siteOf } from './resources.js';
import { presentSiteCertificate } from './site-certificates.js';

/**
 * For each of the comma-separated `RecordName`s, the site's certificates that answer for it (by
 * name or through a wildcard one label up): `Count` of them (only usable ones with `ValidOnly`),
 * `ApplylingCount` (sic, the SDK's key) of those applying, and `Status`: `configured` (a usable one),
 * `applying`, `failed` or `none`. `Certificates` are listed with `Detail`.
 */
export const listCertificatesByRecord: RpcAction = {
  version: ESA_VERSION,
  name: 'ListCertificatesByRecord',
  permission: 'esa:ListCertificatesByRecord',
  writes: false,
  resource: siteOf,
  async handle({ app, principal, params }) {
    const siteId = params.requiredLong('SiteId');
    const recordNames = params.requiredString('RecordName');
    const validOnly = params.boolean('ValidOnly') ?? false;
    const detail = params.boolean('Detail') ?? false;
    const { site, records } = await app.siteCertificates.byRecord(principal.accountId, siteId, recordNames, validOnly);
    const now = app.clock.now();
    return {
      ...onSite(site),
      TotalCount: records.length,
      Result: records.map((r) => ({
        RecordName: r.recordName,
        Count: r.certificates.length,
        ApplylingCount: r.applying,
        Status: r.status,
        ...(detail ? { Certificates: r.certificates.map(({ certificate }) => byRecordItem(presentSiteCertificate(certificate, now, app.config.expiringDays))) } : {}),
      })),
    };
  },
};

/** The SDK's certificate of a record has no DCV and no apply code. */
function byRecordItem(item: ReturnType<typeof presentSiteCertificate>) {
  const { DCV: _dcv, ApplyCode: _code, ApplyMessage: _message, ...rest } = item as ReturnType<typeof presentSiteCertificate> & {
    DCV?: unknown;
    ApplyCode?: unknown;
    ApplyMessage?: unknown;
  };
  return rest;
}
