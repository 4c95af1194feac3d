/**
 * For the CAS tests: the unmodified official CAS SDK (@alicloud/cas20200407) against a running
 * certplane, an account with packages granted through the service the CLI uses, CSRs made by
 * openssl, and what the database holds (to prove a refusal stored and consumed nothing).
 */
import Cas from '@alicloud/cas20200407';
import OpenApi from '@alicloud/openapi-core';
import { RuntimeOptions } from '@darabonba/typescript';
import { makeCsr, testKey, type TestKey } from './pki.js';
import type { TestService } from './service.js';

export { Cas };

export type CasClient = InstanceType<typeof Cas.default>;

export function casClient(endpoint: string, credentials: { accessKeyId: string; accessKeySecret: string }, extra: Record<string, unknown> = {}): CasClient {
  return new Cas.default(new OpenApi.$OpenApiUtil.Config({ ...credentials, endpoint, protocol: 'http', regionId: 'cn-hangzhou', ...extra }));
}

export interface CasTenant {
  accountId: string;
  cas: CasClient;
  credentials: { accessKeyId: string; accessKeySecret: string };
  /** `certplane package grant` through the same service. */
  grant(count: number, productCode?: string): Promise<void>;
}

let seq = 0;

export async function casTenant(service: TestService, name = 'cas'): Promise<CasTenant> {
  const account = await service.app.accounts.createAccount(`${name}${++seq}`);
  const { key, secret } = await service.app.accounts.createAccessKey(account.id);
  const credentials = { accessKeyId: key.id, accessKeySecret: secret };
  return {
    accountId: account.id,
    cas: casClient(service.baseUrl.replace('http://', ''), credentials),
    credentials,
    grant: async (count, productCode = 'digicert-free-1-free') => {
      await service.app.orders.grant(account.id, productCode, count);
    },
  };
}

/** A CSR for `cn` (and SANs), by openssl, with the key of `alg`. */
export function csrFor(cn: string, opts: { sans?: string[]; key?: TestKey } = {}): string {
  const addext = opts.sans ? [`subjectAltName=${opts.sans.map((s) => `DNS:${s}`).join(',')}`] : [];
  return makeCsr(opts.key ?? testKey('p256'), { subject: `/O=Example/CN=${cn}`, addext });
}

/** A fresh unique domain name under example.com. */
export function domain(label = 'www'): string {
  return `${label}.o${process.pid}x${++seq}.example.com`;
}

/** How many rows each CAS-related table holds: a refusal must leave every number as it was. */
export async function casRows(service: TestService): Promise<Record<string, number>> {
  const count = async (table: 'cas_orders' | 'acme_issuances' | 'jobs' | 'cas_packages' | 'certificates' | 'private_keys') => {
    const row = await service.app.database.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  };
  return {
    cas_orders: await count('cas_orders'),
    acme_issuances: await count('acme_issuances'),
    jobs: await count('jobs'),
    certificates: await count('certificates'),
    private_keys: await count('private_keys'),
  };
}

/** The SDK's raw answer (every key the server sent, also those its model does not read). */
export async function rawCall(cas: CasClient, action: string, query: Record<string, string>): Promise<Record<string, unknown>> {
  const params = new OpenApi.$OpenApiUtil.Params({
    action,
    version: '2020-04-07',
    protocol: 'HTTPS',
    pathname: '/',
    method: 'POST',
    authType: 'AK',
    style: 'RPC',
    reqBodyType: 'formData',
    bodyType: 'json',
  });
  const request = new OpenApi.$OpenApiUtil.OpenApiRequest({ query });
  const answer = (await cas.callApi(params, request, new RuntimeOptions({}))) as { body: Record<string, unknown> };
  return answer.body;
}
