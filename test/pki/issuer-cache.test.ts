import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IssuerCache, parseCertificateChain } from '../../src/pki/index.js';
import { makeChain, makeLeaf } from '../support/openssl.js';

describe('issuer cache', () => {
  it('reuses a parsed intermediate across chains and parses every leaf anew', () => {
    const chain = makeChain('p256');
    const other = makeLeaf({ issuer: chain.intermediate, alg: 'p256' });
    const cache = new IssuerCache(8);
    const first = parseCertificateChain(chain.chainPem, { issuers: cache });
    const second = parseCertificateChain(other.certPem + chain.intermediate.certPem, { issuers: cache });
    assert.equal(cache.size, 1, 'only the intermediate is kept');
    assert.equal(second[1], first[1], 'the same parsed intermediate');
    assert.notEqual(second[0]!.serialNumber.hex, first[0]!.serialNumber.hex);
    assert.ok(Object.isFrozen(first[1]), 'a shared parse cannot be changed by one caller');
    assert.deepEqual(parseCertificateChain(chain.chainPem)[1], first[1], 'same result as without the cache');
  });

  it('never serves a leaf from the cache, even when its bytes were seen as an issuer', () => {
    const chain = makeChain('rsa');
    const cache = new IssuerCache(8);
    parseCertificateChain(chain.fullChainPem, { issuers: cache });
    const alone = parseCertificateChain(chain.intermediate.certPem, { issuers: cache });
    assert.ok(!Object.isFrozen(alone[0]), 'position 0 is always parsed');
  });

  it('evicts the least recently used entry and can be turned off', () => {
    const cache = new IssuerCache(2);
    const [a, b, c] = ['rsa', 'p256', 'p384'].map((alg) => makeChain(alg as 'rsa'));
    parseCertificateChain(a!.chainPem, { issuers: cache });
    parseCertificateChain(b!.chainPem, { issuers: cache });
    const reusedA = parseCertificateChain(a!.chainPem, { issuers: cache })[1];
    parseCertificateChain(c!.chainPem, { issuers: cache });
    assert.equal(cache.size, 2);
    assert.equal(parseCertificateChain(a!.chainPem, { issuers: cache })[1], reusedA, 'a was used most recently, b went');
    const off = new IssuerCache(0);
    parseCertificateChain(a!.chainPem, { issuers: off });
    assert.equal(off.size, 0);
  });
});
