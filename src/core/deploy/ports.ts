/** What deploying needs: the target table and certificate material, files on disk, and commands. */
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

export interface DeployStore {
  /** Whether the site, or the site certificate (with its site), is the account's. */
  findScope(accountId: string, scope: { siteId?: string; siteCertificateId?: string }): Promise<{ siteId: string } | undefined>;
  /**
   * Inserts the target and its audit row, and a `deploy.run` job (made by `jobFor`) for each free
   * certificate it covers that is issued now, in one transaction; returns how many jobs.
   */
  insert(target: DeployTarget, audit: AuditEvent, jobFor: (siteCertificateId: string, issuanceId: string) => NewJob): Promise<number>;
  list(accountId: string): Promise<DeployTarget[]>;
  find(accountId: string, id: string): Promise<DeployTarget | undefined>;
  /** Deletes the target with its audit row; false when there was none. */
  remove(accountId: string, id: string, audit: AuditEvent): Promise<boolean>;
  /** The target and the valid certificate the site certificate uses now; undefined when either is gone. */
  material(targetId: string, siteCertificateId: string): Promise<DeployMaterial | undefined>;
  /** How a deployment ended: its audit row and its event job, in one transaction. */
  record(audit: AuditEvent, event: NewJob): Promise<void>;
}
