/**
 * certplane as its users run it, obtaining free certificates for real: `certplane serve` processes
 * (the real binary) with CERTPLANE_ACME_DIRECTORY and CERTPLANE_ACME_CA_BUNDLE pointed at Debian's
 * pebble, their http-01 responder on the port pebble's VA connects to, dns-01 through RFC 2136
 * (TSIG) to a BIND 9 the test starts, which pebble resolves every name through, and which holds the
 * zone of the nameserver pool NS-mode sites draw their pairs from (every pool name at 127.0.0.1) and
 * each site's zone. Accounts, keys and plans are made as the CLI makes them; everything else goes
 * through the official ESA SDK.
 */
import { Resolver } from 'node:dns/promises';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { sql } from 'kysely';
import { pino } from 'pino';
import { openDatabase, type Database } from '../../src/adapters/db/database.js';
import { loadConfig } from '../../src/config/config.js';
import { compose } from '../../src/main.js';
import { Esa, esaClient } from './alibaba.js';
import { startBind, type BindRecord, type BindServer } from './bind.js';
import { freePort, serve, type ServeProcess } from './cli.js';
import { ENGINES, createTestDatabase, type Engine, type TestDatabase } from './databases.js';
import { inspectCert } from './openssl.js';
import { startPebble, type PebbleServer } from './pebble.js';

export { Esa };
export type EsaClient = ReturnType<typeof esaClient>;

export interface AcmeWorld {
  bind: BindServer;
  pebble: PebbleServer;
  /** The port pebble's VA connects to for http-01: a server's CERTPLANE_HTTP01_LISTEN. */
  httpPort: number;
  /**
   * A fresh database and the settings of the servers on it. `pool` names its own nameserver pool
   * (`ns1…ns4.{pool}`, a zone of its own in BIND), so deployments running at once can each change
   * theirs.
   */
  deployment(engine: Engine, options?: { pool?: string; logLevel?: string }): Promise<Deployment>;
  /** Ids of the orders pebble has made so far (its `Added order` log lines), in order. */
  orders(): string[];
  stop(): Promise<void>;
}

export interface Deployment {
  engine: Engine;
  testDb: TestDatabase;
  /** The environment of CLI commands and servers on this database. */
  env: Record<string, string>;
  /** The nameserver pool's zone and names. */
  pool: { zone: string; names: string[] };
  /**
   * An outage of these pool names: they resolve to 127.0.0.2, where no DNS server answers, so a
   * record published in a zone they serve is never seen there. `[]` ends it.
   */
  nameServersDown(names: string[]): Promise<void>;
  /** The database, opened by the test to look at what the servers stored (once a server or command made it). */
  readonly database: Database;
  /** `certplane serve`, with the http-01 responder on the world's http port unless `http01` is false. */
  serve(options?: { http01?: boolean; env?: Record<string, string> }): Promise<ServeProcess>;
  /** An account with an access key and an enterprise plan instance (the first one creates and migrates the database). */
  tenant(name?: string, options?: { keys?: number }): Promise<Tenant>;
  drop(): Promise<void>;
}

export interface Tenant {
  accountId: string;
  /** The first of `keys`. */
  key: { accessKeyId: string; accessKeySecret: string };
  /** The account's access keys (one unless more were asked for). */
  keys: Array<{ accessKeyId: string; accessKeySecret: string }>;
  instanceId: string;
  /** The official ESA SDK, signed with the tenant's key, pointed at `server`. */
  esa(server: ServeProcess): EsaClient;
}

export interface Site {
  siteId: number;
  siteName: string;
  /** NS mode: the pair the site was given. */
  nameServers: string[];
}

export async function startAcmeWorld(): Promise<AcmeWorld> {
  const bind = await startBind();
  let pebble: PebbleServer | undefined;
  try {
    const httpPort = await freePort();
    pebble = await startPebble({ dnsServer: bind.address, httpPort });
    const ready = pebble;
    return {
      bind,
      pebble,
      httpPort,
      deployment: (engine, options) => deploymentOf(bind, ready, httpPort, engine, options),
      orders: () => [...ready.log().matchAll(/Added order "([^"]+)" to the db/g)].map((m) => m[1]!),
      stop: async () => {
        await ready.stop();
        await bind.stop();
      },
    };
  } catch (err) {
    await pebble?.stop();
    await bind.stop();
    throw err;
  }
}

async function deploymentOf(bind: BindServer, pebble: PebbleServer, httpPort: number, engine: Engine, options: { pool?: string; logLevel?: string } = {}): Promise<Deployment> {
  const testDb = await createTestDatabase(engine);
  const zone = options.pool ?? `pool-${engine}.certplane-e2e.test`;
  const names = [1, 2, 3, 4].map((n) => `ns${n}.${zone}`);
  const poolRecords = (down: string[]) => names.map((name): BindRecord => ({ name, type: 'A', value: down.includes(name) ? '127.0.0.2' : '127.0.0.1' }));
  await bind.addZone(zone, poolRecords([]));
  const config = join(testDb.dataDir, 'certplane.json');
  writeFileSync(
    config,
    JSON.stringify({
      nameServers: names,
      dns01: { provider: 'rfc2136', server: bind.address, tsigKeyName: bind.tsig.name, tsigAlgorithm: bind.tsig.algorithm, tsigSecret: bind.tsig.secret },
      dns01NameServerPort: bind.port,
      dns01PropagationIntervalMs: 50,
      dns01PropagationTimeoutSeconds: 60,
    }),
  );
  const env: Record<string, string> = {
    CERTPLANE_DATA_DIR: testDb.dataDir,
    DATABASE_URL: testDb.url,
    CERTPLANE_CONFIG: config,
    CERTPLANE_MASTER_KEY: '',
    CERTPLANE_ACME_DIRECTORY: pebble.directoryUrl,
    CERTPLANE_ACME_CA_BUNDLE: pebble.caBundlePath,
    CERTPLANE_DNS_RESOLVER: bind.address,
    CERTPLANE_LOG_LEVEL: options.logLevel ?? 'warn',
  };
  const servers: ServeProcess[] = [];
  let database: Database | undefined;
  return {
    engine,
    testDb,
    env,
    pool: { zone, names },
    nameServersDown: (down) => bind.setRecords(zone, poolRecords(down)),
    // Opened once a command or server has created (and migrated) the database.
    get database() {
      database ??= openDatabase(testDb.database);
      return database;
    },
    serve: async ({ http01 = true, env: extra = {} } = {}) => {
      const server = await serve({ ...env, CERTPLANE_HTTP01_LISTEN: http01 ? `127.0.0.1:${httpPort}` : 'off', ...extra });
      servers.push(server);
      return server;
    },
    tenant: async (name = 'e2e', options = {}) => {
      // What `certplane account create`, `key create` and `plan grant` do, through the same services
      // in this process: three CLI processes would cost seconds of start-up each.
      const app = await compose(loadConfig({ env }), { logger: pino({ level: 'silent' }) });
      try {
        const account = await app.accounts.createAccount(name);
        const keys = [];
        for (let i = 0; i < Math.max(1, options.keys ?? 1); i++) {
          const made = await app.accounts.createAccessKey(account.id);
          keys.push({ accessKeyId: made.key.id, accessKeySecret: made.secret });
        }
        const instance = await app.plans.grant(account.id, 'enterprise');
        const key = keys[0]!;
        return { accountId: account.id, key, keys, instanceId: instance.id, esa: (server) => esaClient(server.baseUrl.replace('http://', ''), key) };
      } finally {
        await app.close();
      }
    },
    drop: async () => {
      await Promise.all(servers.map((server) => stopped(server)));
      await database?.close();
      await testDb.drop();
      await bind.removeZone(zone);
    },
  };
}

/** What the tests of one engine share: a deployment, its tenant, a running server and a site. */
export interface ServedSite {
  world: AcmeWorld;
  deployment: Deployment;
  tenant: Tenant;
  server: ServeProcess;
  /** The tenant's SDK pointed at the server. */
  esa: EsaClient;
  site: Site;
}

/**
 * `describe(title)` with one AcmeWorld for all its tests and, per engine, a `describe('on ENGINE')`
 * whose tests share a ServedSite: a deployment, a tenant (with `keys` access keys), `certplane serve`
 * (http-01 responder on unless `http01` is false) and the site `makeSite` makes. `tests` reads it through `current()`
 * once the tests run.
 */
export function describeServedSites(
  title: string,
  options: { http01?: boolean; keys?: number; makeSite: (made: Omit<ServedSite, 'site'>, engine: Engine) => Promise<Site> },
  tests: (current: () => ServedSite, engine: Engine) => void,
): void {
  describe(title, () => {
    let world: AcmeWorld | undefined;
    before(async () => {
      world = await startAcmeWorld();
    });
    after(async () => {
      await world?.stop();
    });
    for (const engine of ENGINES) {
      describe(`on ${engine}`, () => {
        let served: ServedSite | undefined;
        let deployment: Deployment | undefined;
        before(async () => {
          deployment = await world!.deployment(engine);
          const tenant = await deployment.tenant('e2e', { keys: options.keys ?? 1 });
          const server = await deployment.serve({ http01: options.http01 ?? true });
          const made = { world: world!, deployment, tenant, server, esa: tenant.esa(server) };
          served = { ...made, site: await options.makeSite(made, engine) };
        });
        after(async () => {
          await deployment?.drop();
        });
        tests(() => served!, engine);
      });
    }
  });
}

/** SIGTERM, and SIGKILL when the server has not exited 10 s later; resolves once it has (at once if it had). */
export async function stopped(server: ServeProcess): Promise<void> {
  server.kill('SIGTERM');
  const force = setTimeout(() => server.kill('SIGKILL'), 10_000);
  await server.exited;
  clearTimeout(force);
}

/**
 * A CNAME-mode site made and verified as a user does: CreateSite, the VerifyCode placed at
 * `_esaauth.{site}` in BIND beside `records`, VerifySite.
 */
export async function cnameSite(esa: EsaClient, bind: BindServer, tenant: Tenant, siteName: string, records: BindRecord[]): Promise<Site> {
  const created = (await esa.createSite(new Esa.CreateSiteRequest({ siteName, accessType: 'CNAME', coverage: 'global', instanceId: tenant.instanceId }))).body!;
  await bind.addZone(siteName, [...records, { name: '_esaauth', type: 'TXT', value: created.verifyCode! }]);
  await verified(esa, created.siteId!);
  return { siteId: created.siteId!, siteName, nameServers: [] };
}

/** An NS-mode site: CreateSite, its zone in BIND delegated to exactly the pair it was given (with `records`), VerifySite. */
export async function nsSite(esa: EsaClient, bind: BindServer, tenant: Tenant, siteName: string, records: BindRecord[]): Promise<Site> {
  const created = (await esa.createSite(new Esa.CreateSiteRequest({ siteName, accessType: 'NS', coverage: 'global', instanceId: tenant.instanceId }))).body!;
  const nameServers = created.nameServerList!.split(',');
  await bind.addZone(siteName, [...nameServers.map((value): BindRecord => ({ name: '@', type: 'NS', value })), ...records]);
  await verified(esa, created.siteId!);
  return { siteId: created.siteId!, siteName, nameServers };
}

async function verified(esa: EsaClient, siteId: number): Promise<void> {
  const answer = (await esa.verifySite(new Esa.VerifySiteRequest({ siteId }))).body!;
  if (answer.passed !== true) throw new Error(`VerifySite did not pass for site ${siteId}`);
  const site = (await esa.getSite(new Esa.GetSiteRequest({ siteId }))).body!.siteModel!;
  if (site.status !== 'active') throw new Error(`site ${siteId} is ${site.status} after VerifySite`);
}

export type CertificateView = NonNullable<Awaited<ReturnType<EsaClient['getCertificate']>>['body']>;

/** GetCertificate until the certificate is no longer `Applying`. */
export async function settled(esa: EsaClient, siteId: number, id: string, timeoutMs = 45_000): Promise<CertificateView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = (await esa.getCertificate(new Esa.GetCertificateRequest({ siteId, id }))).body!;
    if (got.status !== 'Applying') return got;
    if (Date.now() > deadline) throw new Error(`certificate ${id} still applying after ${timeoutMs} ms: ${JSON.stringify(got.result)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The TXT values BIND serves at `name` (none: []). */
export async function txtAt(bind: BindServer, name: string): Promise<string[]> {
  const resolver = new Resolver({ timeout: 500, tries: 2 });
  resolver.setServers([bind.address]);
  try {
    return (await resolver.resolveTxt(name)).map((parts) => parts.join(''));
  } catch (err) {
    if (['ENODATA', 'ENOTFOUND'].includes((err as { code?: string }).code ?? '')) return [];
    throw err;
  }
}

/** The issuance row behind a site's free certificate. */
export async function issuanceBehind(database: Database, certificateId: string) {
  const row = await database.db.selectFrom('site_certificates').select('issuance_id').where('id', '=', certificateId).executeTakeFirstOrThrow();
  return database.db.selectFrom('acme_issuances').selectAll().where('id', '=', row.issuance_id!).executeTakeFirstOrThrow();
}

/** `2024-03-31 02:08:00`, as the site-certificate actions show times (UTC). */
const apiTime = (at: Date) => at.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, '');

/** One attribute of an RFC 2253 name as openssl prints it (`CN=x,O=y`), or undefined. */
function attribute(name: string, type: string): string | undefined {
  return new RegExp(`(?:^|,)${type}=((?:[^,\\\\]|\\\\.)*)`).exec(name)?.[1];
}

/**
 * What openssl reads from the leaf of an issued chain, spelled as GetCertificate and
 * ListCertificates answer it: to compare with what they said.
 */
export function opensslFacts(chainPem: string) {
  const leaf = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/.exec(chainPem)?.[0];
  if (!leaf) throw new Error('no certificate in the chain');
  const view = inspectCert(`${leaf}\n`);
  return {
    serialNumber: view.serialHex.toLowerCase(),
    commonName: attribute(view.subject, 'CN') ?? '',
    SAN: view.subjectAltName.map((entry) => entry.replace(/^DNS:/, '')).join(','),
    issuer: attribute(view.issuer, 'O') ?? attribute(view.issuer, 'CN'),
    issuerCN: attribute(view.issuer, 'CN') ?? '',
    notBefore: apiTime(view.notBefore),
    notAfter: apiTime(view.notAfter),
    fingerprintSha256: view.fingerprintSha256,
    pubAlg: PUBLIC_KEY_ALGORITHMS[/Public Key Algorithm: (\S+)/.exec(view.text)?.[1] ?? ''] ?? 'unknown',
    sigAlg: SIGNATURE_ALGORITHMS[view.signatureAlgorithm] ?? view.signatureAlgorithm,
  };
}

/** OpenSSL's names of the algorithms pebble's leaves carry, as the API spells them. */
const PUBLIC_KEY_ALGORITHMS: Record<string, string> = { 'id-ecPublicKey': 'ECDSA', rsaEncryption: 'RSA' };
const SIGNATURE_ALGORITHMS: Record<string, string> = { sha256WithRSAEncryption: 'SHA256-RSA', 'ecdsa-with-SHA256': 'ECDSA-SHA256' };

/** The same fields of a GetCertificate or ListCertificates item. */
export function answeredFacts(item: {
  serialNumber?: string;
  commonName?: string;
  SAN?: string;
  issuer?: string;
  issuerCN?: string;
  notBefore?: string;
  notAfter?: string;
  fingerprintSha256?: string;
  pubAlg?: string;
  sigAlg?: string;
}) {
  return {
    serialNumber: item.serialNumber,
    commonName: item.commonName,
    SAN: item.SAN,
    issuer: item.issuer,
    issuerCN: item.issuerCN,
    notBefore: item.notBefore,
    notAfter: item.notAfter,
    fingerprintSha256: item.fingerprintSha256,
    pubAlg: item.pubAlg,
    sigAlg: item.sigAlg,
  };
}

/** One write of a `jobs` row, as the test's trigger saw it (`old*` undefined for the insert). */
export interface JobWrite {
  jobId: string;
  name: string;
  oldState: string | undefined;
  newState: string;
  oldOwner: string | undefined;
  newOwner: string | undefined;
  oldAttempts: number | undefined;
  newAttempts: number;
  oldLeaseExpiresAt: string | undefined;
  /** The writer's clock (`updated_at` it wrote). */
  at: string;
}

const HISTORY_COLUMNS = 'job_id, name, old_state, new_state, old_owner, new_owner, old_attempts, new_attempts, old_lease_expires_at, at';

/**
 * Records every insert and update of the `jobs` table, in the order the database applied them, in a
 * `test_job_history` table of the test's own: the run log of each job (who claimed it, on which
 * attempt, and what each holder wrote). Install it once the database is migrated.
 */
export async function recordJobHistory(database: Database): Promise<void> {
  const statements =
    database.kind === 'postgres'
      ? [
          `create table test_job_history (seq bigserial primary key, job_id text, name text, old_state text, new_state text, old_owner text, new_owner text, old_attempts integer, new_attempts integer, old_lease_expires_at text, at text)`,
          `create function test_record_job_write() returns trigger language plpgsql as $$ begin
             if tg_op = 'INSERT' then
               insert into test_job_history (${HISTORY_COLUMNS}) values (new.id, new.name, null, new.state, null, new.lease_owner, null, new.attempts, null, new.updated_at);
             else
               insert into test_job_history (${HISTORY_COLUMNS}) values (new.id, new.name, old.state, new.state, old.lease_owner, new.lease_owner, old.attempts, new.attempts, old.lease_expires_at, new.updated_at);
             end if;
             return null;
           end $$`,
          `create trigger test_job_history after insert or update on jobs for each row execute function test_record_job_write()`,
        ]
      : [
          `create table test_job_history (seq integer primary key autoincrement, job_id text, name text, old_state text, new_state text, old_owner text, new_owner text, old_attempts integer, new_attempts integer, old_lease_expires_at text, at text)`,
          `create trigger test_job_history_insert after insert on jobs begin
             insert into test_job_history (${HISTORY_COLUMNS}) values (new.id, new.name, null, new.state, null, new.lease_owner, null, new.attempts, null, new.updated_at);
           end`,
          `create trigger test_job_history_update after update on jobs begin
             insert into test_job_history (${HISTORY_COLUMNS}) values (new.id, new.name, old.state, new.state, old.lease_owner, new.lease_owner, old.attempts, new.attempts, old.lease_expires_at, new.updated_at);
           end`,
        ];
  for (const statement of statements) await sql.raw(statement).execute(database.db);
}

/** What recordJobHistory recorded, oldest first. */
export async function jobHistory(database: Database): Promise<JobWrite[]> {
  const { rows } = await sql.raw<Record<string, string | number | null>>(`select ${HISTORY_COLUMNS} from test_job_history order by seq`).execute(database.db);
  const text = (value: string | number | null | undefined) => (value === null || value === undefined ? undefined : String(value));
  return rows.map((r) => ({
    jobId: String(r.job_id),
    name: String(r.name),
    oldState: text(r.old_state),
    newState: String(r.new_state),
    oldOwner: text(r.old_owner),
    newOwner: text(r.new_owner),
    oldAttempts: r.old_attempts === null ? undefined : Number(r.old_attempts),
    newAttempts: Number(r.new_attempts),
    oldLeaseExpiresAt: text(r.old_lease_expires_at),
    at: String(r.at),
  }));
}

/** The writes that claimed a job: it became `running` under a new holder or a new attempt. */
export function claimsIn(history: JobWrite[]): JobWrite[] {
  return history.filter((w) => w.newState === 'running' && (w.oldState !== 'running' || w.oldOwner !== w.newOwner || w.oldAttempts !== w.newAttempts));
}

/** The process id in a lease owner (`host:pid:random`). */
export function pidOf(owner: string | undefined): number {
  return Number(owner?.split(':').at(-2));
}
