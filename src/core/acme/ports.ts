/**
 * The ACME protocol as the core needs it (RFC 8555), implemented in adapters/acme over acme-client.
 *
 * Every object is named by its URL and can be read again from the CA, so whatever a worker stored
 * (account URL, order URL) is enough to pick an issuance up after a restart. Failures are typed:
 * an AcmeProblem carries the CA's problem document, an AcmeUnavailable says the CA could not be
 * reached; `badNonce` never reaches the caller (it is retried with the nonce the CA sent along).
 */
import type {
  AcmeAccount,
  AcmeDirectory,
  Authorization,
  CertificateChain,
  Challenge,
  ExternalAccountBinding,
  NewOrder,
  Order,
  RenewalInfo,
} from './model.js';

export interface AccountRequest {
  directory: AcmeDirectory;
  /** The account key (PEM, EC P-256/P-384 or RSA). Absent: a new P-256 key is made and returned in the account. */
  keyPem?: string | undefined;
  /** The account URL stored from an earlier registration: when given, no request is made. */
  url?: string | undefined;
  /** RFC 8555 §7.3: the CA's terms must be agreed to; the caller says so explicitly. */
  termsOfServiceAgreed: true;
  /** `mailto:` URLs. */
  contact?: string[] | undefined;
  /** Required by CAs that say `externalAccountRequired` in their directory. */
  externalAccountBinding?: ExternalAccountBinding | undefined;
}

export interface AcmeClients {
  /**
   * Registers an account for the key (RFC 8555 §7.3; a key that has one gets it back, `created`
   * false) and returns it with the client that acts for it. One client per (directory, key) is
   * kept and shared by every order of that account.
   */
  ensureAccount(request: AccountRequest): Promise<{ account: AcmeAccount; client: AcmeClient }>;
}

/** How long to wait between two reads of a pending object. */
export interface PollOptions {
  /** Shortest wait, also the first one when the CA sends no Retry-After (which doubles from here). */
  minDelayMs?: number;
  /** Longest wait, whatever the CA's Retry-After says. */
  maxDelayMs?: number;
  /** Give up waiting after this long and return the object still pending (its `retryAfterMs` says when to look again). */
  timeoutMs?: number;
}

export interface AcmeClient {
  readonly accountUrl: string;
  /** RFC 8555 §7.4 newOrder. `profile` and `replaces` are sent only when given. */
  newOrder(request: NewOrder): Promise<Order>;
  /** The order as the CA has it now. */
  getOrder(url: string): Promise<Order>;
  getAuthorization(url: string): Promise<Authorization>;
  /** RFC 8555 §7.5.1: the response to `challenge` is in place, the CA may validate it now; returns it with the CA's new status. */
  respondToChallenge(challenge: Challenge): Promise<Challenge>;
  /** Reads the authorization until it is no longer `pending` (or `timeoutMs` passes), honouring Retry-After. */
  waitForAuthorization(url: string, options?: PollOptions): Promise<Authorization>;
  /**
   * Reads the order until it is neither `pending` nor `processing` (or `timeoutMs` passes),
   * honouring Retry-After: `ready` after the authorizations, `valid` after finalize, or `invalid`.
   */
  waitForOrder(url: string, options?: PollOptions): Promise<Order>;
  /** RFC 8555 §7.4 finalize with a CSR (DER, or PEM as text or bytes); returns the order (`processing` or `valid`). */
  finalize(order: Pick<Order, 'url' | 'finalize'>, csr: Uint8Array | string): Promise<Order>;
  /** RFC 8555 §7.4.2: the certificate chain of a valid order (`order.certificate`), leaf first. */
  downloadCertificate(certificateUrl: string): Promise<CertificateChain>;
  /** RFC 9773 §3: whether the CA's directory names a `renewalInfo` resource. */
  offersRenewalInfo(): Promise<boolean>;
  /**
   * RFC 9773 §4: the CA's suggested renewal window of a certificate (PEM, leaf first), with its
   * Retry-After; undefined when the CA offers no renewalInfo.
   */
  renewalInfo(certificatePem: string): Promise<RenewalInfo | undefined>;
}
