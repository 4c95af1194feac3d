import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { z } from 'zod';
import type { Limits } from '../kernel/limits.js';
import { http01ListenFrom, http01ListenSchema, issuersFrom, issuersSchema, type Http01Listen, type IssuerProfile } from './issuers.js';
import { casValidationDeadlineHoursSchema, DEFAULT_CAS_VALIDATION_DEADLINE_HOURS, productsFrom, productsSchema, type ProductDefinition } from './products.js';
import { dns01From, dns01PropagationFrom, dns01PropagationSchemas, dns01Schema, type Dns01Propagation, type Dns01Settings } from './dns01.js';

/**
 * The one typed configuration object. Sources, later ones winning: built-in defaults,
 * the optional JSON config file (CERTPLANE_CONFIG or --config), then environment variables.
 * This module is the only code that reads process.env.
 */
const portSchema = z.coerce.number().int().min(0).max(65535);

/** What a plan includes; `certplane plan grant` gives an account an instance of one. */
const planSchema = z
  .object({
    /** Name shown as PlanSpecName, e.g. `normal`, `enterprise`. */
    specName: z.string().min(1).max(64),
    /** `PlanSubscribeType` it answers to in ListSites, e.g. `basicplan`, `enterpriseplan`. */
    subscribeType: z.string().min(1).max(64),
    sites: z.number().int().min(0),
    freeCertificatesPerSite: z.number().int().min(0),
    dnsRecords: z.number().int().min(0),
    clientCertificates: z.boolean(),
  })
  .strict();
export type PlanDefinition = z.infer<typeof planSchema>;

export const DEFAULT_PLANS: Record<string, PlanDefinition> = {
  free: { specName: 'free', subscribeType: 'basicplan', sites: 3, freeCertificatesPerSite: 10, dnsRecords: 200, clientCertificates: false },
  enterprise: {
    specName: 'enterprise',
    subscribeType: 'enterpriseplan',
    sites: 1000,
    freeCertificatesPerSite: 1000,
    dnsRecords: 100_000,
    clientCertificates: true,
  },
};

/** Input limits and their defaults; README's settings table documents each one. */
export const DEFAULT_LIMITS: Limits = {
  chainCertificates: 10,
  // Public CAs issue nothing below 2048 bits; above 8192 an RSA key only costs CPU.
  rsaMinBits: 2048,
  rsaMaxBits: 8192,
  pemCharacters: 65_536,
  domains: 100,
  // RAM's own limit on a policy document.
  policyDocumentCharacters: 6_144,
};

/** One limit: an integer within bounds, named in its own message (the problem line names only `limits`). */
const limit = (name: keyof Limits, min: number, max: number) => {
  const error = `${name} must be an integer from ${min} to ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error }).optional();
};

const limitsSchema = z
  .object({
    chainCertificates: limit('chainCertificates', 1, 100),
    rsaMinBits: limit('rsaMinBits', 1024, 16_384),
    rsaMaxBits: limit('rsaMaxBits', 1024, 16_384),
    pemCharacters: limit('pemCharacters', 1024, 16 * 1024 * 1024),
    domains: limit('domains', 1, 10_000),
    policyDocumentCharacters: limit('policyDocumentCharacters', 256, 1024 * 1024),
  })
  .strict()
  .refine((l) => (l.rsaMinBits ?? DEFAULT_LIMITS.rsaMinBits) <= (l.rsaMaxBits ?? DEFAULT_LIMITS.rsaMaxBits), {
    error: 'rsaMinBits must not exceed rsaMaxBits',
  });

const hostName = z.string().regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'must be a lower-case host name');

/**
 * The nameserver pool NS-mode sites draw their pairs from: with n names there are n·(n−1)/2 pairs,
 * which is how many sites of one name (across all accounts) can exist at once. Four names (six
 * pairs) is the least that leaves room for a few claimants besides the owner.
 */
export const MIN_NAME_SERVERS = 4;
export const MAX_NAME_SERVERS = 64;
export const DEFAULT_NAME_SERVERS = Array.from({ length: 8 }, (_, i) => `ns${i + 1}.certplane-dns.net`);

const nameServerPool = z
  .array(hostName)
  .min(MIN_NAME_SERVERS, `must list at least ${MIN_NAME_SERVERS} host names (each NS-mode site gets its own pair of them)`)
  .max(MAX_NAME_SERVERS, `must list at most ${MAX_NAME_SERVERS} host names`)
  .refine((names) => new Set(names).size === names.length, 'must not list a host name twice');

/**
 * The base of every URL certplane writes into a certificate (CRL, OCSP, CA): once issued, those URLs
 * cannot change, so the value is checked strictly. A path is allowed (a proxy in front); a query, a
 * fragment or credentials are not.
 */
const publicUrlSchema = z.string().superRefine((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be an absolute http:// or https:// URL' });
    return;
  }
  const problem =
    url.protocol !== 'http:' && url.protocol !== 'https:'
      ? 'must be an http:// or https:// URL'
      : url.search !== '' || text.includes('?')
        ? 'must not have a query'
        : url.hash !== '' || text.includes('#')
          ? 'must not have a fragment'
          : url.username !== '' || url.password !== ''
            ? 'must not hold credentials'
            : undefined;
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** Largest CA lifetime a setting may ask for: 100 years. */
const MAX_CA_DAYS = 36_525;
/** A CRL's nextUpdate is at most seven days out. */
const MAX_CRL_HOURS = 168;
/** OCSP answers are short-lived: at most a day. */
const MAX_OCSP_MINUTES = 1440;

/** A whole number of `unit` from 1 to `max`, named in its own message (the problem line names only `clientCa`). */
const wholeNumber = (name: string, unit: string, max: number) => {
  const error = `${name} must be a whole number of ${unit} from 1 to ${max}`;
  return z.number({ error }).int({ error }).min(1, { error }).max(max, { error }).optional();
};

/** The managed client CA made for each site on first use. `{site}` and `{siteId}` in the names are the site's. */
const clientCaSchema = z
  .object({
    keyType: z.enum(['EC', 'RSA']).optional(),
    organization: z.string().min(1).max(64).optional(),
    organizationalUnit: z.string().min(1).max(200).optional(),
    commonName: z.string().min(1).max(200).optional(),
    validityDays: z.number().int().min(1).max(MAX_CA_DAYS).optional(),
    crlValidityHours: wholeNumber('crlValidityHours', 'hours', MAX_CRL_HOURS),
    ocspValidityMinutes: wholeNumber('ocspValidityMinutes', 'minutes', MAX_OCSP_MINUTES),
  })
  .strict();

export interface ClientCaSettings {
  /** `EC`: ECDSA P-256 (ecdsa-with-SHA256); `RSA`: 2048 bits (sha256WithRSAEncryption). */
  keyType: 'EC' | 'RSA';
  organization: string;
  organizationalUnit: string;
  commonName: string;
  /** Lifetime of a new managed CA certificate, in days. */
  validityDays: number;
  /** From a CRL's thisUpdate to its nextUpdate (1–168); it is reissued when served with less than half left. */
  crlValidityHours: number;
  /** From an OCSP answer's thisUpdate to its nextUpdate: how long a relying party may cache it (1–1440). */
  ocspValidityMinutes: number;
}

export const DEFAULT_CLIENT_CA: ClientCaSettings = {
  keyType: 'EC',
  organization: 'certplane',
  organizationalUnit: 'site {siteId}',
  commonName: 'certplane client CA {site}',
  // Twenty years: longer than any client certificate it may sign (ValidityDays ≤ 3650).
  validityDays: 7305,
  crlValidityHours: MAX_CRL_HOURS,
  // Revoking takes effect within this time even at a relying party that caches answers (nginx's ssl_ocsp_cache).
  ocspValidityMinutes: 10,
};

const fileSchema = z
  .object({
    port: portSchema.optional(),
    host: z
      .string()
      .refine((h) => isIP(h) !== 0 || /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(h), 'must be an IP address or a host name')
      .optional(),
    dataDir: z.string().min(1).optional(),
    databaseUrl: z.string().min(1).optional(),
    masterKey: z.string().min(1).optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
    bodyLimitBytes: z.number().int().min(1024).max(64 * 1024 * 1024).optional(),
    shutdownGraceMs: z.number().int().min(0).max(600_000).optional(),
    regionId: z.string().regex(/^[a-z0-9-]{1,32}$/).optional(),
    plans: z.record(z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/), planSchema).optional(),
    nameServers: nameServerPool.optional(),
    cnameSuffix: hostName.optional(),
    dnsResolver: z
      .string()
      .regex(/^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\])(:\d{1,5})?$/, 'must be IP:PORT')
      .optional(),
    signatureMaxSkewSeconds: z.number().int().min(1).max(86_400).optional(),
    issuerCacheSize: z.coerce.number().int().min(0).max(100_000).optional(),
    sqliteSynchronous: z.enum(['normal', 'full']).optional(),
    postgresStatements: z.enum(['prepared', 'unnamed']).optional(),
    limits: limitsSchema.optional(),
    publicUrl: publicUrlSchema.optional(),
    clientCa: clientCaSchema.optional(),
    dns01: dns01Schema.optional(),
    ...dns01PropagationSchemas,
    workerConcurrency: z.coerce.number().int().min(1).max(1000).optional(),
    renewalScanMinutes: z.coerce.number({ error: 'must be a whole number of minutes from 1 to 1440' }).int('must be a whole number of minutes from 1 to 1440').min(1, 'must be a whole number of minutes from 1 to 1440').max(1440, 'must be a whole number of minutes from 1 to 1440').optional(),
    issuers: issuersSchema.optional(),
    products: productsSchema.optional(),
    casValidationDeadlineHours: casValidationDeadlineHoursSchema.optional(),
    acmeDirectory: z.string().url('must be an http:// or https:// URL').optional(),
    acmeCaBundle: z.string().min(1).optional(),
    http01Listen: http01ListenSchema.optional(),
    // Expiry statuses, the expiry scan and webhook deliveries.
    expiringDays: z.coerce.number().int().min(1).max(3650).optional(),
    expiryScanMinutes: z.coerce.number().int().min(1).max(1440).optional(),
    webhookTimeoutSeconds: z.coerce.number().int().min(1).max(300).optional(),
    webhookMaxAttempts: z.coerce.number().int().min(1).max(100).optional(),
    jobRetentionDays: z.coerce.number().int().min(1).max(3650).optional(),
    metricsToken: z
      .string()
      .regex(/^[\x21-\x7e]{16,256}$/, 'must be 16 to 256 printable ASCII characters without spaces')
      .optional(),
  })
  .strict();

export type FileConfig = z.infer<typeof fileSchema>;

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /**
   * SQLite `synchronous = normal` (the default) syncs the WAL at checkpoints: a power loss can undo
   * the last moments of commits, a process crash cannot; `full` syncs every commit.
   */
  database:
    | { kind: 'sqlite'; file: string; synchronous?: 'normal' | 'full' }
    /**
     * `statements: 'unnamed'` keeps PostgreSQL from preparing the statements a process repeats
     * (for a pooler that hands each transaction another server connection).
     */
    | { kind: 'postgres'; url: string; statements?: 'prepared' | 'unnamed' };
  /** Master keys as given (base64 or hex, 32 bytes each); the first one seals new records. */
  masterKeys: string[];
  logLevel: NonNullable<FileConfig['logLevel']>;
  bodyLimitBytes: number;
  shutdownGraceMs: number;
  /** Region named in resource ARNs (`acs:esa:{regionId}:…`). */
  regionId: string;
  plans: Record<string, PlanDefinition>;
  /** The pool NS-mode sites draw their own pair of nameservers from (at least 4 distinct names). */
  nameServers: string[];
  /** Sites in CNAME access mode point their records at `<site>.<cnameSuffix>`. */
  cnameSuffix: string;
  /** DNS server (IP:PORT) that site verification asks; unset = the system resolver. */
  dnsResolver: string | undefined;
  signatureMaxSkewMs: number;
  /** Parsed intermediate certificates kept for reuse across uploads; 0 turns the cache off. */
  issuerCacheSize: number;
  /** Bounds on one request's inputs; every key has a default. */
  limits: Limits;
  /**
   * Base URL (no trailing slash) under which this server is reached by clients and relying parties:
   * CRL, OCSP and CA URLs in certificates are made from it.
   */
  publicUrl: string;
  clientCa: ClientCaSettings;
  /** The DNS provider dns-01 records are published through; unset: no dns-01 validation. */
  dns01: Dns01Settings | undefined;
  dns01Propagation: Dns01Propagation;
  /** Jobs one worker process runs at once. */
  workerConcurrency: number;
  /** Minutes between two runs of the `renewal.scan` job (1–1440). */
  renewalScanMinutes: number;
  /** ACME issuer profiles by type (`lets_encrypt`, `digicert_single`, `digicert_wildcard`, and the operator's own). */
  issuers: Record<string, IssuerProfile>;
  /** CAS certificate products by ProductCode: the issuer profile each is obtained from, and whether wildcards are allowed. */
  products: Record<string, ProductDefinition>;
  /** Hours after submission a CAS order whose validation record was never seen fails (`verify_fail`). */
  casValidationDeadlineHours: number;
  /** Where the http-01 responder listens; undefined: `off`. */
  http01Listen: Http01Listen;
  /** A certificate whose notAfter is at most this many days away is `expiring` (in every dialect's words). */
  expiringDays: number;
  /** Minutes between two runs of the `expiry.scan` job (one per period across all processes). */
  expiryScanMinutes: number;
  /** How long one webhook delivery may take before it counts as failed. */
  webhookTimeoutSeconds: number;
  /** Deliveries tried per event and webhook before the delivery job fails for good. */
  webhookMaxAttempts: number;
  /** Days a finished (`done`) job is kept before `jobs.purge` deletes it. */
  jobRetentionDays: number;
  /** Bearer token `GET /metrics` asks of every caller; undefined: loopback callers only, no token. */
  metricsToken: string | undefined;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** `problems` each name the setting to change; `headline` says what they stopped. */
  constructor(
    readonly problems: string[],
    readonly headline = 'invalid configuration',
  ) {
    super(
      problems.length === 1 ? `${headline}: ${problems[0]}` : `${headline}:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
}

/** Environment variable → config file key. */
const ENV_KEYS = {
  CERTPLANE_PORT: 'port',
  CERTPLANE_HOST: 'host',
  CERTPLANE_DATA_DIR: 'dataDir',
  DATABASE_URL: 'databaseUrl',
  CERTPLANE_MASTER_KEY: 'masterKey',
  CERTPLANE_LOG_LEVEL: 'logLevel',
  CERTPLANE_DNS_RESOLVER: 'dnsResolver',
  CERTPLANE_REGION: 'regionId',
  CERTPLANE_ISSUER_CACHE_SIZE: 'issuerCacheSize',
  CERTPLANE_SQLITE_SYNCHRONOUS: 'sqliteSynchronous',
  CERTPLANE_POSTGRES_STATEMENTS: 'postgresStatements',
  CERTPLANE_PUBLIC_URL: 'publicUrl',
  CERTPLANE_WORKER_CONCURRENCY: 'workerConcurrency',
  CERTPLANE_RENEWAL_SCAN_MINUTES: 'renewalScanMinutes',
  CERTPLANE_ACME_DIRECTORY: 'acmeDirectory',
  CERTPLANE_ACME_CA_BUNDLE: 'acmeCaBundle',
  CERTPLANE_HTTP01_LISTEN: 'http01Listen',
  CERTPLANE_CAS_VALIDATION_DEADLINE_HOURS: 'casValidationDeadlineHours',
  CERTPLANE_EXPIRING_DAYS: 'expiringDays',
  CERTPLANE_EXPIRY_SCAN_MINUTES: 'expiryScanMinutes',
  CERTPLANE_WEBHOOK_TIMEOUT_SECONDS: 'webhookTimeoutSeconds',
  CERTPLANE_WEBHOOK_MAX_ATTEMPTS: 'webhookMaxAttempts',
  CERTPLANE_JOB_RETENTION_DAYS: 'jobRetentionDays',
  CERTPLANE_METRICS_TOKEN: 'metricsToken',
} as const;

export interface ConfigSources {
  env: Record<string, string | undefined>;
  /** A config file named on the command line (`--config`); else CERTPLANE_CONFIG is read. */
  configFile?: string | undefined;
}

/**
 * Where each setting came from, so a problem names what the operator has to change: the
 * environment variable, or the key in the config file given by `--config` or CERTPLANE_CONFIG.
 */
class Origins {
  private readonly names = new Map<string, string>();
  constructor(readonly fileLabel: string) {}
  fromFile(key: string): void {
    this.names.set(key, `${key} in ${this.fileLabel}`);
  }
  fromEnv(key: string, envName: string): void {
    this.names.set(key, envName);
  }
  nameOf(key: string): string {
    if (key === '') return this.fileLabel;
    const env = Object.entries(ENV_KEYS).find(([, k]) => k === key)?.[0];
    return this.names.get(key) ?? env ?? key;
  }
}

/** Reads and checks every setting; all problems are reported together in one ConfigError. */
export function loadConfig(sources: ConfigSources = { env: process.env }): Config {
  const problems: string[] = [];
  const path = sources.configFile ?? sources.env.CERTPLANE_CONFIG;
  const origins = new Origins(`${sources.configFile !== undefined ? '--config' : 'CERTPLANE_CONFIG'} ${path ?? ''}`.trim());
  const merged: Record<string, unknown> = { ...readConfigFile(path, origins.fileLabel, problems) };
  for (const key of Object.keys(merged)) origins.fromFile(key);
  for (const [envName, key] of Object.entries(ENV_KEYS)) {
    const value = sources.env[envName];
    if (value === undefined || value === '') continue;
    merged[key] = value;
    origins.fromEnv(key, envName);
  }
  const parsed = fileSchema.safeParse(merged);
  const refused = new Set<string>();
  for (const issue of parsed.success ? [] : parsed.error.issues) {
    const key = String(issue.path[0] ?? '');
    refused.add(key);
    problems.push(`${origins.nameOf(key)}: ${issue.message}`);
  }
  // The database URL and the master keys are checked even when other settings failed, so one
  // run names every problem.
  const text = (key: string) => (typeof merged[key] === 'string' && !refused.has(key) ? (merged[key] as string) : undefined);
  const dataDir = resolve(text('dataDir') ?? './data');
  const found = refused.has('databaseUrl') ? undefined : databaseFrom(text('databaseUrl'), dataDir, origins.nameOf('databaseUrl'), problems);
  const masterKeys = text('masterKey')?.split(',').map((k) => k.trim()) ?? [];
  masterKeys.forEach((key, i) => {
    if (!decodeMasterKey(key)) problems.push(`${origins.nameOf('masterKey')}: key ${i + 1} is not 32 bytes of base64 or hex`);
  });
  const issuers = parsed.success
    ? issuersFrom(parsed.data.issuers, { directoryUrl: parsed.data.acmeDirectory, caBundle: parsed.data.acmeCaBundle }, problems, (key) => origins.nameOf(key))
    : {};
  const products = parsed.success ? productsFrom(parsed.data.products, issuers, problems, (key) => origins.nameOf(key)) : {};
  if (problems.length > 0 || !parsed.success || !found) throw new ConfigError(problems);
  const raw = parsed.data;
  const database =
    found.kind === 'sqlite'
      ? raw.sqliteSynchronous
        ? { ...found, synchronous: raw.sqliteSynchronous }
        : found
      : raw.postgresStatements
        ? { ...found, statements: raw.postgresStatements }
        : found;
  const port = raw.port ?? 8080;
  const host = raw.host ?? '127.0.0.1';
  return {
    port,
    host,
    dataDir,
    database,
    masterKeys,
    logLevel: raw.logLevel ?? 'info',
    bodyLimitBytes: raw.bodyLimitBytes ?? 1024 * 1024,
    shutdownGraceMs: raw.shutdownGraceMs ?? 10_000,
    regionId: raw.regionId ?? 'cn-hangzhou',
    plans: raw.plans ?? DEFAULT_PLANS,
    nameServers: raw.nameServers ?? DEFAULT_NAME_SERVERS,
    cnameSuffix: raw.cnameSuffix ?? 'cname.certplane-dns.net',
    dnsResolver: raw.dnsResolver,
    signatureMaxSkewMs: (raw.signatureMaxSkewSeconds ?? 900) * 1000,
    issuerCacheSize: raw.issuerCacheSize ?? 256,
    limits: { ...DEFAULT_LIMITS, ...raw.limits },
    publicUrl: (raw.publicUrl ?? defaultPublicUrl(host, port)).replace(/\/+$/, ''),
    clientCa: { ...DEFAULT_CLIENT_CA, ...raw.clientCa },
    dns01: dns01From(raw.dns01),
    dns01Propagation: dns01PropagationFrom(raw),
    workerConcurrency: raw.workerConcurrency ?? 10,
    renewalScanMinutes: raw.renewalScanMinutes ?? 10,
    issuers,
    products,
    casValidationDeadlineHours: raw.casValidationDeadlineHours ?? DEFAULT_CAS_VALIDATION_DEADLINE_HOURS,
    http01Listen: http01ListenFrom(raw.http01Listen),
    expiringDays: raw.expiringDays ?? 30,
    expiryScanMinutes: raw.expiryScanMinutes ?? 60,
    webhookTimeoutSeconds: raw.webhookTimeoutSeconds ?? 10,
    webhookMaxAttempts: raw.webhookMaxAttempts ?? 12,
    jobRetentionDays: raw.jobRetentionDays ?? 30,
    metricsToken: raw.metricsToken,
  };
}

/** `http://{host}:{port}`, with an IPv6 address in brackets. */
function defaultPublicUrl(host: string, port: number): string {
  return `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/** A master key is 32 bytes, written as 64 hex characters or as base64. */
export function decodeMasterKey(text: string): Buffer | undefined {
  const bytes = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (bytes.length !== 32) return undefined;
  if (!/^[0-9a-fA-F]{64}$/.test(text) && bytes.toString('base64').replace(/=+$/, '') !== text.replace(/=+$/, '')) {
    return undefined;
  }
  return bytes;
}

/** `label` is how the operator named the file: `--config PATH` or `CERTPLANE_CONFIG PATH`. */
function readConfigFile(path: string | undefined, label: string, problems: string[]): Record<string, unknown> {
  if (!path) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    problems.push(`${label}: cannot read the file: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    return {};
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push(`${label}: must hold a JSON object`);
      return {};
    }
    return value as Record<string, unknown>;
  } catch {
    problems.push(`${label}: is not valid JSON`);
    return {};
  }
}

function databaseFrom(url: string | undefined, dataDir: string, name: string, problems: string[]): Config['database'] | undefined {
  if (url === undefined) return { kind: 'sqlite', file: resolve(dataDir, 'certplane.db') };
  if (/^postgres(ql)?:\/\//.test(url)) {
    try {
      new URL(url);
      return { kind: 'postgres', url };
    } catch {
      problems.push(`${name}: not a valid postgres:// URL`);
      return undefined;
    }
  }
  if (url.startsWith('sqlite:')) return { kind: 'sqlite', file: resolve(url.slice('sqlite:'.length)) };
  problems.push(`${name}: must start with postgres://, postgresql:// or sqlite:`);
  return undefined;
}
