/**
 * Material for the CA toolkit's tests: keys as node KeyObjects, CSRs made by
 * `openssl req`, a CA built by the toolkit itself, and an openssl runner that
 * reports the exit status instead of throwing (tests check what openssl
 * refuses as well as what it accepts). Files live in a per-process temp dir
 * removed on exit.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCertificate, issuerFromKey, newSerial, type BuiltCertificate, type SigningIssuer } from '../../src/pki/index.js';

export type TestKeyAlg = 'rsa' | 'p256' | 'p384';
export const TEST_KEY_ALGS: readonly TestKeyAlg[] = ['rsa', 'p256', 'p384'];

let workDir: string | undefined;
let counter = 0;

function dir(): string {
  if (!workDir) {
    const created = mkdtempSync(join(tmpdir(), 'certplane-pki-'));
    workDir = created;
    process.on('exit', () => rmSync(created, { recursive: true, force: true }));
  }
  return workDir;
}

/** A fresh path in the temp dir, written when `content` is given. */
export function scratch(stem: string, content?: string | Buffer): string {
  const path = join(dir(), `${stem}-${++counter}`);
  if (content !== undefined) writeFileSync(path, content);
  return path;
}

export interface OpensslRun {
  status: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr together: openssl prints verdicts on either. */
  output: string;
}

/** Run openssl without throwing; the caller looks at status and output. */
export function runOpenssl(args: string[], input?: string | Buffer): OpensslRun {
  const r = spawnSync('openssl', args, { cwd: dir(), input, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, output: r.stdout + r.stderr };
}

/** Run openssl and return stdout; throws with stderr when it fails. */
export function opensslOk(args: string[], input?: string | Buffer): string {
  const r = runOpenssl(args, input);
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} exited ${r.status}: ${r.output}`);
  return r.stdout;
}

/** DER that `openssl asn1parse -genconf` produces for a config whose top is `asn1 = ...`. */
export function asn1Generate(config: string): Buffer {
  const out = scratch('gen.der');
  opensslOk(['asn1parse', '-genconf', scratch('gen.cnf', config), '-noout', '-out', out]);
  return readFileSync(out);
}

export interface TestKey {
  alg: TestKeyAlg | 'rsa1024' | 'rsa4096' | 'secp256k1' | 'p521' | 'ed25519';
  privateKey: KeyObject;
  /** PKCS#8 PEM, for openssl. */
  pem: string;
  /** DER SubjectPublicKeyInfo. */
  spki: Buffer;
}

const keyCache = new Map<string, TestKey>();

/** A key pair made by node:crypto; `fresh` skips the per-process cache (RSA keygen is slow). */
export function testKey(alg: TestKey['alg'], fresh = false): TestKey {
  const cached = fresh ? undefined : keyCache.get(alg);
  if (cached) return cached;
  const pair = generate(alg);
  const key: TestKey = {
    alg,
    privateKey: pair.privateKey,
    pem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    spki: pair.publicKey.export({ type: 'spki', format: 'der' }),
  };
  if (!fresh) keyCache.set(alg, key);
  return key;
}

function generate(alg: TestKey['alg']): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (alg) {
    case 'rsa':
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
    case 'rsa1024':
      return generateKeyPairSync('rsa', { modulusLength: 1024 });
    case 'rsa4096':
      return generateKeyPairSync('rsa', { modulusLength: 4096 });
    case 'ed25519':
      return generateKeyPairSync('ed25519');
    default: {
      const curves = { p256: 'P-256', p384: 'P-384', p521: 'P-521', secp256k1: 'secp256k1' } as const;
      return generateKeyPairSync('ec', { namedCurve: curves[alg] });
    }
  }
}

export interface CsrOptions {
  /** Default '/O=Example/CN=client.example'. */
  subject?: string;
  /** openssl -addext values, e.g. 'basicConstraints=critical,CA:TRUE'. */
  addext?: string[];
  /** Digest flag for `openssl req`; default sha256. */
  digest?: 'sha1' | 'sha256' | 'sha384' | 'sha512';
  /** RSASSA-PSS signature (RSA keys only), salt length = digest length. */
  pss?: boolean;
}

/** A PKCS#10 CSR (PEM) made by `openssl req` with `key`. */
export function makeCsr(key: TestKey, opts: CsrOptions = {}): string {
  const cnf = scratch('req.cnf', '[ req ]\ndistinguished_name = dn\nutf8 = yes\nstring_mask = utf8only\nprompt = no\n[ dn ]\n');
  const pss = opts.pss ? ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:digest'] : [];
  const addext = (opts.addext ?? []).flatMap((e) => ['-addext', e]);
  return opensslOk([
    'req', '-new', '-config', cnf, '-utf8', '-key', scratch('key.pem', key.pem),
    '-subj', opts.subject ?? '/O=Example/CN=client.example', `-${opts.digest ?? 'sha256'}`, ...pss, ...addext,
  ]);
}

export interface TestCa {
  key: TestKey;
  issuer: SigningIssuer;
  cert: BuiltCertificate;
  /** Path of the CA certificate PEM, for -CAfile / -issuer. */
  certPath: string;
}

const HOUR = 3600_000;
const DAY = 24 * HOUR;

/** A client CA root built by the toolkit, valid from an hour ago for ten years. Cached per algorithm. */
const caCache = new Map<string, TestCa>();
export function testCa(alg: TestKeyAlg, name = `Test Client CA ${alg}`): TestCa {
  const cacheKey = `${alg}:${name}`;
  const cached = caCache.get(cacheKey);
  if (cached) return cached;
  const key = testKey(alg, true);
  const issuer = issuerFromKey(key.privateKey, { organization: 'certplane', commonName: name });
  const now = Date.now();
  const cert = buildCertificate(issuer, { kind: 'clientCa' }, { serial: newSerial(), notBefore: new Date(now - HOUR), notAfter: new Date(now + 3650 * DAY) });
  const ca = { key, issuer, cert, certPath: scratch('ca.pem', cert.pem) };
  caCache.set(cacheKey, ca);
  return ca;
}

export const PUBLIC_URL = 'http://127.0.0.1:8443';
export const CLIENT_PROFILE = { kind: 'clientAuth', crlUrl: `${PUBLIC_URL}/pki/crl/7.crl`, ocspUrl: `${PUBLIC_URL}/pki/ocsp` } as const;

/** A clientAuth leaf for `key` from `ca`, valid from five minutes ago for `days`. */
export function testLeaf(ca: TestCa, key: TestKey, opts: { cn?: string; days?: number; serial?: Buffer } = {}): BuiltCertificate & { path: string; serial: Buffer } {
  const now = Date.now();
  const serial = opts.serial ?? newSerial();
  const cert = buildCertificate(ca.issuer, CLIENT_PROFILE, {
    subject: { organization: 'Example', commonName: opts.cn ?? `client-${++counter}` },
    subjectSpki: key.spki,
    serial,
    notBefore: new Date(now - 5 * 60_000),
    notAfter: new Date(now + (opts.days ?? 30) * DAY),
  });
  return { ...cert, serial, path: scratch('leaf.pem', cert.pem) };
}

/** DER of a PEM object via openssl (what a user gets from `openssl ... -outform DER`). */
export function pemToDer(pem: string, kind: 'x509' | 'req'): Buffer {
  const out = scratch('der');
  execFileSync('openssl', [kind, '-in', scratch('pem', pem), '-outform', 'DER', '-out', out], { cwd: dir(), stdio: 'pipe' });
  return readFileSync(out);
}

export interface OpensslExtension {
  critical: boolean;
  /** The value lines as openssl prints them, trimmed, joined by '\n'. */
  value: string;
}

/** The "X509v3 extensions" of `openssl x509 -text` (or a CRL's "CRL extensions"), by the name openssl shows. */
export function opensslExtensions(text: string, section = 'X509v3 extensions:'): Map<string, OpensslExtension> {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === section);
  const out = new Map<string, OpensslExtension>();
  if (start < 0) return out;
  const headerIndent = lines[start + 1]!.search(/\S/);
  let current: { name: string; critical: boolean; value: string[] } | undefined;
  const flush = () => current && out.set(current.name, { critical: current.critical, value: current.value.join('\n') });
  for (const line of lines.slice(start + 1)) {
    const indent = line.search(/\S/);
    if (indent < headerIndent) break;
    if (indent === headerIndent) {
      flush();
      const m = /^\s*(.*?):\s*(critical)?\s*$/.exec(line)!;
      current = { name: m[1]!, critical: m[2] === 'critical', value: [] };
    } else current?.value.push(line.trim());
  }
  flush();
  return out;
}

/** `openssl x509 -ocspid`: SHA-1 of the public key bits, as openssl computes it (upper-case hex). */
export function opensslKeyHash(certPath: string): string {
  return /Public key OCSP hash: ([0-9A-F]+)/.exec(opensslOk(['x509', '-in', certPath, '-noout', '-ocspid']))![1]!;
}

/** Colon-separated upper-case hex, the way openssl prints key identifiers. */
export const colonHex = (hex: string): string => hex.toUpperCase().match(/../g)!.join(':');
