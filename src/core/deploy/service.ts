/**
 * Deploy targets and the `deploy.run` and `deploy.crl` jobs. A target is added for one site
 * certificate, for a whole site, or for a managed client CA.
 *
 * Certificates: every time a certificate a target covers is issued or renewed, the transaction that
 * stores it enqueues a `deploy.run` (adapters/db/renewal-rows.ts), and adding a target enqueues one
 * for each certificate it covers that is issued already. A run writes `fullchain.pem` and
 * `privkey.pem` (0600) atomically.
 *
 * A client CA: its `ca.pem` and current CRL as `crl.pem` (PEM, what nginx's `ssl_crl` and envoy's
 * `crl` read), written at `deploy add`, after every revoke and activate of one of its certificates
 * (`crlChanged`, told by the private CA once the CRL is reissued), and whenever the recurring
 * `deploy.crl-scan` finds a newer CRL: one reissued before it runs out, or after a change whose own
 * reissue did not happen. One `deploy.crl` job per (target, CRL number).
 *
 * Either run then runs the reload command without a shell, and records the outcome: an audit row
 * and a `deployment.succeeded` or `deployment.failed` event.
 */
import { isAbsolute, join } from 'node:path';
import { certplaneResource, OPERATOR_ACTOR, type AuditEvent } from '../audit/ports.js';
import { privateKeyContext } from '../certificates/service.js';
import { eventJob } from '../events/model.js';
import type { JsonValue } from '../jobs/ports.js';
import { errors, AppError } from '../../kernel/errors.js';
import { encodePem } from '../../pki/index.js';
import type { Clock } from '../../kernel/clock.js';
import type { IdGenerator } from '../../kernel/ids.js';
import type { Logger } from '../../kernel/logger.js';
import type { Sealer } from '../../kernel/sealer.js';
import { splitCommandLine } from './command-line.js';
import {
  DEFAULT_RELOAD_TIMEOUT_SECONDS,
  DEPLOY_CRL_JOB,
  DEPLOY_CRL_SCAN_JOB,
  DEPLOY_JOB,
  MAX_RELOAD_TIMEOUT_SECONDS,
  crlDeployJob,
  deployJob,
  type CrlDeployPayload,
  type DeployPayload,
  type DeployTarget,
} from './model.js';
import type { CommandRunner, DeployFile, DeployFiles, DeployMaterial, DeployStore } from './ports.js';
import type { EventSubjectKind } from '../events/model.js';
import { HEX_ID } from '../private-ca/model.js';
import type { NewJob } from '../jobs/ports.js';

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
  /** Each managed client CA's current CRL (DER) and its number, reissued first when due. */
  crls: { latest(caId: string): Promise<{ der: Buffer; number: number } | undefined> };
  jobs: { enqueue(job: NewJob): Promise<{ created: boolean }> };
  /** Told after jobs were enqueued (this process's workers wake up). */
  enqueued?: () => void;
}

export interface NewTarget {
  accountId: string;
  siteId?: string | undefined;
  siteCertificateId?: string | undefined;
  /** A managed client CA (its CACertificateId): the target holds its certificate and CRL. */
  clientCaId?: string | undefined;
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
    const scopes = [input.siteId, input.siteCertificateId, input.clientCaId].filter((v) => v !== undefined).length;
    if (scopes !== 1) throw errors.invalidParameter('site', 'give exactly one of --site, --certificate and --client-ca');
    if (!isAbsolute(input.directory)) throw errors.invalidParameter('directory', 'must be an absolute path');
    const problem = await this.deps.files.problemWith(input.directory);
    if (problem) throw errors.invalidParameter('directory', problem);
    const timeout = input.reloadTimeoutSeconds ?? DEFAULT_RELOAD_TIMEOUT_SECONDS;
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > MAX_RELOAD_TIMEOUT_SECONDS) {
      throw errors.invalidParameter('reload-timeout', `must be a whole number of seconds from 1 to ${MAX_RELOAD_TIMEOUT_SECONDS}`);
    }
    const argv = input.reloadCommand === undefined ? undefined : this.argvOf(input.reloadCommand);
    const clientCa = input.clientCaId === undefined ? undefined : await this.clientCa(input.accountId, input.clientCaId);
    if (input.clientCaId === undefined) {
      const scope = await this.deps.store.findScope(input.accountId, { siteId: input.siteId, siteCertificateId: input.siteCertificateId });
      if (!scope) throw input.siteId !== undefined ? errors.siteNotFound(input.siteId) : errors.certificateNotFound(input.siteCertificateId!);
    }
    const now = this.deps.clock.now();
    const target: DeployTarget = {
      id: this.deps.ids.hex32(),
      accountId: input.accountId,
      siteId: clientCa?.siteId ?? input.siteId,
      siteCertificateId: input.siteCertificateId,
      clientCaId: input.clientCaId,
      directory: input.directory,
      reloadCommand: argv,
      reloadTimeoutSeconds: timeout,
      createdAt: now,
    };
    const audit = this.audit(input.accountId, OPERATOR, 'certplane:AddDeployTarget', target.id, 'success', now, 'cli');
    const jobs = await this.deps.store.insert(target, audit, {
      forCertificate: (siteCertificateId, issuanceId) => deployJob({ targetId: target.id, siteCertificateId, issuanceId }),
      forClientCa: () => crlDeployJob({ targetId: target.id, crlNumber: clientCa!.crlNumber }),
    });
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
    const perCertificate = material.target.siteId !== undefined;
    return this.deployRecorded(material.target, directoryOf(material), perCertificate, () => certificateFiles(material, this.deps.sealer), {
      subject: { kind: 'site', id: material.siteCertificateId },
      data: { siteId: material.siteId, targetId: material.target.id, directory: directoryOf(material), serialNumber: material.serialNumber.toLowerCase() },
      dedupe: payload.issuanceId,
      context,
    });
  }

  /**
   * The CA's CRL changed (a revoke or an activate, its CRL reissued): a `deploy.crl` for each of
   * its targets; how many were new. Called after the change committed; a failure here is caught
   * up by the scan.
   */
  async crlChanged(caId: string): Promise<number> {
    const targets = await this.deps.store.crlTargets(caId);
    if (targets.length === 0) return 0;
    return this.enqueueCrls(caId, targets.map((t) => t.targetId));
  }

  /** `deploy.crl-scan`: a `deploy.crl` for every client CA target whose CA has a CRL it was not given yet (the job key decides); how many. */
  async scanCrls(): Promise<number> {
    const byCa = new Map<string, string[]>();
    for (const { targetId, clientCaId } of await this.deps.store.crlTargets()) byCa.set(clientCaId, [...(byCa.get(clientCaId) ?? []), targetId]);
    let enqueued = 0;
    for (const [caId, targetIds] of byCa) enqueued += await this.enqueueCrls(caId, targetIds);
    return enqueued;
  }

  /**
   * One `deploy.crl`: writes the CA's certificate and its CRL as it is now (this job's or a later
   * one), reloads, and records how it went. Throws `deploy.failed` (the worker retries) after
   * recording the failure.
   */
  async runCrl(payload: CrlDeployPayload, context: { jobId: string; attempt: number }): Promise<'deployed' | 'skipped'> {
    const material = await this.deps.store.crlMaterial(payload.targetId);
    const crl = material && (await this.deps.crls.latest(material.clientCaId));
    if (!material || !crl) return 'skipped';
    const { target } = material;
    const files = (): DeployFile[] => [
      { name: 'ca.pem', content: withFinalNewline(material.caCertificatePem), mode: 0o644 },
      { name: 'crl.pem', content: encodePem('X509 CRL', crl.der), mode: 0o644 },
    ];
    return this.deployRecorded(target, target.directory, false, files, {
      subject: { kind: 'client-ca', id: material.clientCaId },
      data: { siteId: material.siteId, targetId: target.id, directory: target.directory, crlNumber: crl.number },
      dedupe: `crl:${crl.number}`,
      context,
    });
  }

  /**
   * Writes the files into `directory` (made first with `create`), runs the reload command, and
   * records how it went: `deployment.succeeded` under `dedupe`, or `deployment.failed` under
   * `dedupe:attempt` with the reason, then thrown as `deploy.failed` for the worker to retry.
   */
  private async deployRecorded(
    target: DeployTarget,
    directory: string,
    create: boolean,
    files: () => DeployFile[],
    outcome: { subject: { kind: EventSubjectKind; id: string }; data: { [key: string]: JsonValue }; dedupe: string; context: { jobId: string; attempt: number } },
  ): Promise<'deployed'> {
    const { subject, data, dedupe, context } = outcome;
    try {
      await this.deps.files.write(directory, files(), { create });
      await this.reload(target);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      await this.record(target, subject, 'deployment.failed', `${dedupe}:${context.attempt}`, context.jobId, { ...data, error: reason, attempt: context.attempt });
      throw new AppError('deploy.failed', `deploy target ${target.id} (${directory}): ${reason}`, { id: target.id }, { cause: err });
    }
    await this.record(target, subject, 'deployment.succeeded', dedupe, context.jobId, data);
    return 'deployed';
  }

  private async enqueueCrls(caId: string, targetIds: readonly string[]): Promise<number> {
    const crl = await this.deps.crls.latest(caId);
    if (!crl) return 0;
    let created = 0;
    for (const targetId of targetIds) if ((await this.deps.jobs.enqueue(crlDeployJob({ targetId, crlNumber: crl.number }))).created) created++;
    if (created > 0) this.deps.enqueued?.();
    return created;
  }

  /** The account's managed client CA with its current CRL number; refusals say why not. */
  private async clientCa(accountId: string, caId: string): Promise<{ siteId: string; crlNumber: number }> {
    const ca = HEX_ID.test(caId) ? await this.deps.store.findClientCa(accountId, caId) : undefined;
    if (!ca) throw errors.certificateNotFound(caId);
    if (!ca.managed) throw errors.invalidParameter('client-ca', `${caId} is an uploaded CA: certplane publishes no CRL for it (give the CACertificateId of the site's managed CA)`);
    const crl = await this.deps.crls.latest(caId);
    if (!crl) throw errors.certificateNotFound(caId);
    return { siteId: ca.siteId, crlNumber: crl.number };
  }

  private async reload(target: DeployTarget): Promise<void> {
    if (!target.reloadCommand) return;
    const result = await this.deps.commands.run(target.reloadCommand, target.reloadTimeoutSeconds * 1000);
    if (!result.ok) {
      const said = result.stderr.trim().split('\n').slice(-3).join(' | ');
      throw new Error(`the reload command ${JSON.stringify(target.reloadCommand)} ${result.reason}${said ? `: ${said}` : ''}`);
    }
  }

  private async record(
    target: DeployTarget,
    subject: { kind: EventSubjectKind; id: string },
    type: 'deployment.succeeded' | 'deployment.failed',
    dedupe: string,
    jobId: string,
    data: { [key: string]: JsonValue },
  ): Promise<void> {
    const now = this.deps.clock.now();
    const outcome = type === 'deployment.succeeded' ? 'success' : 'deploy.failed';
    const audit = this.audit(target.accountId, SYSTEM, 'certplane:Deploy', target.id, outcome, now, jobId);
    const event = eventJob({ accountId: target.accountId, type, subject, occurredAt: now, data }, `${target.id}:${dedupe}`);
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

/** A certificate's chain and its key (opened here, written 0600). */
function certificateFiles(material: DeployMaterial, sealer: Sealer): DeployFile[] {
  const keyPem = sealer.open(material.sealedKey, privateKeyContext(material.keyId));
  return [
    { name: 'fullchain.pem', content: material.chainPem, mode: 0o644 },
    { name: 'privkey.pem', content: withFinalNewline(keyPem), mode: 0o600 },
  ];
}

const withFinalNewline = (pem: string): string => (pem.endsWith('\n') ? pem : `${pem}\n`);

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

/** `deploy.crl`: one client CA deployment; a failure is recorded, then retried by the worker (3 attempts). */
export function deployCrlHandler(deploys: DeployService) {
  return {
    name: DEPLOY_CRL_JOB,
    parse(payload: JsonValue): CrlDeployPayload {
      const p = (payload ?? {}) as Partial<Record<keyof CrlDeployPayload, unknown>>;
      if (typeof p.targetId !== 'string' || typeof p.crlNumber !== 'number') throw new Error('not a deploy.crl payload');
      return { targetId: p.targetId, crlNumber: p.crlNumber };
    },
    async run(payload: CrlDeployPayload, context: { jobId: string; attempt: number; logger: Logger }): Promise<void> {
      const outcome = await deploys.runCrl(payload, context);
      context.logger.info({ target: payload.targetId, crlNumber: payload.crlNumber, outcome }, 'deploy.crl');
    },
  };
}

/** `deploy.crl-scan`: every `everyMs`, a `deploy.crl` wherever a client CA target may not hold its CA's current CRL. */
export function deployCrlScanHandler(deploys: DeployService, clock: Clock, everyMs: number) {
  return {
    name: DEPLOY_CRL_SCAN_JOB,
    parse: (): Record<string, never> => ({}),
    async run(_payload: Record<string, never>): Promise<{ continueAt: Date }> {
      await deploys.scanCrls();
      return { continueAt: new Date(clock.now().getTime() + everyMs) };
    },
  };
}
