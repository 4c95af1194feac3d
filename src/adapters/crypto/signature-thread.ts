/**
 * One thread of the server's own for the signatures of its hot paths (SignatureWork): a client
 * certificate's signature and check, a CSR's signature, new P-256 keys. On libuv's thread pool these
 * jobs run four at a time beside the event loop, and on a small machine the woken pool threads take
 * the event loop's core from it. Measured on 2 cores (`npm run bench -- client-cert`): with this
 * thread 3,495-3,578 certificates/s from a CSR, on the pool 3,074-3,098, with less CPU per
 * certificate; and the pool stays free for file and DNS work. Jobs handed over in the same callback
 * go in one message, answered by one.
 *
 * The thread starts on first use and does not keep the process alive when it has nothing to do. If it
 * dies, the jobs it held fail and the next job starts a new one.
 */
import type { KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { SignatureWork, VerifyKey } from '../../pki/index.js';

export type SignatureJob =
  | { id: number; op: 'sign'; hash: string; data: Uint8Array; key: KeyObject }
  | { id: number; op: 'verify'; hash: string; data: Uint8Array; key: VerifyKey; signature: Uint8Array }
  | { id: number; op: 'signAndVerify'; hash: string; data: Uint8Array; privateKey: KeyObject; publicKey: KeyObject }
  | { id: number; op: 'p256' };

export type SignatureResult = { id: number; value: unknown; error?: undefined } | { id: number; error: string };

type Job = SignatureJob extends infer J ? (J extends { id: number } ? Omit<J, 'id'> : never) : never;

interface Waiting {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/** A copy of exactly `bytes` (a Buffer may be a view of a larger pool: all of it would be copied). */
const own = (bytes: Buffer): Uint8Array => new Uint8Array(bytes);

export class SignatureThread implements SignatureWork {
  private worker: Worker | undefined;
  /** Sent to the current thread, not answered yet. */
  private readonly inFlight = new Map<number, Waiting>();
  /** Handed over in this turn of the event loop, sent at its end. */
  private queue: Array<{ job: SignatureJob; waiting: Waiting }> = [];
  private scheduled = false;
  private nextId = 0;

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

  private submit<T>(job: Job): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ job: { ...job, id: this.nextId++ } as SignatureJob, waiting: { resolve: resolve as (value: unknown) => void, reject } });
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
    for (const { job, waiting } of batch) this.inFlight.set(job.id, waiting);
    worker.ref();
    worker.postMessage(batch.map(({ job }) => job));
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./signature-thread-worker.js', import.meta.url));
    worker.on('message', (results: SignatureResult[]) => this.settle(results));
    worker.on('error', (err) => this.lost(worker, err));
    worker.on('exit', (code) => this.lost(worker, new Error(`the signing thread exited (code ${code})`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private settle(results: SignatureResult[]): void {
    for (const result of results) {
      const waiting = this.inFlight.get(result.id);
      if (!waiting) continue;
      this.inFlight.delete(result.id);
      if (result.error !== undefined) waiting.reject(new Error(result.error));
      else waiting.resolve(result.value);
    }
    if (this.inFlight.size === 0) this.worker?.unref();
  }

  private lost(worker: Worker, err: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    const waiting = [...this.inFlight.values()];
    this.inFlight.clear();
    for (const w of waiting) w.reject(err);
  }
}

/** The process's signing thread (started on first use). */
export const signatureThread = new SignatureThread();
