/**
 * `npm run bench -- inventory [--postgres] [--samples N]`
 *
 * certplane at 100,000 certificates of mixed origin (bench/_inventory-load.ts: APIG and CAS uploads
 * in the inventory, another account's certificates, ESA site certificates uploaded and free, client
 * certificates, CAS orders), loaded into a fresh database by bulk SQL, then ANALYZE (and VACUUM on
 * PostgreSQL, as autovacuum would) before anything is measured. `certplane serve` runs as its own
 * process; requests come one at a time from this one, each signed anew (ACS3 for ESA, the Huawei SDK's
 * AK/SK signer for APIG). It prints, in one run:
 *
 * - ESA `ListCertificates` and the APIG certificate list, p50/p99 over real signed requests: the first,
 *   a middle and the last page, a keyword, and the filters that exist (ValidOnly);
 * - the same lists through a plain SQL query on the same database (the reference: what the database
 *   alone costs for the naive statement);
 * - one full expiry/renewal scan through the scans' own code (`scans()` below);
 * - `/metrics` render time (100,000 expiry samples), plain and gzipped.
 *
 * Targets: list p99 < 50 ms, scan < 1 s. Exits 1 when a request failed or answered the wrong total,
 * else 0 (a missed target is printed, not an exit code: the figures are the result).
 */
import { cpus, loadavg } from 'node:os';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { pino } from 'pino';
import { AesGcmSealer } from '../src/adapters/crypto/aes-gcm-sealer.js';
import { EXPIRY_WATERMARK } from '../src/adapters/db/expiry-scan-store.js';
import { SqlRenewalStore } from '../src/adapters/db/renewal-store.js';
import { loadConfig } from '../src/config/config.js';
import { crossingJob } from '../src/core/events/expiry-scan.js';
import { compose } from '../src/main.js';
import { loadMasterKeys } from '../src/adapters/crypto/master-key.js';
import { Esa, esaClient, send, type RecordedRequest } from '../test/support/alibaba.js';
import { signAcs3 } from '../test/support/acs3.js';
import { signRaw } from '../test/support/huawei.js';
import { makeChain } from '../test/support/openssl.js';
import { cleanup, cliFields, fmt, parseOptions, runBench, setUpDatabase, startServer, stopServer } from './_harness.js';
import { loadInventory, type Loaded } from './_inventory-load.js';
import { ESA_VERSION } from './_requests.js';

/** Requests per list (`--samples N`), after a tenth as many unmeasured. */
let SAMPLES = 100;
let WARMUP = 10;
/** Plain SQL runs per list. */
const SQL_SAMPLES = 50;
const PAGE = 20;
const TARGET_LIST_P99_MS = 50;
const TARGET_SCAN_MS = 1000;
/** How far ahead a certificate counts as expiring (the statuses' default). */
const EXPIRING_DAYS = 30;

interface Credentials {
  accessKeyId: string;
  accessKeySecret: string;
  projectId: string;
}

interface Figures {
  p50: number;
  p99: number;
  max: number;
}

function percentiles(samples: number[]): Figures {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1]! };
}

/** Times `run` WARMUP + SAMPLES times in a row and keeps the last SAMPLES. */
async function timeIt(run: () => Promise<void>, samples = SAMPLES, warmup = WARMUP): Promise<Figures> {
  const times: number[] = [];
  for (let i = 0; i < warmup + samples; i++) {
    const t0 = performance.now();
    await run();
    if (i >= warmup) times.push(performance.now() - t0);
  }
  return percentiles(times);
}

// ---------------------------------------------------------------- the plain SQL reference

interface Sql {
  all(text: string, params: unknown[]): Promise<unknown[]>;
  close(): Promise<void>;
}

async function openSql(engine: 'sqlite' | 'postgres', url: string): Promise<Sql> {
  if (engine === 'sqlite') {
    const db = new SQLite(url.replace(/^sqlite:/, ''), { readonly: true });
    db.pragma('cache_size = -65536');
    db.pragma('mmap_size = 268435456');
    const cache = new Map<string, SQLite.Statement>();
    return {
      all: async (text, params) => {
        let statement = cache.get(text);
        if (!statement) cache.set(text, (statement = db.prepare(text)));
        return statement.all(...params);
      },
      close: async () => {
        db.close();
      },
    };
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    all: async (text, params) => {
      let n = 0;
      return (await client.query(text.replace(/\?/g, () => `$${++n}`), params)).rows;
    },
    close: () => client.end(),
  };
}

// ---------------------------------------------------------------- cases

interface ListCase {
  label: string;
  /** The signed request, made anew each time. */
  request: () => RecordedRequest;
  /** Checks the answer: the right total and a full page. */
  check: (json: Record<string, unknown>) => string | undefined;
  /** The same list as plain SQL: count and page. */
  reference: Array<{ text: string; params: unknown[] }>;
}

const LIKE = (text: string) => `%${text.toLowerCase()}%`;

function esaCases(port: number, credentials: Credentials, siteNumber: number, ids: Ids, loaded: Loaded, validTotal: number): ListCase[] {
  const host = `127.0.0.1:${port}`;
  const lastPage = Math.ceil(loaded.siteListed / PAGE);
  const make = (query: Record<string, string>) => () => {
    const signed = signAcs3({ method: 'GET', host, action: 'ListCertificates', version: ESA_VERSION, query: { SiteId: String(siteNumber), PageSize: String(PAGE), ...query } }, credentials);
    return { method: signed.method, url: signed.url, headers: signed.headers, body: signed.body };
  };
  const expect = (total: number | undefined) => (json: Record<string, unknown>) => {
    if (total !== undefined && json.TotalCount !== total) return `TotalCount ${String(json.TotalCount)}, expected ${total}`;
    if (!Array.isArray(json.Result) || json.Result.length === 0) return 'empty Result';
    return undefined;
  };
  const from = `FROM site_certificates sc LEFT JOIN acme_issuances i ON i.id = sc.issuance_id LEFT JOIN certificates c ON c.id = sc.certificate_id
    WHERE sc.account_id = ? AND sc.site_id = ?`;
  const page = (offset: number, where = '', params: unknown[] = []) => [
    { text: `SELECT count(*) AS n ${from}${where}`, params: [ids.accountId, ids.siteId, ...params] },
    { text: `SELECT sc.*, i.state, i.common_name, i.not_after, c.common_name, c.not_after ${from}${where} ORDER BY sc.created_at DESC, sc.id LIMIT ${PAGE} OFFSET ${offset}`, params: [ids.accountId, ids.siteId, ...params] },
  ];
  const keyword = ` AND (lower(sc.name) LIKE ? OR lower(sc.domain) LIKE ? OR lower(i.san) LIKE ? OR lower(c.san) LIKE ? OR lower(i.common_name) LIKE ? OR lower(c.common_name) LIKE ?)`;
  const now = new Date().toISOString();
  const valid = ` AND ((sc.type = 'free' AND i.state = 'valid' AND i.not_after > ?) OR (sc.type <> 'free' AND c.not_after > ?))`;
  return [
    { label: 'ESA ListCertificates page 1', request: make({}), check: expect(loaded.siteListed), reference: page(0) },
    { label: `ESA ListCertificates page ${Math.ceil(lastPage / 2)} (middle)`, request: make({ PageNumber: String(Math.ceil(lastPage / 2)) }), check: expect(loaded.siteListed), reference: page((Math.ceil(lastPage / 2) - 1) * PAGE) },
    { label: `ESA ListCertificates page ${lastPage} (last)`, request: make({ PageNumber: String(lastPage) }), check: expect(loaded.siteListed), reference: page((lastPage - 1) * PAGE) },
    { label: `ESA ListCertificates Keyword=${loaded.rareKeyword}`, request: make({ Keyword: loaded.rareKeyword }), check: expect(undefined), reference: page(0, keyword, Array(6).fill(LIKE(loaded.rareKeyword))) },
    { label: 'ESA ListCertificates ValidOnly page 1', request: make({ ValidOnly: 'true' }), check: expect(validTotal), reference: page(0, valid, [now, now]) },
    {
      label: 'ESA ListCertificates ValidOnly last page',
      request: make({ ValidOnly: 'true', PageNumber: String(Math.ceil(validTotal / PAGE)) }),
      check: expect(validTotal),
      reference: page((Math.ceil(validTotal / PAGE) - 1) * PAGE, valid, [now, now]),
    },
  ];
}

function apigCases(port: number, credentials: Credentials, ids: Ids, loaded: Loaded): ListCase[] {
  const base = `http://127.0.0.1:${port}`;
  const aksk = { ak: credentials.accessKeyId, sk: credentials.accessKeySecret, projectId: credentials.projectId };
  const make = (query: Record<string, string>) => () =>
    signRaw(base, aksk, { method: 'GET', path: `/v2/${credentials.projectId}/apigw/certificates`, query: { limit: String(PAGE), ...query } });
  const expect = (total: number | undefined) => (json: Record<string, unknown>) => {
    if (total !== undefined && json.total !== total) return `total ${String(json.total)}, expected ${total}`;
    if (!Array.isArray(json.certs) || json.certs.length === 0) return 'no certs';
    return undefined;
  };
  const page = (offset: number, where = '', params: unknown[] = []) => [
    { text: `SELECT count(*) AS n FROM certificates WHERE account_id = ?${where}`, params: [ids.accountId, ...params] },
    { text: `SELECT * FROM certificates WHERE account_id = ?${where} ORDER BY created_at DESC, id LIMIT ${PAGE} OFFSET ${offset}`, params: [ids.accountId, ...params] },
  ];
  const middle = Math.floor(loaded.apigListed / 2);
  const last = loaded.apigListed - PAGE;
  return [
    { label: 'APIG list offset 0', request: make({}), check: expect(loaded.apigListed), reference: page(0) },
    { label: `APIG list offset ${middle} (middle)`, request: make({ offset: String(middle) }), check: expect(loaded.apigListed), reference: page(middle) },
    { label: `APIG list offset ${last} (last)`, request: make({ offset: String(last) }), check: expect(loaded.apigListed), reference: page(last) },
    {
      label: 'APIG list common_name=apig12',
      request: make({ common_name: 'apig12' }),
      check: expect(undefined),
      reference: page(0, ' AND lower(common_name) LIKE ?', [LIKE('apig12')]),
    },
    {
      label: 'APIG list signature_algorithm, offset 0',
      request: make({ signature_algorithm: 'ECDSA-SHA256' }),
      check: expect(loaded.apigListed),
      reference: page(0, ' AND signature_algorithm = ?', ['ECDSA-SHA256']),
    },
  ];
}

interface Ids {
  accountId: string;
  siteId: string;
}

interface CaseResult {
  label: string;
  api: Figures;
  sql: Figures;
  failure: string | undefined;
}

async function measure(cases: ListCase[], port: number, sql: Sql): Promise<CaseResult[]> {
  const target = `http://127.0.0.1:${port}`;
  const results: CaseResult[] = [];
  for (const c of cases) {
    let failed = 0;
    let first: string | undefined;
    const api = await timeIt(async () => {
      const res = await send(target, c.request());
      const wrong = res.status !== 200 ? `HTTP ${res.status}: ${res.body.slice(0, 300)}` : c.check(res.json);
      if (wrong === undefined) return;
      failed += 1;
      first ??= wrong;
    });
    const failure = first && `${failed} of ${SAMPLES + WARMUP} requests, first: ${first}`;
    const reference = await timeIt(async () => {
      for (const q of c.reference) await sql.all(q.text, q.params);
    }, SQL_SAMPLES, 2);
    results.push({ label: c.label, api, sql: reference, failure });
    process.stderr.write(`  ${c.label}: p50 ${fmt(api.p50, 1)} ms, p99 ${fmt(api.p99, 1)} ms (SQL ${fmt(reference.p99, 1)} ms)\n`);
  }
  return results;
}

/**
 * One full expiry/renewal scan, each part through the code its job runs, on this bench's database.
 * Renewal: the `renewal.scan` job's own read of what is due (`SqlRenewalStore.due`, every due
 * certificate at once; what it then does per certificate asks the CA for ARI, which a bench cannot
 * reach). Expiry: the `expiry.scan` job's scan (`app.expiryScans.store.scan`), which enqueues one
 * event per crossing and moves the watermark in one transaction. The watermark is removed first, so
 * this is the first scan a fresh installation makes: every certificate expiring within
 * EXPIRING_DAYS or expired within as long (a later scan reads only what crossed since).
 */
async function scans(env: Record<string, string>, now: Date): Promise<{ ms: number; expiryMs: number; renewalMs: number; crossings: number; due: number }> {
  const app = await compose(loadConfig({ env }), { logger: pino({ level: 'silent' }) });
  try {
    const db = app.database.db;
    await db.deleteFrom('service_facts').where('name', '=', EXPIRY_WATERMARK).execute();
    let t0 = performance.now();
    const due = (await new SqlRenewalStore(db).due(now, 1_000_000)).length;
    const renewalMs = performance.now() - t0;
    let crossings = 0;
    t0 = performance.now();
    await app.expiryScans.store.scan(now, EXPIRING_DAYS, (crossing) => {
      crossings += 1;
      return crossingJob(crossing, now);
    });
    const expiryMs = performance.now() - t0;
    return { ms: renewalMs + expiryMs, expiryMs, renewalMs, crossings, due };
  } finally {
    await app.close();
  }
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--samples');
  if (at >= 0) {
    SAMPLES = Number(argv[at + 1]);
    if (!Number.isInteger(SAMPLES) || SAMPLES < 10 || SAMPLES > 10_000) throw new Error('--samples: 10..10000');
    WARMUP = Math.ceil(SAMPLES / 10);
    argv.splice(at, 2);
  }
  const options = parseOptions('inventory', argv);
  const { env, serveEnv, engineLabel } = await setUpDatabase(options);
  const url = env.DATABASE_URL!;

  // The account, its access key and plan through the CLI; the site and its client CA through the SDK.
  const { accountId, projectId } = cliFields(['account', 'create', '--name', 'bench'], env, 'accountId', 'projectId');
  const key = cliFields(['key', 'create', '--account', accountId], env, 'accessKeyId', 'accessKeySecret');
  const { instanceId } = cliFields(['plan', 'grant', '--account', accountId, '--plan', 'enterprise'], env, 'instanceId');
  const credentials = { ...key, projectId };
  const first = await startServer(serveEnv);
  const esa = esaClient(`127.0.0.1:${first.port}`, key);
  const site = await esa.createSite(new Esa.CreateSiteRequest({ siteName: 'bench-site.com', accessType: 'CNAME', coverage: 'global', instanceId }));
  const siteNumber = site.body!.siteId!;
  await esa.createClientCertificate(new Esa.CreateClientCertificateRequest({ siteId: siteNumber, pkeyType: 'ECC', validityDays: 30 }));
  await stopServer();

  const sql = await openSql(options.engine, url);
  const [siteRow] = (await sql.all('SELECT id FROM sites WHERE name = ?', ['bench-site.com'])) as Array<{ id: string }>;
  const [caRow] = (await sql.all('SELECT id FROM client_cas WHERE site_id = ?', [siteRow!.id])) as Array<{ id: string }>;
  await sql.close();

  process.stderr.write('loading certificates…\n');
  const chain = makeChain('p256');
  const now = new Date();
  const loaded = await loadInventory({
    engine: options.engine,
    url: options.engine === 'sqlite' ? url.replace(/^sqlite:/, '') : url,
    accountId,
    siteId: siteRow!.id,
    clientCaId: caRow!.id,
    sealer: new AesGcmSealer(loadMasterKeys([], env.CERTPLANE_DATA_DIR!)),
    chainPem: chain.chainPem,
    keyPem: chain.key,
    now,
  });
  process.stderr.write(`loaded ${loaded.total} certificates in ${fmt(loaded.seconds, 1)} s\n`);

  const { server, port } = await startServer(serveEnv);
  const reference = await openSql(options.engine, url);
  const ids = { accountId, siteId: siteRow!.id };
  const validRow = (await reference.all(
    `SELECT count(*) AS n FROM site_certificates sc LEFT JOIN acme_issuances i ON i.id = sc.issuance_id LEFT JOIN certificates c ON c.id = sc.certificate_id
      WHERE sc.account_id = ? AND sc.site_id = ? AND ((sc.type = 'free' AND i.state = 'valid' AND i.not_after > ?) OR (sc.type <> 'free' AND c.not_after > ?))`,
    [accountId, ids.siteId, new Date().toISOString(), new Date().toISOString()],
  )) as Array<{ n: number | string }>;
  const validTotal = Number(validRow[0]!.n);

  const loadBefore = loadavg()[0]!;
  const results = await measure([...esaCases(port, credentials, siteNumber, ids, loaded, validTotal), ...apigCases(port, credentials, ids, loaded)], port, reference);

  const loadAfter = loadavg()[0]!;
  // Plain, and gzipped as Prometheus asks for it (fetch gunzips: the client's share is included).
  let wireBytes = Number.NaN;
  const scrapeAs = (encoding: 'identity' | 'gzip') => async () => {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { 'accept-encoding': encoding } });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`/metrics answered ${res.status}: ${text.slice(0, 200)}`);
    if (encoding === 'gzip') {
      if (res.headers.get('content-encoding') !== 'gzip') throw new Error('/metrics was not gzipped for a client that accepts gzip');
      wireBytes = Number(res.headers.get('content-length'));
    }
  };
  const metrics = await timeIt(scrapeAs('identity'), 5, 1);
  const gzipped = await timeIt(scrapeAs('gzip'), 5, 1);
  const scrape = await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { 'accept-encoding': 'identity' } })).text();
  const expirySamples = scrape.split('\n').filter((l) => l.startsWith('certplane_certificate_expiration_timestamp_seconds{')).length;
  const logs = server.logs();
  await reference.close();
  // The scan runs with the server stopped: its worker would otherwise scan (and publish) alongside.
  await stopServer();
  const scan = await scans(env, new Date());
  await cleanup();

  const width = Math.max(...results.map((r) => r.label.length));
  const lines = [
    `inventory: ${loaded.total} certificates (${engineLabel}), loaded by bulk SQL in ${fmt(loaded.seconds, 1)} s, then ${options.engine === 'sqlite' ? 'ANALYZE' : 'VACUUM ANALYZE'}`,
    `lists: ${SAMPLES} signed requests each, one at a time after ${WARMUP} warm-up (plain SQL: ${SQL_SAMPLES} runs), ${PAGE} per page; APIG list of the account: ${loaded.apigListed} rows, ESA site: ${loaded.siteListed} rows (${validTotal} valid)`,
    '',
    `${'list'.padEnd(width)}  ${'p50 ms'.padStart(7)}  ${'p99 ms'.padStart(7)}  ${'max ms'.padStart(7)}  ${'SQL p50'.padStart(7)}  ${'SQL p99'.padStart(7)}  target`,
    ...results.map(
      (r) =>
        `${r.label.padEnd(width)}  ${fmt(r.api.p50, 1).padStart(7)}  ${fmt(r.api.p99, 1).padStart(7)}  ${fmt(r.api.max, 1).padStart(7)}  ${fmt(r.sql.p50, 1).padStart(7)}  ${fmt(r.sql.p99, 1).padStart(7)}  ${r.api.p99 < TARGET_LIST_P99_MS ? 'met' : `MISSED (p99 < ${TARGET_LIST_P99_MS} ms)`}`,
    ),
    '',
    `machine load (1-minute average, ${cpus().length} cores) ${fmt(loadBefore, 1)} before the lists, ${fmt(loadAfter, 1)} after${Math.max(loadBefore, loadAfter) > cpus().length ? ': above the core count, p99 measures the queue for a core as much as certplane' : ''}.`,
    'SQL = the same list as the naive plain SQL (COUNT, then the page by LIMIT/OFFSET) on a direct connection: what the database alone costs.',
    'A Keyword or common_name filter is a LIKE \'%x%\' (substring, case-insensitive), which no b-tree index serves: it reads every row of the account (APIG) or of the site\'s one table (ESA), except on PostgreSQL with pg_trgm (trigram indexes on common_name, name and the ESA keyword columns, migration 019).',
    '',
    `expiry/renewal scan: ${fmt(scan.ms, 1)} ms — ${scan.ms < TARGET_SCAN_MS ? 'met' : 'MISSED'} (target < ${TARGET_SCAN_MS} ms); renewal: the renewal scan's read of the ${scan.due} due certificates, ${fmt(scan.renewalMs, 1)} ms; expiry: the expiry scan's first (full) run, ${scan.crossings} crossings queued as events in multi-row inserts, ${fmt(scan.expiryMs, 1)} ms`,
    `/metrics render: p50 ${fmt(metrics.p50, 0)} ms, max ${fmt(metrics.max, 0)} ms over 5 scrapes (${expirySamples} expiry samples, ${fmt(scrape.length / 1e6, 1)} MB)`,
    `/metrics gzipped, as Prometheus asks: p50 ${fmt(gzipped.p50, 0)} ms, max ${fmt(gzipped.max, 0)} ms over 5 scrapes (${fmt(wireBytes / 1e6, 1)} MB on the wire; the client's gunzip included)`,
  ];
  const failures = results.filter((r) => r.failure);
  if (failures.length > 0) {
    lines.push('', 'FAILED (a wrong answer fails the bench):', ...failures.map((r) => `  ${r.label}: ${r.failure}`));
    if (logs.length > 0) lines.push('  last server log lines:', ...logs.slice(-5).map((l) => `    ${l}`));
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return failures.length > 0 ? 1 : 0;
}

runBench('inventory', main);
