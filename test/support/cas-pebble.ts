/**
 * CAS orders end to end, against a real CA: a BIND 9 serving `example.test` (its NS, and every name
 * in it at 127.0.0.1) that stands for the user's DNS host, the user's web site (a small HTTP server
 * on the port pebble's VA fetches http-01 files from), Debian's pebble resolving every name through
 * that BIND, and an in-process certplane with its job workers running, the `lets_encrypt` issuer
 * profile pointed at pebble, `dnsResolver` at the same BIND, and a clock that follows real time
 * and can be moved on (the validation deadline). The test plays the user: it reads what
 * DescribeCertificateState says to place and places it with `placeTxt` or `site.set`.
 */
import { loadConfig } from '../../src/config/config.js';
import type { Clock } from '../../src/kernel/clock.js';
import { startHttp01Responder, type Http01Responder } from './acme.js';
import { startBind, type BindRecord, type BindServer } from './bind.js';
import { Cas, casTenant, rawCall, type CasTenant } from './cas.js';
import type { Engine } from './databases.js';
import { startPebble, type PebbleServer } from './pebble.js';
import { startService, type TestService } from './service.js';

export const ZONE = 'example.test';
/** A product that certifies wildcard names, on the same issuer profile as the default one. */
export const WILDCARD_PRODUCT = 'geotrust-dv-w-starter';
const HOUR = 3_600_000;
const ZONE_RECORDS: BindRecord[] = [
  { name: '@', type: 'NS', value: `ns.${ZONE}` },
  { name: 'ns', type: 'A', value: '127.0.0.1' },
  { name: '*', type: 'A', value: '127.0.0.1' },
];

/** Real time, moved on by `advance`: jobs due later become due, the way days passing would make them. */
export interface MovableClock extends Clock {
  advance(ms: number): void;
}

export function movableClock(): MovableClock {
  let offset = 0;
  return { now: () => new Date(Date.now() + offset), advance: (ms) => void (offset += ms) };
}

/** The CA, the user's DNS host and web site: started once per test file, shared by both engines. */
export interface CaWorld {
  bind: BindServer;
  pebble: PebbleServer;
  /** The user's web site: what it serves at /.well-known/acme-challenge/<token>. */
  site: Http01Responder;
  /** Adds a TXT record to the zone, as a user does at their DNS host (the others stay). */
  placeTxt(name: string, value: string): Promise<void>;
  /** Removes every TXT record placed so far. */
  clearTxt(): Promise<void>;
  /** A fresh name in the zone (it resolves to 127.0.0.1). */
  name(label?: string): string;
  /** Challenges pebble's VA was asked to validate so far (it logs each task it pulls from its queue). */
  validationsAsked(): number;
  stop(): Promise<void>;
}

let seq = 0;

export async function startCaWorld(): Promise<CaWorld> {
  const bind = await startBind();
  let site: Http01Responder | undefined;
  let pebble: PebbleServer | undefined;
  const stop = async () => {
    await pebble?.stop();
    await site?.stop();
    await bind.stop();
  };
  try {
    await bind.addZone(ZONE, ZONE_RECORDS);
    site = await startHttp01Responder(0);
    pebble = await startPebble({ dnsServer: bind.address, httpPort: site.port });
    const txt: BindRecord[] = [];
    return {
      bind,
      pebble,
      site,
      placeTxt: async (name, value) => {
        txt.push({ name, type: 'TXT', value });
        await bind.setRecords(ZONE, [...ZONE_RECORDS, ...txt]);
      },
      clearTxt: async () => {
        txt.length = 0;
        await bind.setRecords(ZONE, ZONE_RECORDS);
      },
      name: (label = 'www') => `${label}-${process.pid}-${++seq}.${ZONE}`,
      validationsAsked: () => (pebble!.log().match(/Pulled a task from the Tasks queue/g) ?? []).length,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface CasService {
  service: TestService;
  tenant: CasTenant;
  clock: MovableClock;
}

/**
 * certplane on `engine` against the world's pebble, with its workers running and a tenant holding
 * `units` certificates of the default product and of WILDCARD_PRODUCT.
 */
export async function startCasService(engine: Engine, world: CaWorld, units = 20): Promise<CasService> {
  const clock = movableClock();
  const { pebble, bind, site } = world;
  const service = await startService(engine, {
    clock,
    config: {
      // As an operator points every configured issuer profile at a test CA.
      issuers: loadConfig({ env: { CERTPLANE_ACME_DIRECTORY: pebble.directoryUrl, CERTPLANE_ACME_CA_BUNDLE: pebble.caBundlePath } }).issuers,
      products: {
        'digicert-free-1-free': { issuer: 'lets_encrypt', wildcard: false },
        [WILDCARD_PRODUCT]: { issuer: 'lets_encrypt', wildcard: true },
      },
      dnsResolver: bind.address,
      dns01Propagation: { timeoutSeconds: 20, intervalMs: 50, nameServerPort: bind.port },
      http01Listen: undefined,
      // The clock moves days on; the SDK dates its signatures in real time.
      signatureMaxSkewMs: 30 * 24 * HOUR,
    },
    // A user's record is looked for every 200 ms (not every 30 s), the file on the port pebble fetches it from.
    compose: { issuanceTiming: { userCheckMs: 200, recheckMs: 100, pollInRunMs: 5000 }, placementHttpPort: site.port },
    worker: { idlePollMs: { min: 10, max: 100 } },
  });
  const tenant = await casTenant(service);
  await tenant.grant(units);
  await tenant.grant(units, WILDCARD_PRODUCT);
  return { service, tenant, clock };
}

/** DescribeCertificateState through the SDK. */
export async function orderState(tenant: CasTenant, orderId: number) {
  return (await tenant.cas.describeCertificateState(new Cas.DescribeCertificateStateRequest({ orderId }))).body!;
}

export type OrderState = Awaited<ReturnType<typeof orderState>>;

/** Asks DescribeCertificateState every 50 ms until `until` holds; fails naming the last answer. */
export async function awaitState(tenant: CasTenant, orderId: number, until: (state: OrderState) => boolean, what: string, timeoutMs = 30_000): Promise<OrderState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await orderState(tenant, orderId);
    if (until(state)) return state;
    if (state.type === 'verify_fail' || Date.now() > deadline) {
      // The SDK's model has no Reason: the raw answer says why.
      const raw = await rawCall(tenant.cas, 'DescribeCertificateState', { OrderId: String(orderId) });
      throw new Error(`order ${orderId} not ${what}${state.type === 'verify_fail' ? '' : ` within ${timeoutMs} ms`}: ${JSON.stringify(raw)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** What DescribeCertificateState asked the user to place, in the order it asked. */
export type ShownProof = { kind: 'DNS'; name: string; value: string } | { kind: 'FILE'; domain: string; uri: string; content: string };

/**
 * Plays the user to the end: places every proof DescribeCertificateState shows (a TXT record in
 * the zone, or the file on the site) as soon as it is shown, keeping the earlier ones in place,
 * until the order is issued or failed. Resolves with the last state and every proof shown.
 */
export async function fulfil(world: CaWorld, tenant: CasTenant, orderId: number, timeoutMs = 30_000): Promise<{ state: OrderState; shown: ShownProof[] }> {
  const shown: ShownProof[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await orderState(tenant, orderId);
    if (state.type === 'certificate' || state.type === 'verify_fail') return { state, shown };
    if (state.type === 'domain_verify') {
      const proof: ShownProof = state.recordDomain !== undefined
        ? { kind: 'DNS', name: state.recordDomain, value: state.recordValue! }
        : { kind: 'FILE', domain: state.domain!, uri: state.uri!, content: state.content! };
      if (!shown.some((p) => JSON.stringify(p) === JSON.stringify(proof))) {
        shown.push(proof);
        if (proof.kind === 'DNS') await world.placeTxt(proof.name, proof.value);
        else world.site.set(proof.uri.slice(proof.uri.lastIndexOf('/') + 1), proof.content);
      }
    }
    if (Date.now() > deadline) throw new Error(`order ${orderId} not issued or failed within ${timeoutMs} ms: ${JSON.stringify(state)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The leaf of a PEM chain (its first certificate). */
export function leafOf(chainPem: string): string {
  return chainPem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/)![0];
}
