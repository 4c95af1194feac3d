import { generateKeyPairSync, randomBytes, randomInt } from 'node:crypto';
import { pino, type Logger as PinoLogger } from 'pino';
import { SqlAccountStore } from './adapters/db/account-store.js';
import { SqlCertificateStore } from './adapters/db/certificate-store.js';
import { databaseLabel, migrate, openDatabase, type Database } from './adapters/db/database.js';
import { checkMasterKey } from './adapters/db/master-key-check.js';
import { AesGcmSealer } from './adapters/crypto/aes-gcm-sealer.js';
import { loadMasterKeys } from './adapters/crypto/master-key.js';
import { SqlAuditLog } from './adapters/db/audit-log.js';
import { SqlIdentityStore } from './adapters/db/identity-store.js';
import { SqlPlanStore } from './adapters/db/plan-store.js';
import { SqlSiteStore } from './adapters/db/site-store.js';
import { SqlPrivateCaStore } from './adapters/db/private-ca-store.js';
import { SqlRevocationStore } from './adapters/db/revocation-store.js';
import { NodeCaSigner } from './adapters/ca/node-signer.js';
import { nodeKeyPairs } from './adapters/crypto/key-pairs.js';
import { signatureThread } from './adapters/crypto/signature-thread.js';
import { NodeDnsResolver } from './adapters/dns/resolver.js';
import { dnsProviderFor } from './adapters/dns/providers.js';
import { AuthoritativeVisibility } from './adapters/dns/visibility.js';
import { SqlJobStore } from './adapters/db/job-store.js';
import { SqlSiteCertificateStore } from './adapters/db/site-certificate-store.js';
import { SqlOrderStore } from './adapters/db/order-store.js';
import { SqlMetricsSource } from './adapters/db/metrics-source.js';
import { PrometheusMetrics } from './adapters/metrics/prometheus.js';
import type { DnsProvider, RecordVisibility } from './core/validation/ports.js';
import { JobRegistry, type JobHandler } from './jobs/handler.js';
import { removeDnsRecord, removeDnsRecordJob } from './jobs/remove-dns-record.js';
import { issueCertificate } from './jobs/issue-certificate.js';
import { CachedAcmeClients } from './adapters/acme/clients.js';
import { SqlIssuanceStore } from './adapters/db/issuance-store.js';
import { certificateKeys } from './adapters/crypto/key-pairs.js';
import { NetworkPlacementChecks } from './adapters/validation/placement-checks.js';
import type { AcmeClients } from './core/acme/ports.js';
import { AcmeAccounts } from './core/issuance/acme-accounts.js';
import { IssuanceEngine, type EngineTiming } from './core/issuance/engine.js';
import type { Http01Tokens, PlacementChecks } from './core/issuance/ports.js';
import { IssuanceService } from './core/issuance/service.js';
import { JobWorker, type WorkerOptions } from './jobs/worker.js';
import { ConfigError, type Config } from './config/config.js';
import type { AuditLog } from './core/audit/ports.js';
import { IdentityService } from './core/identity/service.js';
import { PlansService } from './core/plans/service.js';
import type { DnsResolver } from './core/sites/ports.js';
import { SitesService } from './core/sites/service.js';
import { AccountsService } from './core/accounts/service.js';
import { CertificatesService } from './core/certificates/service.js';
import { SiteCertificatesService } from './core/site-certificates/service.js';
import { PrivateCaService } from './core/private-ca/service.js';
import { OrdersService } from './core/orders/service.js';
import { orderDeadlineHandler } from './core/orders/deadline-job.js';
import { CrlIssuer } from './core/private-ca/crls.js';
import type { RevocationListener } from './core/private-ca/ports.js';
import { OcspResponder } from './core/private-ca/ocsp-responder.js';
import { systemClock, type Clock } from './kernel/clock.js';
import { REDACTED, REDACTED_PATHS } from './kernel/logger.js';
import type { Sealer } from './kernel/sealer.js';
import { IssuerCache, useSignatureWork } from './pki/index.js';
import { randomIds, type IdGenerator } from './kernel/ids.js';
import { cryptoRandom, type Random } from './kernel/random.js';
import { SqlRenewalStore } from './adapters/db/renewal-store.js';
import { RenewalService, renewalScanHandler, renewalScanJob } from './core/renewal/service.js';
import { jobsPurgeJob, purgeJobsHandler } from './jobs/purge-jobs.js';
import { SqlDeployStore } from './adapters/db/deploy-store.js';
import { atomicFiles } from './adapters/files/atomic-files.js';
import { execFileRunner } from './adapters/process/command.js';
import { DeployService, deployCrlHandler, deployCrlScanHandler, deployHandler } from './core/deploy/service.js';
import { deployCrlScanJob } from './core/deploy/model.js';
import { SqlWebhookStore } from './adapters/db/webhook-store.js';
import { SqlExpiryScanStore } from './adapters/db/expiry-scan-store.js';
import { WebhooksService } from './core/webhooks/service.js';
import { deliverWebhook, publishEvent } from './jobs/webhooks.js';
import { expiryScan, type ExpiryScanDeps } from './jobs/expiry-scan.js';

/** Everything a role (api server, CLI command) runs on, built once from the config. */
export interface App {
  config: Config;
  logger: PinoLogger;
  database: Database;
  clock: Clock;
  sealer: Sealer;
  accounts: AccountsService;
  identity: IdentityService;
  plans: PlansService;
  sites: SitesService;
  audit: AuditLog;
  certificates: CertificatesService;
  privateCa: PrivateCaService;
  /** ESA's certificates of a site: free ones applied for through ACME, uploaded and referenced ones. */
  siteCertificates: SiteCertificatesService;
  /** CAS certificate orders and the resource packages they consume. */
  orders: OrdersService;
  /** Each managed CA's CRL (`/pki/crl/{id}.crl`), reissued as revocations change. */
  crls: CrlIssuer;
  /** The managed CAs' OCSP responder (`/pki/ocsp`). */
  ocsp: OcspResponder;
  /** The durable job table: producers enqueue, workers claim. */
  jobs: SqlJobStore;
  /** Handlers the worker role runs, by job name. */
  jobHandlers: JobRegistry;
  /** The `dns01` provider; undefined when none is configured. */
  dns01: DnsProvider | undefined;
  /** Whether a dns-01 record is served by every authoritative server of its zone yet. */
  recordVisibility: RecordVisibility;
  /** ACME issuances as their owners see them: read, cancel (created with `insertIssuanceWith`). */
  issuances: IssuanceService;
  /** Works issuances (the `acme.issue` job). */
  issuanceEngine: IssuanceEngine;
  /** What the http-01 responder serves. */
  http01Tokens: Http01Tokens;
  /** The renewal scan (the `renewal.scan` job) of the free certificates of ESA sites. */
  renewals: RenewalService;
  /** Deploy targets and the `deploy.run` job. */
  deploys: DeployService;
  /** Accounts' webhooks (`certplane webhook`), delivered by `event.publish` and `webhook.deliver`. */
  webhooks: WebhooksService;
  /** What the `expiry.scan` job runs on (its store, queue and settings). */
  expiryScans: ExpiryScanDeps;
  /** This process's Prometheus registry and the scrape-time readers (`GET /metrics`). */
  metrics: PrometheusMetrics;
  close(): Promise<void>;
}

export interface ComposeOptions {
  logger?: PinoLogger;
  clock?: Clock;
  ids?: IdGenerator;
  /** DNS answers for site verification; defaults to the configured resolver. */
  dns?: DnsResolver;
  /** Job handlers besides the built-in ones. */
  jobHandlers?: ReadonlyArray<JobHandler<unknown>>;
  /** The ACME clients (default: one CachedAcmeClients for the process). */
  acme?: AcmeClients;
  /** How the issuance engine waits and polls. */
  issuanceTiming?: Partial<EngineTiming>;
  /** How a user's placement of a challenge proof is checked (default: over the network, http-01 on port 80). */
  placement?: PlacementChecks;
  /** The port a user's http-01 file is fetched from when checked over the network (80; a test CA may look elsewhere). */
  placementHttpPort?: number;
  /** Randomness of the renewal policy (default: node:crypto). */
  random?: Random;
}

/** The composition root: config → adapters → services. Migrations are applied before anything runs. */
export async function compose(config: Config, options: ComposeOptions = {}): Promise<App> {
  const logger =
    options.logger ??
    pino({ level: config.logLevel, base: { service: 'certplane' }, redact: { paths: [...REDACTED_PATHS], censor: REDACTED } });
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? randomIds;
  const sealer = new AesGcmSealer(loadMasterKeys(config.masterKeys, config.dataDir));
  const database = await openReadyDatabase(config, sealer, clock, logger);
  // An owner letting go of an unfinished issuance (a deleted site or certificate) withdraws its challenge records too.
  const withdrawal = { removalJob: removeDnsRecordJob, ids };
  const identityStore = new SqlIdentityStore(database.db);
  const accounts = new AccountsService({
    store: new SqlAccountStore(database),
    clock,
    ids,
    sealer,
    userExists: async (accountId, userId) => (await identityStore.findUser(accountId, userId)) !== undefined,
    regionId: config.regionId,
  });
  const requireAccount = (accountId: string) => accounts.requireAccount(accountId);
  const identity = new IdentityService({
    store: identityStore,
    clock,
    ids,
    requireAccount,
    maxPolicyCharacters: config.limits.policyDocumentCharacters,
    regionId: config.regionId,
  });
  const plans = new PlansService({ store: new SqlPlanStore(database.db), catalogue: config.plans, clock, ids, requireAccount, regionId: config.regionId });
  const sites = new SitesService({
    store: new SqlSiteStore(database.db, withdrawal),
    dns: options.dns ?? new NodeDnsResolver(config.dnsResolver ? { address: config.dnsResolver } : {}),
    clock,
    ids,
    plans,
    nameServers: config.nameServers,
    cnameSuffix: config.cnameSuffix,
    randomIndex: (n) => randomInt(n),
    logger,
    regionId: config.regionId,
  });
  const audit = new SqlAuditLog(database.db, ids);
  const certificates = new CertificatesService({
    store: new SqlCertificateStore(database),
    instances: accounts,
    issuers: new IssuerCache(config.issuerCacheSize),
    clock,
    ids,
    sealer,
    limits: config.limits,
  });
  const privateCaStore = new SqlPrivateCaStore(database, ids);
  // Client certificates' signatures, CSR signatures and new P-256 keys: on a thread of their own.
  useSignatureWork(signatureThread);
  const signer = new NodeCaSigner({ sealer, source: privateCaStore, publicUrl: config.publicUrl });
  const revocationStore = new SqlRevocationStore(database.db);
  const crls = new CrlIssuer({ store: revocationStore, signer, clock, logger, settings: config.clientCa });
  const ocsp = new OcspResponder({ store: revocationStore, signer, clock, settings: config.clientCa });
  const jobs = new SqlJobStore(database, { clock, ids });
  const deploys = new DeployService({
    store: new SqlDeployStore(database.db, ids),
    files: atomicFiles,
    commands: execFileRunner,
    sealer,
    clock,
    ids,
    logger: logger.child({ component: 'deploy' }),
    regionId: config.regionId,
    requireAccount,
    crls,
    jobs,
    enqueued: () => jobs.announce(),
  });
  // After a revoke or an activate: the CRL is reissued, then written to the CA's deploy targets.
  const revocation: RevocationListener = {
    revocationChanged: async (change) => {
      await crls.revocationChanged(change);
      try {
        await deploys.crlChanged(change.caId);
      } catch (err) {
        logger.warn({ err, caId: change.caId }, "the new CRL could not be queued for its CA's deploy targets; the next deploy.crl-scan queues it");
      }
    },
    caCreated: (caId) => crls.caCreated(caId),
  };
  const privateCa = new PrivateCaService({
    store: privateCaStore,
    signer,
    keys: nodeKeyPairs,
    sites,
    plans,
    sealer,
    clock,
    ids,
    logger,
    settings: config.clientCa,
    limits: config.limits,
    regionId: config.regionId,
    revocation,
    announce: () => jobs.announce(),
  });
  const orders = new OrdersService({
    store: new SqlOrderStore(database.db),
    clock,
    ids,
    sealer,
    products: config.products,
    issuers: config.issuers,
    deadlineHours: config.casValidationDeadlineHours,
    requireAccount,
    regionId: config.regionId,
  });
  const dns01 = config.dns01 && dnsProviderFor(config.dns01, clock);
  const resolver = new NodeDnsResolver(config.dnsResolver ? { address: config.dnsResolver } : {});
  const recordVisibility = new AuthoritativeVisibility({
    resolver,
    clock,
    intervalMs: config.dns01Propagation.intervalMs,
    port: config.dns01Propagation.nameServerPort,
  });
  const siteCertificates = new SiteCertificatesService({
    store: new SqlSiteCertificateStore(database.db, withdrawal, () => jobs.announce()),
    sites,
    plans,
    inventory: certificates,
    issuers: config.issuers,
    clock,
    ids,
    regionId: config.regionId,
    maxRecords: config.limits.domains,
  });
  const metrics = new PrometheusMetrics(new SqlMetricsSource(database.db), clock);
  const ownAcme = options.acme ? undefined : new CachedAcmeClients();
  const acme = options.acme ?? ownAcme!;
  const issuanceStore = new SqlIssuanceStore(database.db, ids);
  const issuances = new IssuanceService({ store: issuanceStore, clock, sealer, removalJob: removeDnsRecordJob, metrics });
  const random = options.random ?? cryptoRandom;
  const acmeAccounts = new AcmeAccounts({ store: issuanceStore, acme, sealer, clock, ids, newAccountKey });
  const issuanceEngine = new IssuanceEngine({
    store: issuanceStore,
    accounts: acmeAccounts,
    issuers: config.issuers,
    dns01,
    visibility: recordVisibility,
    placement:
      options.placement ??
      new NetworkPlacementChecks({
        visibility: recordVisibility,
        clock,
        httpPort: options.placementHttpPort,
        // A user's site is found through the resolver the operator set, as their TXT records are.
        addresses: config.dnsResolver ? (host) => resolver.resolveAddresses(host) : undefined,
      }),
    keys: certificateKeys,
    sealer,
    clock,
    ids,
    removalJob: removeDnsRecordJob,
    metrics,
    logger: logger.child({ component: 'issuance' }),
    timing: { propagationTimeoutMs: config.dns01Propagation.timeoutSeconds * 1000, ...options.issuanceTiming },
    random,
  });
  const renewals = new RenewalService({
    store: new SqlRenewalStore(database.db),
    accounts: acmeAccounts,
    issuers: config.issuers,
    clock,
    ids,
    random,
    logger: logger.child({ component: 'renewal' }),
    started: () => jobs.announce(),
  });
  const webhooks = new WebhooksService({
    store: new SqlWebhookStore(database.db),
    clock,
    ids,
    sealer,
    requireAccount,
    newSecret: () => randomBytes(32).toString('hex'),
    regionId: config.regionId,
  });
  const expiryScans: ExpiryScanDeps = {
    store: new SqlExpiryScanStore(database.db, ids),
    jobs,
    clock,
    expiringDays: config.expiringDays,
    periodMinutes: config.expiryScanMinutes,
    announce: () => jobs.announce(),
  };
  const jobHandlers = new JobRegistry([
    ...(dns01 ? [removeDnsRecord(dns01)] : []),
    issueCertificate(issuanceEngine),
    orderDeadlineHandler(orders) as JobHandler<unknown>,
    renewalScanHandler(renewals, clock, config.renewalScanMinutes * 60_000) as JobHandler<unknown>,
    deployHandler(deploys) as JobHandler<unknown>,
    deployCrlHandler(deploys) as JobHandler<unknown>,
    // An eighth of a CRL's life, at most an hour: a CRL is reissued with half of it left.
    deployCrlScanHandler(deploys, clock, Math.min(3_600_000, (config.clientCa.crlValidityHours * 3_600_000) / 8)) as JobHandler<unknown>,
    publishEvent({ webhooks, jobs, maxAttempts: config.webhookMaxAttempts }) as JobHandler<unknown>,
    deliverWebhook({ webhooks, clock, timeoutMs: config.webhookTimeoutSeconds * 1000 }) as JobHandler<unknown>,
    expiryScan(expiryScans) as JobHandler<unknown>,
    purgeJobsHandler({ jobs, clock, retentionDays: config.jobRetentionDays }) as JobHandler<unknown>,
    ...(options.jobHandlers ?? []),
  ]);
  return {
    config,
    logger,
    database,
    clock,
    sealer,
    accounts,
    identity,
    plans,
    sites,
    audit,
    certificates,
    privateCa,
    siteCertificates,
    orders,
    crls,
    ocsp,
    jobs,
    jobHandlers,
    dns01,
    recordVisibility,
    issuances,
    issuanceEngine,
    http01Tokens: issuanceStore,
    renewals,
    deploys,
    webhooks,
    expiryScans,
    metrics,
    close: async () => {
      ownAcme?.close();
      await database.close();
    },
  };
}

/** A P-256 key for a new ACME account, PKCS#8 PEM. */
function newAccountKey(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** The worker role over the app's job table and handlers; jobs enqueued in this process wake it at once. */
export function createWorker(app: App, options: Partial<WorkerOptions> = {}): JobWorker {
  const worker = new JobWorker({
    leases: app.jobs,
    registry: app.jobHandlers,
    clock: app.clock,
    logger: app.logger.child({ role: 'worker' }),
    concurrency: app.config.workerConcurrency,
    ...options,
  });
  app.jobs.onEnqueue(() => worker.wake());
  // Recurring work: exactly one job row each, whichever process starts first.
  app.jobs.ensureRecurring(renewalScanJob).catch((err: unknown) => app.logger.warn({ err }, 'cannot enqueue the renewal scan; it is tried again at the next start'));
  app.jobs.ensureRecurring(jobsPurgeJob).catch((err: unknown) => app.logger.warn({ err }, 'cannot enqueue the purge of finished jobs; it is tried again at the next start'));
  app.jobs.ensureRecurring(deployCrlScanJob).catch((err: unknown) => app.logger.warn({ err }, 'cannot enqueue the scan of client CA deploy targets; it is tried again at the next start'));
  return worker;
}

/**
 * Opens and migrates the database, then proves the master key opens what it holds. Every failure
 * here is the operator's to fix, so it stops start-up with one line naming the setting.
 */
async function openReadyDatabase(config: Config, sealer: AesGcmSealer, clock: Clock, logger: PinoLogger): Promise<Database> {
  const label = databaseLabel(config.database);
  const setting = config.database.kind === 'postgres' ? 'DATABASE_URL' : 'DATABASE_URL (or CERTPLANE_DATA_DIR)';
  let database: Database;
  try {
    database = openDatabase(config.database, (err) => logger.warn({ err }, 'database connection lost'));
  } catch (err) {
    throw new ConfigError([`${setting}: cannot open ${label}: ${(err as Error).message}`], 'cannot start');
  }
  try {
    const applied = await migrate(database.db);
    if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
  } catch (err) {
    await database.close();
    if (!isConnectionFailure(err)) throw err;
    throw new ConfigError([`${setting}: cannot open ${label}: ${(err as Error).message}`], 'cannot start');
  }
  const mismatch = await checkMasterKey(database.db, sealer, clock.now()).catch(async (err: unknown) => {
    await database.close();
    throw err;
  });
  if (mismatch) {
    await database.close();
    const given = config.masterKeys.length > 0
      ? 'CERTPLANE_MASTER_KEY'
      : `CERTPLANE_MASTER_KEY is not set, so the key in ${config.dataDir}/master.key was used, and it`;
    throw new ConfigError(
      [
        `${given} cannot open the data already sealed in ${label} (${mismatch.what} was sealed under master key ` +
          `${mismatch.keyId ?? '?'}; the keyring holds ${sealer.keyIds.join(', ')}). Set CERTPLANE_MASTER_KEY to the key ` +
          'that sealed it (when rotating, NEW,OLD until `certplane master-key reseal` has run).',
      ],
      'cannot start',
    );
  }
  return database;
}

/** The database could not be reached or opened at all (as opposed to a failing statement). */
function isConnectionFailure(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|28P01|28000|3D000|SQLITE_CANTOPEN|SQLITE_NOTADB|EACCES)$/.test(code);
}
