/**
 * `npm run bench -- apply [--domains N] [--lego N] [--concurrency C] [--postgres]`
 *
 * Free certificates for a site, end to end, against one Debian pebble (PEBBLE_VA_NOSLEEP=1, nonce
 * rejection at its default 5%) validating http-01 for real through a test BIND (every name of the
 * zone resolves to 127.0.0.1) on one port that each driver in turn answers on:
 * - certplane: one `ApplyCertificate` of N domains through the official ESA SDK to `certplane serve`
 *   (its workers, its http-01 responder on `CERTPLANE_HTTP01_LISTEN`), timed until `ListCertificates`
 *   shows every one issued; each chain is then read through `GetCertificate` and checked;
 * - Debian's `lego`, issuing the same number of certificates one after another (`lego run`, one
 *   account), as its users do (`--lego` lowers the count; the figure compared is per certificate);
 * - a bare acme-client 5.4 script (`client.auto`) at the same concurrency as certplane's workers,
 *   its polling backoff lowered from 5 s to 50 ms (with the default it sleeps 5 s per poll).
 * Targets: certplane at least 40× faster per certificate than lego, and within 1.5× of the bare script.
 * Exits 1 when a certificate failed or a target is missed.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import acme from 'acme-client';
import { Esa, esaClient } from '../test/support/alibaba.js';
import { startHttp01Responder } from '../test/support/acme.js';
import { startBind, type BindServer } from '../test/support/bind.js';
import { freePort } from '../test/support/cli.js';
import { startPebble, type PebbleServer } from '../test/support/pebble.js';
import { cleanup, cliFields, fmt, runBench, serverPid, setUpDatabase, startServer, stopServer } from './_harness.js';

const run = promisify(execFile);
const LEGO = '/usr/bin/lego';
const ZONE = 'apply-bench.example';

interface Options {
  domains: number;
  lego: number;
  concurrency: number;
  engine: 'sqlite' | 'postgres';
}

interface Row {
  label: string;
  certificates: number;
  wallMs: number;
  requests: number;
  /** CPU of the driver's own processes over the row (certplane serve; this process; lego), ms. */
  cpuMs: number;
  pebbleCpuMs: number;
  failures: string[];
}

function parse(argv: string[]): Options {
  const options: Options = { domains: 50, lego: 50, concurrency: 10, engine: 'sqlite' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') continue;
    if (arg === '--postgres') {
      options.engine = 'postgres';
      continue;
    }
    const value = Number(argv[++i]);
    if (arg === '--domains' && Number.isInteger(value) && value >= 1 && value <= 50) options.domains = value;
    else if (arg === '--lego' && Number.isInteger(value) && value >= 1 && value <= 50) options.lego = value;
    else if (arg === '--concurrency' && Number.isInteger(value) && value >= 1 && value <= 100) options.concurrency = value;
    else {
      process.stderr.write('usage: npm run bench -- apply [--domains 1..50] [--lego 1..50] [--concurrency 1..100] [--postgres]\n');
      process.exit(2);
    }
  }
  return options;
}

function cpuMsOf(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    // utime, stime, and the children's cutime, cstime (lego's runs are waited-for children of this process's shell-less execFile)
    return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return NaN;
  }
}

/** Requests pebble has handled so far: it logs one "-> calling handler()" line for each. */
function handled(pebble: PebbleServer): number {
  return pebble.log().split('-> calling handler()').length - 1;
}

async function measure(label: string, pebble: PebbleServer, certificates: number, pid: () => number | undefined, body: (failures: string[]) => Promise<void>): Promise<Row> {
  const failures: string[] = [];
  const requestsBefore = handled(pebble);
  const cpuBefore = cpuMsOf(pid());
  const pebbleBefore = cpuMsOf(pebble.pid);
  const started = performance.now();
  await body(failures);
  const wallMs = performance.now() - started;
  return {
    label,
    certificates,
    wallMs,
    requests: handled(pebble) - requestsBefore,
    cpuMs: cpuMsOf(pid()) - cpuBefore,
    pebbleCpuMs: cpuMsOf(pebble.pid) - pebbleBefore,
    failures,
  };
}

/** certplane: one ApplyCertificate of every domain, then ListCertificates until none is applying. */
async function certplaneRow(options: Options, pebble: PebbleServer, bind: BindServer, httpPort: number): Promise<Row> {
  const { env, serveEnv } = await setUpDatabase({ engine: options.engine, durationS: 0, concurrency: options.concurrency, cpuProfDir: undefined, workers: '1' });
  const { port } = await startServer({
    ...serveEnv,
    CERTPLANE_HTTP01_LISTEN: `127.0.0.1:${httpPort}`,
    CERTPLANE_ACME_DIRECTORY: pebble.directoryUrl,
    CERTPLANE_ACME_CA_BUNDLE: pebble.caBundlePath,
    CERTPLANE_DNS_RESOLVER: bind.address,
    CERTPLANE_WORKER_CONCURRENCY: String(options.concurrency),
  });
  const { accountId } = cliFields(['account', 'create', '--name', 'bench'], env, 'accountId');
  const key = cliFields(['key', 'create', '--account', accountId], env, 'accessKeyId', 'accessKeySecret');
  const { instanceId } = cliFields(['plan', 'grant', '--account', accountId, '--plan', 'enterprise'], env, 'instanceId');
  const esa = esaClient(`127.0.0.1:${port}`, key);
  const site = (await esa.createSite(new Esa.CreateSiteRequest({ siteName: ZONE, accessType: 'CNAME', coverage: 'global', instanceId }))).body!;
  await bind.setRecords(ZONE, [
    { name: '*', type: 'A', value: '127.0.0.1' },
    { name: '@', type: 'A', value: '127.0.0.1' },
    { name: '_esaauth', type: 'TXT', value: site.verifyCode! },
  ]);
  const verified = (await esa.verifySite(new Esa.VerifySiteRequest({ siteId: site.siteId }))).body!;
  if (!verified.passed) throw new Error(`VerifySite did not pass: ${JSON.stringify(verified)}`);
  const domains = Array.from({ length: options.domains }, (_, i) => `www-${i}.${ZONE}`);

  return measure(`certplane ApplyCertificate (${options.engine === 'sqlite' ? 'SQLite' : 'PostgreSQL'})`, pebble, domains.length, serverPid, async (failures) => {
    const applied = (await esa.applyCertificate(new Esa.ApplyCertificateRequest({ siteId: site.siteId, domains: domains.join(','), type: 'lets_encrypt' }))).body!;
    if (applied.totalCount !== domains.length) throw new Error(`ApplyCertificate answered TotalCount ${applied.totalCount}`);
    const deadline = Date.now() + 600_000;
    for (;;) {
      const statuses = new Map<string, string>();
      for (let page = 1; ; page++) {
        const list = (await esa.listCertificates(new Esa.ListCertificatesRequest({ siteId: site.siteId, pageNumber: page, pageSize: 100 }))).body!;
        for (const c of list.result ?? []) statuses.set(c.id!, c.status!);
        if ((list.result ?? []).length < 100) break;
      }
      const applying = [...statuses.values()].filter((s) => s === 'Applying').length;
      if (applying === 0) break;
      if (Date.now() > deadline) throw new Error(`${applying} certificates still applying after 10 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (const entry of applied.result ?? []) {
      const got = (await esa.getCertificate(new Esa.GetCertificateRequest({ siteId: site.siteId, id: entry.id }))).body!;
      if (got.status !== 'OK' || !got.certificate) {
        failures.push(`${entry.domain}: ${got.status} ${got.result?.applyMessage ?? ''}`);
        continue;
      }
      const leaf = new X509Certificate(got.certificate);
      if (!leaf.subjectAltName?.includes(`DNS:${entry.domain}`)) failures.push(`${entry.domain}: issued for ${leaf.subjectAltName}`);
    }
  }).finally(() => stopServer());
}

/** A bare acme-client script at the same concurrency, its backoff lowered to 50 ms. */
async function bareRow(options: Options, pebble: PebbleServer, httpPort: number): Promise<Row> {
  const responder = await startHttp01Responder(httpPort);
  try {
    acme.axios.defaults.httpsAgent = new https.Agent({ ca: pebble.caBundlePem, keepAlive: true });
    const client = new acme.Client({ directoryUrl: pebble.directoryUrl, accountKey: await acme.crypto.createPrivateEcdsaKey(), backoffMin: 50 });
    await client.createAccount({ termsOfServiceAgreed: true });
    const names = Array.from({ length: options.domains }, (_, i) => `bare-${i}.${ZONE}`);
    const csrs = await Promise.all(names.map(async (name) => (await acme.crypto.createCsr({ commonName: name, altNames: [name] }, await acme.crypto.createPrivateEcdsaKey()))[1]));
    return await measure(`acme-client 5.4 script, ${options.concurrency} at a time, 50 ms backoff`, pebble, names.length, () => process.pid, async (failures) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: options.concurrency }, async () => {
          while (next < names.length) {
            const i = next++;
            try {
              await client.auto({
                csr: csrs[i]!,
                termsOfServiceAgreed: true,
                skipChallengeVerification: true,
                challengePriority: ['http-01'],
                challengeCreateFn: async (_authz, challenge, keyAuthorization) => responder.set(challenge.token, keyAuthorization),
                challengeRemoveFn: async (_authz, challenge) => responder.remove(challenge.token),
              });
            } catch (err) {
              failures.push(`${names[i]}: ${(err as Error).message}`);
            }
          }
        }),
      );
    });
  } finally {
    await responder.stop();
  }
}

/** Debian's lego, one certificate after another, as `lego run` is used. */
async function legoRow(options: Options, pebble: PebbleServer, httpPort: number): Promise<Row> {
  const path = mkdtempSync(join(tmpdir(), 'certplane-bench-lego-'));
  try {
    const names = Array.from({ length: options.lego }, (_, i) => `lego-${i}.${ZONE}`);
    return await measure(`lego ${legoVersion()} (lego run, one after another)`, pebble, names.length, () => process.pid, async (failures) => {
      for (const name of names) {
        try {
          await run(
            LEGO,
            ['--accept-tos', '--email', 'bench@apply-bench.example', '--server', pebble.directoryUrl, '--path', path, '--http', '--http.port', `127.0.0.1:${httpPort}`, '--domains', name, 'run'],
            { env: { ...process.env, LEGO_CA_CERTIFICATES: pebble.caBundlePath }, timeout: 120_000 },
          );
          const leaf = new X509Certificate(readFileSync(join(path, 'certificates', `${name}.crt`)));
          if (!leaf.subjectAltName?.includes(`DNS:${name}`)) failures.push(`${name}: issued for ${leaf.subjectAltName}`);
        } catch (err) {
          failures.push(`${name}: ${(err as Error).message.split('\n').slice(-3).join(' ')}`);
        }
      }
    });
  } finally {
    rmSync(path, { recursive: true, force: true });
  }
}

let legoVersionText: string | undefined;
function legoVersion(): string {
  return legoVersionText ?? '';
}

async function main(): Promise<number> {
  const options = parse(process.argv.slice(2));
  try {
    await run(LEGO, ['--version']);
    // Debian's build says `dev`: the package names the release.
    legoVersionText = (await run('dpkg-query', ['-W', '-f=${Version}', 'lego']).catch(() => ({ stdout: '' }))).stdout.trim();
  } catch {
    throw new Error(`${LEGO} not found: apt-get install lego`);
  }
  const bind = await startBind();
  const httpPort = await freePort();
  const pebble = await startPebble({ dnsServer: bind.address, httpPort });
  try {
    await bind.addZone(ZONE, [{ name: '*', type: 'A', value: '127.0.0.1' }]);
    const rows = [await certplaneRow(options, pebble, bind, httpPort), await bareRow(options, pebble, httpPort), await legoRow(options, pebble, httpPort)];
    const perCert = (row: Row) => row.wallMs / 1000 / row.certificates;
    const [ours, bare, lego] = rows as [Row, Row, Row];
    const lines = [
      `Free certificates through ACME against pebble 2.4 (http-01, PEBBLE_VA_NOSLEEP=1, 5% badNonce), one name each`,
      '',
      `${'driver'.padEnd(58)} ${'certs'.padStart(5)} ${'wall s'.padStart(8)} ${'s/cert'.padStart(7)} ${'certs/s'.padStart(8)} ${'HTTP/cert'.padStart(9)} ${'CPU ms/cert'.padStart(11)} ${'pebble'.padStart(6)}`,
      ...rows.map(
        (row) =>
          `${row.label.padEnd(58)} ${String(row.certificates).padStart(5)} ${fmt(row.wallMs / 1000, 2).padStart(8)} ${fmt(perCert(row), 3).padStart(7)} ${fmt((row.certificates * 1000) / row.wallMs, 1).padStart(8)} ${fmt(row.requests / row.certificates, 1).padStart(9)} ${fmt(row.cpuMs / row.certificates, 1).padStart(11)} ${fmt(row.pebbleCpuMs / row.certificates, 1).padStart(6)}`,
      ),
      '',
      `certplane vs lego, per certificate: ${fmt(perCert(lego) / perCert(ours), 1)}× faster (target ≥ 40×)`,
      `certplane vs the bare script, per certificate: ${fmt(perCert(ours) / perCert(bare), 2)}× its time (target ≤ 1.5×; below 1 is faster)`,
      '',
      'certplane: from the ApplyCertificate request until ListCertificates shows none applying (its workers, its',
      'responder, stored, audited); CPU: the certplane serve process. Bare script and lego: CPU of this process / lego.',
    ];
    const failures = rows.flatMap((row) => row.failures.slice(0, 5).map((f) => `${row.label}: ${f}`));
    const missed = perCert(lego) / perCert(ours) < 40 || perCert(ours) / perCert(bare) > 1.5;
    if (failures.length > 0) lines.push('', 'FAILED:', ...failures);
    if (missed) lines.push('', 'TARGET MISSED');
    process.stdout.write(`${lines.join('\n')}\n`);
    return failures.length > 0 || missed ? 1 : 0;
  } finally {
    await cleanup();
    await pebble.stop();
    await bind.stop();
  }
}

runBench('apply', main);
