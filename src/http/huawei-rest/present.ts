import { expiryOf } from '../../core/certificates/expiry.js';
import type { Certificate, DomainBinding } from '../../core/certificates/model.js';
import { isoSeconds } from '../../kernel/time.js';
import type { NameAttributes } from '../../pki/index.js';

/** APIG shows a global certificate's instance as `common`. */
const GLOBAL_INSTANCE = 'common';

/** The issuer as an array of names: its organizations, or its common name when it has none. */
function issuerNames(issuer: NameAttributes): string[] {
  return issuer.organization.length > 0 ? issuer.organization : issuer.commonName;
}

/** The clock and window a certificate's `expiry_status` is read with. */
export interface ExpiryView {
  now: Date;
  expiringDays: number;
}

/**
 * `CertBase`: what the list operation shows of each certificate. `expiry_status` (`valid`,
 * `expiring`, `expired`) is certplane's own field; Huawei's CertBase has none.
 */
export function presentCertificateBase(c: Certificate, projectId: string, view: ExpiryView) {
  return {
    id: c.id,
    name: c.name,
    type: c.scope,
    instance_id: c.instanceId ?? GLOBAL_INSTANCE,
    project_id: projectId,
    common_name: c.commonName,
    san: c.san,
    not_after: isoSeconds(c.notAfter),
    signature_algorithm: c.signatureAlgorithm,
    create_time: isoSeconds(c.createdAt),
    update_time: isoSeconds(c.updatedAt),
    is_has_trusted_root_ca: c.trustedRootCa !== null,
    algorithm_type: c.algorithmType,
    expiry_status: expiryOf(c.notAfter, view.now, view.expiringDays),
  };
}

/** The full certificate object of create, show and update. */
export function presentCertificate(c: Certificate, projectId: string, view: ExpiryView) {
  return {
    ...presentCertificateBase(c, projectId, view),
    version: c.version,
    organization: c.subject.organization,
    organizational_unit: c.subject.organizationalUnit,
    locality: c.subject.locality,
    state: c.subject.state,
    country: c.subject.country,
    not_before: isoSeconds(c.notBefore),
    serial_number: c.serialNumber,
    issuer: issuerNames(c.issuer),
  };
}

export function presentDomainBinding(b: DomainBinding) {
  return {
    url_domain: b.domain,
    instance_ids: b.instanceIds,
    verified_client_certificate_enabled: b.verifiedClientCertificateEnabled,
    create_time: isoSeconds(b.createdAt),
  };
}
