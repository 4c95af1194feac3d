/**
 * Uploads at and past the input limits: deep chains (SM2 ones cost a pure-JS signature check per
 * link), RSA keys and certificates of any size. Certificates come from openssl; an RSA key too big
 * to generate is written field by field, since what it must trigger is a refusal before any maths.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey, makeCa, makeLeaf, openssl, type Issued, type KeyAlg } from './openssl.js';

/** A chain of `length` certificates (leaf first); every CA shares one key, so only openssl's signing is paid. */
export interface DeepChain {
  chainPem: string;
  key: string;
  /** The CA that issued the leaf, for more leaves under the same chain. */
  issuer: Issued;
  /** The CAs above the leaf, issuer first. */
  caPem: string;
}

export function makeDeepChain(alg: KeyAlg, length: number): DeepChain {
  const caKey = generateKey(alg);
  const cas = [makeCa({ alg, keyPem: caKey })];
  while (cas.length < length - 1) cas.push(makeCa({ alg, issuer: cas.at(-1)!, keyPem: caKey }));
  const issuer = cas.at(-1)!;
  const leaf = makeLeaf({ issuer, alg, cn: `deep-${length}.example.com` });
  const caPem = cas.reverse().map((c) => c.certPem).join('');
  return { chainPem: leaf.certPem + caPem, key: leaf.keyPem, issuer, caPem };
}

/** An SM2 dual certificate (encryption and signing pairs) whose two chains are `length` long. */
export function makeDeepSm2Dual(length: number) {
  const deep = makeDeepChain('sm2', length);
  const subject = `/O=Certplane Test/CN=dual-${length}.example.cn`;
  const sans = [`DNS:dual-${length}.example.cn`];
  const sign = makeLeaf({ issuer: deep.issuer, alg: 'sm2', subject, sans, keyUsage: 'critical,digitalSignature,nonRepudiation' });
  const enc = makeLeaf({ issuer: deep.issuer, alg: 'sm2', subject, sans, keyUsage: 'critical,keyEncipherment,keyAgreement' });
  return {
    encChainPem: enc.certPem + deep.caPem,
    encKey: enc.keyPem,
    signChainPem: sign.certPem + deep.caPem,
    signKey: sign.keyPem,
  };
}

// ------------------------------------------------------------ DER, just enough for RSA keys

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, body: Buffer) => Buffer.concat([Buffer.from([tag]), length(body.length), body]);
const integer = (value: Buffer) => tlv(0x02, value[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), value]) : value);
const pem = (label: string, der: Buffer) =>
  `-----BEGIN ${label}-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`;

/** An odd modulus of exactly `bits` bits: what a size check reads, nothing a factorisation would. */
function modulus(bits: number): Buffer {
  const n = randomBytes(bits / 8);
  n[0]! |= 0x80;
  n[n.length - 1]! |= 1;
  return n;
}

/** A PKCS#1 'RSA PRIVATE KEY' with a `bits`-bit modulus and small stand-ins for the other fields. */
export function rsaPrivateKeyOfSize(bits: number): string {
  // A leading byte that is never zero: DER integers are minimal, and the reader refuses any other.
  const small = () => {
    const value = randomBytes(16);
    value[0]! |= 0x40;
    return integer(value);
  };
  const fields = [integer(Buffer.from([0])), integer(modulus(bits)), integer(Buffer.from([1, 0, 1])), ...Array.from({ length: 6 }, small)];
  return pem('RSA PRIVATE KEY', tlv(0x30, Buffer.concat(fields)));
}

/** A certificate for a `bits`-bit RSA public key nobody holds the private half of, issued by `issuer`. */
export function rsaCertificateOfSize(bits: number, issuer: Issued): string {
  const rsaPublicKey = tlv(0x30, Buffer.concat([integer(modulus(bits)), integer(Buffer.from([1, 0, 1]))]));
  const algorithm = Buffer.from('300d06092a864886f70d0101010500', 'hex');
  const spki = tlv(0x30, Buffer.concat([algorithm, tlv(0x03, Buffer.concat([Buffer.from([0]), rsaPublicKey]))]));
  const dir = mkdtempSync(join(tmpdir(), 'certplane-hostile-'));
  try {
    const file = (name: string, content: string) => {
      writeFileSync(join(dir, name), content);
      return join(dir, name);
    };
    return openssl([
      'x509', '-new', '-subj', `/CN=rsa${bits}.example.com`, '-days', '30',
      '-force_pubkey', file('pub.pem', pem('PUBLIC KEY', spki)),
      '-CA', file('ca.pem', issuer.certPem), '-CAkey', file('ca.key', issuer.keyPem),
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
