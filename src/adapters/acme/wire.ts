/**
 * RFC 8555 JSON (and headers) → the core's ACME model. A reply missing what the protocol promises
 * is an AcmeUnavailable ("the CA broke the protocol"), never a half-filled object; a problem
 * document becomes an AcmeProblem with every field the CA sent.
 */
import { createHash } from 'node:crypto';
import type { AcmeHttpResponse } from 'acme-client/src/http.js';
import type {
  Authorization,
  AuthorizationStatus,
  CertificateChain,
  Challenge,
  ChallengeStatus,
  Identifier,
  Order,
  OrderStatus,
  RenewalInfo,
} from '../../core/acme/model.js';
import { AcmeProblem, AcmeUnavailable, type ProblemDocument } from '../../core/acme/problem.js';

type Json = Record<string, unknown>;

const ORDER_STATUSES: readonly OrderStatus[] = ['pending', 'ready', 'processing', 'valid', 'invalid'];
const AUTHZ_STATUSES: readonly AuthorizationStatus[] = ['pending', 'valid', 'invalid', 'deactivated', 'expired', 'revoked'];
const CHALLENGE_STATUSES: readonly ChallengeStatus[] = ['pending', 'processing', 'valid', 'invalid'];

/** The failure a non-success reply stands for: the CA's problem document, or AcmeUnavailable without one. */
export function problemFrom(response: AcmeHttpResponse, url: string): AcmeProblem | AcmeUnavailable {
  const retryAfter = retryAfterMs(response.headers['retry-after']);
  const document = problemDocument(response.data, response.status);
  if (document) return new AcmeProblem(document, { retryAfterMs: retryAfter });
  return new AcmeUnavailable(`HTTP ${response.status} from ${url} without a problem document`, retryAfter);
}

function problemDocument(data: unknown, status?: number): ProblemDocument | undefined {
  if (!isObject(data) || typeof data['type'] !== 'string') return undefined;
  const subproblems = Array.isArray(data['subproblems'])
    ? data['subproblems'].map((sub) => problemDocument(sub)).filter((sub): sub is ProblemDocument => sub !== undefined)
    : undefined;
  return {
    type: data['type'],
    detail: typeof data['detail'] === 'string' ? data['detail'] : undefined,
    status: typeof data['status'] === 'number' ? data['status'] : status,
    identifier: identifier(data['identifier']),
    subproblems,
  };
}

/** Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date; ms from `now`, never negative. */
export function retryAfterMs(header: string | undefined, now = Date.now()): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // Every HTTP-date form starts with a day name; Date.parse alone would take '-5' for a year.
  const at = /^[A-Za-z]{3}/.test(value) ? Date.parse(value) : NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function toOrder(url: string, response: AcmeHttpResponse): Order {
  const data = response.data;
  if (!isObject(data) || !ORDER_STATUSES.includes(data['status'] as OrderStatus) || !isStrings(data['authorizations']) || typeof data['finalize'] !== 'string') {
    throw malformed('order', url);
  }
  const identifiers = Array.isArray(data['identifiers']) ? data['identifiers'].map(identifier) : [];
  return {
    url,
    status: data['status'] as OrderStatus,
    identifiers: identifiers.filter((id): id is Identifier => id !== undefined),
    authorizations: data['authorizations'],
    finalize: data['finalize'],
    certificate: optionalString(data['certificate']),
    expires: optionalDate(data['expires']),
    profile: optionalString(data['profile']),
    replaces: optionalString(data['replaces']),
    error: problemOf(data['error']),
    retryAfterMs: retryAfterMs(response.headers['retry-after']),
  };
}

/** `thumbprint`: the account key's RFC 7638 thumbprint (base64url), for key authorizations. */
export function toAuthorization(url: string, response: AcmeHttpResponse, thumbprint: string): Authorization {
  const data = response.data;
  const id = isObject(data) ? identifier(data['identifier']) : undefined;
  if (!isObject(data) || !AUTHZ_STATUSES.includes(data['status'] as AuthorizationStatus) || !id || !Array.isArray(data['challenges'])) {
    throw malformed('authorization', url);
  }
  const challenges = data['challenges'].map((c) => toChallenge(c, id, thumbprint));
  return {
    url,
    status: data['status'] as AuthorizationStatus,
    identifier: id,
    wildcard: data['wildcard'] === true,
    expires: optionalDate(data['expires']),
    challenges: challenges.filter((c): c is Challenge => c !== undefined),
    retryAfterMs: retryAfterMs(response.headers['retry-after']),
  };
}

/** A challenge this port answers (http-01, dns-01), with its response computed; undefined for other types. */
export function toChallenge(data: unknown, id: Identifier, thumbprint: string): Challenge | undefined {
  if (!isObject(data) || (data['type'] !== 'http-01' && data['type'] !== 'dns-01')) return undefined;
  const { url, token } = data;
  if (typeof url !== 'string' || typeof token !== 'string') throw malformed('challenge', id.value);
  const common = { url, token, ...challengeState(data, url) };
  // RFC 8555 §8.1: keyAuthorization = token || '.' || base64url(JWK thumbprint).
  const keyAuthorization = `${token}.${thumbprint}`;
  if (data['type'] === 'http-01') return { ...common, type: 'http-01', path: `/.well-known/acme-challenge/${token}`, keyAuthorization };
  const txtValue = createHash('sha256').update(keyAuthorization).digest('base64url');
  return { ...common, type: 'dns-01', recordName: `_acme-challenge.${id.value.replace(/\.$/, '')}`, txtValue };
}

/** What a challenge object says about its validation. */
export function challengeState(data: unknown, url: string): Pick<Challenge, 'status' | 'validated' | 'error'> {
  if (!isObject(data) || !CHALLENGE_STATUSES.includes(data['status'] as ChallengeStatus)) throw malformed('challenge', url);
  return { status: data['status'] as ChallengeStatus, validated: optionalDate(data['validated']), error: problemOf(data['error']) };
}

export function toChain(url: string, response: AcmeHttpResponse): CertificateChain {
  const pem = typeof response.data === 'string' ? response.data.replace(/\r\n/g, '\n') : '';
  const certificates = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (certificates.length === 0) throw malformed('certificate chain', url);
  return { pem, certificates: certificates.map((c) => `${c}\n`), alternates: links(response.headers['link'], 'alternate') };
}

/** URLs of a Link header (RFC 8288) with relation `rel`. */
export function links(header: string | undefined, rel: string): string[] {
  const found: string[] = [];
  for (const [, target, params] of (header ?? '').matchAll(/<([^>]*)>([^<]*)/g)) {
    const value = /;\s*rel\s*=\s*(?:"([^"]*)"|([^;,\s]+))/i.exec(params ?? '');
    const rels = (value?.[1] ?? value?.[2] ?? '').toLowerCase().split(/\s+/);
    if (rels.includes(rel)) found.push(target!);
  }
  return found;
}

function problemOf(data: unknown): AcmeProblem | undefined {
  const document = problemDocument(data);
  return document ? new AcmeProblem(document) : undefined;
}

function identifier(data: unknown): Identifier | undefined {
  return isObject(data) && data['type'] === 'dns' && typeof data['value'] === 'string' ? { type: 'dns', value: data['value'] } : undefined;
}

function malformed(what: string, url: string): AcmeUnavailable {
  return new AcmeUnavailable(`the ACME server sent a malformed ${what} for ${url}`);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStrings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function optionalDate(value: unknown): Date | undefined {
  if (typeof value !== 'string') return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** RFC 9773 §4.2: `suggestedWindow` {start, end} (RFC 3339, end after start), `explanationURL`, and Retry-After. */
export function toRenewalInfo(response: AcmeHttpResponse, url: string): RenewalInfo {
  const data = response.data;
  const window = isObject(data) ? data['suggestedWindow'] : undefined;
  const start = isObject(window) && typeof window['start'] === 'string' ? new Date(window['start']) : undefined;
  const end = isObject(window) && typeof window['end'] === 'string' ? new Date(window['end']) : undefined;
  if (!start || !end || Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || end.getTime() < start.getTime()) {
    throw new AcmeUnavailable(`${url} answered without a usable suggestedWindow (start and end, end not before start)`);
  }
  const explanation = isObject(data) && typeof data['explanationURL'] === 'string' ? data['explanationURL'] : undefined;
  return {
    suggestedWindow: { start, end },
    ...(explanation !== undefined ? { explanationUrl: explanation } : {}),
    ...(response.headers['retry-after'] !== undefined ? { retryAfterMs: retryAfterMs(response.headers['retry-after']) } : {}),
  };
}
