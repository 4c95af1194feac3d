import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { configFile, configProblems } from '../support/config-files.js';

const file = configFile;
const problems = configProblems;

describe('products and casValidationDeadlineHours settings', () => {
  it('default to digicert-free-1-free on lets_encrypt without wildcards, and 72 hours', () => {
    const config = loadConfig({ env: {} });
    assert.deepEqual(config.products, { 'digicert-free-1-free': { issuer: 'lets_encrypt', wildcard: false } });
    assert.equal(config.casValidationDeadlineHours, 72);
  });

  it('takes a catalogue that replaces the default one, with products on the operator\'s own issuer profiles', () => {
    const products = {
      'geotrust-dv-w-starter': { issuer: 'internal', wildcard: true },
      'digicert-free-1-free': { issuer: 'lets_encrypt', wildcard: false },
    };
    const config = loadConfig({ env: {}, configFile: file({ products, issuers: { internal: { directoryUrl: 'https://acme.internal/directory' } }, casValidationDeadlineHours: 6 }) });
    assert.deepEqual(config.products, products);
    assert.equal(config.casValidationDeadlineHours, 6);
    assert.equal(loadConfig({ env: { CERTPLANE_CAS_VALIDATION_DEADLINE_HOURS: '12' } }).casValidationDeadlineHours, 12);
  });

  it('names each problem: an unknown issuer, a bad code, a bad field, a deadline out of range', () => {
    assert.equal(problems({ products: { 'x-dv-1': { issuer: 'nowhere', wildcard: false } } }).length, 1);
    assert.match(problems({ products: { 'x-dv-1': { issuer: 'nowhere', wildcard: false } } })[0]!, /^products in --config .*\(x-dv-1\.issuer\): "nowhere" is not a key of issuers \(lets_encrypt, digicert_single, digicert_wildcard\)$/);
    assert.match(problems({ products: { 'Bad Code': { issuer: 'lets_encrypt', wildcard: false } } })[0]!, /^products in .*: "Bad Code": product codes are lower-case words joined by dashes/);
    assert.match(problems({ products: { 'x-dv-1': { issuer: 'lets_encrypt', wildcard: 'yes' } } })[0]!, /^products in .*: wildcard must be true or false/);
    assert.match(problems({ products: { 'x-dv-1': { issuer: 'lets_encrypt', wildcard: false, price: 1 } } })[0]!, /^products in /);
    assert.match(problems({ casValidationDeadlineHours: 0 })[0]!, /^casValidationDeadlineHours in .*: must be a whole number of hours from 1 to 720$/);
    assert.match(problems({}, { CERTPLANE_CAS_VALIDATION_DEADLINE_HOURS: '1.5' })[0]!, /^CERTPLANE_CAS_VALIDATION_DEADLINE_HOURS: must be a whole number of hours from 1 to 720$/);
  });
});
