/**
 * Real certificate material for tests, generated at run time with the openssl
 * CLI (OpenSSL 3.0 semantics) in a per-process temp dir that is removed on exit,
 * plus thin wrappers that report what openssl itself says about a certificate,
 * so tests can compare our parser with openssl field by field.
 *
 * Generation is slow-ish (RSA keygen, many processes), so everything that takes
 * no options is memoised for the life of the process: call makeChain('rsa') as
 * often as you like. Node's test runner runs each test file in its own process,
 * so each file pays for what it uses once.
 *
 *   const { leaf, intermediate, root, key, chainPem } = makeChain('p256');
 *   const expired = makeLeaf({ issuer: intermediate, alg: 'p256', expired: true });
 *   inspectCert(leaf.certPem).serialHex  // what `openssl x509 -serial` prints
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type KeyAlg = 'rsa' | 'p256' | 'p384' | 'ed25519' | 'sm2';
export const KEY_ALGS: readonly KeyAlg[] = ['rsa', 'p256', 'p384', 'ed25519', 'sm2'];

/** SM2 signatures need the distinguishing id; this is the GM/T 0009 default. */
export const SM2_ID = '1234567812345678';

/** A certificate with its private key. */
export interface Issued {
  alg: KeyAlg;
  /** This certificate alone, PEM. */
  certPem: string;
  /** Its private key as openssl genpkey writes it (PKCS#8 'PRIVATE KEY'). */
  keyPem: string;
  /** The -subj string the certificate was made with, e.g. '/O=Example/CN=leaf'. */
  subject: string;
}

export interface Chain {
  leaf: Issued;
  intermediate: Issued;
  root: Issued;
  /** The leaf's private key (PKCS#8), same as leaf.keyPem. */
  key: string;
  /** leaf + intermediate, the usual upload. */
  chainPem: string;
  /** leaf + intermediate + root. */
  fullChainPem: string;
}

export interface CaOptions {
  alg?: KeyAlg;
  /** Defaults to '/O=Certplane Test/CN=<alg> Test Root|Intermediate #n'. */
  subject?: string;
  /** Present → an intermediate signed by this CA; absent → a self-signed root. */
  issuer?: Issued;
  days?: number;
  /** Reuse this private key (PEM) instead of generating one. */
  keyPem?: string;
}

export interface LeafOptions {
  issuer: Issued;
  alg?: KeyAlg;
  /** Common name; ignored when `subject` is given. Default 'leaf-<n>.example.com'. */
  cn?: string;
  /** Full -subj string, e.g. '/C=CN/ST=北京/O=测试公司/OU=运维/CN=x.example.cn'. */
  subject?: string;
  /** openssl SAN entries ('DNS:a.example', 'IP:10.0.0.1', 'email:a@b.c', 'URI:...'). Default DNS:<cn>; [] omits the extension. */
  sans?: string[];
  /** openssl keyUsage value; default 'critical,digitalSignature,keyEncipherment' (RSA) or 'critical,digitalSignature'. */
  keyUsage?: string;
  /** openssl extendedKeyUsage value; default 'serverAuth,clientAuth'; '' omits it. */
  extendedKeyUsage?: string;
  /** More extension lines as openssl reads them, e.g. `2.5.29.17=DER:<hex>` for bytes openssl's own syntax cannot write. */
  moreExtensions?: string[];
  days?: number;
  notBefore?: Date;
  notAfter?: Date;
  /** Shortcut for notBefore 2020-01-01, notAfter 2020-02-01. */
  expired?: boolean;
  /** Fixed serial (hex). Default: random 159-bit serial (-rand_serial). */
  serialHex?: string;
  /** Digest for RSA/ECDSA issuers; default sha256 (sha384 for P-384 issuers). */
  md?: 'sha1' | 'sha256' | 'sha384' | 'sha512';
  /** Sign with RSASSA-PSS (RSA issuers only), salt length = digest length. */
  rsaPss?: boolean;
  /** 'default' makes OpenSSL pick PrintableString/BMPString instead of UTF8String. */
  stringMask?: 'utf8only' | 'default';
  /** Reuse this private key (PEM) instead of generating one. */
  keyPem?: string;
}

export interface Sm2DualPair {
  /** SM2 root and intermediate (the intermediate issues both leaves). */
  root: Issued;
  intermediate: Issued;
  /** Signing certificate: keyUsage digitalSignature, nonRepudiation. */
  sign: Issued;
  /** Encryption certificate: keyUsage keyEncipherment, dataEncipherment, keyAgreement. */
  enc: Issued;
  signChainPem: string;
  encChainPem: string;
}

// ---------------------------------------------------------------- plumbing

let workDir: string | undefined;
let counter = 0;

function dir(): string {
  if (!workDir) {
    const created = mkdtempSync(join(tmpdir(), 'certplane-openssl-'));
    workDir = created;
    process.on('exit', () => rmSync(created, { recursive: true, force: true }));
    writeFileSync(join(created, 'req-utf8only.cnf'), reqConfig('utf8only'));
    writeFileSync(join(created, 'req-default.cnf'), reqConfig('default'));
  }
  return workDir;
}

/** Config for `openssl req`: UTF-8 input; `mask` picks the ASN.1 string types. */
function reqConfig(mask: string): string {
  return ['[ req ]', 'distinguished_name = dn', 'utf8 = yes', `string_mask = ${mask}`, 'prompt = no', '[ dn ]', ''].join('\n');
}

/**
 * Config for one `openssl ca` run: a fresh database and serial file each time,
 * so fixed serials can repeat; no policy constraints, no copied CSR extensions.
 */
function caConfig(mask: string, database: string, serial: string): string {
  return [
    '[ ca ]',
    'default_ca = cadef',
    '[ cadef ]',
    `database = ${database}`,
    'new_certs_dir = .',
    `serial = ${serial}`,
    'policy = policy_any',
    'unique_subject = no',
    'email_in_dn = no',
    'copy_extensions = none',
    '[ policy_any ]',
    'commonName = optional',
    reqConfig(mask),
  ].join('\n');
}

/** Fresh file name in the work dir. */
function file(stem: string): string {
  counter += 1;
  return join(dir(), `${stem}-${counter}`);
}

/** Run openssl in the work dir; returns stdout, throws with stderr on failure. */
export function openssl(args: string[], input?: string | Buffer): string {
  try {
    return execFileSync('openssl', args, { cwd: dir(), input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

function writeTemp(stem: string, content: string | Buffer): string {
  const path = file(stem);
  writeFileSync(path, content);
  return path;
}

function memo<T>(fn: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= fn());
}

const memoByKey = new Map<string, unknown>();
function memoKey<T>(key: string, fn: () => T): T {
  if (!memoByKey.has(key)) memoByKey.set(key, fn());
  return memoByKey.get(key) as T;
}

// ---------------------------------------------------------------- keys

/** A new private key, PKCS#8 PEM. */
export function generateKey(alg: KeyAlg): string {
  const args: Record<KeyAlg, string[]> = {
    rsa: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
    p256: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
    p384: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
    ed25519: ['-algorithm', 'ED25519'],
    sm2: ['-algorithm', 'SM2'],
  };
  return openssl(['genpkey', ...args[alg]]);
}

/**
 * Re-encode a key: 'pkcs8' ('PRIVATE KEY'), 'pkcs1' (RSA only, 'RSA PRIVATE KEY'),
 * 'sec1' (EC/SM2: 'EC PRIVATE KEY'; OpenSSL 3.0 labels SM2 ones 'SM2 PRIVATE KEY').
 * `noPublic` drops the optional public key from SEC1; `explicitParams` writes the
 * curve as explicit parameters instead of a named curve.
 */
export function convertKey(keyPem: string, format: 'pkcs8' | 'pkcs1' | 'sec1', opts: { noPublic?: boolean; explicitParams?: boolean } = {}): string {
  const input = writeTemp('key', keyPem);
  if (format === 'pkcs8') return openssl(['pkey', '-in', input]);
  if (format === 'pkcs1') return openssl(['rsa', '-in', input, '-traditional']);
  const extra = [...(opts.noPublic ? ['-no_public'] : []), ...(opts.explicitParams ? ['-param_enc', 'explicit'] : [])];
  return openssl(['ec', '-in', input, ...extra]);
}

/**
 * Passphrase-protect a key: 'pkcs8' gives 'ENCRYPTED PRIVATE KEY'; 'legacy' gives a
 * traditional PEM with 'Proc-Type: 4,ENCRYPTED' (RSA and EC keys only).
 */
export function encryptKey(keyPem: string, style: 'pkcs8' | 'legacy', passphrase = 'secret'): string {
  const input = writeTemp('key', keyPem);
  if (style === 'pkcs8') return openssl(['pkcs8', '-topk8', '-in', input, '-v2', 'aes-256-cbc', '-passout', `pass:${passphrase}`]);
  return openssl(['pkey', '-in', input, '-traditional', '-aes256', '-passout', `pass:${passphrase}`]);
}

/** DER bytes of a PEM certificate ('cert') or private key ('key'). */
export function toDer(pem: string, kind: 'cert' | 'key' = 'cert'): Buffer {
  const input = writeTemp('pem', pem);
  const out = file('der');
  openssl(kind === 'cert' ? ['x509', '-in', input, '-outform', 'DER', '-out', out] : ['pkey', '-in', input, '-outform', 'DER', '-out', out]);
  return readFileSync(out);
}

// ---------------------------------------------------------------- certificates

/** Digest and signature options for a signature made with an `alg` key (`req` says -sha256, `ca` says -md sha256). */
function signingArgs(alg: KeyAlg, tool: 'req' | 'ca', md?: LeafOptions['md'], rsaPss = false): string[] {
  if (alg === 'ed25519') return [];
  const digest = alg === 'sm2' ? 'sm3' : (md ?? (alg === 'p384' ? 'sha384' : 'sha256'));
  const digestArgs = tool === 'ca' ? ['-md', digest] : [`-${digest}`];
  if (alg === 'sm2') return [...digestArgs, '-sigopt', `distid:${SM2_ID}`];
  const pss = rsaPss ? ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:digest'] : [];
  return [...digestArgs, ...pss];
}

/** 'YYYYMMDDHHMMSSZ', the form `openssl ca -startdate/-enddate` takes. */
function caDate(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');
}

interface IssueRequest {
  issuer: Issued;
  alg: KeyAlg;
  subject: string;
  keyPem: string;
  extensions: string[];
  notBefore: Date;
  notAfter: Date;
  serialHex?: string;
  md?: LeafOptions['md'];
  rsaPss?: boolean;
  stringMask: 'utf8only' | 'default';
}

/** CSR + `openssl ca`: the one path that controls dates and serials on OpenSSL 3.0. */
function issue(req: IssueRequest): Issued {
  const cnf = join(dir(), `req-${req.stringMask}.cnf`);
  const keyFile = writeTemp('key', req.keyPem);
  const csr = file('csr');
  openssl(['req', '-new', '-config', cnf, '-utf8', '-key', keyFile, '-subj', req.subject, ...signingArgs(req.alg, 'req'), '-out', csr]);
  const ext = writeTemp('ext', req.extensions.join('\n') + '\n');
  const caCnf = writeTemp('ca.cnf', caConfig(req.stringMask, writeTemp('index', ''), writeTemp('serial', (req.serialHex ?? '01') + '\n')));
  // `openssl ca` re-verifies the CSR; an SM2 one needs the id for that too.
  const verifyCsr = req.alg === 'sm2' ? ['-vfyopt', `distid:${SM2_ID}`] : [];
  const out = file('crt');
  openssl([
    'ca', '-batch', '-config', caCnf, '-utf8', '-preserveDN', '-notext', ...(req.serialHex ? [] : ['-rand_serial']), ...verifyCsr,
    '-cert', writeTemp('issuer', req.issuer.certPem), '-keyfile', writeTemp('issuerkey', req.issuer.keyPem),
    '-in', csr, '-out', out, '-extfile', ext,
    '-startdate', caDate(req.notBefore), '-enddate', caDate(req.notAfter),
    ...signingArgs(req.issuer.alg, 'ca', req.md, req.rsaPss),
  ]);
  return { alg: req.alg, certPem: readFileSync(out, 'utf8'), keyPem: req.keyPem, subject: req.subject };
}

const HOUR = 3600_000;
const DAY = 24 * HOUR;

/** A CA certificate: self-signed root, or an intermediate when `issuer` is given. */
export function makeCa(opts: CaOptions = {}): Issued {
  const alg = opts.alg ?? 'rsa';
  const kind = opts.issuer ? 'Intermediate' : 'Root';
  const subject = opts.subject ?? `/O=Certplane Test/CN=${alg} Test ${kind} #${++counter}`;
  const keyPem = opts.keyPem ?? generateKey(alg);
  const days = opts.days ?? 3650;
  const caExt = ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign'];
  if (opts.issuer) {
    const now = Date.now();
    return issue({
      issuer: opts.issuer, alg, subject, keyPem, stringMask: 'utf8only',
      extensions: [...caExt, 'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid'],
      notBefore: new Date(now - HOUR), notAfter: new Date(now + days * DAY),
    });
  }
  const cnf = join(dir(), 'req-utf8only.cnf');
  const certPem = openssl([
    'req', '-new', '-x509', '-config', cnf, '-utf8', '-key', writeTemp('key', keyPem), '-subj', subject,
    '-days', String(days), ...caExt.flatMap((e) => ['-addext', e]), ...signingArgs(alg, 'req'),
  ]);
  return { alg, certPem, keyPem, subject };
}

/** An end-entity certificate issued by `opts.issuer`. */
export function makeLeaf(opts: LeafOptions): Issued {
  const alg = opts.alg ?? opts.issuer.alg;
  const cn = opts.cn ?? `leaf-${++counter}.example.com`;
  const subject = opts.subject ?? `/O=Certplane Test/CN=${cn}`;
  const sans = opts.sans ?? [`DNS:${cn}`];
  const keyUsage = opts.keyUsage ?? (alg === 'rsa' ? 'critical,digitalSignature,keyEncipherment' : 'critical,digitalSignature');
  const eku = opts.extendedKeyUsage ?? 'serverAuth,clientAuth';
  const extensions = ['basicConstraints=critical,CA:FALSE', `keyUsage=${keyUsage}`];
  if (eku) extensions.push(`extendedKeyUsage=${eku}`);
  if (sans.length > 0) extensions.push(`subjectAltName=${sans.join(',')}`);
  extensions.push(...(opts.moreExtensions ?? []));
  const now = Date.now();
  const notBefore = opts.notBefore ?? (opts.expired ? new Date('2020-01-01T00:00:00Z') : new Date(now - HOUR));
  const notAfter = opts.notAfter ?? (opts.expired ? new Date('2020-02-01T00:00:00Z') : new Date(now + (opts.days ?? 90) * DAY));
  return issue({
    issuer: opts.issuer, alg, subject, keyPem: opts.keyPem ?? generateKey(alg), extensions,
    notBefore, notAfter, serialHex: opts.serialHex, md: opts.md, rsaPss: opts.rsaPss,
    stringMask: opts.stringMask ?? 'utf8only',
  });
}

/**
 * A version 1 certificate (no extensions at all: no SAN, no keyUsage), the way
 * `openssl x509 -req` makes one without -extfile. Not for SM2 issuers.
 */
export function makeV1Leaf(opts: { issuer: Issued; alg?: KeyAlg; cn?: string; days?: number }): Issued {
  const alg = opts.alg ?? opts.issuer.alg;
  const subject = `/O=Certplane Test/CN=${opts.cn ?? `v1-${++counter}.example.com`}`;
  const keyPem = generateKey(alg);
  const csr = file('csr');
  openssl(['req', '-new', '-config', join(dir(), 'req-utf8only.cnf'), '-key', writeTemp('key', keyPem), '-subj', subject, '-out', csr]);
  const certPem = openssl([
    'x509', '-req', '-in', csr, '-CA', writeTemp('issuer', opts.issuer.certPem), '-CAkey', writeTemp('issuerkey', opts.issuer.keyPem),
    '-days', String(opts.days ?? 30), ...signingArgs(opts.issuer.alg, 'req'),
  ]);
  return { alg, certPem, keyPem, subject };
}

/** root → intermediate → leaf, all with `alg` keys. Memoised per algorithm. */
export function makeChain(alg: KeyAlg): Chain {
  return memoKey(`chain:${alg}`, () => {
    const root = makeCa({ alg });
    const intermediate = makeCa({ alg, issuer: root });
    const leaf = makeLeaf({ issuer: intermediate, alg, cn: `${alg}.example.com` });
    return {
      leaf, intermediate, root, key: leaf.keyPem,
      chainPem: leaf.certPem + intermediate.certPem,
      fullChainPem: leaf.certPem + intermediate.certPem + root.certPem,
    };
  });
}

/** Chinese national-standard dual certificates: one SM2 key pair for signing, one for encryption. */
export const makeSm2DualPair: () => Sm2DualPair = memo(() => {
  const { root, intermediate } = makeChain('sm2');
  const subject = '/C=CN/ST=北京/L=海淀/O=测试公司/OU=运维/CN=sm2-dual.example.cn';
  const sans = ['DNS:sm2-dual.example.cn'];
  const sign = makeLeaf({ issuer: intermediate, alg: 'sm2', subject, sans, keyUsage: 'critical,digitalSignature,nonRepudiation' });
  const enc = makeLeaf({ issuer: intermediate, alg: 'sm2', subject, sans, keyUsage: 'critical,keyEncipherment,dataEncipherment,keyAgreement' });
  return { root, intermediate, sign, enc, signChainPem: sign.certPem + intermediate.certPem, encChainPem: enc.certPem + intermediate.certPem };
});

// ---------------------------------------------------------------- what openssl says

export interface OpensslView {
  /** `-serial`, upper-case hex as openssl prints it. */
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  /** `-fingerprint -sha256`, lower-case, no colons. */
  fingerprintSha256: string;
  /** `-subject -nameopt RFC2253,-esc_msb` (UTF-8 left as is). */
  subject: string;
  issuer: string;
  /** From `-text`: 'Version: 3 (0x2)' → 3. */
  version: number;
  /** OpenSSL's name from `-text`, e.g. 'sha256WithRSAEncryption', 'SM2-with-SM3'. */
  signatureAlgorithm: string;
  /** subjectAltName entries as openssl prints them: 'DNS:a', 'IP Address:1.2.3.4', 'email:x'. */
  subjectAltName: string[];
  /** keyUsage as openssl prints it: 'Digital Signature', 'Key Encipherment', ... */
  keyUsage: string[];
  /** basicConstraints says CA:TRUE. */
  isCA: boolean;
  /** `-pubkey` as DER SubjectPublicKeyInfo. */
  spki: Buffer;
  /** The whole `-text` output, for anything else. */
  text: string;
}

/**
 * What `openssl x509` reports for a certificate. Memoised per PEM. One openssl
 * run per certificate (it prints in argument order), since process start-up
 * dominates the test suite's run time.
 */
export function inspectCert(certPem: string): OpensslView {
  return memoKey(`inspect:${certPem}`, () => {
    const input = writeTemp('inspect', certPem);
    const out = openssl([
      'x509', '-in', input, '-noout', '-serial', '-dates', '-fingerprint', '-sha256', '-subject', '-issuer',
      '-pubkey', '-text', '-nameopt', 'RFC2253,-esc_msb', '-dateopt', 'iso_8601',
    ]);
    const field = (name: string): string => {
      const m = new RegExp(`^${name}=(.*)$`, 'm').exec(out);
      if (!m) throw new Error(`openssl printed no ${name}`);
      return m[1]!;
    };
    const date = (name: string): Date => new Date(field(name).replace(' ', 'T'));
    const text = out.slice(out.indexOf('Certificate:'));
    /** The line after an extension's header in -text, split into entries. */
    const ext = (header: string): string[] => {
      const m = new RegExp(`${header}:.*\n\s*(.*)`).exec(text);
      return m ? m[1]!.trim().split(/,\s*/) : [];
    };
    const pubPem = /-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/.exec(out)![0];
    return {
      serialHex: field('serial'),
      notBefore: date('notBefore'),
      notAfter: date('notAfter'),
      fingerprintSha256: field('sha256 Fingerprint').replace(/:/g, '').toLowerCase(),
      subject: field('subject'),
      issuer: field('issuer'),
      version: Number(/Version: (\d+)/.exec(text)?.[1]),
      signatureAlgorithm: /Signature Algorithm: (\S+)/.exec(text)?.[1] ?? '',
      subjectAltName: ext('X509v3 Subject Alternative Name'),
      keyUsage: ext('X509v3 Key Usage'),
      isCA: ext('X509v3 Basic Constraints').includes('CA:TRUE'),
      spki: Buffer.from(pubPem.replace(/-----[^-]+-----|\s/g, ''), 'base64'),
      text,
    };
  });
}
