/**
 * Issuances worked to the end by the real worker against Debian's pebble validating for real:
 * http-01 answered by certplane's own responder from the database, dns-01 (a wildcard included)
 * published in BIND through TSIG-signed RFC 2136 updates. Issued chains are checked with openssl
 * against pebble's root; the stored facts against what openssl reads from the leaf; failures carry
 * the CA's reason; records and tokens are gone afterwards.
 */
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { after, before, describe, it } from 'node:test';
import type { Http01Tokens } from '../../src/core/issuance/ports.js';
import { opensslOk } from '../support/pki.js';
import { certificateSpki, sanNames } from '../support/acme.js';
import { ENGINES } from '../support/databases.js';
import { eventually, startIssuanceHarness, type IssuanceHarness } from '../support/issuance.js';

for (const engine of ENGINES) describe(`ACME issuance worked by the worker against pebble and BIND, on ${engine}`, () => {
  let h: IssuanceHarness;
  let serveWrongFiles = false;
  const wrongWhenAsked = (tokens: Http01Tokens): Http01Tokens => ({
    keyAuthorization: async (token, now) => {
      const answer = await tokens.keyAuthorization(token, now);
      return answer !== undefined && serveWrongFiles ? `${answer}-not-it` : answer;
    },
  });

  before(async () => {
    h = await startIssuanceHarness({ engine, tokens: wrongWhenAsked });
  });
  after(() => h?.stop());

  const tokensOf = async (id: string) =>
    Number((await h.app.database.db.selectFrom('http01_challenges').select((eb) => eb.fn.countAll().as('n')).where('issuance_id', '=', id).executeTakeFirstOrThrow()).n);

  async function txtAt(name: string): Promise<string[]> {
    const resolver = new Resolver({ timeout: 1000, tries: 1 });
    resolver.setServers([h.bind.address]);
    try {
      return (await resolver.resolveTxt(name)).map((parts) => parts.join(''));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENODATA' || (err as NodeJS.ErrnoException).code === 'ENOTFOUND') return [];
      throw err;
    }
  }

  it('http-01: two names issued, the chain verifies against pebble\'s root, the facts are the leaf\'s, the tokens are gone', async () => {
    const id = await h.issue(['a.example.test', 'b.example.test']);
    const issuance = await h.finished(id);
    assert.equal(issuance.state, 'valid', `${issuance.errorCode}: ${issuance.errorDetail}`);
    assert.ok(issuance.finishedAt && issuance.orderUrl && issuance.keyId);
    const issued = issuance.issued!;
    assert.match(await h.pebble.verifyChain(issued.chainPem), /: OK/);
    const leaf = issued.chainPem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/)![0];
    assert.deepEqual(sanNames(leaf), ['a.example.test', 'b.example.test']);
    const text = opensslOk(['x509', '-noout', '-serial', '-fingerprint', '-sha256', '-subject', '-issuer', '-startdate', '-enddate', '-nameopt', 'RFC2253'], leaf);
    const field = (name: string) => new RegExp(`^${name}=(.*)$`, 'm').exec(text)?.[1];
    assert.equal(issued.serialNumber, field('serial')!.toLowerCase());
    assert.equal(issued.fingerprintSha256, field('sha256 Fingerprint')!.replace(/:/g, '').toLowerCase());
    assert.equal(issued.san, sanNames(leaf).join(','));
    assert.equal(issued.commonName, /CN=([^,]*)/.exec(field('subject') ?? '')?.[1] ?? '');
    assert.equal(issued.issuerCn, /CN=([^,]*)/.exec(field('issuer')!)![1]);
    assert.match(issued.issuerCn, /Pebble Intermediate CA/);
    assert.equal(issued.notBefore.getTime(), new Date(field('notBefore')!).getTime());
    assert.equal(issued.notAfter.getTime(), new Date(field('notAfter')!).getTime());
    assert.equal(issued.publicKeyAlgorithm, 'ECDSA');
    assert.equal(issued.signatureAlgorithm, opensslOk(['x509', '-noout', '-text'], leaf).includes('ecdsa-with-SHA256') ? 'ECDSA-SHA256' : 'SHA256-RSA');
    const keyPem = await h.app.issuances.privateKeyPem(id);
    assert.ok(keyPem);
    assert.deepEqual(createPublicKey(keyPem).export({ type: 'spki', format: 'der' }), certificateSpki(leaf), 'the leaf carries the key certplane made');
    assert.deepEqual(issuance.authorizations.map((a) => [a.domain, a.status, a.answered]).sort(), [
      ['a.example.test', 'valid', true],
      ['b.example.test', 'valid', true],
    ]);
    assert.equal(await tokensOf(id), 0, 'the tokens stop being served');
  });

  it('dns-01: a wildcard and its base name through RFC 2136 to BIND, the records removed afterwards', async () => {
    const id = await h.issue(['*.shop.example.test', 'shop.example.test'], { challengeType: 'dns-01', keyType: 'RSA2048' });
    const issuance = await h.finished(id);
    assert.equal(issuance.state, 'valid', `${issuance.errorCode}: ${issuance.errorDetail}`);
    assert.match(await h.pebble.verifyChain(issuance.issued!.chainPem), /: OK/);
    assert.deepEqual(issuance.issued!.san.split(',').sort(), ['*.shop.example.test', 'shop.example.test']);
    assert.equal(issuance.issued!.publicKeyAlgorithm, 'RSA');
    const records = issuance.authorizations.map((a) => a.recordName);
    assert.deepEqual(records, ['_acme-challenge.shop.example.test', '_acme-challenge.shop.example.test']);
    assert.ok(issuance.authorizations.every((a) => a.dnsHandle !== undefined), 'each record certplane made is on record');
    await eventually(async () => (await txtAt('_acme-challenge.shop.example.test')).length === 0, 'both TXT values removed from BIND');
  });

  it('a wrong http-01 file: invalid with the CA\'s reason, the tokens dropped', async () => {
    serveWrongFiles = true;
    try {
      const id = await h.issue(['wrong.example.test']);
      const issuance = await h.finished(id);
      assert.equal(issuance.state, 'invalid');
      assert.equal(issuance.errorCode, 'unauthorized');
      assert.match(issuance.errorDetail ?? '', /^wrong\.example\.test: .*key authorization/i);
      assert.equal(issuance.issued, undefined);
      assert.equal(await tokensOf(id), 0);
    } finally {
      serveWrongFiles = false;
    }
  });

  it('a name with no address: invalid with the CA\'s reason naming it', async () => {
    const id = await h.issue(['nohost.example.test']);
    const issuance = await h.finished(id);
    assert.equal(issuance.state, 'invalid');
    assert.ok(issuance.errorCode === 'dns' || issuance.errorCode === 'connection', `${issuance.errorCode}: ${issuance.errorDetail}`);
    assert.match(issuance.errorDetail ?? '', /^nohost\.example\.test: /);
  });

  it('dns-01 where the DNS provider refuses one name: invalid, and the record made for the other is removed', async () => {
    const id = await h.issue(['c.example.test', 'x.nozone.test'], { challengeType: 'dns-01' });
    const issuance = await h.finished(id);
    assert.equal(issuance.state, 'invalid');
    assert.equal(issuance.errorCode, 'dnsProviderFailed');
    assert.match(issuance.errorDetail ?? '', /serves no zone that holds _acme-challenge\.x\.nozone\.test/);
    const made = issuance.authorizations.find((a) => a.domain === 'c.example.test');
    assert.ok(made?.dnsHandle, 'the record made is on record');
    await eventually(async () => (await txtAt('_acme-challenge.c.example.test')).length === 0, 'the TXT record of c.example.test removed');
  });
});
