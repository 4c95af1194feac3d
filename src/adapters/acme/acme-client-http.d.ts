/**
 * Types for acme-client 5.4's HttpClient (src/http.js), which its package does not export or type:
 * the JWS signing, EAB, directory cache and badNonce retry that adapters/acme/transport.ts extends.
 * Only the members the adapter uses or overrides are declared, as 5.4.0 defines them.
 */
declare module 'acme-client/src/http.js' {
  import type { KeyObject } from 'node:crypto';

  export interface AcmeHttpResponse {
    status: number;
    /** Lower-case names. */
    headers: Record<string, string | undefined>;
    /** Parsed JSON when the body is JSON, else the text (a PEM chain). */
    data: unknown;
  }

  export default class HttpClient {
    constructor(directoryUrl: string, accountKey: Buffer | KeyObject, externalAccountBinding?: { kid?: string; hmacKey?: string });
    directoryUrl: string;
    maxBadNonceRetries: number;
    /** Called with method 'get' (directory), 'head' (newNonce) and 'post' (every signed request, `opts.data` the JWS). */
    request(url: string, method: string, opts?: { data?: unknown }): Promise<AcmeHttpResponse>;
    getDirectory(): Promise<Record<string, unknown>>;
    getNonce(): Promise<string>;
    getResourceUrl(resource: string): Promise<string>;
    getJwk(): Record<string, string>;
    signedRequest(
      url: string,
      payload: unknown,
      opts?: { kid?: string | null; nonce?: string | null; includeExternalAccountBinding?: boolean },
      attempts?: number,
    ): Promise<AcmeHttpResponse>;
  }
}
