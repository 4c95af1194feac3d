import huaweiCore from '@huaweicloud/huaweicloud-sdk-core';
import clientBuilder from '@huaweicloud/huaweicloud-sdk-core/ClientBuilder.js';
import signer from '@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner.js';
import type { HcClient } from '@huaweicloud/huaweicloud-sdk-core/HcClient.js';
import { HttpRequestImpl } from '@huaweicloud/huaweicloud-sdk-core/http/IHttpRequest.js';
import type { RecordedRequest } from './alibaba.js';

const { BasicCredentials } = huaweiCore;
const { ClientBuilder } = clientBuilder;
const { AKSKSigner } = signer;

export interface AkSk {
  ak: string;
  sk: string;
  projectId: string;
}

/**
 * The official Huawei Cloud SDK core pointed at certplane, as Huawei's generated service clients
 * build it: `ClientBuilder` + `BasicCredentials` (AK, SK, project) + an endpoint. Every request it
 * sends is signed by the SDK's own `AKSKSigner`.
 */
export function huaweiClient(baseUrl: string, credentials: AkSk): HcClient {
  const credential = new BasicCredentials().withAk(credentials.ak).withSk(credentials.sk).withProjectId(credentials.projectId);
  const client = new ClientBuilder((hc: HcClient) => hc).withCredential(credential).withEndpoint(baseUrl).build();
  quiet(client);
  return client;
}

/** The SDK prints every failed call (its headers included) on stdout; the tests assert on failures instead. */
function quiet(client: HcClient): void {
  const http = (client as unknown as { httpClient?: { _logger?: { setLevel(level: string): void } } }).httpClient;
  http?._logger?.setLevel('off');
}

/** What an APIG call through the SDK came to: the body and status, or the SDK's exception fields. */
export interface SdkOutcome {
  status: number;
  body: Record<string, unknown>;
  errorCode?: string;
  errorMsg?: string;
  requestId?: string;
}

/** An SDK outcome as `[status, error_code]`, for asserting a refusal in one line. */
export async function statusAndCode(outcome: Promise<SdkOutcome>): Promise<[number, string | undefined]> {
  const res = await outcome;
  return [res.status, res.errorCode];
}

export interface ApigCall {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Under `/v2/{project_id}/apigw/certificates`, e.g. `/{certificate_id}` or `''`. */
  path?: string;
  certificateId?: string;
  queryParams?: Record<string, string | number>;
  data?: unknown;
}

/**
 * Sends one APIG request the way a generated client does (`sendRequest` with url, path parameters,
 * query parameters and a JSON body), turning the SDK's exception into an outcome.
 */
export async function sdkCall(client: HcClient, call: ApigCall): Promise<SdkOutcome> {
  const options = {
    method: call.method,
    url: `/v2/{project_id}/apigw/certificates${call.path ?? ''}`,
    pathParams: call.certificateId === undefined ? {} : { certificate_id: call.certificateId },
    queryParams: call.queryParams ?? {},
    headers: {},
    // As the generated clients do: every operation declares JSON, only those with a body send one.
    contentType: 'application/json',
    ...(call.data === undefined ? {} : { data: call.data as Record<string, unknown> }),
  };
  try {
    const response = (await client.sendRequest(options)) as Record<string, unknown> & { httpStatusCode: number };
    const { httpStatusCode, ...body } = response;
    return { status: httpStatusCode, body };
  } catch (err) {
    const e = err as { httpStatusCode?: number; errorCode?: string; errorMsg?: string; requestId?: string };
    if (e.httpStatusCode === undefined) throw err;
    return { status: e.httpStatusCode, body: {}, errorCode: e.errorCode, errorMsg: e.errorMsg, requestId: e.requestId };
  }
}

/**
 * A request signed by the SDK's own `AKSKSigner` (the headers it produces, `X-Project-Id` and
 * `Content-Type` included as its credentials add them), to be sent, or altered and then sent, by
 * hand with `send` (test/support/alibaba.ts), which passes every header, `host` included, as given.
 * `date` sets `X-Sdk-Date` before signing, as a caller may; `headers` are signed along.
 */
export function signRaw(
  baseUrl: string,
  credentials: AkSk,
  req: { method: string; path: string; query?: Record<string, string>; data?: unknown; date?: string; headers?: Record<string, string> },
): RecordedRequest {
  const request = new HttpRequestImpl();
  request.method = req.method;
  request.endpoint = `${baseUrl}${req.path}`;
  request.queryParams = req.query ?? {};
  request.headers = { 'X-Project-Id': credentials.projectId } as Record<string, string>;
  if (req.data !== undefined) {
    request.headers['content-type'] = 'application/json';
    request.data = req.data;
  }
  if (req.date !== undefined) request.headers['X-Sdk-Date'] = req.date;
  Object.assign(request.headers, req.headers);
  const credential = new BasicCredentials().withAk(credentials.ak).withSk(credentials.sk).withProjectId(credentials.projectId);
  const signed = AKSKSigner.sign(request, credential) as Record<string, string>;
  const headers = Object.fromEntries(Object.entries(signed).map(([name, value]) => [name.toLowerCase(), value]));
  const query = new URLSearchParams(req.query ?? {}).toString().replace(/\+/g, '%20');
  return {
    method: req.method,
    url: `${req.path}${query ? `?${query}` : ''}`,
    headers,
    body: Buffer.from(req.data === undefined ? '' : JSON.stringify(req.data)),
  };
}
