import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { beforeEach, describe, it } from 'node:test';
import { NodeCaSigner } from '../../src/adapters/ca/node-signer.js';
import { AesGcmSealer } from '../../src/adapters/crypto/aes-gcm-sealer.js';
import { nodeKeyPairs } from '../../src/adapters/crypto/key-pairs.js';
import { DEFAULT_CLIENT_CA, DEFAULT_LIMITS, DEFAULT_PLANS } from '../../src/config/config.js';
import { AuditStamp } from '../../src/core/audit/ports.js';
import { clientKeyContext } from '../../src/core/private-ca/model.js';
import type { CaSigner, RevocationChange, SigningRequest } from '../../src/core/private-ca/ports.js';
import { PrivateCaService } from '../../src/core/private-ca/service.js';
import type { Site } from '../../src/core/sites/model.js';
import { fixedClock } from '../../src/kernel/clock.js';
import { AppError, errors } from '../../src/kernel/errors.js';
import { silentLogger } from '../../src/kernel/logger.js';
import { parseCertificate, threadPoolWork, useSignatureWork } from '../../src/pki/index.js';
import { SignatureThread } from '../../src/adapters/crypto/signature-thread.js';
import { MemoryPrivateCaStore } from '../support/memory-private-ca-store.js';
import { makeCsr, testKey } from '../support/pki.js';

const T0 = new Date('2026-03-01T10:00:00.250Z');
const DAY = 86_400_000;

/** The real signer (pure node:crypto), with a switch that makes issuing fail once the record exists. */
class SwitchableSigner implements CaSigner {
  failIssue = false;
  /** What the store held for each serial at the moment it was signed. */
  readonly seenAtSigning: Array<{ serial: string; status: string | undefined }> = [];
  constructor(
    private readonly inner: NodeCaSigner,
    private readonly store: MemoryPrivateCaStore,
  ) {}
  createCa: CaSigner['createCa'] = (id, spec) => this.inner.createCa(id, spec);
  signCrl: CaSigner['signCrl'] = (id, crl) => this.inner.signCrl(id, crl);
  signOcspResponse: CaSigner['signOcspResponse'] = (id, r) => this.inner.signOcspResponse(id, r);
  forget: CaSigner['forget'] = (id) => this.inner.forget(id);
  async issue(caId: string, request: SigningRequest) {
    const serial = request.serial.toString('hex');
    this.seenAtSigning.push({ serial, status: [...this.store.certificates.values()].find((c) => c.serialNumber === serial)?.status });
    if (this.failIssue) throw new Error('the signing key is unavailable');
    return this.inner.issue(caId, request);
  }
}

describe('client certificate issuance with in-memory ports', () => {
  let store: MemoryPrivateCaStore;
  let signer: SwitchableSigner;
  let clock: ReturnType<typeof fixedClock>;
  let service: PrivateCaService;
  let sealer: AesGcmSealer;
  let changes: RevocationChange[];
  let created: string[];
  let next = 0;
  const sites = new Map<string, Site>();

  const site = (id: string, plan = 'enterprise'): Site => {
    const s: Site = {
      id, accountId: `acc-${id}`, name: `site${id}.example`, accessType: 'CNAME', coverage: 'global', instanceId: 'i', plan,
      resourceGroupId: null, status: 'pending', verifyCode: 'v', nameServers: [], cnameZone: 'c', createdAt: T0, updatedAt: T0, verifiedAt: null,
    };
    sites.set(id, s);
    return s;
  };

  beforeEach(() => {
    store = new MemoryPrivateCaStore();
    changes = [];
    created = [];
    clock = fixedClock(T0);
    sealer = new AesGcmSealer([randomBytes(32)]);
    signer = new SwitchableSigner(new NodeCaSigner({ sealer, source: store, publicUrl: 'https://ca.test' }), store);
    service = new PrivateCaService({
      store,
      signer,
      keys: nodeKeyPairs,
      sites: {
        get: async (accountId, id) => {
          const s = sites.get(id);
          if (!s || s.accountId !== accountId) throw errors.siteNotFound(id);
          return s;
        },
      },
      plans: { definition: (plan) => DEFAULT_PLANS[plan]! },
      sealer,
      clock,
      ids: { hex32: () => (++next).toString(16).padStart(32, '0'), ordered32: () => (++next).toString(16).padStart(32, '0'), numeric: () => String(++next), secret: () => 's' },
      logger: silentLogger,
      settings: DEFAULT_CLIENT_CA,
      limits: DEFAULT_LIMITS,
      regionId: 'test-region',
      revocation: { revocationChanged: async (change) => void changes.push(change), caCreated: async (caId) => void created.push(caId) },
    });
  });

  const stamp = (s: Site) => new AuditStamp(s.accountId, 'key:test', 'esa:CreateClientCertificate', (id) => `cert/${id}`, `req-${++next}`);
  const issue = (s: Site, input: { csr?: string; pkeyType?: string; validityDays: number }) => service.issue(s.accountId, s.id, input, stamp(s));
  const refusal = async (call: Promise<unknown>): Promise<AppError> => {
    try {
      await call;
    } catch (err) {
      if (err instanceof AppError) return err;
      throw err;
    }
    throw new Error('expected a refusal');
  };

  it('records the serial before signing, then stores the signed certificate as active with its audit row', async () => {
    const s = site('1');
    const csr = makeCsr(testKey('p256'), { subject: '/O=Example/CN=device-1' });
    const issued = await issue(s, { csr, validityDays: 30 });

    assert.deepEqual(signer.seenAtSigning, [{ serial: issued.certificate.serialNumber, status: 'issuing' }], 'recorded, not yet signed, when signed');
    assert.deepEqual(store.reservations.map((r) => [r.serialNumber, r.status, r.certificatePem]), [[issued.certificate.serialNumber, 'issuing', null]]);
    const stored = store.certificates.get(issued.certificate.id)!;
    assert.equal(stored.status, 'active');
    assert.equal(stored.certificatePem, issued.certificatePem);
    assert.equal(stored.sealedKey, null, 'a CSR brings no key to keep');
    assert.equal(issued.privateKey, null);

    const cert = parseCertificate(issued.certificatePem);
    assert.equal(cert.serialNumber.hex, issued.certificate.serialNumber);
    assert.equal(cert.commonName, 'device-1');
    assert.equal(cert.notBefore.getTime(), Math.floor((T0.getTime() - 5 * 60_000) / 1000) * 1000, 'back-dated five minutes, whole seconds');
    assert.equal(cert.notAfter.getTime() - cert.notBefore.getTime(), 30 * DAY, 'exactly ValidityDays later');
    assert.equal(cert.fingerprintSha256, issued.certificate.fingerprintSha256);

    const [caEvent, certEvent] = store.audit;
    assert.deepEqual([caEvent?.action, caEvent?.resource], ['certplane:CreateManagedClientCa', `acs:esa:test-region:acc-1:site/1/client-ca/${issued.ca.id}`]);
    assert.deepEqual([certEvent?.action, certEvent?.resource, certEvent?.outcome], ['esa:CreateClientCertificate', `cert/${issued.certificate.id}`, 'success']);
  });

  it('voids the record when signing fails after the reservation, and releases nothing', async () => {
    const s = site('2');
    await issue(s, { pkeyType: 'ECC', validityDays: 1 });
    signer.failIssue = true;
    await assert.rejects(issue(s, { pkeyType: 'ECC', validityDays: 1 }), /signing key is unavailable/);
    const [failed] = store.reservations.slice(-1);
    assert.equal(store.certificates.get(failed!.id)?.status, 'void');
    assert.equal(store.audit.filter((e) => e.action === 'esa:CreateClientCertificate').length, 1, 'only the first issuance is on record as done');
    const listed = await service.certificates.list(s.accountId, s.id, { number: 1, size: 10 });
    assert.deepEqual(listed.items.map((c) => c.status).sort(), ['active', 'void'], 'the inventory knows the void serial');
  });

  it('voids the record when the completion cannot be stored', async () => {
    const s = site('3');
    store.failComplete = true;
    await assert.rejects(issue(s, { pkeyType: 'ECC', validityDays: 1 }), /went away/);
    assert.deepEqual([...store.certificates.values()].map((c) => c.status), ['void']);
  });

  it('keeps a generated key only sealed, and returns it once', async () => {
    const s = site('4');
    const issued = await issue(s, { pkeyType: 'ECC', validityDays: 7 });
    const stored = store.certificates.get(issued.certificate.id)!;
    assert.ok(issued.privateKey?.startsWith('-----BEGIN PRIVATE KEY-----'));
    assert.ok(stored.sealedKey && !stored.sealedKey.includes('PRIVATE KEY'));
    assert.equal(sealer.open(stored.sealedKey, clientKeyContext(stored.id)), issued.privateKey);
    assert.equal(parseCertificate(issued.certificatePem).commonName, issued.certificate.id, 'a generated key is named by its certificate id');
  });

  it('refuses bad requests before recording anything or creating a CA', async () => {
    const s = site('5');
    const free = site('6', 'free');
    // Each call made only when its turn comes: a refusal nobody awaits yet would be an unhandled rejection.
    const cases: Array<[() => Promise<unknown>, string, RegExp]> = [
      [() => issue(s, { csr: 'garbage', validityDays: 30 }), 'request.invalid_parameter', /^csr: not a CSR/],
      [() => issue(s, { csr: makeCsr(testKey('rsa1024')), validityDays: 30 }), 'request.invalid_parameter', /unsupported key: RSA 1024 bits/],
      [() => issue(s, { csr: makeCsr(testKey('p256'), { addext: ['basicConstraints=critical,CA:TRUE'] }), validityDays: 30 }), 'request.invalid_parameter', /asks for a CA certificate/],
      [() => issue(s, { csr: makeCsr(testKey('rsa')), pkeyType: 'ECC', validityDays: 30 }), 'request.invalid_parameter', /^pkeyType: is ECC, but the CSR holds an RSA key/],
      [() => issue(s, { pkeyType: 'DSA', validityDays: 30 }), 'request.invalid_parameter', /^pkeyType: must be RSA or ECC/],
      [() => issue(s, { validityDays: 30 }), 'request.invalid_parameter', /^pkeyType: send a CSR/],
      [() => issue(s, { pkeyType: 'ECC', validityDays: 0 }), 'request.invalid_parameter', /^validityDays: must be a whole number of days from 1 to 3650, got 0/],
      [() => issue(s, { pkeyType: 'ECC', validityDays: 3651 }), 'request.invalid_parameter', /got 3651/],
      [() => issue(free, { pkeyType: 'ECC', validityDays: 30 }), 'plan.feature_unavailable', /does not include client certificates/],
      [() => service.issue('someone-else', s.id, { pkeyType: 'ECC', validityDays: 30 }, stamp(s)), 'site.not_found', /./],
    ];
    for (const [call, code, message] of cases) {
      const err = await refusal(call());
      assert.equal(err.code, code, err.message);
      assert.match(err.message, message);
    }
    assert.equal(store.reservations.length, 0, 'no serial consumed');
    assert.equal(store.cas.size, 0, 'no CA made');
    assert.equal(store.audit.length, 0);
  });

  it('creates one managed CA per site when first issuances race', async () => {
    const s = site('7');
    const issued = await Promise.all([1, 2, 3, 4].map(() => issue(s, { pkeyType: 'ECC', validityDays: 2 })));
    assert.equal(store.cas.size, 1);
    assert.deepEqual(new Set(issued.map((i) => i.certificate.caId)), new Set([[...store.cas.keys()][0]]));
  });

  it('refuses a validity that would outlive the CA', async () => {
    const s = site('8');
    await issue(s, { pkeyType: 'ECC', validityDays: 1 });
    const [ca] = store.cas.values();
    clock.set(new Date(ca!.notAfter.getTime() - 100 * DAY));
    const err = await refusal(issue(s, { pkeyType: 'ECC', validityDays: 101 }));
    assert.match(err.message, /^validityDays: 101 days would end after the site's CA certificate \(it expires /);
    assert.equal(store.reservations.length, 1);
    await issue(s, { pkeyType: 'ECC', validityDays: 99 });
  });

  it('issues under a new CA when its CA was deleted elsewhere since it was last used', async () => {
    const s = site('9');
    const first = await issue(s, { pkeyType: 'ECC', validityDays: 1 });
    await service.certificates.revoke(s.accountId, s.id, first.certificate.id, stamp(s));
    // Another process deletes the CA: this one still remembers it.
    store.cas.delete(first.ca.id);
    const second = await issue(s, { pkeyType: 'ECC', validityDays: 1 });
    assert.notEqual(second.ca.id, first.ca.id);
    assert.equal(store.certificates.get(second.certificate.id)?.status, 'active');
  });

  it("drops a deleted CA's key from the signing thread along with the CA", async () => {
    const thread = new SignatureThread();
    useSignatureWork(thread);
    try {
      const s = site('10');
      const first = await issue(s, { pkeyType: 'ECC', validityDays: 1 });
      assert.equal(await thread.heldTemplates(), 1);
      // Deleted elsewhere: the next issuance moves to a new CA, and the old one's template goes.
      store.cas.delete(first.ca.id);
      const second = await issue(s, { pkeyType: 'ECC', validityDays: 1 });
      assert.notEqual(second.ca.id, first.ca.id);
      assert.equal(await thread.heldTemplates(), 1);
      // Deleted here: nothing of it stays on the thread.
      await service.certificates.revoke(s.accountId, s.id, second.certificate.id, stamp(s));
      await service.deleteCa(s.accountId, s.id, second.ca.id, stamp(s));
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(await thread.heldTemplates(), 0);
    } finally {
      useSignatureWork(threadPoolWork);
      await thread.stop();
    }
  });

  it('voids abandoned issuances as they are read and at start-up, and leaves fresh ones be', async () => {
    const s = site('10');
    const base = { accountId: s.accountId, siteId: s.id, commonName: 'x', issuer: 'ca', publicKeyAlgorithm: 'ECC' as const, keyGenerated: false };
    const { ca } = await issue(s, { pkeyType: 'ECC', validityDays: 1 });
    const record = (id: string, createdAt: Date) => ({
      ...base, id, caId: ca.id, serialNumber: id, status: 'issuing' as const, certificatePem: null, fingerprintSha256: null, signatureAlgorithm: null,
      notBefore: createdAt, notAfter: new Date(createdAt.getTime() + DAY), validityDays: 1, revokedAt: null, createdAt, updatedAt: createdAt,
    });
    await store.reserve(record('a'.repeat(32), new Date(T0.getTime() - 11 * 60_000)));
    await store.reserve(record('b'.repeat(32), new Date(T0.getTime() - 60_000)));
    const got = await service.certificates.get(s.accountId, s.id, 'a'.repeat(32));
    assert.equal(got.certificate.status, 'void');
    assert.equal(store.certificates.get('a'.repeat(32))?.status, 'void');
    assert.equal(store.certificates.get('b'.repeat(32))?.status, 'issuing', 'an issuance in flight is left alone');
    clock.set(new Date(T0.getTime() + 10 * 60_000));
    assert.equal(await service.certificates.voidAbandoned(), 1);
    assert.equal(store.certificates.get('b'.repeat(32))?.status, 'void');
  });

  it('revokes, activates and deletes with the statuses the inventory needs, telling the revocation listener', async () => {
    const s = site('11');
    const { certificate } = await issue(s, { pkeyType: 'ECC', validityDays: 1 });
    const conflict = (call: Promise<unknown>) => refusal(call).then((e) => e.code);
    assert.equal(await conflict(service.certificates.delete(s.accountId, s.id, certificate.id, stamp(s))), 'client_certificate.status_conflict');
    assert.equal(await conflict(service.certificates.activate(s.accountId, s.id, 'f'.repeat(32), stamp(s))), 'certificate.not_found');
    const revoked = await service.certificates.revoke(s.accountId, s.id, certificate.id, stamp(s));
    assert.deepEqual([revoked.certificate.status, revoked.certificate.revokedAt], ['revoked', T0]);
    const events = store.audit.length;
    await service.certificates.revoke(s.accountId, s.id, certificate.id, stamp(s));
    assert.equal(store.audit.length, events, 'revoking twice changes nothing');
    assert.equal((await service.certificates.activate(s.accountId, s.id, certificate.id, stamp(s))).certificate.status, 'active');
    await service.certificates.revoke(s.accountId, s.id, certificate.id, stamp(s));
    await service.certificates.delete(s.accountId, s.id, certificate.id, stamp(s));
    assert.equal(await conflict(service.certificates.get(s.accountId, s.id, certificate.id)), 'certificate.not_found');
    assert.equal(store.certificates.get(certificate.id)?.status, 'revoked', 'the record outlives the deletion');
    assert.deepEqual(
      changes.map((c) => [c.caId, c.certificateId, c.status]),
      [
        [certificate.caId, certificate.id, 'revoked'],
        [certificate.caId, certificate.id, 'active'],
        [certificate.caId, certificate.id, 'revoked'],
      ],
      'each change once, none for the revocation that changed nothing',
    );
    assert.ok(created.includes(certificate.caId), 'the listener heard of the CA when it was made');
  });
});
