/**
 * AcmeClient for one account: the RFC 8555 resource requests, each one signed POST (POST-as-GET for
 * reads) through acme-client's HttpClient. The requests are written here rather than taken from
 * acme-client's Client, because its Client drops the headers (Retry-After, Location) and flattens a
 * problem document into an Error message, and its newOrder type has no `profile` or `replaces`.
 */
import type { AcmeHttpResponse } from 'acme-client/src/http.js';
import type { Authorization, CertificateChain, Challenge, NewOrder, Order, RenewalInfo } from '../../core/acme/model.js';
import { ariCertId } from '../../pki/index.js';
import type { AcmeClient, PollOptions } from '../../core/acme/ports.js';
import { AcmeUnavailable } from '../../core/acme/problem.js';
import { poll, pollPolicy, type PollPolicy, type PollTimer } from './polling.js';
import type { AcmeHttp } from './transport.js';
import { challengeState, problemFrom, toAuthorization, toChain, toOrder, toRenewalInfo } from './wire.js';

export class AccountClient implements AcmeClient {
  constructor(
    private readonly http: AcmeHttp,
    readonly accountUrl: string,
    /** RFC 7638 thumbprint of the account key, base64url. */
    private readonly thumbprint: string,
    private readonly policy: PollPolicy,
    private readonly timer: PollTimer,
  ) {}

  async newOrder(request: NewOrder): Promise<Order> {
    const payload = {
      identifiers: request.identifiers.map(({ type, value }) => ({ type, value })),
      ...(request.notBefore ? { notBefore: request.notBefore.toISOString() } : {}),
      ...(request.notAfter ? { notAfter: request.notAfter.toISOString() } : {}),
      ...(request.profile !== undefined ? { profile: request.profile } : {}),
      ...(request.replaces !== undefined ? { replaces: request.replaces } : {}),
    };
    const newOrderUrl = await this.http.getResourceUrl('newOrder');
    const response = await this.post(newOrderUrl, payload, 201);
    const location = response.headers['location'];
    if (!location) throw new AcmeUnavailable(`newOrder at ${newOrderUrl} answered without the order's URL (Location)`);
    return toOrder(new URL(location, newOrderUrl).href, response);
  }

  async getOrder(url: string): Promise<Order> {
    return toOrder(url, await this.post(url, null, 200));
  }

  async getAuthorization(url: string): Promise<Authorization> {
    return toAuthorization(url, await this.post(url, null, 200), this.thumbprint);
  }

  async respondToChallenge(challenge: Challenge): Promise<Challenge> {
    const response = await this.post(challenge.url, {}, 200);
    return { ...challenge, ...challengeState(response.data, challenge.url) };
  }

  waitForAuthorization(url: string, options?: PollOptions): Promise<Authorization> {
    return poll(() => this.getAuthorization(url), (authz) => authz.status !== 'pending', pollPolicy(this.policy, options), this.timer);
  }

  waitForOrder(url: string, options?: PollOptions): Promise<Order> {
    const settled = (order: Order) => order.status !== 'pending' && order.status !== 'processing';
    return poll(() => this.getOrder(url), settled, pollPolicy(this.policy, options), this.timer);
  }

  async finalize(order: Pick<Order, 'url' | 'finalize'>, csr: Uint8Array | string): Promise<Order> {
    return toOrder(order.url, await this.post(order.finalize, { csr: csrDer(csr).toString('base64url') }, 200));
  }

  async downloadCertificate(certificateUrl: string): Promise<CertificateChain> {
    return toChain(certificateUrl, await this.post(certificateUrl, null, 200));
  }

  async offersRenewalInfo(): Promise<boolean> {
    return (await this.http.optionalResourceUrl('renewalInfo')) !== undefined;
  }

  /** RFC 9773 §4.1: an unauthenticated GET of `{renewalInfo}/{certificate id}`. */
  async renewalInfo(certificatePem: string): Promise<RenewalInfo | undefined> {
    const base = await this.http.optionalResourceUrl('renewalInfo');
    if (base === undefined) return undefined;
    const url = `${base.replace(/\/+$/, '')}/${ariCertId(certificatePem)}`;
    const response = await this.http.request(url, 'get');
    if (response.status !== 200) throw problemFrom(response, url);
    return toRenewalInfo(response, url);
  }

  /** A signed request as this account; any other status than `ok` is the CA's problem, thrown. */
  private async post(url: string, payload: unknown, ok: number): Promise<AcmeHttpResponse> {
    const response = await this.http.signedRequest(url, payload, { kid: this.accountUrl });
    if (response.status !== ok) throw problemFrom(response, url);
    return response;
  }
}

function csrDer(input: Uint8Array | string): Buffer {
  // DER starts with a SEQUENCE tag (0x30); bytes that spell a PEM header are PEM text in a Buffer.
  const csr = typeof input !== 'string' && Buffer.from(input.subarray(0, 11)).toString('latin1') === '-----BEGIN ' ? Buffer.from(input).toString('latin1') : input;
  if (typeof csr !== 'string') return Buffer.from(csr);
  const body = /-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----([\s\S]+?)-----END (?:NEW )?CERTIFICATE REQUEST-----/.exec(csr)?.[1];
  if (body === undefined) throw new TypeError('the CSR is neither DER nor a PEM CERTIFICATE REQUEST');
  return Buffer.from(body.replace(/\s+/g, ''), 'base64');
}
