/**
 * The renewal policy without I/O: the ARI certificate id and response of RFC 9773's examples, the
 * choice inside a suggested window and Retry-After, two thirds of the lifetime with jitter spread
 * over days for 10,000 certificates issued together, and the backoff after a failed renewal.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toRenewalInfo } from '../../src/adapters/acme/wire.js';
import { ARI_DEFAULT_RECHECK_MS, DAY_MS, HOUR_MS, MIN_RETRY_MS, decideWithAri, renewAtWithoutAri, retryAfterFailure, timeInWindow } from '../../src/core/renewal/policy.js';
import { cryptoRandom } from '../../src/kernel/random.js';
import { ariCertId, ariCertIdOf } from '../../src/pki/index.js';
import { makeCa, makeLeaf, openssl } from '../support/openssl.js';

/** RFC 9773 §4.2's example: a one-day window, Retry-After 21600 (six hours). */
const RFC_RESPONSE = {
  status: 200,
  headers: { 'content-type': 'application/json', 'retry-after': '21600' },
  data: { suggestedWindow: { start: '2025-01-02T04:00:00Z', end: '2025-01-03T04:00:00Z' }, explanationURL: 'https://acme.example.com/docs/ari' },
};

describe('ARI (RFC 9773)', () => {
  it('the certificate id of RFC 9773 §4.1’s example: keyIdentifier 69:88:5B… and serial 00:87:65:43:21', () => {
    assert.equal(ariCertIdOf('69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4', '00:87:65:43:21'), 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
  });

  it('reads the id from a certificate: openssl’s authorityKeyIdentifier and serial, the DER leading zero kept', () => {
    const ca = makeCa({ alg: 'p256' });
    for (const serialHex of ['0087654321', '7f01', '00ff']) {
      const leaf = makeLeaf({ issuer: ca, alg: 'p256', cn: 'ari.example.test', serialHex: serialHex.replace(/^00/, '') });
      const text = openssl(['x509', '-noout', '-ext', 'authorityKeyIdentifier'], leaf.certPem);
      const keyId = /([0-9A-F]{2}(?::[0-9A-F]{2})+)/.exec(text)![1]!;
      // DER INTEGER content: a leading 00 when the first byte has its high bit set.
      const magnitude = serialHex.replace(/^00/, '');
      const der = parseInt(magnitude.slice(0, 2), 16) >= 0x80 ? `00${magnitude}` : magnitude;
      assert.equal(ariCertId(leaf.certPem + ca.certPem), ariCertIdOf(keyId, der), serialHex);
    }
  });

  it('parses RFC 9773 §4.2’s example response: the window, the explanation URL and Retry-After', () => {
    const info = toRenewalInfo(RFC_RESPONSE, 'https://ca.test/renewal-info/x');
    assert.deepEqual(info, {
      suggestedWindow: { start: new Date('2025-01-02T04:00:00Z'), end: new Date('2025-01-03T04:00:00Z') },
      explanationUrl: 'https://acme.example.com/docs/ari',
      retryAfterMs: 21_600_000,
    });
  });

  it('refuses a response without a usable window', () => {
    for (const data of [{}, { suggestedWindow: { start: '2025-01-03T04:00:00Z', end: '2025-01-02T04:00:00Z' } }, { suggestedWindow: { start: 'soon', end: '2025-01-02T04:00:00Z' } }]) {
      assert.throws(() => toRenewalInfo({ ...RFC_RESPONSE, data }, 'https://ca.test/ri'), /suggestedWindow/);
    }
  });

  it('chooses a uniformly random time inside the window, the ends included', () => {
    const window = { start: new Date('2025-01-02T04:00:00Z'), end: new Date('2025-01-03T04:00:00Z') };
    assert.equal(timeInWindow(window, () => 0).toISOString(), '2025-01-02T04:00:00.000Z');
    assert.equal(timeInWindow(window, () => 0.5).toISOString(), '2025-01-02T16:00:00.000Z');
    assert.equal(timeInWindow(window, () => 0.9999999999).toISOString(), '2025-01-03T04:00:00.000Z');
    const hours = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const t = timeInWindow(window, cryptoRandom).getTime();
      assert.ok(t >= window.start.getTime() && t <= window.end.getTime());
      hours.add(Math.floor((t - window.start.getTime()) / HOUR_MS));
    }
    assert.equal(hours.size, 24, 'every hour of the window is drawn');
  });

  it('before the window: look again at the chosen time or after Retry-After, whichever is first', () => {
    const info = toRenewalInfo(RFC_RESPONSE, 'https://ca.test/ri');
    const now = new Date('2025-01-01T00:00:00Z');
    // Chosen 04:00 on the 2nd, 28 h away; Retry-After says 6 h.
    const sixHours = new Date('2025-01-01T06:00:00Z');
    assert.deepEqual(decideWithAri(info, now, () => 0), { renewNow: false, nextLookAt: sixHours, nextCheckAt: sixHours });
    const close = new Date('2025-01-02T03:00:00Z');
    // The chosen time comes before the next check: looked at then (and renewed without asking, see scan.test).
    assert.deepEqual(decideWithAri(info, close, () => 0), { renewNow: false, nextLookAt: new Date('2025-01-02T04:00:00Z'), nextCheckAt: new Date('2025-01-02T09:00:00Z') });
    // No Retry-After: the default recheck (6 h); an absurd one is clamped to a day, a tiny one to a minute.
    const recheck = new Date(now.getTime() + ARI_DEFAULT_RECHECK_MS);
    assert.deepEqual(decideWithAri({ ...info, retryAfterMs: undefined }, now, () => 0), { renewNow: false, nextLookAt: recheck, nextCheckAt: recheck });
    const day = new Date('2025-01-02T00:00:00Z');
    assert.deepEqual(decideWithAri({ ...info, retryAfterMs: 30 * DAY_MS }, now, () => 0), { renewNow: false, nextLookAt: day, nextCheckAt: day });
    const minute = new Date('2025-01-01T00:01:00Z');
    assert.deepEqual(decideWithAri({ ...info, retryAfterMs: 0 }, now, () => 0), { renewNow: false, nextLookAt: minute, nextCheckAt: minute });
  });

  it('inside the window: renew once the chosen time has come; after it (window past): renew now', () => {
    const info = toRenewalInfo(RFC_RESPONSE, 'https://ca.test/ri');
    const noon = new Date('2025-01-02T12:00:00Z');
    assert.deepEqual(decideWithAri(info, noon, () => 0.25), { renewNow: true });
    assert.equal(decideWithAri(info, noon, () => 0.75).renewNow, false);
    assert.deepEqual(decideWithAri(info, new Date('2025-01-05T00:00:00Z'), () => 0.99), { renewNow: true });
  });
});

describe('renewal without ARI', () => {
  const notBefore = new Date('2030-01-01T00:00:00Z');
  const notAfter = new Date(notBefore.getTime() + 90 * DAY_MS);

  it('two thirds of the lifetime, moved at most a 24th of it either way', () => {
    assert.equal(renewAtWithoutAri({ notBefore, notAfter }, () => 0.5).toISOString(), '2030-03-02T00:00:00.000Z');
    assert.equal(renewAtWithoutAri({ notBefore, notAfter }, () => 0).getTime(), notBefore.getTime() + 60 * DAY_MS - 3.75 * DAY_MS);
    assert.equal(renewAtWithoutAri({ notBefore, notAfter }, () => 0.9999999).getTime(), Math.round(notBefore.getTime() + 60 * DAY_MS + 0.9999998 * 3.75 * DAY_MS));
  });

  it('10,000 certificates issued in the same second spread over more than 7 days, at most ~10 in any minute', () => {
    const perMinute = new Map<number, number>();
    let first = Infinity;
    let last = -Infinity;
    for (let i = 0; i < 10_000; i++) {
      const at = renewAtWithoutAri({ notBefore, notAfter }, cryptoRandom).getTime();
      first = Math.min(first, at);
      last = Math.max(last, at);
      const minute = Math.floor(at / 60_000);
      perMinute.set(minute, (perMinute.get(minute) ?? 0) + 1);
      assert.ok(at >= notBefore.getTime() + 56.25 * DAY_MS && at <= notBefore.getTime() + 63.75 * DAY_MS);
    }
    assert.ok(last - first > 7 * DAY_MS, `spread ${(last - first) / DAY_MS} days`);
    const busiest = Math.max(...perMinute.values());
    // 10,000 over 10,800 minutes: about one a minute; a Poisson(0.93) maximum above 10 is astronomically rare.
    assert.ok(busiest <= 10, `busiest minute: ${busiest}`);
  });
});

describe('retry after a failed renewal', () => {
  const notBefore = new Date('2030-01-01T00:00:00Z');
  const validity = { notBefore, notAfter: new Date(notBefore.getTime() + 90 * DAY_MS) };
  const now = new Date(notBefore.getTime() + 60 * DAY_MS);

  it('1 h, 2 h, 4 h … at most a day', () => {
    const waits = [1, 2, 3, 4, 5, 6, 10].map((failures) => (retryAfterFailure(failures, now, validity).getTime() - now.getTime()) / HOUR_MS);
    assert.deepEqual(waits, [1, 2, 4, 8, 16, 24, 24]);
  });

  it('no sooner than the CA’s Retry-After', () => {
    const caRetryAt = new Date(now.getTime() + 5 * HOUR_MS);
    assert.equal(retryAfterFailure(1, now, validity, caRetryAt).getTime(), caRetryAt.getTime());
  });

  it('never past the old certificate’s notAfter (a twelfth of the lifetime before it), and no busy loop near the end', () => {
    const late = new Date(validity.notAfter.getTime() - 8 * DAY_MS);
    assert.equal(retryAfterFailure(6, late, validity).getTime(), validity.notAfter.getTime() - 7.5 * DAY_MS);
    const last = new Date(validity.notAfter.getTime() - DAY_MS);
    assert.equal(retryAfterFailure(6, last, validity).getTime(), last.getTime() + MIN_RETRY_MS);
  });
});


