/**
 * Where the signatures of the hot paths are made and verified (certificates of a managed CA, a CSR's
 * own signature, new P-256 keys): off the event loop, by an executor the composition root chooses.
 * The default is libuv's thread pool (node:crypto with callbacks); a server installs one thread of
 * its own (adapters/crypto/signature-thread.ts). Whatever runs them, the results are node:crypto's.
 *
 * An executor that runs code of its own (a thread) may also take whole jobs around the signatures:
 * a certificate built from its template, signed and checked (`buildChecked`), a P-256 key made and
 * encoded (`generateP256Key`). Without them, that work runs on the caller's thread and only the
 * signatures and key generation go to the executor; the results are the same bytes either way.
 */
import { generateKeyPair, sign, verify, type KeyObject } from 'node:crypto';
import type { CertificateFields, CertificateTemplate } from './certificate-builder.js';
import type { CheckedCertificate } from './certificate-check.js';
import type { EncodedKeyPair } from './p256.js';

/** A key to verify with: a KeyObject, or one with RSASSA-PSS options. */
export type VerifyKey = KeyObject | { key: KeyObject; padding: number; saltLength: number };

export interface SignatureWork {
  sign(hash: string, data: Buffer, key: KeyObject): Promise<Buffer>;
  /** False, never a rejection, for a signature that is malformed or does not match. */
  verify(hash: string, data: Buffer, key: VerifyKey, signature: Buffer): Promise<boolean>;
  /** Signs, then verifies that signature with `publicKey` (the signer's own), in one hand-over. */
  signAndVerify(hash: string, data: Buffer, privateKey: KeyObject, publicKey: KeyObject): Promise<{ signature: Buffer; verified: boolean }>;
  /** A new P-256 key pair. */
  generateP256(): Promise<{ privateKey: KeyObject; publicKey: KeyObject }>;
  /** `template`'s certificate of `fields`, built, signed and checked as buildCheckedCertificateSync does. */
  buildChecked?(template: CertificateTemplate, fields: CertificateFields): Promise<CheckedCertificate>;
  /** A new P-256 key pair as PKCS#8 PEM and SPKI DER. */
  generateP256Key?(): Promise<EncodedKeyPair>;
  /** `template` will not be used again (its CA was deleted or reloaded): an executor that keeps a copy drops it, CA key included. */
  forgetTemplate?(template: CertificateTemplate): void;
}

/** libuv's thread pool. */
export const threadPoolWork: SignatureWork = {
  sign: (hash, data, key) => new Promise((resolve, reject) => sign(hash, data, key, (err, value) => (err ? reject(err) : resolve(value)))),
  verify: (hash, data, key, signature) =>
    new Promise((resolve) => {
      try {
        verify(hash, data, key, signature, (err, ok) => resolve(!err && ok));
      } catch {
        resolve(false);
      }
    }),
  signAndVerify: async (hash, data, privateKey, publicKey) => {
    const signature = await threadPoolWork.sign(hash, data, privateKey);
    return { signature, verified: await threadPoolWork.verify(hash, data, publicKey, signature) };
  },
  generateP256: () =>
    new Promise((resolve, reject) =>
      generateKeyPair('ec', { namedCurve: 'P-256' }, (err, publicKey, privateKey) => (err ? reject(err) : resolve({ publicKey, privateKey }))),
    ),
};

let current: SignatureWork = threadPoolWork;

/** Installs the executor for this process (the composition root does, once). */
export function useSignatureWork(work: SignatureWork): void {
  current = work;
}

export function signatureWork(): SignatureWork {
  return current;
}

/** Tells the executor that `template` will not be used again, so no copy of it (and of its CA key) outlives it there. */
export function releaseTemplate(template: CertificateTemplate): void {
  current.forgetTemplate?.(template);
}
