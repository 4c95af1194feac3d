/**
 * The signing thread's side (see signature-thread.ts): it receives batches of jobs, runs each with
 * node:crypto synchronously — this thread does nothing else — and answers each batch with one
 * message. A job's failure is its own answer, never the thread's end.
 */
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import {
  CertificateTemplate,
  buildCheckedCertificateSync,
  isPkiError,
  newP256KeyPair,
  signatureScheme,
  type CertificateFields,
  type SigningIssuer,
} from '../../pki/index.js';
import { READY, TEMPLATES_KEPT, buffer, own, type FieldsMessage, type SignatureJob, type SignatureResult, type TemplateSetup } from './signature-thread.js';

/** The templates the event loop has sent, oldest first, as many as it remembers sending. */
const templates = new Map<number, CertificateTemplate>();

function template(number: number, setup: TemplateSetup | undefined): CertificateTemplate {
  if (setup) {
    const issuer: SigningIssuer = {
      name: buffer(setup.name),
      spki: buffer(setup.spki),
      keyId: buffer(setup.keyId),
      privateKey: setup.privateKey,
      publicKey: setup.publicKey,
      scheme: signatureScheme(setup.privateKey),
    };
    templates.set(number, new CertificateTemplate(issuer, setup.profile));
    if (templates.size > TEMPLATES_KEPT) templates.delete(templates.keys().next().value!);
  }
  const known = templates.get(number);
  if (!known) throw new Error(`the signing thread has no template ${number}`);
  return known;
}

function fields(message: FieldsMessage): CertificateFields {
  const { subject, subjectSpki } = message;
  return {
    subject: subject instanceof Uint8Array ? buffer(subject) : subject,
    subjectSpki: subjectSpki ? buffer(subjectSpki) : undefined,
    serial: buffer(message.serial),
    notBefore: message.notBefore,
    notAfter: message.notAfter,
  };
}

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
      case 'p256Key': {
        const { privateKeyPem, spki } = newP256KeyPair();
        return { id: job.id, value: { privateKeyPem, spki: own(spki) } };
      }
      case 'forget':
        return { id: job.id, value: templates.delete(job.template) };
      case 'heldTemplates':
        return { id: job.id, value: templates.size };
      case 'certificate': {
        const { der, pem, fingerprintSha256 } = buildCheckedCertificateSync(template(job.template, job.setup), fields(job.fields));
        return { id: job.id, value: { der: own(der), pem, fingerprintSha256 } };
      }
      default:
        return { id: (job as { id: number }).id, error: `unknown job ${JSON.stringify((job as { op: unknown }).op)}` };
    }
  } catch (err) {
    if (isPkiError(err)) return { id: job.id, error: err.message, failure: err.failure };
    return { id: job.id, error: err instanceof Error ? err.message : String(err) };
  }
}

parentPort?.on('message', (jobs: SignatureJob[]) => {
  parentPort?.postMessage(jobs.map(run));
});
parentPort?.postMessage(READY);
