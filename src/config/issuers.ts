import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { IssuanceKeyType } from '../core/issuance/model.js';

/**
 * ACME issuer profiles (`issuers`, config file only): what each ApplyCertificate `Type` (and each
 * CAS product) is obtained from. A profile without a directory URL is known but not configured.
 * `CERTPLANE_ACME_DIRECTORY` and `CERTPLANE_ACME_CA_BUNDLE` replace the directory and the bundle of
 * every configured profile at once.
 */
export interface IssuerProfile {
  /** The key in `issuers` (`lets_encrypt`, `digicert_single`, …). */
  type: string;
  /** RFC 8555 directory URL; undefined: the operator has not configured this profile. */
  directoryUrl: string | undefined;
  /** The PEM roots the directory's TLS chains to, read from `caBundle` at start; undefined: the system's. */
  caBundlePem: string | undefined;
  caBundlePath: string | undefined;
  /** External Account Binding the CA requires (never logged). */
  eab: { keyId: string; hmacKey: string } | undefined;
  /** The key certplane makes for each certificate. */
  keyType: IssuanceKeyType;
  /** Most domains one ApplyCertificate may name. */
  domainLimit: number;
  /** A CA certificate profile to ask for (draft-aaron-acme-profiles). */
  profile: string | undefined;
}

export const LETS_ENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';

export const KEY_TYPES = ['EC256', 'EC384', 'RSA2048', 'RSA3072', 'RSA4096'] as const satisfies readonly IssuanceKeyType[];

interface ProfileDefaults {
  directoryUrl: string | undefined;
  domainLimit: number;
}

export const DEFAULT_ISSUERS: Record<string, ProfileDefaults> = {
  lets_encrypt: { directoryUrl: LETS_ENCRYPT_DIRECTORY, domainLimit: 50 },
  digicert_single: { directoryUrl: undefined, domainLimit: 10 },
  digicert_wildcard: { directoryUrl: undefined, domainLimit: 1 },
};

const httpsUrl = (field: string) =>
  z.string({ error: `${field} must be an http:// or https:// URL` }).refine((text) => {
    try {
      const url = new URL(text);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '' && url.password === '';
    } catch {
      return false;
    }
  }, `${field} must be an http:// or https:// URL without credentials`);

const base64url = z
  .string({ error: 'eab.hmacKey must be base64url' })
  .regex(/^[A-Za-z0-9_-]+={0,2}$/, 'eab.hmacKey must be base64url (as the CA gave it)')
  .refine((text) => Buffer.from(text, 'base64url').length >= 16, 'eab.hmacKey must be at least 16 bytes');

const profileSchema = z
  .object({
    directoryUrl: httpsUrl('directoryUrl').optional(),
    caBundle: z.string({ error: 'caBundle must be the path of a PEM file' }).min(1).optional(),
    eab: z.object({ keyId: z.string().min(1).max(256), hmacKey: base64url }).strict().optional(),
    keyType: z.enum(KEY_TYPES, { error: `keyType must be one of ${KEY_TYPES.join(', ')}` }).optional(),
    domainLimit: z.number({ error: 'domainLimit must be a whole number from 1 to 100' }).int().min(1).max(100).optional(),
    profile: z.string().min(1).max(64).optional(),
  })
  .strict();

export const issuersSchema = z.record(z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'issuer types are lower-case words (a-z, 0-9, _)'), profileSchema);

export type IssuersFileValue = z.infer<typeof issuersSchema>;

/** Where the http-01 responder listens: `HOST:PORT`, or `off`. */
export const http01ListenSchema = z
  .string()
  .refine((text) => text === 'off' || /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(text), 'must be HOST:PORT or off');

export type Http01Listen = { host: string; port: number } | undefined;

export function http01ListenFrom(text: string | undefined): Http01Listen {
  const value = text ?? '0.0.0.0:80';
  if (value === 'off') return undefined;
  const at = value.lastIndexOf(':');
  return { host: value.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(value.slice(at + 1)) };
}

/**
 * The profiles in effect: the defaults, each overridden key by key by the file, then the
 * environment's directory and bundle on every profile that has a directory. A bundle that cannot
 * be read, or holds no certificate, is a problem named by where it came from.
 */
export function issuersFrom(
  raw: IssuersFileValue | undefined,
  overrides: { directoryUrl: string | undefined; caBundle: string | undefined },
  problems: string[],
  nameOf: (key: string) => string,
): Record<string, IssuerProfile> {
  const result: Record<string, IssuerProfile> = {};
  const types = new Set([...Object.keys(DEFAULT_ISSUERS), ...Object.keys(raw ?? {})]);
  for (const type of types) {
    const given = raw?.[type] ?? {};
    const defaults = DEFAULT_ISSUERS[type] ?? { directoryUrl: undefined, domainLimit: 50 };
    let directoryUrl = given.directoryUrl ?? defaults.directoryUrl;
    let caBundlePath = given.caBundle;
    let bundleOrigin = `${nameOf('issuers')} (${type}.caBundle)`;
    if (directoryUrl !== undefined && overrides.directoryUrl !== undefined) directoryUrl = overrides.directoryUrl;
    if (directoryUrl !== undefined && overrides.caBundle !== undefined) {
      caBundlePath = overrides.caBundle;
      bundleOrigin = 'CERTPLANE_ACME_CA_BUNDLE';
    }
    result[type] = {
      type,
      directoryUrl,
      caBundlePath,
      caBundlePem: caBundlePath === undefined ? undefined : readBundle(caBundlePath, bundleOrigin, problems),
      eab: given.eab,
      keyType: given.keyType ?? 'EC256',
      domainLimit: given.domainLimit ?? defaults.domainLimit,
      profile: given.profile,
    };
  }
  return result;
}

function readBundle(path: string, origin: string, problems: string[]): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    problems.push(`${origin}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    problems.push(`${origin}: ${path} holds no PEM certificate`);
    return undefined;
  }
  return text;
}
