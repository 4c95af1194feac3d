/**
 * Deploy targets: a directory on this machine that always holds the current certificate of one
 * site certificate (or of each free certificate of a site) as `fullchain.pem` and `privkey.pem`,
 * and the command that makes the server reading them load them again (`nginx -s reload`).
 */
import type { NewJob } from '../jobs/ports.js';

export interface DeployTarget {
  id: string;
  accountId: string;
  /** Exactly one of siteId (every free certificate of the site) and siteCertificateId. */
  siteId: string | undefined;
  siteCertificateId: string | undefined;
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
