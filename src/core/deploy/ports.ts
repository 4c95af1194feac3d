/** What deploying needs: the target table and certificate or CA material, files on disk, and commands. */
import type { AuditEvent } from '../audit/ports.js';
import type { NewJob } from '../jobs/ports.js';
import type { DeployTarget } from './model.js';

export interface DeployFile {
  name: string;
  content: string;
  /** File mode, e.g. 0o600 for the key. */
  mode: number;
}

export interface DeployFiles {
  /**
   * Each file replaces its namesake atomically (a reader sees the old or the new one). With
   * `create`, a missing directory is made first (0755; its parent must exist).
   */
  write(directory: string, files: readonly DeployFile[], options?: { create?: boolean }): Promise<void>;
  /** Why `directory` cannot take the files (missing, not a directory, not writable), or undefined. */
  problemWith(directory: string): Promise<string | undefined>;
}

export type CommandResult = { ok: true; stdout: string; stderr: string } | { ok: false; reason: string; stdout: string; stderr: string };

export interface CommandRunner {
  /** Runs argv without a shell; never throws for the command's own failure. */
  run(argv: readonly string[], timeoutMs: number): Promise<CommandResult>;
}

/** What one `deploy.run` writes: the current certificate of a site certificate, with its key. */
export interface DeployMaterial {
  target: DeployTarget;
  siteCertificateId: string;
  siteId: string;
  /** The free certificate's domain as applied for (`*.example.com` for a wildcard). */
  domain: string | undefined;
  /** The issuance the site certificate uses now. */
  issuanceId: string;
  chainPem: string;
  serialNumber: string;
  keyId: string;
  sealedKey: string;
}

/** What one `deploy.crl` writes: a managed client CA's certificate (its CRL comes from the CRL issuer). */
export interface CrlDeployMaterial {
  target: DeployTarget;
  clientCaId: string;
  siteId: string;
  caCertificatePem: string;
}

/** The jobs a new target starts with. */
export interface FirstJobs {
  /** A certificate target's `deploy.run` of a free certificate it covers that is issued now. */
  forCertificate(siteCertificateId: string, issuanceId: string): NewJob;
  /** A client CA target's `deploy.crl`. */
  forClientCa(): NewJob;
}

export interface DeployStore {
  /** Whether the site, or the site certificate (with its site), is the account's. */
  findScope(accountId: string, scope: { siteId?: string; siteCertificateId?: string }): Promise<{ siteId: string } | undefined>;
  /** The account's client CA with this id: its site, and whether certplane manages it (an uploaded CA has no CRL here). */
  findClientCa(accountId: string, caId: string): Promise<{ siteId: string; managed: boolean } | undefined>;
  /**
   * Inserts the target and its audit row, and its first jobs (a certificate target: one for each
   * free certificate it covers that is issued now; a client CA target: one), in one transaction;
   * returns how many jobs.
   */
  insert(target: DeployTarget, audit: AuditEvent, jobs: FirstJobs): Promise<number>;
  list(accountId: string): Promise<DeployTarget[]>;
  find(accountId: string, id: string): Promise<DeployTarget | undefined>;
  /** Deletes the target with its audit row; false when there was none. */
  remove(accountId: string, id: string, audit: AuditEvent): Promise<boolean>;
  /** The target and the valid certificate the site certificate uses now; undefined when either is gone (or the target holds a CA). */
  material(targetId: string, siteCertificateId: string): Promise<DeployMaterial | undefined>;
  /** A client CA target and its CA's certificate; undefined when the target is gone or holds certificates. */
  crlMaterial(targetId: string): Promise<CrlDeployMaterial | undefined>;
  /** The client CA targets: of one CA, or of every CA. */
  crlTargets(clientCaId?: string): Promise<Array<{ targetId: string; clientCaId: string }>>;
  /** How a deployment ended: its audit row and its event job, in one transaction. */
  record(audit: AuditEvent, event: NewJob): Promise<void>;
}
