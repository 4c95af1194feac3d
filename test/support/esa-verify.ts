import type { esaClient } from './alibaba.js';
import { Esa } from './alibaba.js';

/** VerifySite's `Detail`, certplane's own field beside `Passed`. */
export interface VerifyDetail {
  RecordType: string;
  RecordName: string;
  Expected: string[];
  Found: string[];
  Resolver: string;
  Reason: string;
}

/**
 * VerifySite through the official SDK, with the `Detail` field the SDK drops (it keeps only the
 * fields it knows): the raw answer is taken from the SDK's own callApi on its way back.
 */
export async function verifySite(
  client: ReturnType<typeof esaClient>,
  siteId: number,
): Promise<{ passed: boolean; detail: VerifyDetail }> {
  const original = client.callApi.bind(client);
  let raw: { body?: { Detail?: VerifyDetail } } | undefined;
  client.callApi = async (...args: Parameters<typeof original>) => {
    raw = (await original(...args)) as typeof raw;
    return raw as Awaited<ReturnType<typeof original>>;
  };
  try {
    const res = await client.verifySite(new Esa.VerifySiteRequest({ siteId }));
    const detail = raw?.body?.Detail;
    if (typeof res.body?.passed !== 'boolean' || !detail) throw new Error(`VerifySite answered no Passed/Detail: ${JSON.stringify(raw?.body)}`);
    return { passed: res.body.passed, detail };
  } finally {
    client.callApi = original;
  }
}
