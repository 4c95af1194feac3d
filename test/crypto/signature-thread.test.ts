/**
 * The server's signing thread gives node:crypto's answers: signatures that verify, verification
 * that tells a good signature from an altered or malformed one (RSA-PSS options included), P-256
 * keys; and when the thread dies, its jobs fail and the next job runs on a new one.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { constants, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { SignatureThread } from '../../src/adapters/crypto/signature-thread.js';

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
