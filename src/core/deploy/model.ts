/**
 * Deploy targets: a directory on this machine that always holds the current certificate of one
 * site certificate (or of each free certificate of a site) as `fullchain.pem` and `privkey.pem`,
 * or a managed client CA's certificate and current CRL as `ca.pem` and `crl.pem`, and the command
 * that makes the server reading them load them again (`nginx -s reload`).
 */
import type { NewJob } from '../jobs/ports.js';

export interface DeployTarget {
  id: string;
  accountId: string;
  /**
   * What the target holds: every free certificate of siteId; or one site certificate; or, with
   * clientCaId, that managed client CA's certificate and CRL (siteId is then the CA's site).
   */
  siteId: string | undefined;
  siteCertificateId: string | undefined;
  clientCaId: string | undefined;
  /** Absolute path of the directory the files are written into. */
  directory: string;
  /** argv of the reload command (run without a shell), or undefined: no reload. */
  reloadCommand: string[] | undefined;
  reloadTimeoutSeconds: number;
  createdAt: Date;
}

export const DEPLOY_JOB = 'deploy.run';
export const DEFAULT_RELOAD_TIMEOUT_SECONDS = 30;
export const MAX_RELOAD_TIMEOUT_SECONDS = 600;

export interface DeployPayload {
  targetId: string;
  siteCertificateId: string;
  /** The issuance whose certificate is deployed: a later one makes this job a no-op. */
  issuanceId: string;
}

/** The job that writes `issuanceId`'s certificate into the target and reloads; one per (target, issuance). */
export function deployJob(payload: DeployPayload): NewJob {
  return {
    name: DEPLOY_JOB,
    payload: { targetId: payload.targetId, siteCertificateId: payload.siteCertificateId, issuanceId: payload.issuanceId },
    idempotencyKey: `${DEPLOY_JOB}:${payload.targetId}:${payload.issuanceId}`,
    maxAttempts: 3,
  };
}

export const DEPLOY_CRL_JOB = 'deploy.crl';

export interface CrlDeployPayload {
  targetId: string;
  /** The CRL number that made this job; a run writes the CA's current CRL, this one or a later one. */
  crlNumber: number;
}

/** The job that writes a client CA's certificate and current CRL into the target and reloads; one per (target, CRL). */
export function crlDeployJob(payload: CrlDeployPayload): NewJob {
  return {
    name: DEPLOY_CRL_JOB,
    payload: { targetId: payload.targetId, crlNumber: payload.crlNumber },
    idempotencyKey: `${DEPLOY_CRL_JOB}:${payload.targetId}:${payload.crlNumber}`,
    maxAttempts: 3,
  };
}

/**
 * The recurring look at every client CA target: a CRL reissued without a revocation (before it runs
 * out, after a void or a deletion) reaches the servers within one period.
 */
export const DEPLOY_CRL_SCAN_JOB = 'deploy.crl-scan';
export const deployCrlScanJob = { name: DEPLOY_CRL_SCAN_JOB, payload: {}, idempotencyKey: DEPLOY_CRL_SCAN_JOB, maxAttempts: 1000 };
