import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, parsePolicyDocument, siteResource, type PolicyDocument } from '../../src/core/policy/index.js';

const ACCOUNT = '1234567890';
const SITE = siteResource('cn-hangzhou', ACCOUNT, 1111);
const OTHER_SITE = siteResource('cn-hangzhou', ACCOUNT, 2222);

function policy(...statements: [effect: 'Allow' | 'Deny', action: string | string[], resource: string | string[]][]): PolicyDocument {
  return parsePolicyDocument({
    Version: '1',
    Statement: statements.map(([Effect, Action, Resource]) => ({ Effect, Action, Resource })),
  });
}

describe('evaluate', () => {
  it('denies implicitly when nothing matches, including with no policies at all', () => {
    assert.deepEqual(evaluate([], 'esa:GetSite', SITE), { decision: 'implicit_deny' });
    assert.deepEqual(evaluate([policy(['Allow', 'esa:ListSites', '*'])], 'esa:GetSite', SITE), { decision: 'implicit_deny' });
  });

  it('allows on a matching Allow and reports the statement', () => {
    const result = evaluate([policy(['Allow', 'esa:ListSites', '*']), policy(['Allow', 'esa:*', '*'])], 'esa:GetSite', SITE);
    assert.equal(result.decision, 'allow');
    assert.equal(result.matched?.documentIndex, 1);
    assert.equal(result.matched?.statementIndex, 0);
    assert.equal(result.matched?.effect, 'Allow');
  });

  it('needs both the action and the resource to match', () => {
    const documents = [policy(['Allow', 'esa:GetSite', SITE])];
    assert.equal(evaluate(documents, 'esa:GetSite', OTHER_SITE).decision, 'implicit_deny');
    assert.equal(evaluate(documents, 'esa:DeleteSite', SITE).decision, 'implicit_deny');
  });

  it('lets an explicit Deny beat an Allow whatever the order, within and across documents', () => {
    const allow: [ 'Allow', string, string ] = ['Allow', 'esa:*', '*'];
    const deny: [ 'Deny', string, string ] = ['Deny', 'esa:Delete*', SITE];
    for (const documents of [
      [policy(allow, deny)],
      [policy(deny, allow)],
      [policy(allow), policy(deny)],
      [policy(deny), policy(allow)],
    ]) {
      const result = evaluate(documents, 'esa:DeleteSite', SITE);
      assert.equal(result.decision, 'deny');
      assert.equal(result.matched?.effect, 'Deny');
      assert.equal(evaluate(documents, 'esa:DeleteSite', OTHER_SITE).decision, 'allow');
    }
  });

  it('matches actions regardless of case, as RAM does', () => {
    const documents = [policy(['Allow', 'ESA:get*', '*'])];
    assert.equal(evaluate(documents, 'esa:GetSite', SITE).decision, 'allow');
    assert.equal(evaluate(documents, 'Esa:GETSITE', SITE).decision, 'allow');
  });

  it('matches resources case-sensitively', () => {
    const documents = [policy(['Allow', '*', 'acs:esa:*:1234567890:site/*'])];
    assert.equal(evaluate(documents, 'esa:GetSite', SITE).decision, 'allow');
    assert.equal(evaluate(documents, 'esa:GetSite', 'acs:ESA:cn-hangzhou:1234567890:site/1111').decision, 'implicit_deny');
    assert.equal(evaluate(documents, 'esa:GetSite', 'acs:esa:cn-hangzhou:1234567890:Site/1111').decision, 'implicit_deny');
  });

  it('supports * and ? in both actions and resources', () => {
    const documents = [policy(['Allow', 'yundun-cert:Create*Request', 'acs:yundun-cert:*:1234567890:order/1?'])];
    const order = (id: string) => `acs:yundun-cert:cn-hangzhou:1234567890:order/${id}`;
    assert.equal(evaluate(documents, 'yundun-cert:CreateCertificateWithCsrRequest', order('12')).decision, 'allow');
    assert.equal(evaluate(documents, 'yundun-cert:CreateCertificateRequest', order('19')).decision, 'allow');
    assert.equal(evaluate(documents, 'yundun-cert:CreateCertificateRequest', order('1')).decision, 'implicit_deny');
    assert.equal(evaluate(documents, 'yundun-cert:CreateCertificateRequest', order('123')).decision, 'implicit_deny');
    assert.equal(evaluate(documents, 'yundun-cert:DescribeCertificateState', order('12')).decision, 'implicit_deny');
  });

  it('lets a policy allow esa:Get* on one site and nothing else', () => {
    const documents = [policy(['Allow', 'esa:Get*', SITE])];
    assert.equal(evaluate(documents, 'esa:GetSite', SITE).decision, 'allow');
    assert.equal(evaluate(documents, 'esa:GetCertificate', SITE).decision, 'allow');
    assert.equal(evaluate(documents, 'esa:GetClientCertificate', SITE).decision, 'allow');
    assert.equal(evaluate(documents, 'esa:GetSite', OTHER_SITE).decision, 'implicit_deny');
    assert.equal(evaluate(documents, 'esa:ListSites', SITE).decision, 'implicit_deny');
    assert.equal(evaluate(documents, 'esa:DeleteSite', SITE).decision, 'implicit_deny');
    assert.equal(evaluate(documents, 'esa:SetCertificate', SITE).decision, 'implicit_deny');
    assert.equal(evaluate(documents, 'yundun-cert:GetUserCertificateDetail', SITE).decision, 'implicit_deny');
    assert.equal(evaluate(documents, 'esa:GetSite', siteResource('cn-shanghai', ACCOUNT, 1111)).decision, 'implicit_deny');
    assert.equal(evaluate(documents, 'esa:GetSite', siteResource('cn-hangzhou', '999', 1111)).decision, 'implicit_deny');
    assert.equal(evaluate(documents, 'esa:GetSite', `${SITE}1`).decision, 'implicit_deny');
  });

  it('gives the same answers when the same patterns are evaluated again from the cache', () => {
    const documents = [policy(['Allow', 'esa:Get*', SITE])];
    for (let i = 0; i < 3; i++) {
      assert.equal(evaluate(documents, 'esa:getsite', SITE).decision, 'allow');
      assert.equal(evaluate(documents, 'esa:GetSite', OTHER_SITE).decision, 'implicit_deny');
    }
  });
});
