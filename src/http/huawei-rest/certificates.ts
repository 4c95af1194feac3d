import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal } from '../../core/accounts/model.js';
import type { AuditStamp } from '../../core/audit/ports.js';
import { EXPIRY_STATUSES, type ExpiryStatus } from '../../core/certificates/expiry.js';
import type { AlgorithmType, CertificateScope, CertificateUpload } from '../../core/certificates/model.js';
import { errors } from '../../kernel/errors.js';
import type { App } from '../../main.js';
import { certificateForm, domainsForm, paging, parseBody, stringParam, type CertificateForm } from './body.js';
import { presentCertificate, presentCertificateBase, presentDomainBinding, type ExpiryView } from './present.js';

type WithCertificate = { Params: { project_id: string; certificate_id: string } };

const BASE = '/:project_id/apigw/certificates';

function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw errors.credentialsMissing();
  return request.principal;
}

function auditOf(request: FastifyRequest): AuditStamp {
  if (!request.audit) throw errors.internal(new Error(`write route ${request.url} has no audit stamp`));
  return request.audit;
}

/** IAM actions of the routes (Huawei's names), the audit log's `action`. */
const ACTIONS = {
  create: { permission: 'apig:certificate:create' },
  list: { permission: 'apig:certificate:list' },
  get: { permission: 'apig:certificate:get' },
  update: { permission: 'apig:certificate:update' },
  delete: { permission: 'apig:certificate:delete' },
  attach: { permission: 'apig:certificate:attach' },
  detach: { permission: 'apig:certificate:detach' },
} as const;

/** Expiry statuses are read with the service's clock and the installation's window. */
function viewOf(app: App): ExpiryView {
  return { now: app.clock.now(), expiringDays: app.config.expiringDays };
}

function uploadFrom(form: CertificateForm): CertificateUpload {
  return {
    name: form.name,
    chainPem: form.cert_content,
    privateKeyPem: form.private_key,
    scope: (form.type ?? 'global') as CertificateScope,
    instanceId: form.instance_id || undefined,
    trustedRootCa: form.trusted_root_ca || undefined,
    algorithmType: form.algorithm_type as AlgorithmType | undefined,
    signChainPem: form.cert_content_sign || undefined,
    signPrivateKeyPem: form.private_key_sign || undefined,
  };
}

/** CreateCertificateV2 and its companions: list, show, update, delete, attach/detach/list domains. */
export function certificateRoutes(app: App) {
  const service = app.certificates;
  return async function routes(server: FastifyInstance): Promise<void> {
    server.post(BASE, { config: ACTIONS.create }, async (request) => {
      const principal = principalOf(request);
      const upload = uploadFrom(parseBody(certificateForm, request.body));
      const certificate = await service.upload(principal.accountId, upload, auditOf(request));
      return presentCertificate(certificate, principal.projectId, viewOf(app));
    });

    server.get(BASE, { config: ACTIONS.list }, async (request) => {
      const principal = principalOf(request);
      const query = request.query as Record<string, unknown>;
      const type = stringParam(query, 'type');
      if (type !== undefined && type !== 'global' && type !== 'instance') {
        throw errors.invalidParameter('scope', 'must be global or instance');
      }
      const algorithmType = stringParam(query, 'algorithm_type');
      if (algorithmType !== undefined && !['RSA', 'ECC', 'SM2'].includes(algorithmType)) {
        throw errors.invalidParameter('algorithmType', 'must be RSA, ECC or SM2');
      }
      const expiryStatus = stringParam(query, 'expiry_status');
      if (expiryStatus !== undefined && !(EXPIRY_STATUSES as readonly string[]).includes(expiryStatus)) {
        throw errors.invalidParameter('expiryStatus', 'must be valid, expiring or expired');
      }
      const page = paging(query);
      const view = viewOf(app);
      const { total, items } = await service.list(
        principal.accountId,
        {
          name: stringParam(query, 'name'),
          commonName: stringParam(query, 'common_name'),
          signatureAlgorithm: stringParam(query, 'signature_algorithm'),
          scope: type as CertificateScope | undefined,
          instanceId: stringParam(query, 'instance_id'),
          algorithmType: algorithmType as AlgorithmType | undefined,
          expiry: expiryStatus === undefined ? undefined : { statuses: [expiryStatus as ExpiryStatus], ...view },
        },
        page,
      );
      return { size: items.length, total, certs: items.map((c) => presentCertificateBase(c, principal.projectId, view)) };
    });

    server.get<WithCertificate>(`${BASE}/:certificate_id`, { config: ACTIONS.get }, async (request) => {
      const principal = principalOf(request);
      const certificate = await service.get(principal.accountId, request.params.certificate_id);
      return presentCertificate(certificate, principal.projectId, viewOf(app));
    });

    server.put<WithCertificate>(`${BASE}/:certificate_id`, { config: ACTIONS.update }, async (request) => {
      const principal = principalOf(request);
      const form = parseBody(certificateForm, request.body);
      const certificate = await service.update(
        principal.accountId,
        request.params.certificate_id,
        { ...uploadFrom(form), scopeGiven: form.type !== undefined },
        auditOf(request),
      );
      return presentCertificate(certificate, principal.projectId, viewOf(app));
    });

    server.delete<WithCertificate>(`${BASE}/:certificate_id`, { config: ACTIONS.delete }, async (request, reply) => {
      const principal = principalOf(request);
      await service.delete(principal.accountId, request.params.certificate_id, auditOf(request));
      return reply.code(204).send();
    });

    server.post<WithCertificate>(`${BASE}/:certificate_id/domains/attach`, { config: ACTIONS.attach }, async (request, reply) => {
      const principal = principalOf(request);
      const form = parseBody(domainsForm, request.body);
      await service.attachDomains(
        principal.accountId,
        request.params.certificate_id,
        form.domains.map((d) => ({
          domain: d.domain,
          instanceIds: d.instance_ids ?? [],
          verifiedClientCertificateEnabled: d.verified_client_certificate_enabled,
        })),
        auditOf(request),
      );
      return reply.code(204).send();
    });

    server.post<WithCertificate>(`${BASE}/:certificate_id/domains/detach`, { config: ACTIONS.detach }, async (request, reply) => {
      const principal = principalOf(request);
      const form = parseBody(domainsForm, request.body);
      const domains = form.domains.map((d) => d.domain);
      await service.detachDomains(principal.accountId, request.params.certificate_id, domains, auditOf(request));
      return reply.code(204).send();
    });

    server.get<WithCertificate>(`${BASE}/:certificate_id/attached-domains`, { config: ACTIONS.get }, async (request) => {
      const principal = principalOf(request);
      const query = request.query as Record<string, unknown>;
      const { total, items } = await service.listDomains(
        principal.accountId,
        request.params.certificate_id,
        stringParam(query, 'url_domain'),
        paging(query),
      );
      return { size: items.length, total, bound_domains: items.map(presentDomainBinding) };
    });
  };
}
