/**
 * CAS's view of the certificate inventory: certificates uploaded through CAS, named by a numeric
 * `CertId`, and issued orders, named by their `OrderId`. Times are epoch milliseconds
 * (`NotAfter`, `CertEndTime`) and `YYYY-MM-DD` (`StartDate`, `EndDate`), as CAS shows them.
 */
import { expiryOf, type ExpiryStatus } from '../../../../core/certificates/expiry.js';
import type { Certificate } from '../../../../core/certificates/model.js';
import { chainLinks } from '../../../../core/orders/chain.js';
import type { OrderRecord } from '../../../../core/orders/model.js';
import { day } from './orders.js';

/** CAS's words for the expiry statuses: a certificate within `expiringDays` of its end is `WILLEXPIRED`. */
export const CAS_EXPIRY_STATUS: Record<ExpiryStatus, 'ISSUED' | 'WILLEXPIRED' | 'EXPIRED'> = {
  valid: 'ISSUED',
  expiring: 'WILLEXPIRED',
  expired: 'EXPIRED',
};

export function certificateStatus(notAfter: Date, now: Date, expiringDays: number): 'ISSUED' | 'WILLEXPIRED' | 'EXPIRED' {
  return CAS_EXPIRY_STATUS[expiryOf(notAfter, now, expiringDays)];
}

/** Domain counts and kind of a list of names. */
export function domainShape(names: readonly string[]) {
  const wild = names.filter((n) => n.startsWith('*.')).length;
  const type = wild === 0 ? (names.length > 1 ? 'MULTIPLE' : 'ONE') : wild === names.length ? (wild > 1 ? 'M_WILDCARD' : 'WILDCARD') : 'MIX';
  return { DomainCount: names.length - wild, WildDomainCount: wild, DomainType: type };
}

/** An uploaded certificate as a ListUserCertificateOrder item. */
export function presentUpload(c: Certificate, now: Date, expiringDays: number): Record<string, unknown> {
  const leaf = chainLinks(c.chainPem)[0]!;
  return {
    CertificateId: Number(c.id),
    InstanceId: `cas-upload-${c.id}`,
    Name: c.name,
    CommonName: c.commonName,
    Domain: c.commonName,
    Sans: c.san.join(','),
    ...domainShape(c.san),
    Issuer: leaf.issuerCommonName,
    Algorithm: c.algorithmType,
    CertStartTime: c.notBefore.getTime(),
    CertEndTime: c.notAfter.getTime(),
    StartDate: day(c.notBefore),
    EndDate: day(c.notAfter),
    Expired: c.notAfter.getTime() <= now.getTime(),
    Status: certificateStatus(c.notAfter, now, expiringDays),
    SerialNo: leaf.serialHex,
    Fingerprint: leaf.sha1,
    Sha2: c.fingerprintSha256.toUpperCase(),
    OrgName: c.subject.organization[0] ?? '',
    Country: c.subject.country[0] ?? '',
    Province: c.subject.state[0] ?? '',
    City: c.subject.locality[0] ?? '',
    Upload: true,
    SourceType: 'upload',
    ...(c.resourceGroupId === null ? {} : { ResourceGroupId: c.resourceGroupId }),
  };
}

/** An order as a ListUserCertificateOrder item; an issued one also as a certificate (`CertificateId` = `OrderId`). */
export function presentOrder({ order, issuance }: OrderRecord, status: string, now: Date): Record<string, unknown> {
  const issued = issuance.issued;
  return {
    OrderId: Number(order.id),
    InstanceId: `cas-order-${order.id}`,
    ProductCode: order.productCode,
    ProductName: order.productCode,
    CertType: 'DV',
    SourceType: 'cpack',
    Domain: order.domain,
    CommonName: order.domain,
    Sans: issuance.identifiers.join(','),
    ...domainShape(issuance.identifiers),
    Algorithm: order.algorithm,
    BuyDate: order.createdAt.getTime(),
    Status: status,
    Upload: false,
    ...(issued
      ? {
          CertificateId: Number(order.id),
          Issuer: issued.issuerCn,
          CertStartTime: issued.notBefore.getTime(),
          CertEndTime: issued.notAfter.getTime(),
          StartDate: day(issued.notBefore),
          EndDate: day(issued.notAfter),
          Expired: issued.notAfter.getTime() <= now.getTime(),
          SerialNo: issued.serialNumber.toLowerCase(),
          Sha2: issued.fingerprintSha256.toUpperCase(),
        }
      : {}),
  };
}
