import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidPolicyError, MAX_POLICY_LENGTH, parsePolicyDocument, type PolicyIssue } from '../../src/core/policy/index.js';
import { AppError } from '../../src/kernel/errors.js';

function issuesOf(input: unknown): PolicyIssue[] {
  try {
    parsePolicyDocument(input);
  } catch (err) {
    assert.ok(err instanceof InvalidPolicyError, String(err));
    return [...err.issues];
  }
  assert.fail('the document was accepted');
}

const statement = { Effect: 'Allow', Action: 'esa:GetSite', Resource: '*' };

describe('parsePolicyDocument', () => {
  it('parses JSON text and normalises single patterns to lists', () => {
    const document = parsePolicyDocument(
      JSON.stringify({
        Version: '1',
        Statement: [
          { Effect: 'Allow', Action: 'esa:Get*', Resource: 'acs:esa:*:1234567890:site/*' },
          { Effect: 'Deny', Action: ['yundun-cert:Create*', 'esa:DeleteSite'], Resource: ['*'] },
        ],
      }),
    );
    assert.deepEqual(document, {
      Version: '1',
      Statement: [
        { Effect: 'Allow', Action: ['esa:Get*'], Resource: ['acs:esa:*:1234567890:site/*'] },
        { Effect: 'Deny', Action: ['yundun-cert:Create*', 'esa:DeleteSite'], Resource: ['*'] },
      ],
    });
  });

  it('accepts an already parsed value and the bare * action', () => {
    const document = parsePolicyDocument({ Version: '1', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] });
    assert.deepEqual(document.Statement[0]?.Action, ['*']);
  });

  it('is an AppError the dialects already know how to present', () => {
    assert.throws(
      () => parsePolicyDocument('{}'),
      (err: unknown) => err instanceof AppError && err.code === 'request.invalid_parameter' && err.details.parameter === 'PolicyDocument',
    );
  });

  it('rejects text that is not JSON, or not an object', () => {
    assert.match(issuesOf('{"Version": "1",')[0]?.message ?? '', /not valid JSON/);
    assert.deepEqual(issuesOf('[]').map((i) => i.path), ['(document)']);
    assert.deepEqual(issuesOf(null).map((i) => i.path), ['(document)']);
  });

  it('requires Version to be the string "1"', () => {
    for (const Version of [1, '2', undefined]) {
      assert.deepEqual(issuesOf({ Version, Statement: [statement] }), [{ path: 'Version', message: 'must be the string "1"' }]);
    }
  });

  it('requires Effect, spelt exactly Allow or Deny', () => {
    assert.deepEqual(issuesOf({ Version: '1', Statement: [{ Action: '*', Resource: '*' }] }), [
      { path: 'Statement[0].Effect', message: 'is required' },
    ]);
    for (const Effect of ['allow', 'DENY', 'Permit']) {
      const [issue] = issuesOf({ Version: '1', Statement: [{ ...statement, Effect }] });
      assert.equal(issue?.path, 'Statement[0].Effect');
      assert.match(issue?.message ?? '', /exactly "Allow" or "Deny"/);
    }
  });

  it('requires at least one statement with non-empty Action and Resource', () => {
    assert.deepEqual(issuesOf({ Version: '1', Statement: [] }), [{ path: 'Statement', message: 'must hold at least one statement' }]);
    assert.deepEqual(issuesOf({ Version: '1', Statement: [{ Effect: 'Allow', Action: [], Resource: 5 }] }), [
      { path: 'Statement[0].Action', message: 'must not be empty' },
      { path: 'Statement[0].Resource', message: 'must be a Resource pattern or a list of them' },
    ]);
    assert.deepEqual(issuesOf({ Version: '1', Statement: [{ Effect: 'Deny', Action: 'esa:*' }] }), [
      { path: 'Statement[0].Resource', message: 'is required' },
    ]);
  });

  it('rejects malformed Action and Resource patterns, naming each', () => {
    const issues = issuesOf({
      Version: '1',
      Statement: [
        statement,
        { Effect: 'Allow', Action: ['esa:GetSite', 'GetSite', 'esa:Get Site'], Resource: ['acs:esa:*:1:site/1', 'site/1', 'acs:esa:*'] },
      ],
    });
    assert.deepEqual(issues.map((i) => i.path), [
      'Statement[1].Action[1]',
      'Statement[1].Action[2]',
      'Statement[1].Resource[1]',
      'Statement[1].Resource[2]',
    ]);
    assert.match(issues[0]?.message ?? '', /not a valid Action pattern/);
  });

  it("takes Huawei IAM's action names and APIG resources, and refuses their malformed forms", () => {
    const document = parsePolicyDocument({
      Version: '1',
      Statement: [{ Effect: 'Allow', Action: ['apig:certificate:get', 'apig:certificate:*', 'apig:*:*'], Resource: ['apig:*:*:certificate:*', 'apig:cn-hangzhou:p1:certificate:c1'] }],
    });
    assert.deepEqual(document.Statement[0]?.Action, ['apig:certificate:get', 'apig:certificate:*', 'apig:*:*']);
    const issues = issuesOf({
      Version: '1',
      Statement: [
        { Effect: 'Allow', Action: ['apig:certificate:get:more', 'apig::get'], Resource: ['apig:*:*:certificate', 'apig:*:*::c1', 'obs:*:*:bucket:b'] },
      ],
    });
    assert.deepEqual(issues.map((i) => i.path), [
      'Statement[0].Action[0]',
      'Statement[0].Action[1]',
      'Statement[0].Resource[0]',
      'Statement[0].Resource[1]',
      'Statement[0].Resource[2]',
    ]);
  });

  it('refuses fields it does not evaluate, such as Condition', () => {
    const issues = issuesOf({ Version: '1', Statement: [{ ...statement, Condition: { IpAddress: { 'acs:SourceIp': '10.0.0.0/8' } } }], Id: 'x' });
    assert.deepEqual(issues.map((i) => i.path), ['Statement[0]', '(document)']);
    assert.match(issues[0]?.message ?? '', /unsupported field Condition/);
  });

  it('lists every problem in the message', () => {
    assert.throws(
      () => parsePolicyDocument({ Version: '2', Statement: [{ Effect: 'allow', Action: 'x', Resource: '*' }] }),
      (err: unknown) =>
        err instanceof InvalidPolicyError &&
        err.issues.length === 3 &&
        /Version: .*; Statement\[0\]\.Effect: .*; Statement\[0\]\.Action\[0\]: /.test(err.message),
    );
  });

  it('refuses documents longer than RAM allows, naming the setting', () => {
    const long = { Version: '1', Statement: [{ ...statement, Resource: `acs:esa:*:1:site/${'1'.repeat(MAX_POLICY_LENGTH)}` }] };
    const named = /more than the 6144 accepted \(limits\.policyDocumentCharacters\)/;
    assert.match(issuesOf(long)[0]?.message ?? '', named);
    assert.match(issuesOf(JSON.stringify(long))[0]?.message ?? '', named);
  });

  it('takes a lower or higher limit from its caller', () => {
    const text = JSON.stringify({ Version: '1', Statement: [statement] });
    assert.throws(() => parsePolicyDocument(text, text.length - 1), /more than the \d+ accepted/);
    assert.equal(parsePolicyDocument(text, text.length).Statement.length, 1);
    const long = JSON.stringify({ Version: '1', Statement: [{ ...statement, Resource: `acs:esa:*:1:site/${'1'.repeat(MAX_POLICY_LENGTH)}` }] });
    assert.equal(parsePolicyDocument(long, long.length).Version, '1');
  });
});
