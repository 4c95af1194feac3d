/**
 * For the ESA site-certificate tests: a certplane whose sites are activated through VerifySite
 * against zones the test fills in, plans small enough to reach their limits, issuer profiles with
 * one configured and one unconfigured digicert type, and the test set-up that stands in for the
 * issuance engine (driving an issuance to valid or invalid by writing its row).
 */
import { issuersFrom } from '../../src/config/issuers.js';
import type { PlanDefinition } from '../../src/config/config.js';
import type { AuthorizationProgress } from '../../src/core/issuance/model.js';
import type { DnsResolver } from '../../src/core/sites/ports.js';
import { Esa, esaClient } from './alibaba.js';
import type { TestDatabase } from './databases.js';
import { refreshServingNotAfter } from '../../src/adapters/db/serving-not-after.js';
import { inspectCert, makeCa, makeLeaf, type Issued } from './openssl.js';
import { startService, type TestService } from './service.js';
import type { Engine } from './databases.js';

export { Esa };
export type EsaClient = ReturnType<typeof esaClient>;

/** NS and TXT answers the test publishes; VerifySite asks these. */
export class TestZones implements DnsResolver {
  readonly description = 'test zones';
  readonly ns = new Map<string, string[]>();
  readonly txt = new Map<string, string[]>();
  async resolveNs(name: string): Promise<string[]> {
    return this.ns.get(name) ?? [];
  }
  async resolveTxt(name: string): Promise<string[]> {
    return this.txt.get(name) ?? [];
  }
}

const plan = (name: string, freeCertificatesPerSite: number, dnsRecords: number): PlanDefinition => ({
  specName: name,
  subscribeType: `${name}plan`,
  sites: 1000,
  freeCertificatesPerSite,
  dnsRecords,
  clientCertificates: false,
});

/** `roomy`: plenty of everything; `three`: 3 free certificates per site; `tworecords`: 2 DNS records. */
export const TEST_PLANS: Record<string, PlanDefinition> = {
  roomy: plan('roomy', 1000, 100_000),
  three: plan('three', 3, 100_000),
  tworecords: plan('tworecords', 1000, 2),
};

/** lets_encrypt as by default (50 domains); digicert_wildcard configured (1 domain); digicert_single left unconfigured. */
export const TEST_ISSUERS = issuersFrom(
  { digicert_wildcard: { directoryUrl: 'https://acme.certplane.test/directory' } },
  { directoryUrl: undefined, caBundle: undefined },
  [],
  (key) => key,
);

export async function startCertService(
  engine: Engine,
  zones: TestZones,
  options: { plans?: Record<string, PlanDefinition>; testDb?: TestDatabase } = {},
): Promise<TestService> {
  return startService(engine, {
    dns: zones,
    ...(options.testDb ? { testDb: options.testDb } : {}),
    config: { plans: options.plans ?? TEST_PLANS, issuers: TEST_ISSUERS },
  });
}

export interface CertTenant {
  accountId: string;
  esa: EsaClient;
  /** A site on `plan`, activated through VerifySite unless `pending`. */
  site(opts?: { accessType?: 'NS' | 'CNAME'; plan?: string; pending?: boolean }): Promise<{ siteId: number; siteName: string }>;
}

let seq = 0;

export async function certTenant(service: TestService, zones: TestZones, name = 'certs'): Promise<CertTenant> {
  const account = await service.app.accounts.createAccount(name);
  const { key, secret } = await service.app.accounts.createAccessKey(account.id);
  const esa = esaClient(service.baseUrl.replace('http://', ''), { accessKeyId: key.id, accessKeySecret: secret });
  const instances = new Map<string, string>();
  return {
    accountId: account.id,
    esa,
    site: async ({ accessType = 'CNAME', plan: planName = 'roomy', pending = false } = {}) => {
      if (!instances.has(planName)) instances.set(planName, (await service.app.plans.grant(account.id, planName)).id);
      const siteName = `certs${process.pid}x${++seq}.com`;
      const created = (
        await esa.createSite(new Esa.CreateSiteRequest({ siteName, accessType, coverage: 'global', instanceId: instances.get(planName)! }))
      ).body!;
      if (!pending) {
        if (accessType === 'NS') zones.ns.set(siteName, created.nameServerList!.split(','));
        else zones.txt.set(`_esaauth.${siteName}`, [created.verifyCode!]);
        const verified = await esa.verifySite(new Esa.VerifySiteRequest({ siteId: created.siteId! }));
        if (!verified.body!.passed) throw new Error(`site ${siteName} did not verify`);
      }
      return { siteId: created.siteId!, siteName };
    },
  };
}

export async function apply(esa: EsaClient, siteId: number, domains: string, type?: string) {
  return (await esa.applyCertificate(new Esa.ApplyCertificateRequest({ siteId, domains, ...(type ? { type } : {}) }))).body!;
}

/** Rows of every table an ESA certificate write touches (the audit log aside), to show a refusal stored nothing. */
export async function storeCounts(service: TestService): Promise<Record<string, number>> {
  const db = service.app.database.db;
  const counts: Record<string, number> = {};
  for (const table of ['site_certificates', 'acme_issuances', 'jobs', 'certificates', 'private_keys'] as const) {
    const row = await db.selectFrom(table).select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
    counts[table] = Number(row.n);
  }
  const applying = await db.selectFrom('site_certificates').select((eb) => eb.fn.countAll<string | number>().as('n')).where('applying', '=', 1).executeTakeFirstOrThrow();
  counts.applying = Number(applying.n);
  return counts;
}

export async function issuanceOf(service: TestService, certificateId: string) {
  const db = service.app.database.db;
  const row = await db.selectFrom('site_certificates').select('issuance_id').where('id', '=', certificateId).executeTakeFirstOrThrow();
  return db.selectFrom('acme_issuances').selectAll().where('id', '=', row.issuance_id!).executeTakeFirstOrThrow();
}

/** A test CA standing in for the ACME CA: each leaf is issued under it and chained to it. */
let testIssuer: Issued | undefined;
export function acmeTestCa(): Issued {
  testIssuer ??= makeCa({ alg: 'p256', subject: '/O=Certplane Test CA/CN=Certplane Test Issuing CA' });
  return testIssuer;
}

/** A leaf and its key under the test CA, for `names` (first = CN), valid for `days` (negative: expired). */
export function testServerCertificate(names: string[], days = 90): { leaf: Issued; chainPem: string } {
  const ca = acmeTestCa();
  const now = Date.now();
  const leaf = makeLeaf({
    issuer: ca,
    alg: 'p256',
    cn: names[0]!,
    sans: names.map((n) => `DNS:${n}`),
    notBefore: new Date(now - (days < 0 ? 100 : 1) * 86_400_000),
    notAfter: new Date(now + days * 86_400_000),
  });
  return { leaf, chainPem: leaf.certPem + ca.certPem };
}

/**
 * Test set-up standing in for the issuance engine: the certificate's issuance becomes `valid` with
 * a chain made here, its facts as openssl reads them.
 */
export async function issueForTest(service: TestService, certificateId: string, names: string[], days = 90) {
  const { leaf, chainPem } = testServerCertificate(names, days);
  const view = inspectCert(leaf.certPem);
  const issuance = await issuanceOf(service, certificateId);
  const at = new Date().toISOString();
  await service.app.database.db
    .updateTable('acme_issuances')
    .set({
      state: 'valid',
      chain_pem: chainPem,
      common_name: names[0]!,
      san: names.join(','),
      serial_number: view.serialHex.toLowerCase(),
      fingerprint_sha256: view.fingerprintSha256,
      issuer: 'Certplane Test CA',
      issuer_cn: 'Certplane Test Issuing CA',
      public_key_algorithm: 'ECDSA',
      signature_algorithm: 'ECDSA-SHA256',
      not_before: view.notBefore.toISOString(),
      not_after: view.notAfter.toISOString(),
      updated_at: at,
      finished_at: at,
    })
    .where('id', '=', issuance.id)
    .execute();
  // As the engine's finishing transaction does: the site certificate shows the new notAfter.
  await service.app.database.db.transaction().execute((tx) => refreshServingNotAfter(tx, { issuanceId: issuance.id }));
  return { chainPem, view };
}

/** Test set-up: the CA refused the certificate's issuance. */
export async function failForTest(service: TestService, certificateId: string, code: string, detail: string): Promise<void> {
  const issuance = await issuanceOf(service, certificateId);
  const at = new Date().toISOString();
  await service.app.database.db
    .updateTable('acme_issuances')
    .set({ state: 'invalid', error_code: code, error_detail: detail, updated_at: at, finished_at: at })
    .where('id', '=', issuance.id)
    .execute();
}

/** Test set-up: the issuance has ordered and recorded its authorizations. */
export async function orderedForTest(service: TestService, certificateId: string, authorizations: AuthorizationProgress[]): Promise<void> {
  const issuance = await issuanceOf(service, certificateId);
  await service.app.database.db
    .updateTable('acme_issuances')
    .set({ state: 'validating', authorizations: JSON.stringify(authorizations), updated_at: new Date().toISOString() })
    .where('id', '=', issuance.id)
    .execute();
}
