/**
 * `npm run bench -- acme [--certificates N] [--concurrency C]`
 *
 * The ACME layer alone, against one Debian pebble (PEBBLE_VA_NOSLEEP=1, nonce rejection at its
 * default 5%) validating http-01 for real through a test BIND and a responder in this process: N
 * certificates of one name each, C at a time, issued by
 * - certplane's adapter (CachedAcmeClients: nonces from replies, Retry-After-driven polling from 50 ms);
 * - a bare acme-client 5.4 script (`client.auto`, one account) with its default 5 s polling backoff,
 *   and with that backoff lowered to the same 50 ms.
 * Every driver uses one account registered before the clock starts and CSRs made beforehand, so the
 * rows time the protocol only. HTTP requests are counted in pebble's own log (one line per request
 * it handled), badNonce retries included.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import acme from 'acme-client';
import { CachedAcmeClients } from '../src/adapters/acme/clients.js';
import type { AcmeClient } from '../src/core/acme/ports.js';
import { startHttp01Responder, type Http01Responder } from '../test/support/acme.js';
import { startBind } from '../test/support/bind.js';
import { startPebble, type PebbleServer } from '../test/support/pebble.js';
import { fmt, runBench } from './_harness.js';

interface Options {
  certificates: number;
  concurrency: number;
}

interface Row {
  label: string;
  wallMs: number;
  /** CPU time of this process (client, responder, bench) and of pebble over the row, ms. */
  clientCpuMs: number;
  pebbleCpuMs: number;
  latenciesMs: number[];
  requests: number;
  failures: string[];
}

const ZONE = 'bench.test';

function parse(argv: string[]): Options {
  const options: Options = { certificates: 100, concurrency: 10 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') continue;
    const value = Number(argv[++i]);
    if (arg === '--certificates' && Number.isInteger(value) && value >= 1 && value <= 2000) options.certificates = value;
    else if (arg === '--concurrency' && Number.isInteger(value) && value >= 1 && value <= 256) options.concurrency = value;
    else {
      process.stderr.write('usage: npm run bench -- acme [--certificates 1..2000] [--concurrency 1..256]\n');
      process.exit(2);
    }
  }
  return options;
}

/** Issues one certificate per name, `concurrency` at a time; times each and the whole. */
async function drive(label: string, pebble: PebbleServer, names: string[], concurrency: number, issue: (name: string, index: number) => Promise<string>): Promise<Row> {
  const handledBefore = handled(pebble);
  const cpuBefore = { client: process.cpuUsage(), pebble: cpuMs(pebble.pid) };
  const latenciesMs: number[] = [];
  const failures: string[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < names.length) {
        const index = next++;
        const t0 = performance.now();
        try {
          const leaf = new X509Certificate(await issue(names[index]!, index));
          if (!leaf.subjectAltName?.includes(names[index]!)) throw new Error(`issued for ${leaf.subjectAltName}`);
          latenciesMs.push(performance.now() - t0);
        } catch (err) {
          failures.push(`${names[index]}: ${(err as Error).message}`);
        }
      }
    }),
  );
  const wallMs = performance.now() - started;
  const client = process.cpuUsage(cpuBefore.client);
  const clientCpuMs = (client.user + client.system) / 1000;
  return { label, wallMs, clientCpuMs, pebbleCpuMs: cpuMs(pebble.pid) - cpuBefore.pebble, latenciesMs, requests: handled(pebble) - handledBefore, failures };
}

/** User + system CPU time of a process so far, ms (/proc/PID/stat fields 14 and 15, in clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Requests pebble has handled so far: it logs one "-> calling handler()" line for each. */
function handled(pebble: PebbleServer): number {
  return pebble.log().split('-> calling handler()').length - 1;
}

async function withAdapter(client: AcmeClient, responder: Http01Responder, name: string, csr: Buffer): Promise<string> {
  const order = await client.newOrder({ identifiers: [{ type: 'dns', value: name }] });
  await Promise.all(
    order.authorizations.map(async (url) => {
      const authz = await client.getAuthorization(url);
      const challenge = authz.challenges.find((c) => c.type === 'http-01');
      if (challenge?.type !== 'http-01') throw new Error('no http-01 challenge');
      responder.set(challenge.token, challenge.keyAuthorization);
      await client.respondToChallenge(challenge);
      const settled = await client.waitForAuthorization(url);
      responder.remove(challenge.token);
      if (settled.status !== 'valid') throw new Error(`authorization ${settled.status}`);
    }),
  );
  const ready = await client.waitForOrder(order.url);
  await client.finalize(ready, csr);
  const valid = await client.waitForOrder(order.url);
  if (!valid.certificate) throw new Error(`order ${valid.status}`);
  return (await client.downloadCertificate(valid.certificate)).certificates[0]!;
}

function withAcmeClient(client: acme.Client, responder: Http01Responder, csr: Buffer): Promise<string> {
  return client.auto({
    csr,
    termsOfServiceAgreed: true,
    skipChallengeVerification: true, // its own check would ask the system resolver for bench.test
    challengePriority: ['http-01'],
    challengeCreateFn: async (_authz, challenge, keyAuthorization) => responder.set(challenge.token, keyAuthorization),
    challengeRemoveFn: async (_authz, challenge) => responder.remove(challenge.token),
  });
}

function report(options: Options, rows: Row[]): { lines: string[]; failed: boolean } {
  const lines = [
    `ACME issuance against pebble 2.4 (http-01, PEBBLE_VA_NOSLEEP=1, 5% badNonce): ${options.certificates} certificates of one name, ${options.concurrency} at a time`,
    '',
    `${'client'.padEnd(42)} ${'wall s'.padStart(7)} ${'s/cert'.padStart(7)} ${'certs/s'.padStart(8)} ${'p50 ms'.padStart(7)} ${'p90 ms'.padStart(7)} ${'HTTP/cert'.padStart(9)} ${'CPU ms/cert: client'.padStart(19)} ${'pebble'.padStart(6)}`,
  ];
  for (const row of rows) {
    const sorted = [...row.latenciesMs].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
    const n = options.certificates;
    lines.push(
      `${row.label.padEnd(42)} ${fmt(row.wallMs / 1000, 2).padStart(7)} ${fmt(row.wallMs / 1000 / n, 3).padStart(7)} ${fmt((n * 1000) / row.wallMs, 1).padStart(8)} ${fmt(at(0.5)).padStart(7)} ${fmt(at(0.9)).padStart(7)} ${fmt(row.requests / n, 1).padStart(9)} ${fmt(row.clientCpuMs / n, 1).padStart(19)} ${fmt(row.pebbleCpuMs / n, 1).padStart(6)}`,
    );
  }
  lines.push(
    '',
    's/cert: wall time / certificates (concurrency included); p50/p90: one certificate from newOrder to its chain;',
    'HTTP/cert: requests pebble handled (badNonce retries included); CPU: this process (client, responder, checks) and pebble.',
  );
  const failures = rows.flatMap((row) => row.failures.slice(0, 5).map((f) => `${row.label}: ${f}`));
  if (failures.length > 0) lines.push('', 'FAILED:', ...failures);
  return { lines, failed: failures.length > 0 };
}

async function main(): Promise<number> {
  const options = parse(process.argv.slice(2));
  const bind = await startBind();
  const responder = await startHttp01Responder(0);
  const pebble = await startPebble({ dnsServer: bind.address, httpPort: responder.port });
  const adapters = new CachedAcmeClients();
  try {
    await bind.addZone(ZONE, [{ name: '*', type: 'A', value: '127.0.0.1' }]);
    const directory = { url: pebble.directoryUrl, caBundlePem: pebble.caBundlePem };
    const names = (run: string) => Array.from({ length: options.certificates }, (_, i) => `${run}-${i}.${ZONE}`);
    const csrs = async (list: string[]) => Promise.all(list.map(async (name) => (await acme.crypto.createCsr({ commonName: name, altNames: [name] }, await acme.crypto.createPrivateEcdsaKey()))[1]));

    const { client } = await adapters.ensureAccount({ directory, termsOfServiceAgreed: true });
    const ours = names('adapter');
    const oursCsrs = await csrs(ours);
    const rows = [await drive('certplane adapter', pebble, ours, options.concurrency, (name, i) => withAdapter(client, responder, name, oursCsrs[i]!))];

    // acme-client's HTTP goes through its module-wide axios instance: the only place to trust pebble's root.
    acme.axios.defaults.httpsAgent = new https.Agent({ ca: pebble.caBundlePem, keepAlive: true });
    for (const [label, backoffMin] of [['acme-client 5.4, backoff lowered to 50 ms', 50], ['acme-client 5.4, default 5 s backoff', 5000]] as const) {
      const bare = new acme.Client({ directoryUrl: pebble.directoryUrl, accountKey: await acme.crypto.createPrivateEcdsaKey(), backoffMin });
      await bare.createAccount({ termsOfServiceAgreed: true });
      const list = names(`bare${backoffMin}`);
      const list_csrs = await csrs(list);
      rows.push(await drive(label, pebble, list, options.concurrency, (_name, i) => withAcmeClient(bare, responder, list_csrs[i]!)));
    }
    const { lines, failed } = report(options, rows);
    process.stdout.write(`${lines.join('\n')}\n`);
    return failed ? 1 : 0;
  } finally {
    adapters.close();
    await responder.stop();
    await pebble.stop();
    await bind.stop();
  }
}

runBench('acme', main);
