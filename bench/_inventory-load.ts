/**
 * Fills a certplane database with certificates of every origin for bench/inventory.ts, through bulk
 * SQL inserts shaped like the stores' rows (not through the API: 100,000 uploads would take longer
 * than the bench). Private keys are sealed for real (the start-up check opens one); the PEM of every
 * certificate is one real chain, so rows are as wide as real ones.
 */
import { randomBytes } from 'node:crypto';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import type { Sealer } from '../src/kernel/sealer.js';
import { privateKeyContext } from '../src/core/certificates/service.js';
import type { Engine } from '../test/support/databases.js';

/** How many certificates of each origin the bench loads; they add up to `total`. */
export interface Mix {
  /** APIG uploads of the bench account (32-hex ids). */
  apig: number;
  /** CAS `UploadUserCertificate` certificates of the bench account (numeric ids). */
  casUploads: number;
  /** Inventory certificates of another account (the lists must skip them). */
  otherAccount: number;
  /** ESA `upload` site certificates of the bench site (an inventory row owned by the site each). */
  siteUploads: number;
  /** ESA free site certificates of the bench site (an issuance each; 5 % failed). */
  siteFree: number;
  /** ESA client certificates of the bench site (10 % revoked). */
  client: number;
  /** CAS orders of the bench account (an issuance each; 80 % issued). */
  orders: number;
}

export const DEFAULT_MIX: Mix = {
  apig: 30_000,
  casUploads: 10_000,
  otherAccount: 10_000,
  siteUploads: 20_000,
  siteFree: 10_000,
  client: 10_000,
  orders: 10_000,
};

export const totalOf = (mix: Mix): number => Object.values(mix).reduce((a, b) => a + b, 0);

export interface LoadTarget {
  engine: Engine;
  /** SQLite file or postgres:// URL. */
  url: string;
  accountId: string;
  siteId: string;
  clientCaId: string;
  sealer: Sealer;
  /** One real certificate chain and its leaf's facts, repeated in every row. */
  chainPem: string;
  keyPem: string;
  now: Date;
}

type Row = Record<string, string | number | null>;

const DAY = 86_400_000;
const hex32 = (): string => randomBytes(16).toString('hex');

/** A table writer: SQLite through one prepared statement per table, PostgreSQL through multi-row INSERTs. */
interface Writer {
  insert(table: string, rows: Row[]): Promise<void>;
  run(sql: string, params?: unknown[]): Promise<void>;
  close(): Promise<void>;
}

function sqliteWriter(file: string): Writer {
  const db = new SQLite(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  return {
    insert: async (table, rows) => {
      if (rows.length === 0) return;
      const columns = Object.keys(rows[0]!);
      const statement = db.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`);
      db.transaction(() => {
        for (const row of rows) statement.run(row);
      })();
    },
    run: async (sql) => {
      db.exec(sql);
    },
    close: async () => {
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
    },
  };
}

async function postgresWriter(url: string): Promise<Writer> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    insert: async (table, rows) => {
      if (rows.length === 0) return;
      const columns = Object.keys(rows[0]!);
      // PostgreSQL takes at most 65,535 parameters per statement.
      const perStatement = Math.floor(60_000 / columns.length);
      for (let from = 0; from < rows.length; from += perStatement) {
        const chunk = rows.slice(from, from + perStatement);
        const params: unknown[] = [];
        const tuples = chunk.map((row) => `(${columns.map((c) => `$${params.push(row[c])}`).join(', ')})`);
        await client.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')}`, params);
      }
    },
    run: async (sql, params) => {
      await client.query(sql, params);
    },
    close: () => client.end(),
  };
}

/** Spread over the last `spreadDays`: row i of n, newest first, every timestamp distinct. */
function createdAt(now: Date, i: number, n: number, spreadDays: number): Date {
  return new Date(now.getTime() - Math.floor(((i + 1) / (n + 1)) * spreadDays * DAY) - i);
}

/** A lifetime of 30 to 400 days from `from`: some rows are expired, some expiring, most fine. */
function notAfter(from: Date, i: number): Date {
  return new Date(from.getTime() + (30 + ((i * 7919) % 371)) * DAY);
}

export interface Loaded {
  total: number;
  /** Rows the bench account's APIG list shows (its inventory, site-owned uploads included). */
  apigListed: number;
  /** Rows the bench site's ListCertificates shows. */
  siteListed: number;
  /** A common name fragment about 1 % of the site's certificates match (Keyword). */
  rareKeyword: string;
  seconds: number;
}

export async function loadInventory(target: LoadTarget, mix: Mix = DEFAULT_MIX): Promise<Loaded> {
  const started = performance.now();
  const writer = target.engine === 'sqlite' ? sqliteWriter(target.url) : await postgresWriter(target.url);
  try {
    const otherAccount = `9${Date.now() % 1e14}`.slice(0, 15);
    await writer.insert('accounts', [{ id: otherAccount, name: 'bench-other', project_id: hex32(), created_at: target.now.toISOString() }]);
    const common = {
      scope: 'global',
      instance_id: null,
      algorithm_type: 'ECC',
      chain_pem: target.chainPem,
      sign_chain_pem: null,
      sign_key_id: null,
      trusted_root_ca: null,
      issuer: JSON.stringify({ commonName: ['certplane bench CA'], organization: ['certplane bench'], organizationalUnit: [], locality: [], state: [], country: [] }),
      signature_algorithm: 'ECDSA-SHA256',
      version: 3,
      source: 'upload',
    };
    // The sealed key of one row is the sealed key of every row (context bound to its own id).
    const inventory = (count: number, account: string, prefix: string, id: (i: number) => string, siteId: string | null): { certificates: Row[]; keys: Row[] } => {
      const certificates: Row[] = [];
      const keys: Row[] = [];
      for (let i = 0; i < count; i++) {
        const at = createdAt(target.now, i, count, 45);
        const keyId = hex32();
        keys.push({ id: keyId, account_id: account, algorithm: 'EC', sealed: target.sealer.seal(target.keyPem, privateKeyContext(keyId)), created_at: at.toISOString() });
        const host = `${prefix}${i}.bench.example`;
        certificates.push({
          ...common,
          id: id(i),
          account_id: account,
          name: `${prefix}_${i}`,
          key_id: keyId,
          common_name: host,
          subject: JSON.stringify({ commonName: [host], organization: [], organizationalUnit: [], locality: [], state: [], country: [] }),
          san: JSON.stringify([host, `www.${host}`]),
          not_before: at.toISOString(),
          not_after: notAfter(at, i).toISOString(),
          serial_number: BigInt(`0x${hex32()}`).toString(10),
          fingerprint_sha256: randomBytes(32).toString('hex'),
          created_at: at.toISOString(),
          updated_at: at.toISOString(),
          site_id: siteId,
        });
      }
      return { certificates, keys };
    };
    const batches = [
      inventory(mix.apig, target.accountId, 'apig', () => hex32(), null),
      inventory(mix.casUploads, target.accountId, 'cas', (i) => String(100_000_000_000 + i), null),
      inventory(mix.otherAccount, otherAccount, 'other', () => hex32(), null),
      inventory(mix.siteUploads, target.accountId, 'site', () => hex32(), target.siteId),
    ];
    for (const batch of batches) {
      await writer.insert('private_keys', batch.keys);
      await writer.insert('certificates', batch.certificates);
    }

    // Issuances: the site's free certificates and the CAS orders'.
    const issuance = (i: number, at: Date, host: string, valid: boolean): Row => ({
      id: hex32(),
      account_id: target.accountId,
      profile: 'lets_encrypt',
      identifiers: JSON.stringify([host]),
      challenge_type: 'dns-01',
      placement: 'certplane',
      state: valid ? 'valid' : 'invalid',
      csr_pem: null,
      key_type: null,
      key_id: null,
      acme_account_id: null,
      order_url: null,
      authorizations: '[]',
      replaces: null,
      error_code: valid ? null : 'dns',
      error_detail: valid ? null : 'no TXT record found',
      chain_pem: valid ? target.chainPem : null,
      common_name: valid ? host : null,
      san: valid ? JSON.stringify([host]) : null,
      serial_number: valid ? hex32() : null,
      fingerprint_sha256: valid ? randomBytes(32).toString('hex') : null,
      issuer: valid ? 'CN=bench ACME CA' : null,
      issuer_cn: valid ? 'bench ACME CA' : null,
      public_key_algorithm: valid ? 'ECC' : null,
      signature_algorithm: valid ? 'ECDSA-SHA256' : null,
      not_before: valid ? at.toISOString() : null,
      not_after: valid ? notAfter(at, i).toISOString() : null,
      // Renewal planned at two thirds of the lifetime, as the engine plans it without ARI.
      renew_at: valid ? new Date(at.getTime() + ((notAfter(at, i).getTime() - at.getTime()) * 2) / 3).toISOString() : null,
      created_at: at.toISOString(),
      updated_at: at.toISOString(),
      finished_at: at.toISOString(),
    });

    const siteRows: Row[] = [];
    const freeIssuances: Row[] = [];
    const siteCount = mix.siteUploads + mix.siteFree;
    const uploads = batches[3]!.certificates;
    // Interleaved in time: uploads and free certificates alternate down the list.
    for (let i = 0, u = 0, f = 0; i < siteCount; i++) {
      const at = createdAt(target.now, i, siteCount, 45).toISOString();
      const free = f < mix.siteFree && (u >= mix.siteUploads || i % 3 === 2);
      const row: Row = { id: hex32(), account_id: target.accountId, site_id: target.siteId, applying: 0, region: null, created_at: at, updated_at: at, cas_id: null };
      if (free) {
        const host = `free${f}.bench-site.com`;
        const made = issuance(f, new Date(at), host, f % 20 !== 0);
        freeIssuances.push(made);
        siteRows.push({ ...row, type: 'free', name: host, domain: host, issuer_profile: 'lets_encrypt', issuance_id: made.id!, certificate_id: null, not_after: made.state === 'valid' ? made.not_after! : null, served_names: `${made.common_name ?? ''}|${made.san ?? ''}` });
        f++;
      } else {
        const certificate = uploads[u]!;
        siteRows.push({ ...row, type: 'upload', name: String(certificate.name), domain: null, issuer_profile: null, issuance_id: null, certificate_id: certificate.id!, not_after: certificate.not_after!, served_names: `${String(certificate.common_name)}|${String(certificate.san)}` });
        u++;
      }
    }
    await writer.insert('acme_issuances', freeIssuances);
    await writer.insert('site_certificates', siteRows);

    const clients: Row[] = [];
    for (let i = 0; i < mix.client; i++) {
      const at = createdAt(target.now, i, mix.client, 45);
      const revoked = i % 10 === 0;
      clients.push({
        id: hex32(),
        account_id: target.accountId,
        site_id: target.siteId,
        ca_id: target.clientCaId,
        serial_number: hex32(),
        status: revoked ? 'revoked' : 'active',
        common_name: `device-${i}`,
        issuer: 'certplane client CA',
        public_key_algorithm: 'ECC',
        key_generated: 0,
        key_sealed: null,
        certificate_pem: target.chainPem,
        fingerprint_sha256: randomBytes(32).toString('hex'),
        signature_algorithm: 'ECDSA-SHA256',
        not_before: at.toISOString(),
        not_after: notAfter(at, i).toISOString(),
        validity_days: 397,
        revoked_at: revoked ? at.toISOString() : null,
        deleted_at: null,
        created_at: at.toISOString(),
        updated_at: at.toISOString(),
      });
    }
    await writer.insert('client_certificates', clients);

    const orderIssuances: Row[] = [];
    const orders: Row[] = [];
    for (let i = 0; i < mix.orders; i++) {
      const at = createdAt(target.now, i, mix.orders, 45);
      const host = `order${i}.bench.example`;
      const made = issuance(i, at, host, i % 5 !== 0);
      orderIssuances.push(made);
      orders.push({
        id: String(200_000_000_000 + i),
        account_id: target.accountId,
        product_code: 'digicert-free-1-free',
        issuance_id: made.id!,
        validate_type: 'DNS',
        domain: host,
        key_source: 'certplane',
        algorithm: 'ECC',
        username: null,
        phone: null,
        email: null,
        company_name: null,
        tags: '[]',
        deadline_at: new Date(at.getTime() + 3 * DAY).toISOString(),
        created_at: at.toISOString(),
        updated_at: at.toISOString(),
        deleted_at: null,
      });
    }
    // CAS orders are not renewed (renewal covers ESA free certificates).
    await writer.insert('acme_issuances', orderIssuances.map((row) => ({ ...row, renew_at: null })));
    await writer.insert('cas_orders', orders);

    // A verified site: only an active site's certificates are renewed.
    await writer.run(`UPDATE sites SET status = 'active' WHERE id = '${target.siteId.replace(/'/g, "''")}'`);
    // What autovacuum and SQLite's optimizer statistics would hold on a database that has been running.
    if (target.engine === 'sqlite') await writer.run('ANALYZE');
    else await writer.run('VACUUM ANALYZE');
  } finally {
    await writer.close();
  }
  return {
    total: totalOf(mix),
    apigListed: mix.apig + mix.casUploads + mix.siteUploads,
    siteListed: mix.siteUploads + mix.siteFree,
    rareKeyword: 'free1',
    seconds: (performance.now() - started) / 1000,
  };
}
