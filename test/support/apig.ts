import type { TestService } from './service.js';

export interface ApigResponse {
  status: number;
  body: Record<string, unknown> & { error_code?: string; error_msg?: string };
}

/** A small APIG client over fetch, bound to one project and token. */
export function apigClient(service: TestService, projectId: string, token: string | undefined) {
  const base = `${service.baseUrl}/v2/${projectId}/apigw/certificates`;
  async function call(method: string, path: string, body?: unknown, raw?: string): Promise<ApigResponse> {
    const headers: Record<string, string> = {};
    if (token !== undefined) headers['x-auth-token'] = token;
    if (body !== undefined || raw !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${base}${path}`, { method, headers, body: raw ?? (body === undefined ? undefined : JSON.stringify(body)) });
    const text = await res.text();
    return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as ApigResponse['body']) };
  }
  return {
    create: (body: unknown) => call('POST', '', body),
    createRaw: (raw: string) => call('POST', '', undefined, raw),
    list: (query = '') => call('GET', query ? `?${query}` : ''),
    show: (id: string) => call('GET', `/${id}`),
    update: (id: string, body: unknown) => call('PUT', `/${id}`, body),
    remove: (id: string) => call('DELETE', `/${id}`),
    attach: (id: string, domains: unknown[]) => call('POST', `/${id}/domains/attach`, { domains }),
    detach: (id: string, domains: unknown[]) => call('POST', `/${id}/domains/detach`, { domains }),
    attached: (id: string, query = '') => call('GET', `/${id}/attached-domains${query ? `?${query}` : ''}`),
  };
}

let names = 0;
/** A fresh certificate name that follows the APIG rule. */
export function certName(prefix = 'cert'): string {
  names += 1;
  return `${prefix}_${process.pid}_${names}`;
}

/** Rows in a table, straight from the database: proof that a rejected request stored nothing. */
export async function countRows(service: TestService, table: 'certificates' | 'private_keys' | 'certificate_domains'): Promise<number> {
  const row = await service.app.database.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
