/**
 * Deploy targets and the `deploy.run` job. A target is added for one site certificate or for a
 * whole site; every time a certificate it covers is issued or renewed, the transaction that
 * stores it enqueues a `deploy.run` (adapters/db/renewal-rows.ts), and adding a target enqueues
 * one for each certificate it covers that is issued already. A run writes `fullchain.pem` and
 * `privkey.pem` (0600) atomically, runs the reload command without a shell, and records the
 * outcome: an audit row and a `deployment.succeeded` or `deployment.failed` event.
 */
import { isAbsolute, join } from 'node:path';
import { certplaneResource, OPERATOR_ACTOR, type AuditEvent } from '../audit/ports.js';
import { privateKeyContext } from '../certificates/service.js';
import { eventJob } from '../events/model.js';
import type { JsonValue } from '../jobs/ports.js';
import { errors, AppError } from '../../kernel/errors.js';
import type { Clock } from '../../kernel/clock.js';
import type { IdGenerator } from '../../kernel/ids.js';
import type { Logger } from '../../kernel/logger.js';
import type { Sealer } from '../../kernel/sealer.js';
import { splitCommandLine } from './command-line.js';
import { DEFAULT_RELOAD_TIMEOUT_SECONDS, DEPLOY_JOB, MAX_RELOAD_TIMEOUT_SECONDS, deployJob, type DeployPayload, type DeployTarget } from './model.js';
import type { CommandRunner, DeployFiles, DeployMaterial, DeployStore } from './ports.js';

export interface DeployServiceDeps {
  store: DeployStore;
  files: DeployFiles;
  commands: CommandRunner;
  sealer: Sealer;
  clock: Clock;
  ids: IdGenerator;
  logger: Logger;
  regionId: string;
  requireAccount: (accountId: string) => Promise<unknown>;
  /** Told after jobs were enqueued (this process's workers wake up). */
  enqueued?: () => void;
}

export interface NewTarget {
  accountId: string;
  siteId?: string | undefined;
  siteCertificateId?: string | undefined;
  directory: string;
  /** As typed: split into argv here (see command-line.ts). */
  reloadCommand?: string | undefined;
  reloadTimeoutSeconds?: number | undefined;
}

/** Who the audit log names for what the operator's CLI and the deploy job do. */
const OPERATOR = OPERATOR_ACTOR;
const SYSTEM = 'system:deploy';

export class DeployService {
  constructor(private readonly deps: DeployServiceDeps) {}

  async add(input: NewTarget): Promise<{ target: DeployTarget; jobs: number }> {
    await this.deps.requireAccount(input.accountId);
    if ((input.siteId === undefined) === (input.siteCertificateId === undefined)) throw errors.invalidParameter('site', 'give exactly one of --site and --certificate');
    if (!isAbsolute(input.directory)) throw errors.invalidParameter('directory', 'must be an absolute path');
    const problem = await this.deps.files.problemWith(input.directory);
    if (problem) throw errors.invalidParameter('directory', problem);
    const timeout = input.reloadTimeoutSeconds ?? DEFAULT_RELOAD_TIMEOUT_SECONDS;
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > MAX_RELOAD_TIMEOUT_SECONDS) {
      throw errors.invalidParameter('reload-timeout', `must be a whole number of seconds from 1 to ${MAX_RELOAD_TIMEOUT_SECONDS}`);
    }
    const argv = input.reloadCommand === undefined ? undefined : this.argvOf(input.reloadCommand);
    const scope = await this.deps.store.findScope(input.accountId, { siteId: input.siteId, siteCertificateId: input.siteCertificateId });
    if (!scope) throw input.siteId !== undefined ? errors.siteNotFound(input.siteId) : errors.certificateNotFound(input.siteCertificateId!);
    const now = this.deps.clock.now();
    const target: DeployTarget = {
      id: this.deps.ids.hex32(),
      accountId: input.accountId,
      siteId: input.siteId,
      siteCertificateId: input.siteCertificateId,
      directory: input.directory,
      reloadCommand: argv,
      reloadTimeoutSeconds: timeout,
      createdAt: now,
    };
    const audit = this.audit(input.accountId, OPERATOR, 'certplane:AddDeployTarget', target.id, 'success', now, 'cli');
    const jobs = await this.deps.store.insert(target, audit, (siteCertificateId, issuanceId) => deployJob({ targetId: target.id, siteCertificateId, issuanceId }));
    if (jobs > 0) this.deps.enqueued?.();
    return { target, jobs };
  }

  async list(accountId: string): Promise<DeployTarget[]> {
    await this.deps.requireAccount(accountId);
    return this.deps.store.list(accountId);
  }

  async remove(accountId: string, id: string): Promise<DeployTarget> {
    await this.deps.requireAccount(accountId);
    const target = await this.deps.store.find(accountId, id);
    if (!target) throw deployTargetNotFound(id);
    const audit = this.audit(accountId, OPERATOR, 'certplane:RemoveDeployTarget', id, 'success', this.deps.clock.now(), 'cli');
    if (!(await this.deps.store.remove(accountId, id, audit))) throw deployTargetNotFound(id);
    return target;
  }

  /**
   * One `deploy.run`: writes and reloads, and records how it went. A certificate that moved on
   * since the job was made is left to the job of its newer issuance. Throws `deploy.failed` (the
   * worker retries) after recording the failure.
   */
  async run(payload: DeployPayload, context: { jobId: string; attempt: number }): Promise<'deployed' | 'skipped'> {
    const material = await this.deps.store.material(payload.targetId, payload.siteCertificateId);
    if (!material || material.issuanceId !== payload.issuanceId) return 'skipped';
    try {
      await this.deploy(material);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      await this.record(material, 'deployment.failed', `${payload.issuanceId}:${context.attempt}`, context.jobId, { error: reason, attempt: context.attempt });
      throw new AppError('deploy.failed', `deploy target ${material.target.id} (${directoryOf(material)}): ${reason}`, { id: material.target.id }, { cause: err });
    }
    await this.record(material, 'deployment.succeeded', payload.issuanceId, context.jobId, {});
    return 'deployed';
  }

  private async deploy(material: DeployMaterial): Promise<void> {
    const { target } = material;
    const keyPem = this.deps.sealer.open(material.sealedKey, privateKeyContext(material.keyId));
    const perCertificate = target.siteId !== undefined;
    await this.deps.files.write(
      directoryOf(material),
      [
        { name: 'fullchain.pem', content: material.chainPem, mode: 0o644 },
        { name: 'privkey.pem', content: keyPem.endsWith('\n') ? keyPem : `${keyPem}\n`, mode: 0o600 },
      ],
      { create: perCertificate },
    );
    if (!target.reloadCommand) return;
    const result = await this.deps.commands.run(target.reloadCommand, target.reloadTimeoutSeconds * 1000);
    if (!result.ok) {
      const said = result.stderr.trim().split('\n').slice(-3).join(' | ');
      throw new Error(`the reload command ${JSON.stringify(target.reloadCommand)} ${result.reason}${said ? `: ${said}` : ''}`);
    }
  }

  private async record(material: DeployMaterial, type: 'deployment.succeeded' | 'deployment.failed', dedupe: string, jobId: string, extra: { [key: string]: JsonValue }): Promise<void> {
    const now = this.deps.clock.now();
    const { target } = material;
    const outcome = type === 'deployment.succeeded' ? 'success' : 'deploy.failed';
    const audit = this.audit(target.accountId, SYSTEM, 'certplane:Deploy', target.id, outcome, now, jobId);
    const event = eventJob(
      {
        accountId: target.accountId,
        type,
        subject: { kind: 'site', id: material.siteCertificateId },
        occurredAt: now,
        data: { siteId: material.siteId, targetId: target.id, directory: directoryOf(material), serialNumber: material.serialNumber.toLowerCase(), ...extra },
      },
      `${target.id}:${dedupe}`,
    );
    await this.deps.store.record(audit, event);
    this.deps.enqueued?.();
  }

  private argvOf(command: string): string[] {
    let argv: string[];
    try {
      argv = splitCommandLine(command);
    } catch (err) {
      throw errors.invalidParameter('reload-command', (err as Error).message);
    }
    if (argv.length === 0) throw errors.invalidParameter('reload-command', 'is empty');
    return argv;
  }

  private audit(accountId: string, actor: string, action: string, targetId: string, outcome: string, at: Date, requestId: string): AuditEvent {
    return { at, accountId, actor, action, resource: certplaneResource(this.deps.regionId, accountId, `deploy-target/${targetId}`), outcome, requestId };
  }
}

/** Where a deployment writes: the target's directory; for a site's target, a directory per certificate in it. */
export function directoryOf(material: DeployMaterial): string {
  return material.target.siteId !== undefined ? join(material.target.directory, directoryNameOf(material)) : material.target.directory;
}

/** `www.example.com`; a wildcard's `*` becomes `_` (`_.example.com`); without a domain, the certificate id. */
export function directoryNameOf(material: Pick<DeployMaterial, 'domain' | 'siteCertificateId'>): string {
  const name = (material.domain ?? '').replace(/\*/g, '_');
  return /^[A-Za-z0-9_.-]+$/.test(name) && name !== '.' && name !== '..' ? name : material.siteCertificateId;
}

export function deployTargetNotFound(id: string): AppError {
  return new AppError('deploy_target.not_found', `deploy target ${id} does not exist`, { id });
}

/** `deploy.run`: one deployment; a failure is recorded, then retried by the worker (3 attempts). */
export function deployHandler(deploys: DeployService) {
  return {
    name: DEPLOY_JOB,
    parse(payload: JsonValue): DeployPayload {
      const p = (payload ?? {}) as Partial<Record<keyof DeployPayload, unknown>>;
      if (typeof p.targetId !== 'string' || typeof p.siteCertificateId !== 'string' || typeof p.issuanceId !== 'string') throw new Error('not a deploy.run payload');
      return { targetId: p.targetId, siteCertificateId: p.siteCertificateId, issuanceId: p.issuanceId };
    },
    async run(payload: DeployPayload, context: { jobId: string; attempt: number; logger: Logger }): Promise<void> {
      const outcome = await deploys.run(payload, context);
      context.logger.info({ target: payload.targetId, certificate: payload.siteCertificateId, outcome }, 'deploy.run');
    },
  };
}
