/**
 * One thread of the server's own for the signatures of its hot paths (SignatureWork): a client
 * certificate's signature and check, a CSR's signature, new P-256 keys. On libuv's thread pool these
 * jobs run four at a time beside the event loop, and on a small machine the woken pool threads take
 * the event loop's core from it. Measured on 2 cores (`npm run bench -- client-cert`): with this
 * thread 3,495-3,578 certificates/s from a CSR, on the pool 3,074-3,098, with less CPU per
 * certificate; and the pool stays free for file and DNS work. Jobs handed over in the same callback
 * go in one message, answered by one.
 *
 * The thread also takes the work around those signatures, which would otherwise hold the event loop:
 * a client certificate is built from its CA's template, signed and checked there whole
 * (buildCheckedCertificateSync), a new key is encoded there. A template goes to the thread once: the
 * first job that uses it carries what the thread needs to make its own copy (the CA's name and key
 * ids, its key objects, the profile), later jobs only its number. Both sides keep the same last
 * TEMPLATES_KEPT templates in the order they were sent, so they always agree on which it knows. A
 * template that will not be used again (its CA deleted) is forgotten on both sides at once, so the
 * thread holds no CA key longer than the event loop does.
 *
 * The thread starts on first use and does not keep the process alive when it has nothing to do. If it
 * dies, the jobs it held fail and the next job starts a new one. If it holds jobs and answers none
 * for `answerWithinMs` (a job takes milliseconds; a thread stuck in native code would hold every
 * request forever), it is ended the same way: its jobs fail, the next job starts a new thread. The
 * time counts from when the thread says it is READY (its code loaded): loading it on a busy machine
 * may take longer than any job, and is given `startWithinMs`.
 */
import type { KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import {
  PkiError,
  type CertificateFields,
  type CertificateProfile,
  type CertificateTemplate,
  type CheckedCertificate,
  type EncodedKeyPair,
  type NameInput,
  type PkiFailure,
  type SignatureWork,
  type VerifyKey,
} from '../../pki/index.js';

/** How many CA templates the thread keeps (a process signs for this many CAs without resending them). */
export const TEMPLATES_KEPT = 256;

/** What the thread needs to make its own copy of a template (its scheme it derives from the key). */
export interface TemplateSetup {
  name: Uint8Array;
  spki: Uint8Array;
  keyId: Uint8Array;
  privateKey: KeyObject;
  publicKey: KeyObject;
  profile: CertificateProfile;
}

/** CertificateFields as they cross to the thread. */
export interface FieldsMessage {
  subject?: Uint8Array | NameInput;
  subjectSpki?: Uint8Array;
  serial: Uint8Array;
  notBefore: Date;
  notAfter: Date;
}

export type SignatureJob =
  | { id: number; op: 'sign'; hash: string; data: Uint8Array; key: KeyObject }
  | { id: number; op: 'verify'; hash: string; data: Uint8Array; key: VerifyKey; signature: Uint8Array }
  | { id: number; op: 'signAndVerify'; hash: string; data: Uint8Array; privateKey: KeyObject; publicKey: KeyObject }
  | { id: number; op: 'p256' }
  | { id: number; op: 'p256Key' }
  | { id: number; op: 'certificate'; template: number; setup?: TemplateSetup; fields: FieldsMessage }
  | { id: number; op: 'forget'; template: number }
  | { id: number; op: 'heldTemplates' };

/** A failure carries its PkiError code when it was one, so the caller gets the same error. */
export type SignatureResult = { id: number; value: unknown; error?: undefined } | { id: number; error: string; failure?: PkiFailure };

type Job = SignatureJob extends infer J ? (J extends { id: number } ? Omit<J, 'id'> : never) : never;

interface Waiting {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

interface Queued {
  job: SignatureJob;
  waiting: Waiting;
  /** For a certificate job: its template, sent along unless the thread has it. */
  template?: CertificateTemplate;
}

/** A copy of exactly `bytes`, to post (a Buffer may be a view of a larger pool: all of it would be copied). */
export const own = (bytes: Buffer): Uint8Array => new Uint8Array(bytes);

/** A Buffer over what arrived as a Uint8Array (no copy). */
export const buffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function fieldsMessage(fields: CertificateFields): FieldsMessage {
  const { subject, subjectSpki } = fields;
  return {
    subject: Buffer.isBuffer(subject) ? own(subject) : subject,
    subjectSpki: subjectSpki ? own(subjectSpki) : undefined,
    serial: own(fields.serial),
    notBefore: fields.notBefore,
    notAfter: fields.notAfter,
  };
}

function templateSetup(template: CertificateTemplate): TemplateSetup {
  const { issuer, profile } = template;
  return { name: own(issuer.name), spki: own(issuer.spki), keyId: own(issuer.keyId), privateKey: issuer.privateKey, publicKey: issuer.publicKey, profile };
}

export interface SignatureThreadOptions {
  /** Longest time the thread may hold jobs without answering one before it is ended. */
  answerWithinMs?: number;
  /** Longest time a new thread may take to say it is READY while it holds jobs (at least answerWithinMs). */
  startWithinMs?: number;
  /** The thread's code (tests give one of their own). */
  workerUrl?: URL;
}

/** Default answerWithinMs: far above any batch (an RSA 4096 signature takes ≈ 5 ms). */
const ANSWER_WITHIN_MS = 10_000;
/** Default startWithinMs: loading the thread's code takes ≈ 50 ms on an idle machine. */
const STARTUP_WITHIN_MS = 30_000;
/** What a thread posts once its code is loaded and it takes jobs; every other message is a batch of results. */
export const READY = 'ready';

export class SignatureThread implements SignatureWork {
  private worker: Worker | undefined;
  private readonly answerWithinMs: number;
  private readonly startWithinMs: number;
  private readonly workerUrl: URL;
  /** When the thread last answered, said it was ready, or was handed jobs while it held none. */
  private lastAnswer = 0;
  /** Whether the current thread has said it is READY. */
  private ready = false;
  private watchdog: NodeJS.Timeout | undefined;
  private watchdogEveryMs = 1000;
  /** When the watchdog last looked. */
  private lastCheck = 0;
  /** Sent to the current thread, not answered yet. */
  private readonly inFlight = new Map<number, Waiting>();
  /** Handed over in this turn of the event loop, sent at its end. */
  private queue: Queued[] = [];
  private scheduled = false;
  private nextId = 0;
  /** Each template's number, for as long as the template lives. */
  private readonly templateIds = new WeakMap<CertificateTemplate, number>();
  private nextTemplate = 0;
  /** The templates the current thread has, in the order they were sent (the thread keeps the same). */
  private sent = new Set<number>();

  constructor(options: SignatureThreadOptions = {}) {
    this.answerWithinMs = options.answerWithinMs ?? ANSWER_WITHIN_MS;
    this.startWithinMs = Math.max(this.answerWithinMs, options.startWithinMs ?? STARTUP_WITHIN_MS);
    this.workerUrl = options.workerUrl ?? new URL('./signature-thread-worker.js', import.meta.url);
  }

  sign(hash: string, data: Buffer, key: KeyObject): Promise<Buffer> {
    return this.submit<Uint8Array>({ op: 'sign', hash, data: own(data), key }).then((value) => Buffer.from(value.buffer, value.byteOffset, value.byteLength));
  }

  verify(hash: string, data: Buffer, key: VerifyKey, signature: Buffer): Promise<boolean> {
    return this.submit<boolean>({ op: 'verify', hash, data: own(data), key, signature: own(signature) }).catch(() => false);
  }

  async signAndVerify(hash: string, data: Buffer, privateKey: KeyObject, publicKey: KeyObject): Promise<{ signature: Buffer; verified: boolean }> {
    const { signature, verified } = await this.submit<{ signature: Uint8Array; verified: boolean }>({ op: 'signAndVerify', hash, data: own(data), privateKey, publicKey });
    return { signature: Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength), verified };
  }

  generateP256(): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
    return this.submit({ op: 'p256' });
  }

  async generateP256Key(): Promise<EncodedKeyPair> {
    const { privateKeyPem, spki } = await this.submit<{ privateKeyPem: string; spki: Uint8Array }>({ op: 'p256Key' });
    return { privateKeyPem, spki: buffer(spki) };
  }

  async buildChecked(template: CertificateTemplate, fields: CertificateFields): Promise<CheckedCertificate> {
    let number = this.templateIds.get(template);
    if (number === undefined) {
      number = this.nextTemplate++;
      this.templateIds.set(template, number);
    }
    const value = await this.submit<{ der: Uint8Array; pem: string; fingerprintSha256: string }>(
      { op: 'certificate', template: number, fields: fieldsMessage(fields) },
      template,
    );
    return { der: buffer(value.der), pem: value.pem, fingerprintSha256: value.fingerprintSha256 };
  }

  /**
   * `template` will not be used again: the thread drops its copy (with the CA's key objects) after the
   * jobs handed over before this one. Used again all the same, it is sent again as a new template.
   */
  forgetTemplate(template: CertificateTemplate): void {
    const number = this.templateIds.get(template);
    if (number === undefined) return;
    this.templateIds.delete(template);
    // Nothing to answer: a thread that is gone took its copy with it.
    this.submit({ op: 'forget', template: number }).catch(() => undefined);
  }

  /** How many templates the current thread holds (for diagnostics and tests). */
  heldTemplates(): Promise<number> {
    return this.submit<number>({ op: 'heldTemplates' });
  }

  /** Ends the thread; jobs still waiting fail. For tests and shutdown: the next job would start a new one. */
  async stop(): Promise<void> {
    const stopped = new Error('the signing thread was stopped');
    const queued = this.queue;
    this.queue = [];
    for (const { waiting } of queued) waiting.reject(stopped);
    const worker = this.worker;
    if (!worker) return;
    this.lost(worker, stopped);
    await worker.terminate();
  }

  private submit<T>(job: Job, template?: CertificateTemplate): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ job: { ...job, id: this.nextId++ } as SignatureJob, waiting: { resolve: resolve as (value: unknown) => void, reject }, template });
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    let worker: Worker;
    try {
      worker = this.thread();
    } catch (err) {
      for (const { waiting } of batch) waiting.reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    for (const { job, waiting, template } of batch) {
      this.inFlight.set(job.id, waiting);
      if (job.op === 'certificate' && !this.sent.has(job.template)) {
        job.setup = templateSetup(template!);
        this.remember(job.template);
      } else if (job.op === 'forget') {
        this.sent.delete(job.template);
      }
    }
    if (this.inFlight.size === batch.length) this.lastAnswer = Date.now();
    worker.ref();
    worker.postMessage(batch.map(({ job }) => job));
  }

  /** Records a template as sent; the oldest beyond TEMPLATES_KEPT is dropped, as the thread drops it. */
  private remember(template: number): void {
    this.sent.add(template);
    if (this.sent.size > TEMPLATES_KEPT) this.sent.delete(this.sent.values().next().value!);
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.workerUrl);
    worker.on('message', (message: SignatureResult[] | typeof READY) => (message === READY ? this.started(worker) : this.settle(message)));
    worker.on('error', (err) => this.lost(worker, err));
    worker.on('exit', (code) => this.lost(worker, new Error(`the signing thread exited (code ${code})`)));
    worker.unref();
    this.worker = worker;
    this.ready = false;
    this.sent = new Set();
    this.watchdogEveryMs = Math.max(10, Math.min(1000, this.answerWithinMs / 4));
    this.lastCheck = Date.now();
    this.watchdog = setInterval(() => this.check(worker), this.watchdogEveryMs);
    this.watchdog.unref();
    return worker;
  }

  /**
   * Ends a thread that holds jobs and has answered none for answerWithinMs. A look that comes late
   * means the event loop itself was held: the thread's answers may be waiting behind this timer, so
   * the next look decides.
   */
  private check(worker: Worker): void {
    const now = Date.now();
    const late = now - this.lastCheck > 2 * this.watchdogEveryMs;
    this.lastCheck = now;
    const within = this.ready ? this.answerWithinMs : this.startWithinMs;
    if (late || this.worker !== worker || this.inFlight.size === 0 || now - this.lastAnswer <= within) return;
    const what = this.ready ? `answered nothing for ${within} ms` : `did not start within ${within} ms`;
    this.lost(worker, new Error(`the signing thread ${what}; it was ended`));
    // A thread stuck in native code may never end: it must not keep the process alive either.
    worker.unref();
    void worker.terminate();
  }

  /** The thread's code is loaded: the time it may take to answer counts from now. */
  private started(worker: Worker): void {
    if (this.worker !== worker) return;
    this.ready = true;
    this.lastAnswer = Date.now();
  }

  private settle(results: SignatureResult[]): void {
    for (const result of results) {
      const waiting = this.inFlight.get(result.id);
      if (!waiting) continue;
      this.inFlight.delete(result.id);
      if (result.error !== undefined) waiting.reject(result.failure ? new PkiError(result.failure, result.error) : new Error(result.error));
      else waiting.resolve(result.value);
    }
    this.lastAnswer = Date.now();
    if (this.inFlight.size === 0) this.worker?.unref();
  }

  private lost(worker: Worker, err: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    clearInterval(this.watchdog);
    const waiting = [...this.inFlight.values()];
    this.inFlight.clear();
    for (const w of waiting) w.reject(err);
  }
}

/** The process's signing thread (started on first use). */
export const signatureThread = new SignatureThread();
