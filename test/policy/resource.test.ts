import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { acsResource, casResource, siteResource } from '../../src/core/policy/index.js';

describe('resource names', () => {
  it('builds ESA site ARNs as RAM spells them', () => {
    assert.equal(siteResource('cn-hangzhou', '1234567890', 1234567890123), 'acs:esa:cn-hangzhou:1234567890:site/1234567890123');
    assert.equal(siteResource('cn-hangzhou', '1234567890', '77'), 'acs:esa:cn-hangzhou:1234567890:site/77');
  });

  it('builds CAS ARNs under the yundun-cert service', () => {
    assert.equal(casResource('cn-hangzhou', '1234567890', 'order', 98987582437920968n), 'acs:yundun-cert:cn-hangzhou:1234567890:order/98987582437920968');
    assert.equal(casResource('*', '1234567890', 'certificate', 17), 'acs:yundun-cert:*:1234567890:certificate/17');
  });

  it('builds any ARN, keeping colons in the relative id', () => {
    assert.equal(acsResource('oss', '*', '42', 'bucket/a:b'), 'acs:oss:*:42:bucket/a:b');
  });

  it('refuses parts that would shift the ARN fields', () => {
    assert.throws(() => acsResource('esa', 'cn:hangzhou', '42', 'site/1'), RangeError);
    assert.throws(() => acsResource('esa', 'cn-hangzhou', '', 'site/1'), RangeError);
    assert.throws(() => acsResource('', 'cn-hangzhou', '42', 'site/1'), RangeError);
    assert.throws(() => acsResource('esa', 'cn-hangzhou', '42', ''), RangeError);
  });
});
