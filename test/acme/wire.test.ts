/**
 * Reading RFC 8555 replies (adapters/acme/wire.ts): headers (Retry-After, Link), authorizations and
 * their challenges, certificate chains, problem documents inside objects.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { links, retryAfterMs, toAuthorization, toChain, toOrder } from '../../src/adapters/acme/wire.js';
import { AcmeProblem, AcmeUnavailable } from '../../src/core/acme/problem.js';

const reply = (data: unknown, headers: Record<string, string> = {}) => ({ status: 200, headers, data });

describe('ACME wire format', () => {
  it('reads Retry-After as seconds or as an HTTP-date, and ignores anything else', () => {
    const now = Date.parse('2026-03-01T10:00:00Z');
    assert.equal(retryAfterMs('120', now), 120_000);
    assert.equal(retryAfterMs(' 0 ', now), 0);
    assert.equal(retryAfterMs('Sun, 01 Mar 2026 10:00:30 GMT', now), 30_000);
    assert.equal(retryAfterMs('Sun, 01 Mar 2026 09:00:00 GMT', now), 0, 'a date gone by means now');
    assert.equal(retryAfterMs('-5', now), undefined);
    assert.equal(retryAfterMs('soon', now), undefined);
    assert.equal(retryAfterMs(undefined, now), undefined);
  });

  it('finds the URLs of one relation in a Link header', () => {
    const header = '<https://ca.test/dir>;rel="index", <https://ca.test/cert/1/1>; rel="alternate", <https://ca.test/cert/1/2>;rel=alternate, <https://ca.test/x>; rel="up alternate"';
    assert.deepEqual(links(header, 'alternate'), ['https://ca.test/cert/1/1', 'https://ca.test/cert/1/2', 'https://ca.test/x']);
    assert.deepEqual(links(header, 'index'), ['https://ca.test/dir']);
    assert.deepEqual(links(undefined, 'alternate'), []);
  });

  it('computes what each challenge needs: the http-01 body, the dns-01 name and TXT value of a wildcard', () => {
    const thumbprint = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';
    const authz = toAuthorization('https://ca.test/authz/1', reply({
      status: 'pending',
      identifier: { type: 'dns', value: 'example.org' },
      wildcard: true,
      expires: '2026-03-08T10:00:00Z',
      challenges: [
        { type: 'dns-01', url: 'https://ca.test/chall/1', token: 'tok1', status: 'pending' },
        { type: 'tls-alpn-01', url: 'https://ca.test/chall/2', token: 'tok2', status: 'pending' },
        { type: 'http-01', url: 'https://ca.test/chall/3', token: 'tok3', status: 'invalid', error: { type: 'urn:ietf:params:acme:error:connection', detail: 'refused' } },
      ],
    }, { 'retry-after': '3' }), thumbprint);
    assert.equal(authz.wildcard, true);
    assert.equal(authz.retryAfterMs, 3000);
    assert.deepEqual(authz.expires, new Date('2026-03-08T10:00:00Z'));
    assert.deepEqual(authz.challenges.map((c) => c.type), ['dns-01', 'http-01'], 'tls-alpn-01 is left out');
    const [dns, http] = authz.challenges;
    assert.ok(dns?.type === 'dns-01' && http?.type === 'http-01');
    assert.equal(dns.recordName, '_acme-challenge.example.org');
    assert.equal(dns.txtValue, createHash('sha256').update(`tok1.${thumbprint}`).digest('base64url'));
    assert.equal(http.keyAuthorization, `tok3.${thumbprint}`);
    assert.equal(http.path, '/.well-known/acme-challenge/tok3');
    assert.ok(http.error instanceof AcmeProblem);
    assert.equal(http.error.acmeError, 'connection');
  });

  it('reads an order with its profile, replaces and the problem that made it invalid', () => {
    const order = toOrder('https://ca.test/order/1', reply({
      status: 'invalid',
      identifiers: [{ type: 'dns', value: '*.example.org' }, { type: 'ip', value: '192.0.2.1' }],
      authorizations: ['https://ca.test/authz/1'],
      finalize: 'https://ca.test/finalize/1',
      profile: 'tlsserver',
      replaces: 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE',
      error: { type: 'urn:ietf:params:acme:error:unauthorized', detail: 'no TXT', status: 403 },
    }));
    assert.deepEqual(order.identifiers, [{ type: 'dns', value: '*.example.org' }]);
    assert.equal(order.profile, 'tlsserver');
    assert.equal(order.replaces, 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
    assert.ok(order.error instanceof AcmeProblem);
    assert.equal(order.error.status, 403);
    assert.throws(() => toOrder('https://ca.test/order/1', reply({ status: 'done', authorizations: [], finalize: 'x' })), AcmeUnavailable);
  });

  it('splits a chain into certificates, leaf first, and lists alternative chains', () => {
    const cert = (n: number) => `-----BEGIN CERTIFICATE-----\r\nQ0VSVA${n}==\r\n-----END CERTIFICATE-----\r\n`;
    const chain = toChain('https://ca.test/cert/1', reply(cert(1) + cert(2), { link: '<https://ca.test/cert/1/1>;rel="alternate"' }));
    assert.equal(chain.certificates.length, 2);
    assert.equal(chain.certificates[0], '-----BEGIN CERTIFICATE-----\nQ0VSVA1==\n-----END CERTIFICATE-----\n');
    assert.equal(chain.pem.includes('\r'), false);
    assert.deepEqual(chain.alternates, ['https://ca.test/cert/1/1']);
    assert.throws(() => toChain('https://ca.test/cert/1', reply('<html>')), AcmeUnavailable);
  });
});
