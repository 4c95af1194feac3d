/**
 * The server's signing thread gives node:crypto's answers: signatures that verify, verification
 * that tells a good signature from an altered or malformed one (RSA-PSS options included), P-256
 * keys; whole certificates built from a template exactly as on the event loop; and when the thread
 * dies, its jobs fail and the next job runs on a new one.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { X509Certificate, constants, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { SignatureThread, TEMPLATES_KEPT } from '../../src/adapters/crypto/signature-thread.js';
import {
  CertificateTemplate,
  buildCheckedCertificateSync,
  checkIssuedCertificate,
  newSerial,
  PkiError,
  type CertificateFields,
} from '../../src/pki/index.js';
import { CLIENT_PROFILE, testCa, testKey, TEST_KEY_ALGS } from '../support/pki.js';

function fields(spki: Buffer, serial = newSerial()): CertificateFields {
  const now = Date.now();
  return { subject: { organization: 'Example', commonName: 'threaded' }, subjectSpki: spki, serial, notBefore: new Date(now - 60_000), notAfter: new Date(now + 86400_000) };
}

describe('SignatureThread', () => {
  const thread = new SignatureThread();
  after(() => thread.stop());
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  // A view into a larger buffer, as DER readers hand out: only the view is signed.
  const whole = Buffer.from('prefix|the signed bytes|suffix');
  const data = whole.subarray(7, 23);

  it('signs what verifies with node:crypto, and verifies what node:crypto signed', async () => {
    const signatures = await Promise.all([1, 2, 3].map(() => thread.sign('sha256', data, ec.privateKey)));
    for (const signature of signatures) assert.ok(verify('sha256', Buffer.from('the signed bytes'), ec.publicKey, signature));
    assert.equal(await thread.verify('sha256', data, ec.publicKey, sign('sha256', data, ec.privateKey)), true);
    const rsaSignature = await thread.sign('sha384', data, rsa.privateKey);
    assert.ok(verify('sha384', data, rsa.publicKey, rsaSignature));
  });

  it('says false for an altered or malformed signature, and for another key, never throws', async () => {
    const signature = sign('sha256', data, ec.privateKey);
    const altered = Buffer.from(signature);
    altered.writeUInt8(altered.readUInt8(altered.length - 1) ^ 1, altered.length - 1);
    assert.equal(await thread.verify('sha256', data, ec.publicKey, altered), false);
    assert.equal(await thread.verify('sha256', data, ec.publicKey, Buffer.from('not DER')), false);
    assert.equal(await thread.verify('sha256', data, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, signature), false);
    assert.equal(await thread.verify('no-such-hash', data, ec.publicKey, signature), false);
  });

  it('signs and verifies in one job: true with the signer\'s own public key, false with another', async () => {
    const own = await thread.signAndVerify('sha256', data, ec.privateKey, ec.publicKey);
    assert.equal(own.verified, true);
    assert.ok(verify('sha256', data, ec.publicKey, own.signature));
    const other = await thread.signAndVerify('sha256', data, ec.privateKey, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
    assert.equal(other.verified, false);
  });

  it('verifies RSASSA-PSS with its options', async () => {
    const pss = { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
    const signature = sign('sha256', data, pss);
    const key = { key: rsa.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
    assert.equal(await thread.verify('sha256', data, key, signature), true);
    assert.equal(await thread.verify('sha256', data, { ...key, saltLength: 20 }, signature), false);
  });

  it('makes P-256 key pairs that belong together', async () => {
    const { privateKey, publicKey } = await thread.generateP256();
    assert.equal(privateKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.ok(createPublicKey(privateKey).equals(publicKey));
    assert.ok(verify('sha256', data, publicKey, sign('sha256', data, privateKey)));
  });

  it('makes P-256 keys as PKCS#8 PEM with their SPKI', async () => {
    const { privateKeyPem, spki } = await thread.generateP256Key();
    const key = createPrivateKey(privateKeyPem);
    assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(key.export({ type: 'pkcs8', format: 'pem' }), privateKeyPem);
    assert.deepEqual(spki, createPublicKey(key).export({ type: 'spki', format: 'der' }));
  });

  it('builds certificates that pass the CA\'s check, for every CA key type, with their PEM and fingerprint', async () => {
    for (const alg of TEST_KEY_ALGS) {
      const template = new CertificateTemplate(testCa(alg).issuer, CLIENT_PROFILE);
      const all = await Promise.all([1, 2, 3].map(() => fields(testKey('p256').spki)).map(async (f) => ({ f, built: await thread.buildChecked(template, f) })));
      for (const { f, built } of all) {
        checkIssuedCertificate(template, built.der, f);
        assert.deepEqual(new X509Certificate(built.pem).raw, built.der);
        assert.equal(built.fingerprintSha256, createHash('sha256').update(built.der).digest('hex'));
      }
    }
  });

  it('refuses what it cannot build with the PkiError the event loop would throw', async () => {
    const template = new CertificateTemplate(testCa('p256').issuer, CLIENT_PROFILE);
    const f = fields(testKey('p256').spki, Buffer.alloc(1));
    const expected = (() => {
      try {
        buildCheckedCertificateSync(template, f);
      } catch (err) {
        return err as PkiError;
      }
      return assert.fail('a zero serial was built');
    })();
    await assert.rejects(thread.buildChecked(template, f), (err: unknown) => {
      assert.ok(err instanceof PkiError, String(err));
      assert.equal(err.failure, expected.failure);
      assert.equal(err.message, expected.message);
      return true;
    });
  });

  it(`keeps working past ${TEMPLATES_KEPT} templates, and on a new thread with templates the old one had`, async () => {
    const issuer = testCa('p256').issuer;
    const first = new CertificateTemplate(issuer, CLIENT_PROFILE);
    const spki = testKey('p256').spki;
    const builds = async (template: CertificateTemplate): Promise<void> => {
      const f = fields(spki);
      checkIssuedCertificate(template, (await thread.buildChecked(template, f)).der, f);
    };
    await builds(first);
    const others = Array.from({ length: TEMPLATES_KEPT + 10 }, (_, i) => new CertificateTemplate(issuer, { ...CLIENT_PROFILE, crlUrl: `${CLIENT_PROFILE.crlUrl}?n${String(i).padStart(3, '0')}-end` }));
    const built = await Promise.all(others.map((template) => thread.buildChecked(template, fields(spki))));
    built.forEach((b, i) => assert.ok(b.der.includes(`crl?n${String(i).padStart(3, '0')}-end`), `certificate ${i} names its own template's CRL`));
    // `first` and the oldest of the others were dropped by both sides: sent again, they work.
    for (const template of [first, others[0]!, others.at(-1)!]) await builds(template);
    await thread.stop();
    await builds(first);
  });

  it('drops a forgotten template on the thread at once, and sends it again should it be used after all', async () => {
    const own = new SignatureThread();
    try {
      const issuer = testCa('p256').issuer;
      const spki = testKey('p256').spki;
      const templates = [0, 1, 2].map((i) => new CertificateTemplate(issuer, { ...CLIENT_PROFILE, crlUrl: `${CLIENT_PROFILE.crlUrl}?f${i}` }));
      await Promise.all(templates.map((template) => own.buildChecked(template, fields(spki))));
      assert.equal(await own.heldTemplates(), 3);
      own.forgetTemplate(templates[1]!);
      own.forgetTemplate(templates[1]!); // a second time: nothing more to drop
      assert.equal(await own.heldTemplates(), 2);
      // Used after all, it is a new template to both sides, and builds as before.
      const f = fields(spki);
      const again = await own.buildChecked(templates[1]!, f);
      checkIssuedCertificate(templates[1]!, again.der, f);
      assert.equal(await own.heldTemplates(), 3);
      // Forgotten in the same turn as its first use: built, then dropped.
      const late = new CertificateTemplate(issuer, CLIENT_PROFILE);
      const building = own.buildChecked(late, fields(spki));
      own.forgetTemplate(late);
      await building;
      assert.equal(await own.heldTemplates(), 3);
      // A template the thread never had is nothing to forget.
      own.forgetTemplate(new CertificateTemplate(issuer, CLIENT_PROFILE));
      assert.equal(await own.heldTemplates(), 3);
    } finally {
      await own.stop();
    }
  });

  it('ends a thread that holds jobs and answers none, failing its jobs; an idle thread is left alone', async () => {
    const stuck = new SignatureThread({ answerWithinMs: 200, workerUrl: new URL('../support/unanswering-signing-thread.js', import.meta.url) });
    const started = Date.now();
    await assert.rejects(stuck.sign('sha256', data, ec.privateKey), /the signing thread answered nothing for 200 ms; it was ended/);
    assert.ok(Date.now() - started < 2000, `failed after ${Date.now() - started} ms`);
    await stuck.stop();
    const quick = new SignatureThread({ answerWithinMs: 200 });
    try {
      assert.ok(verify('sha256', data, ec.publicKey, await quick.sign('sha256', data, ec.privateKey)));
      await new Promise((resolve) => setTimeout(resolve, 500)); // idle longer than answerWithinMs
      assert.ok(verify('sha256', data, ec.publicKey, await quick.sign('sha256', data, ec.privateKey)));
      // An event loop blocked longer than answerWithinMs has the thread's answer waiting when it
      // resumes: the answer counts, the thread is not ended.
      const pending = quick.sign('sha256', data, ec.privateKey);
      await Promise.resolve(); // handed to the thread
      const blockedUntil = Date.now() + 500;
      while (Date.now() < blockedUntil) {
        // the event loop is held
      }
      assert.ok(verify('sha256', data, ec.publicKey, await pending));
    } finally {
      await quick.stop();
    }
  });

  it('gives a thread the time to load its code before it must answer, and ends one that never starts', async () => {
    const slow = new SignatureThread({ answerWithinMs: 200, workerUrl: new URL('../support/slow-starting-signing-thread.js', import.meta.url) });
    try {
      const started = Date.now();
      assert.ok(verify('sha256', data, ec.publicKey, await slow.sign('sha256', data, ec.privateKey)));
      assert.ok(Date.now() - started >= 600, 'the answer came after the thread had loaded');
      assert.ok(verify('sha256', data, ec.publicKey, await slow.sign('sha256', data, ec.privateKey)), 'the same thread signs on');
    } finally {
      await slow.stop();
    }
    const never = new SignatureThread({
      answerWithinMs: 200,
      startWithinMs: 800,
      workerUrl: new URL('../support/never-starting-signing-thread.js', import.meta.url),
    });
    const started = Date.now();
    await assert.rejects(never.sign('sha256', data, ec.privateKey), /the signing thread did not start within 800 ms; it was ended/);
    assert.ok(Date.now() - started >= 800, `failed after ${Date.now() - started} ms`);
    await never.stop();
  });

  it('fails the jobs of a thread that is gone, and runs the next job on a new one', async () => {
    const queued = assert.rejects(thread.generateP256(), /the signing thread was stopped/);
    await thread.stop();
    await queued;
    const sent = thread.generateP256();
    const sentFails = assert.rejects(sent, /the signing thread was stopped/);
    await Promise.resolve(); // handed to the thread
    await thread.stop();
    await sentFails;
    assert.ok(verify('sha256', data, ec.publicKey, await thread.sign('sha256', data, ec.privateKey)));
  });
});
