/**
 * `npm run bench -- client-cert [--duration S] [--concurrency N] [--postgres] [--workers N|auto] [--cpu-prof DIR]`
 *
 * Client certificates signed per second, all in one run, all from the same ECDSA P-256 CSR:
 * - certplane: CreateClientCertificate over signed RPC (stored, audited), with the CSR and with a
 *   generated ECC key;
 * - the reference: Debian's `cfssl serve` with an ECDSA P-256 CA, `POST /api/v1/cfssl/sign`;
 * - the ceiling: `openssl speed ecdsap256` signatures per second, on one core and on every core;
 * - the runtime, for reference: cfssl's API and work alone in Node (bench/_node-signer.ts: bare
 *   node:http, certplane's PKI toolkit, no authentication or storage), in one process and in one
 *   per core: what this runtime signs before anything certplane adds;
 * - the floor, for reference: signed GetSite against the same server (authentication, nonce, a read:
 *   what every signed request costs before any certificate work), and what a certificate from a CSR
 *   costs at least beyond it: the CSR's signature verified, the certificate signed, its signature
 *   verified (openssl speed's figures).
 * The HTTP loads come from their own process (bench/_load.ts) at the same concurrency. Target:
 * certplane at or above cfssl, authentication and storage included. certplane runs as one
 * `serve` process, its default (`--workers N|auto` to choose): on SQLite every process's commits
 * reset the others' page cache, which costs anywhere from 10 % to twice the CPU per certificate
 * depending on the machine, so a second process may sign more certificates per second or fewer.
 * Its CPU is counted over the whole process tree.
 *
 * Exits 1 when any request failed or a judged row misses the target, else 0.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { X509Certificate } from 'node:crypto';
import { Esa, esaClient } from '../test/support/alibaba.js';
import { makeCsr, testKey } from '../test/support/pki.js';
import { requireCfssl, startCfssl, startNodeSigner, type CfsslServer } from './_cfssl.js';
import {
  WARMUP_MS,
  cleanup,
  cliFields,
  describeFailures,
  fmt,
  parseOptions,
  pct,
  runBench,
  runLoad,
  serverPid,
  setUpDatabase,
  startServer,
  type Measured,
  type Options,
} from './_harness.js';

const CSR_SUBJECT = '/O=Example/CN=bench-client.example';
/** A process at or above this share of one core (or the machine at this share of all) is taken as saturated. */
const SATURATED = 0.9;

// ---------------------------------------------------------------- rows

/** One line of the table: an HTTP load against a signer, or a signature ceiling. */
interface Row {
  label: string;
  /** What exactly was measured, printed under the table. */
  how: string;
  signsPerSecond: number | undefined;
  /** The signer's CPU time per signed certificate, microseconds. */
  cpuUsPerSign: number | undefined;
  load?: Measured;
  /** The signer's last log lines, for the failure report. */
  logs?: string[];
  /** Judged against the target (≥ cfssl, no failed request). */
  judged: boolean;
  kind: 'load' | 'ceiling';
}

/** A measured HTTP load; `judged` rows must reach cfssl's rate. */
function loadRow(label: string, how: string, load: Measured, options: { judged?: boolean; logs?: string[] } = {}): Row {
  const cpuUsPerSign = (load.serverCpu / load.perSecond) * 1e6;
  return { label, how, signsPerSecond: load.perSecond, cpuUsPerSign, load, logs: options.logs, judged: options.judged ?? false, kind: 'load' };
}

/** openssl speed's rate is per second of CPU time of each of its `processes`. */
function ceilingRow(label: string, how: string, signsPerSecond: number, processes: number): Row {
  return { label, how, signsPerSecond, cpuUsPerSign: (processes / signsPerSecond) * 1e6, judged: false, kind: 'ceiling' };
}


// ---------------------------------------------------------------- certplane

interface Signer {
  port: number;
  engineLabel: string;
  siteId: number;
  accessKeyId: string;
  accessKeySecret: string;
  logs(): string[];
}

/**
 * `certplane serve` with an account, its access key, an enterprise plan and a site, made as an
 * operator and a user would (CLI, official SDK); one certificate is issued through the SDK first and
 * checked to chain to the site's CA, so the load measures a path that works.
 */
async function startCertplane(options: Options, csrPem: string): Promise<Signer> {
  const { env, serveEnv, engineLabel } = await setUpDatabase(options);
  const { server, port } = await startServer(serveEnv, options.workers);
  const { accountId } = cliFields(['account', 'create', '--name', 'bench'], env, 'accountId');
  const key = cliFields(['key', 'create', '--account', accountId], env, 'accessKeyId', 'accessKeySecret');
  const { instanceId } = cliFields(['plan', 'grant', '--account', accountId, '--plan', 'enterprise'], env, 'instanceId');
  const esa = esaClient(`127.0.0.1:${port}`, key);
  const site = await esa.createSite(new Esa.CreateSiteRequest({ siteName: 'bench-client.example', accessType: 'CNAME', coverage: 'global', instanceId }));
  const siteId = site.body?.siteId;
  if (typeof siteId !== 'number') throw new Error(`CreateSite answered no SiteId: ${JSON.stringify(site.body)}`);
  const issued = await esa.createClientCertificate(new Esa.CreateClientCertificateRequest({ siteId, CSR: csrPem, validityDays: 30 }));
  const ca = await esa.getClientCaCertificate(new Esa.GetClientCaCertificateRequest({ siteId, id: issued.body?.CACertificateId }));
  const leaf = new X509Certificate(issued.body?.certificate ?? '');
  if (!leaf.verify(new X509Certificate(ca.body?.certificate ?? '').publicKey)) throw new Error('the check certificate does not chain to the site CA');
  return { port, engineLabel, siteId, ...key, logs: () => server.logs() };
}

// ---------------------------------------------------------------- Node reference

const NODE_SIGNER_HOW =
  "cfssl's API and work in Node (bench/_node-signer.ts): bare node:http, the CSR parsed and verified, the certificate built from certplane's template, signed and checked, " +
  'as PEM in JSON; no authentication, no storage, no audit (not judged: what the runtime costs before anything certplane adds)';

// ---------------------------------------------------------------- ceiling

/** `openssl speed -seconds S [-multi N] ecdsap256`: ECDSA P-256 signs and verifies per second (the sums over the N processes). */
function opensslSpeed(seconds: number, processes = 1): { sign: number; verify: number } {
  const multi = processes > 1 ? ['-multi', String(processes)] : [];
  const out = execFileSync('openssl', ['speed', '-seconds', String(seconds), ...multi, 'ecdsap256'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  // "                              sign    verify    sign/s verify/s"
  // " 256 bits ecdsa (nistp256)   0.0000s   0.0001s  43082.8  13812.0"
  const match = /^\s*256 bits ecdsa \(nistp256\)\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)\s+([\d.]+)\s*$/m.exec(out);
  if (!match) throw new Error(`openssl speed printed no ecdsap256 result:\n${out}`);
  return { sign: Number(match[1]), verify: Number(match[2]) };
}

// ---------------------------------------------------------------- table

const COLUMNS: Array<[string, number]> = [
  ['signer', 27], ['signs/s', 8], ['p50 ms', 6], ['p99 ms', 6], ['errors', 6], ['signer CPU', 10], ['load CPU', 8], ['machine', 7], ['CPU µs/sign', 11], ['vs cfssl', 8], ['of ceiling', 10], ['', 0],
];

function line(texts: string[]): string {
  return texts.map((text, i) => (i === 0 ? text.padEnd(COLUMNS[i]![1]) : text.padStart(COLUMNS[i]![1]))).join('  ').trimEnd();
}

function tableRow(row: Row, cfssl: number, ceiling: number): string {
  const rate = row.signsPerSecond ?? Number.NaN;
  const l = row.load;
  const verdict = row.judged ? (rate >= cfssl && l?.errors === 0 ? 'PASS' : 'FAIL') : row.kind === 'ceiling' ? 'ceiling' : 'reference';
  return line([
    row.label, fmt(rate), l ? fmt(l.p50Ms, 1) : '-', l ? fmt(l.p99Ms, 1) : '-', l ? String(l.errors) : '-',
    l ? pct(l.serverCpu) : '-', l ? pct(l.clientCpu) : '-', l ? pct(l.machineCpu) : '-', fmt(row.cpuUsPerSign ?? Number.NaN), pct(rate / cfssl), pct(rate / ceiling), verdict,
  ]);
}

/** Why a figure may say more about the load process or the machine than about the signer. */
function bottlenecks(row: Row): string[] {
  const r = row.load;
  if (!r) return [];
  const notes: string[] = [];
  if (r.clientCpu >= SATURATED && r.clientCpu >= r.serverCpu) {
    notes.push(`note: for ${row.label} the load process saturated its core (${pct(r.clientCpu)}) before the signer did (${pct(r.serverCpu)}): the rate is the client's limit, a floor for the signer's.`);
  }
  if (r.machineCpu >= SATURATED) {
    notes.push(`note: for ${row.label} the machine was ${pct(r.machineCpu)} busy: signer, load (and any other process) shared its ${cpus().length} cores.`);
  }
  return notes;
}

function report(options: Options, engineLabel: string, rows: Row[], cfssl: number, ceiling: number, speedSeconds: number): { lines: string[]; failed: boolean } {
  const processes = options.workers === 'auto' ? `auto = ${cpus().length}` : options.workers;
  const lines = [
    `client-cert: client certificates signed per second, HTTP loads at concurrency ${options.concurrency} from their own process, ${options.durationS} s each after ${WARMUP_MS / 1000} s warm-up; openssl speed ${speedSeconds} s`,
    `every signer: an ECDSA P-256 CA and the same P-256 CSR (${CSR_SUBJECT}); certplane: serve --workers ${processes} on ${engineLabel}, signer CPU over its whole process tree`,
    '',
    line(COLUMNS.map(([header]) => header)),
    ...rows.map((row) => tableRow(row, cfssl, ceiling)),
    '',
    ...rows.map((row) => `${row.label}: ${row.how}`),
    '',
    `signer CPU and load CPU over the measured window, as a share of one core; machine = all ${cpus().length} cores busy, other processes included; ` +
      'CPU µs/sign = the signer\'s CPU time per certificate (less sensitive than signs/s to what else the machine runs).',
    'openssl speed divides by its CPU time, not wall time; vs cfssl = signs/s relative to cfssl serve; of ceiling = relative to openssl speed on every core.',
    ...rows.flatMap(bottlenecks),
  ];
  const failures = rows.flatMap((row) => (row.load ? describeFailures(row.label, row.load, row.logs ?? []) : []));
  const missed = rows.filter((row) => row.judged && !((row.signsPerSecond ?? 0) >= cfssl));
  if (failures.length > 0) lines.push('', 'FAILED REQUESTS (any non-200 fails the bench):', ...failures);
  if (missed.length > 0) lines.push('', `BELOW TARGET (cfssl's ${fmt(cfssl)} signs/s): ${missed.map((row) => row.label).join(', ')}`);
  return { lines, failed: failures.length > 0 || missed.length > 0 };
}

// ---------------------------------------------------------------- floor

/** What a certificate from a CSR costs certplane at the least: a signed request, and three ECDSA operations. */
function floorOf(getSite: Measured, speed: { sign: number; verify: number }): { getSiteUs: number; signUs: number; verifyUs: number; cryptoUs: number } {
  const signUs = 1e6 / speed.sign;
  const verifyUs = 1e6 / speed.verify;
  return { getSiteUs: (getSite.serverCpu / getSite.perSecond) * 1e6, signUs, verifyUs, cryptoUs: signUs + 2 * verifyUs };
}

/**
 * The CPU the machine has per certificate at cfssl's rate, shared by the signer and the load process
 * on the same cores: what certplane's signer may spend at most to keep up, given what its own load
 * process spends per request (signing each request, reading each certificate back).
 */
function budgetLine(cores: number, cfsslRate: number, certplane: Measured, floorUs: number): string {
  const machineUs = (cores * 1e6) / cfsslRate;
  const loadUs = (certplane.clientCpu / certplane.perSecond) * 1e6;
  const signerUs = machineUs - loadUs;
  return (
    `budget at cfssl's rate: ${cores} cores / ${fmt(cfsslRate)} per second = ${fmt(machineUs)} µs of CPU per certificate for signer and load together; ` +
    `certplane's load process spent ${fmt(loadUs)} µs per request (CSR row), leaving the signer at most ${fmt(signerUs)} µs ` +
    `with every core busy, against the floor of ${fmt(floorUs)} µs above.`
  );
}

/**
 * What the Node reference rows say about the target: cfssl's work alone, in this runtime, with
 * neither authentication nor storage, against cfssl's rate; certplane adds both to the same work.
 */
function runtimeLine(cores: number, cfssl: Measured, one: Measured, all: Measured): string {
  const us = (m: Measured): string => fmt((m.serverCpu / m.perSecond) * 1e6);
  const best = Math.max(one.perSecond, all.perSecond);
  return (
    `runtime: cfssl's work alone in Node (no authentication, no storage) signs ${fmt(one.perSecond)}/s in one process (${us(one)} µs per certificate) ` +
    `and ${fmt(all.perSecond)}/s in ${cores} (${us(all)} µs), ${pct(best / cfssl.perSecond)} of cfssl's rate at best, against cfssl's ${us(cfssl)} µs; ` +
    `certplane does that work and authentication and storage besides${best < cfssl.perSecond ? ', so on this machine the target is beyond this runtime' : ''}.`
  );
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  const options = parseOptions('client-cert', process.argv.slice(2));
  requireCfssl(); // before minutes of measuring
  const csrPem = makeCsr(testKey('p256'), { subject: CSR_SUBJECT });
  const timing = { concurrency: options.concurrency, warmupMs: WARMUP_MS, durationMs: options.durationS * 1000 };

  // The ceilings first, before the signers and the load compete for the cores.
  // openssl speed runs S seconds of signing, then S of verifying: keep it short, it counts CPU time anyway.
  const speedSeconds = Math.min(options.durationS, 3);
  const cores = cpus().length;
  const oneCoreSpeed = opensslSpeed(speedSeconds);
  const oneCore = oneCoreSpeed.sign;
  const allCores = opensslSpeed(speedSeconds, cores).sign;

  const peer = async (server: CfsslServer): Promise<{ load: Measured; logs: string[] }> => {
    try {
      const load = await runLoad({ kind: 'cfssl-sign', csrPem, port: server.port, ...timing }, server.pid);
      return { load, logs: server.logs() };
    } finally {
      await server.stop();
    }
  };
  const { load: cfsslLoad, logs: cfsslLogs } = await peer(await startCfssl(csrPem));
  const nodeOne = await peer(await startNodeSigner(csrPem, 1));
  const nodeAll = await peer(await startNodeSigner(csrPem, cores));

  const signer = await startCertplane(options, csrPem);
  const rpc = { siteId: signer.siteId, accessKeyId: signer.accessKeyId, accessKeySecret: signer.accessKeySecret, validityDays: 30 };
  const withCsr = await runLoad({ kind: 'client-cert', ...rpc, csrPem, port: signer.port, ...timing }, serverPid());
  const generated = await runLoad({ kind: 'client-cert', ...rpc, port: signer.port, ...timing }, serverPid());
  const getSite = await runLoad({ kind: 'getsite', siteId: signer.siteId, accessKeyId: signer.accessKeyId, accessKeySecret: signer.accessKeySecret, port: signer.port, ...timing }, serverPid());
  const signerLogs = signer.logs();

  const rows: Row[] = [
    loadRow('certplane (CSR)', 'CreateClientCertificate with the CSR over signed RPC (ACS3-HMAC-SHA256, a fresh signature and nonce per request), stored and audited', withCsr, { judged: true, logs: signerLogs }),
    loadRow('certplane (generated ECC)', 'CreateClientCertificate with PkeyType ECC (a P-256 key made and sealed by certplane, returned once) over signed RPC, stored and audited', generated, { judged: true, logs: signerLogs }),
    loadRow('cfssl serve', `Debian golang-cfssl, POST /api/v1/cfssl/sign {certificate_request}, P-256 CA, profile digitalSignature + clientAuth + CRL/OCSP URLs, 30 days`, cfsslLoad, { logs: cfsslLogs }),
    loadRow('node signer, 1 process', NODE_SIGNER_HOW, nodeOne.load, { logs: nodeOne.logs }),
    loadRow(`node signer, ${cores} processes`, `the same, ${cores} node:cluster processes on one port`, nodeAll.load, { logs: nodeAll.logs }),
    ceilingRow('openssl speed, 1 core', 'openssl speed ecdsap256: one process (openssl speed is single-threaded), signatures only, no certificate', oneCore, 1),
    ceilingRow(`openssl speed, ${cores} cores`, `openssl speed -multi ${cores} ecdsap256: ${cores} processes, signs/s summed`, allCores, cores),
    loadRow('certplane GetSite (floor)', 'signed GetSite on the same server: ACS3 verified, nonce stored in the statement that checks the key, site read; no certificate work (not judged: what every signed request costs)', getSite, { logs: signerLogs }),
  ];
  const floor = floorOf(getSite, oneCoreSpeed);
  await cleanup();

  const { lines, failed } = report(options, signer.engineLabel, rows, cfsslLoad.perSecond, allCores, speedSeconds);
  lines.push(
    '',
    `floor of a certificate from a CSR on certplane: ${fmt(floor.getSiteUs)} µs (a signed request, GetSite above) + ${fmt(floor.cryptoUs)} µs ` +
      `(CSR signature verified ${fmt(floor.verifyUs)}, certificate signed ${fmt(floor.signUs)}, its signature verified ${fmt(floor.verifyUs)}; openssl speed, one core) ` +
      `= ${fmt(floor.getSiteUs + floor.cryptoUs)} µs of CPU before storage and building, against cfssl's ${fmt((cfsslLoad.serverCpu / cfsslLoad.perSecond) * 1e6)} µs for all of its work.`,
    budgetLine(cores, cfsslLoad.perSecond, withCsr, floor.getSiteUs + floor.cryptoUs),
    runtimeLine(cores, cfsslLoad, nodeOne.load, nodeAll.load),
  );
  process.stdout.write(`${lines.join('\n')}\n`);
  return failed ? 1 : 0;
}

runBench('client-cert', main);
