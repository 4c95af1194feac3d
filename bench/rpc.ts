/**
 * `npm run bench -- rpc [--duration S] [--concurrency N] [--postgres] [--cpu-prof DIR]`
 *
 * The cost of authentication on the Alibaba RPC dialect: signed GetSite requests per second against
 * `certplane serve` running as its own process, next to unauthenticated `GET /healthz` in the same
 * run, with the load coming from a third process (bench/_load.ts). Every GetSite is signed anew
 * (ACS3-HMAC-SHA256, fresh nonce, current date) by the independent signer of the tests, so the
 * server verifies a signature (with the key's secret it opened before), stores the nonce in the
 * statement that checks the key still holds, authorizes and reads the site each time. The account, key and plan come from the CLI, the site from the official ESA SDK,
 * which also reads it back once before the load starts.
 *
 * There is no target: the figures are the result. Exits 1 when any request was not a 200, else 0.
 * `--cpu-prof DIR` profiles the server (bench/_cpuprof.ts) and leaves its .cpuprofile in DIR.
 */
import { cpus } from 'node:os';
import { Esa, esaClient } from '../test/support/alibaba.js';
import {
  LOG_LEVEL,
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
import type { LoadConfig } from './_load.js';
import { ESA_VERSION } from './_requests.js';

const SITE_NAME = 'bench-site.com';
const COLUMNS: Array<[string, number]> = [
  ['kind', 7], ['req/s', 7], ['p50 ms', 6], ['p99 ms', 6], ['errors', 6],
  ['server CPU', 10], ['load CPU', 8], ['machine', 7], ['server µs/req', 13], ['load µs/req', 11],
];
/** A process at or above this share of one core is taken as saturated. */
const SATURATED = 0.9;

interface Credentials {
  accessKeyId: string;
  accessKeySecret: string;
}

/** The account, its access key and an enterprise plan instance, made with the CLI as an operator would. */
function provision(env: Record<string, string>): Credentials & { instanceId: string } {
  const { accountId } = cliFields(['account', 'create', '--name', 'bench'], env, 'accountId');
  const key = cliFields(['key', 'create', '--account', accountId], env, 'accessKeyId', 'accessKeySecret');
  const { instanceId } = cliFields(['plan', 'grant', '--account', accountId, '--plan', 'enterprise'], env, 'instanceId');
  return { ...key, instanceId };
}

/** Creates the site through the official SDK and reads it back once the same way; returns its id. */
async function createSite(port: number, credentials: Credentials, instanceId: string): Promise<number> {
  const esa = esaClient(`127.0.0.1:${port}`, credentials);
  const created = await esa.createSite(
    new Esa.CreateSiteRequest({ siteName: SITE_NAME, accessType: 'NS', coverage: 'global', instanceId }),
  );
  const siteId = created.body?.siteId;
  if (typeof siteId !== 'number') throw new Error(`CreateSite answered no SiteId: ${JSON.stringify(created.body)}`);
  const got = await esa.getSite(new Esa.GetSiteRequest({ siteId }));
  const model = got.body?.siteModel;
  if (model?.siteId !== siteId || model.siteName !== SITE_NAME) {
    throw new Error(`GetSite through the SDK answered ${JSON.stringify(got.body)}`);
  }
  return siteId;
}

/** Microseconds of a process's CPU per completed request. */
const perRequestUs = (cpuShare: number, perSecond: number): number => (cpuShare / perSecond) * 1e6;

function row(texts: string[]): string {
  return texts.map((text, i) => (i === 0 ? text.padEnd(COLUMNS[i]![1]) : text.padStart(COLUMNS[i]![1]))).join('  ');
}

/** Why a figure may say more about the load process or the machine than about the server. */
function bottlenecks(kind: string, r: Measured): string[] {
  const notes: string[] = [];
  if (r.clientCpu >= SATURATED && r.clientCpu >= r.serverCpu) {
    notes.push(
      `note: for ${kind} the load process saturated its core (${pct(r.clientCpu)}) before the server did (${pct(r.serverCpu)}): ` +
        'the req/s is the client\'s limit, a floor for the server\'s.',
    );
  }
  if (r.machineCpu >= SATURATED) {
    notes.push(`note: for ${kind} the machine was ${pct(r.machineCpu)} busy: server, load (and any other process) competed for its ${cpus().length} cores.`);
  }
  return notes;
}

/** The table, the notes, the authentication cost and any failures; `failed` when a request was not a 200. */
function report(options: Options, engineLabel: string, loads: LoadConfig[], results: Measured[], logs: string[]): { lines: string[]; failed: boolean } {
  const [healthz, getsite] = results as [Measured, Measured];
  const serverUs = results.map((r) => perRequestUs(r.serverCpu, r.perSecond));
  const loadUs = results.map((r) => perRequestUs(r.clientCpu, r.perSecond));
  const lines = [
    `rpc: signed GetSite (ACS3-HMAC-SHA256, ESA ${ESA_VERSION}) vs unauthenticated GET /healthz, concurrency ${options.concurrency}, ${engineLabel}, ${options.durationS} s each after ${WARMUP_MS / 1000} s warm-up, server log level ${LOG_LEVEL}${options.cpuProfDir ? ', server being profiled' : ''}`,
    'getsite: every request signed anew by the load process (fresh nonce, current date); the server verifies it, stores the nonce in the statement that checks the key, authorizes and reads the site',
    '',
    row(COLUMNS.map(([header]) => header)),
    ...results.map((r, i) =>
      row([loads[i]!.kind, fmt(r.perSecond), fmt(r.p50Ms, 1), fmt(r.p99Ms, 1), String(r.errors), pct(r.serverCpu), pct(r.clientCpu), pct(r.machineCpu), fmt(serverUs[i]!), fmt(loadUs[i]!)]),
    ),
    '',
    `CPU over the measured window: server (the certplane serve process) and load (the load generator) as a share of one core; machine = all ${cpus().length} cores busy, other processes included. µs/req = that process's CPU time per completed request.`,
    ...(options.engine === 'postgres' ? ["PostgreSQL's own processes are not in server CPU (they are in machine)."] : []),
    ...results.flatMap((r, i) => bottlenecks(loads[i]!.kind, r)),
    '',
    `authentication cost: signed GetSite runs at ${pct(getsite.perSecond / healthz.perSecond)} of /healthz (${fmt(serverUs[1]!)} µs of server CPU per signed request vs ${fmt(serverUs[0]!)} µs per /healthz)`,
  ];
  const failures = results.flatMap((r, i) => describeFailures(loads[i]!.kind, r, logs));
  if (failures.length > 0) lines.push('', 'FAILED REQUESTS (any non-200 fails the bench):', ...failures);
  if (options.cpuProfDir) lines.push('', `server CPU profiles written to ${options.cpuProfDir}`);
  return { lines, failed: failures.length > 0 };
}

async function main(): Promise<number> {
  const options = parseOptions('rpc', process.argv.slice(2));
  const { env, serveEnv, engineLabel } = await setUpDatabase(options);
  const { server, port } = await startServer(serveEnv);
  const { instanceId, ...credentials } = provision(env);
  const siteId = await createSite(port, credentials, instanceId);

  const pid = serverPid();
  const timing = { port, concurrency: options.concurrency, warmupMs: WARMUP_MS, durationMs: options.durationS * 1000 };
  const loads: LoadConfig[] = [{ kind: 'healthz', ...timing }, { kind: 'getsite', siteId, ...credentials, ...timing }];
  const results: Measured[] = [];
  for (const load of loads) results.push(await runLoad(load, pid));
  const logs = server.logs();
  await cleanup();

  const { lines, failed } = report(options, engineLabel, loads, results, logs);
  process.stdout.write(`${lines.join('\n')}\n`);
  return failed ? 1 : 0;
}

runBench('rpc', main);
