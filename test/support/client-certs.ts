/**
 * For the ESA client-certificate tests: a running certplane, an account driving it through the
 * official ESA SDK, sites on a plan of choice, and what openssl says about what was issued.
 */
import { readFileSync } from 'node:fs';
import { Esa, esaClient } from './alibaba.js';
import { inspectCert, type OpensslView } from './openssl.js';
import { makeCsr, opensslExtensions, runOpenssl, scratch, testKey, type OpensslRun } from './pki.js';
import type { TestService } from './service.js';

export { Esa };

export type EsaClient = ReturnType<typeof esaClient>;

export interface Tenant {
  accountId: string;
  accessKeyId: string;
  esa: EsaClient;
  /** A new pending site of this account on the plan (enterprise: client certificates; free: none). */
  site(plan?: 'enterprise' | 'free'): Promise<{ siteId: number; siteName: string }>;
  /**
   * CreateClientCertificate on the site: from a CSR (the `csrKey` test key, CN `commonName`) or with
   * a key certplane generates (`ECC`, `RSA`); 30 days unless `validityDays` says otherwise.
   */
  issue(siteId: number, how: 'csr' | 'ECC' | 'RSA', options?: IssueOptions): Promise<CreatedClientCertificate>;
  /** The PEM of one of the site's client CAs (GetClientCaCertificate). */
  caPem(siteId: number, caId: string): Promise<string>;
}

export interface IssueOptions {
  csrKey?: 'p256' | 'rsa';
  commonName?: string;
  validityDays?: number;
}

export type CreatedClientCertificate = InstanceType<typeof Esa.CreateClientCertificateResponseBody>;

let seq = 0;

export async function tenantOf(service: TestService, name = 'mtls'): Promise<Tenant> {
  const account = await service.app.accounts.createAccount(name);
  const { key, secret } = await service.app.accounts.createAccessKey(account.id);
  const esa = esaClient(service.baseUrl.replace('http://', ''), { accessKeyId: key.id, accessKeySecret: secret });
  const instances = new Map<string, string>();
  return {
    accountId: account.id,
    accessKeyId: key.id,
    esa,
    site: async (plan = 'enterprise') => {
      if (!instances.has(plan)) instances.set(plan, (await service.app.plans.grant(account.id, plan)).id);
      const siteName = `mtls${process.pid}x${++seq}.com`;
      const created = await esa.createSite(
        new Esa.CreateSiteRequest({ siteName, accessType: 'CNAME', coverage: 'global', instanceId: instances.get(plan)! }),
      );
      return { siteId: created.body!.siteId!, siteName };
    },
    issue: async (siteId, how, options = {}) => {
      const { csrKey = 'p256', commonName = 'device', validityDays = 30 } = options;
      const request = new Esa.CreateClientCertificateRequest({
        siteId,
        validityDays,
        ...(how === 'csr' ? { CSR: makeCsr(testKey(csrKey), { subject: `/CN=${commonName}` }) } : { pkeyType: how }),
      });
      return (await esa.createClientCertificate(request)).body!;
    },
    caPem: async (siteId, id) => (await esa.getClientCaCertificate(new Esa.GetClientCaCertificateRequest({ siteId, id }))).body!.certificate!,
  };
}

/** `openssl x509` on a PEM, with its extensions by the names openssl prints. */
export function opensslView(pem: string): OpensslView & { extensions: ReturnType<typeof opensslExtensions> } {
  const view = inspectCert(pem);
  return { ...view, extensions: opensslExtensions(view.text) };
}

/** `openssl verify -x509_strict -purpose sslclient -CAfile ca leaf`. */
export function verifyWith(caPem: string, leafPem: string): OpensslRun {
  return runOpenssl(['verify', '-x509_strict', '-purpose', 'sslclient', '-CAfile', scratch('ca.pem', caPem), scratch('leaf.pem', leafPem)]);
}

/** The public key (SPKI DER) of a private key, as openssl derives it. */
export function publicKeyOf(privateKeyPem: string): Buffer {
  const out = scratch('pub.der');
  const run = runOpenssl(['pkey', '-in', scratch('key.pem', privateKeyPem), '-pubout', '-outform', 'DER', '-out', out]);
  if (run.status !== 0) throw new Error(run.output);
  return readFileSync(out);
}

/** How openssl names the signature algorithms, as ESA spells them. */
export const ESA_SIGNATURE_NAMES: Record<string, string> = {
  'ecdsa-with-SHA256': 'ECDSA-SHA256',
  sha256WithRSAEncryption: 'SHA256-RSA',
};

/** `2024-03-31 02:08:00`: the Get/List time format, from a Date. */
export function listTime(at: Date): string {
  return at.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, '');
}

/** `2024-12-01T02:12:49Z`: the Create/Upload time format, from a Date. */
export function isoTime(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Rows of a table, counted straight from the database. */
export async function countRows(service: TestService, table: 'client_cas' | 'client_certificates'): Promise<number> {
  const row = await service.app.database.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
