/**
 * The signing thread's side (see signature-thread.ts): it receives batches of jobs, runs each with
 * node:crypto synchronously — this thread does nothing else — and answers each batch with one
 * message. A job's failure is its own answer, never the thread's end.
 */
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import type { SignatureJob, SignatureResult } from './signature-thread.js';

function run(job: SignatureJob): SignatureResult {
  try {
    switch (job.op) {
      case 'sign':
        return { id: job.id, value: sign(job.hash, job.data, job.key) };
      case 'verify': {
        let ok = false;
        try {
          ok = verify(job.hash, job.data, job.key, job.signature);
        } catch {
          // a malformed signature value is as wrong as a mismatched one
        }
        return { id: job.id, value: ok };
      }
      case 'signAndVerify': {
        const signature = sign(job.hash, job.data, job.privateKey);
        let verified = false;
        try {
          verified = verify(job.hash, job.data, job.publicKey, signature);
        } catch {
          // reported as not verified
        }
        return { id: job.id, value: { signature, verified } };
      }
      case 'p256':
        return { id: job.id, value: generateKeyPairSync('ec', { namedCurve: 'P-256' }) };
      default:
        return { id: (job as { id: number }).id, error: `unknown job ${JSON.stringify((job as { op: unknown }).op)}` };
    }
  } catch (err) {
    return { id: job.id, error: err instanceof Error ? err.message : String(err) };
  }
}

parentPort?.on('message', (jobs: SignatureJob[]) => {
  parentPort?.postMessage(jobs.map(run));
});
