/**
 * Every kind of certificate shows its expiry status in each dialect's words, and each listing
 * filters on it: APIG (`expiry_status`), CAS (`Status` ISSUED / WILLEXPIRED / EXPIRED), ESA site
 * certificates (`Status` OK / Expiring / Expired) and ESA client certificates (`ExpiryStatus`).
 * Three certificates end in 100, 60 and 10 days; with the default 30-day window they read valid,
 * valid, expiring, and once the clock moves 50 days on, valid, expiring, expired.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenApi from '@alicloud/openapi-core';
import { RuntimeOptions } from '@darabonba/typescript';
import { DEFAULT_PLANS } from '../../src/config/config.js';
import { expiryOf } from '../../src/core/certificates/expiry.js';
import { fixedClock } from '../../src/kernel/clock.js';
import { apigClient, certName } from '../support/apig.js';
import { Cas, casTenant, rawCall, type CasTenant } from '../support/cas.js';
import { ENGINES } from '../support/databases.js';
import { startService, tenant, type TestService } from '../support/service.js';
import { Esa, TEST_ISSUERS, TEST_PLANS, TestZones, certTenant, testServerCertificate, type CertTenant, type EsaClient } from '../support/site-certificates.js';

const DAY = 86_400_000;
const LIFETIMES = [100, 60, 10] as const;

/** What a listing answered, every key kept (the SDK models drop the ones they do not know). */
async function esaRaw(esa: EsaClient, action: string, query: Record<string, string>): Promise<Record<string, unknown>> {
  const params = new OpenApi.$OpenApiUtil.Params({
    action,
    version: '2024-09-10',
    protocol: 'HTTPS',
    pathname: '/',
    method: 'GET',
    authType: 'AK',
    style: 'RPC',
    reqBodyType: 'json',
    bodyType: 'json',
  });
  const answer = (await esa.callApi(params, new OpenApi.$OpenApiUtil.OpenApiRequest({ query }), new RuntimeOptions({}))) as {
    body: Record<string, unknown>;
  };
  return answer.body;
}

describe('expiryOf', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  it('is valid before the window, expiring inside it (its first instant included), expired from notAfter on', () => {
    assert.equal(expiryOf(new Date(now.getTime() + 30 * DAY + 1), now, 30), 'valid');
    assert.equal(expiryOf(new Date(now.getTime() + 30 * DAY), now, 30), 'expiring');
    assert.equal(expiryOf(new Date(now.getTime() + 1), now, 30), 'expiring');
    assert.equal(expiryOf(now, now, 30), 'expired');
    assert.equal(expiryOf(new Date(now.getTime() - DAY), now, 30), 'expired');
    assert.equal(expiryOf(new Date(now.getTime() + 10 * DAY), now, 7), 'valid');
  });
});

for (const engine of ENGINES) {
  describe(`expiry statuses and filters in every dialect on ${engine}`, () => {
    const start = new Date();
    const clock = fixedClock(start);
    const zones = new TestZones();
    let service: TestService;
    let apigTenant: Awaited<ReturnType<typeof tenant>>;
    let casUser: CasTenant;
    let esaUser: CertTenant;

    before(async () => {
      service = await startService(engine, {
        clock,
        dns: zones,
        // Requests are signed with the real time while the service's clock moves 50 days on.
        config: { plans: { ...TEST_PLANS, enterprise: DEFAULT_PLANS.enterprise! }, issuers: TEST_ISSUERS, signatureMaxSkewMs: 60 * DAY },
      });
      apigTenant = await tenant(service, 'apig-expiry');
      apigTenant.token = (await service.app.accounts.createToken(apigTenant.accountId, 60 * DAY)).token;
      casUser = await casTenant(service, 'cas-expiry');
      esaUser = await certTenant(service, zones, 'esa-expiry');
    });
    after(async () => {
      await service.stop();
    });

    /** Runs `check` now and 50 days later, with what each certificate should read at each. */
    async function atBothTimes(check: (expected: ReadonlyArray<'valid' | 'expiring' | 'expired'>) => Promise<void>) {
      clock.set(start);
      await check(['valid', 'valid', 'expiring']);
      clock.set(new Date(start.getTime() + 50 * DAY));
      try {
        await check(['valid', 'expiring', 'expired']);
      } finally {
        clock.set(start);
      }
    }

    /** Which of the three certificates (by index) have status `status`. */
    const having = (expected: ReadonlyArray<string>, status: string) => expected.flatMap((s, i) => (s === status ? [i] : []));

    it('APIG: expiry_status on each certificate, and ?expiry_status= filters the list', async () => {
      const api = apigClient(service, apigTenant.projectId, apigTenant.token);
      const ids: string[] = [];
      for (const days of LIFETIMES) {
        const { leaf, chainPem } = testServerCertificate([`apig${days}.example.com`], days);
        const res = await api.create({ name: certName('exp'), cert_content: chainPem, private_key: leaf.keyPem });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        ids.push(String(res.body.id));
      }
      await atBothTimes(async (expected) => {
        const shown = await api.show(ids[2]!);
        assert.equal(shown.body.expiry_status, expected[2]);
        const all = (await api.list()).body.certs as Array<{ id: string; expiry_status: string }>;
        assert.deepEqual(ids.map((id) => all.find((c) => c.id === id)?.expiry_status), [...expected]);
        for (const status of ['valid', 'expiring', 'expired']) {
          const res = await api.list(`expiry_status=${status}`);
          assert.equal(res.status, 200);
          const listed = (res.body.certs as Array<{ id: string; expiry_status: string }>).map((c) => c.id).sort();
          assert.deepEqual(listed, having(expected, status).map((i) => ids[i]!).sort(), `${status} at ${clock.now().toISOString()}`);
          assert.equal(res.body.total, listed.length);
        }
      });
      const wrong = await api.list('expiry_status=soon');
      assert.deepEqual([wrong.status, wrong.body.error_code], [400, 'APIG.2012']);
      assert.match(String(wrong.body.error_msg), /expiry_status/);
    });

    it('CAS: ListUserCertificateOrder shows ISSUED / WILLEXPIRED / EXPIRED and filters uploads on Status', async () => {
      const ids: number[] = [];
      for (const days of LIFETIMES) {
        const { leaf, chainPem } = testServerCertificate([`cas${days}.example.com`], days);
        const created = await casUser.cas.uploadUserCertificate(new Cas.UploadUserCertificateRequest({ name: `cas-${days}`, cert: chainPem, key: leaf.keyPem }));
        ids.push(created.body!.certId!);
      }
      const words: Record<string, string> = { valid: 'ISSUED', expiring: 'WILLEXPIRED', expired: 'EXPIRED' };
      await atBothTimes(async (expected) => {
        for (const status of ['valid', 'expiring', 'expired']) {
          const body = await rawCall(casUser.cas, 'ListUserCertificateOrder', { OrderType: 'UPLOAD', Status: words[status]! });
          const items = body.CertificateOrderList as Array<{ CertificateId: number; Status: string }>;
          assert.deepEqual(items.map((c) => c.CertificateId).sort(), having(expected, status).map((i) => ids[i]!).sort(), `${status}`);
          assert.ok(items.every((c) => c.Status === words[status]));
          assert.equal(body.TotalCount, items.length);
        }
        // Without Status, certificates are listed valid only: ISSUED and WILLEXPIRED.
        const valid = (await rawCall(casUser.cas, 'ListUserCertificateOrder', { OrderType: 'UPLOAD' })).CertificateOrderList as Array<{ CertificateId: number }>;
        assert.deepEqual(valid.map((c) => c.CertificateId).sort(), having(expected, 'valid').concat(having(expected, 'expiring')).map((i) => ids[i]!).sort());
      });
    });

    it('ESA site certificates: Status OK / Expiring / Expired, ListCertificates filters on Status and ValidOnly', async () => {
      const { siteId } = await esaUser.site();
      const ids: string[] = [];
      for (const days of LIFETIMES) {
        const { leaf, chainPem } = testServerCertificate([`esa${days}.example.com`], days);
        const set = await esaUser.esa.setCertificate(new Esa.SetCertificateRequest({ siteId, type: 'upload', certificate: chainPem, privateKey: leaf.keyPem, name: `esa-${days}` }));
        ids.push(set.body!.id!);
      }
      const words: Record<string, string> = { valid: 'OK', expiring: 'Expiring', expired: 'Expired' };
      await atBothTimes(async (expected) => {
        const got = (await esaUser.esa.getCertificate(new Esa.GetCertificateRequest({ siteId, id: ids[2]! }))).body!;
        assert.equal(got.status, words[expected[2]!]);
        for (const status of ['valid', 'expiring', 'expired']) {
          const body = await esaRaw(esaUser.esa, 'ListCertificates', { SiteId: String(siteId), Status: words[status]! });
          const items = body.Result as Array<{ Id: string; Status: string }>;
          assert.deepEqual(items.map((c) => c.Id).sort(), having(expected, status).map((i) => ids[i]!).sort(), status);
          assert.ok(items.every((c) => c.Status === words[status]));
          assert.equal(body.TotalCount, items.length);
        }
        const valid = (await esaUser.esa.listCertificates(new Esa.ListCertificatesRequest({ siteId, validOnly: true }))).body!;
        assert.equal(valid.totalCount, expected.filter((s) => s !== 'expired').length);
      });
      const wrong = await esaRaw(esaUser.esa, 'ListCertificates', { SiteId: String(siteId), Status: 'Applying' }).catch((err: { code?: string; data?: { Message?: string } }) => err);
      assert.equal((wrong as { code?: string }).code, 'InvalidParameter.Status');
    });

    it('ESA client certificates: ExpiryStatus on each, ListClientCertificates filters on it', async () => {
      const { siteId } = await esaUser.site({ plan: 'enterprise' });
      const ids: string[] = [];
      for (const days of LIFETIMES) {
        const created = await esaUser.esa.createClientCertificate(new Esa.CreateClientCertificateRequest({ siteId, validityDays: days, pkeyType: 'ECC' }));
        ids.push(created.body!.id!);
      }
      const words: Record<string, string> = { valid: 'OK', expiring: 'Expiring', expired: 'Expired' };
      await atBothTimes(async (expected) => {
        for (const status of ['valid', 'expiring', 'expired']) {
          const body = await esaRaw(esaUser.esa, 'ListClientCertificates', { SiteId: String(siteId), ExpiryStatus: words[status]! });
          const items = body.Result as Array<{ Id: string; ExpiryStatus: string; Status: string }>;
          assert.deepEqual(items.map((c) => c.Id).sort(), having(expected, status).map((i) => ids[i]!).sort(), status);
          assert.ok(items.every((c) => c.ExpiryStatus === words[status] && c.Status === 'active'));
          assert.equal(body.TotalCount, items.length);
        }
        const one = await esaRaw(esaUser.esa, 'GetClientCertificate', { SiteId: String(siteId), Id: ids[1]! });
        assert.equal((one.Result as { ExpiryStatus: string }).ExpiryStatus, words[expected[1]!]);
      });
    });
  });
}
