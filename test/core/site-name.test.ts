import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSiteName } from '../../src/core/sites/domain-name.js';
import { AppError } from '../../src/kernel/errors.js';

describe('site names', () => {
  it('accepts a domain under a public suffix at any depth, case folded, IDN as punycode', () => {
    assert.equal(parseSiteName('Example.COM'), 'example.com');
    assert.equal(parseSiteName('shop.example.com'), 'shop.example.com');
    assert.equal(parseSiteName('a.b.shop.example.co.uk'), 'a.b.shop.example.co.uk');
    assert.equal(parseSiteName('me.github.io'), 'me.github.io', 'a name under a private-section suffix');
    assert.equal(parseSiteName('商店.例子.中国'), 'xn--czrs0t.xn--fsqu00a.xn--fiqs8s');
  });

  it('refuses IP addresses, bare public suffixes of both PSL sections and invalid labels', () => {
    const refused: Array<[string, RegExp]> = [
      ['192.168.1.1', /not an IP address/],
      ['com', /is a public suffix/],
      ['co.uk', /is a public suffix/],
      ['github.io', /is a public suffix/],
      ['中国', /is a public suffix/],
      ['example.com.', /must not end with a dot/],
      ['exa mple.com', /not a valid domain name/],
      ['-shop.example.com', /not a valid domain name/],
      ['shop_.example.com', /not a valid domain name/],
      ['a..example.com', /not a valid domain name/],
      [`${'a'.repeat(64)}.example.com`, /not a valid domain name/],
      [`${'a.'.repeat(127)}com`, /1 to 253 characters/],
      ['', /1 to 253 characters/],
    ];
    for (const [input, why] of refused) {
      assert.throws(
        () => parseSiteName(input),
        (err: AppError) => err.code === 'request.invalid_parameter' && err.details.parameter === 'siteName' && why.test(err.message),
        input,
      );
    }
  });
});
