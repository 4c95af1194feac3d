import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileWildcard, matchWildcard } from '../../src/core/policy/wildcard.js';

const matches = (pattern: string, value: string) => matchWildcard(compileWildcard(pattern), [...value]);

/** Reference semantics, fine for short strings: translate to an anchored RegExp. */
function reference(pattern: string, value: string): boolean {
  const body = [...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.+()[\]{}|]/g, '\\$&')));
  return new RegExp(`^${body.join('')}$`, 'su').test(value);
}

describe('wildcard matching', () => {
  it('treats * as any run, including none, and ? as exactly one character', () => {
    assert.ok(matches('esa:Get*', 'esa:GetSite'));
    assert.ok(matches('esa:Get*', 'esa:Get'));
    assert.ok(matches('*Site', 'esa:GetSite'));
    assert.ok(matches('a*b*c', 'axxbyyc'));
    assert.ok(matches('site/12?', 'site/123'));
    assert.ok(!matches('site/12?', 'site/12'));
    assert.ok(!matches('site/12?', 'site/1234'));
    assert.ok(matches('a**b', 'ab'));
    assert.ok(!matches('a*b*c', 'acb'));
  });

  it('treats everything else literally', () => {
    assert.ok(matches('a.b(c)[d]+', 'a.b(c)[d]+'));
    assert.ok(!matches('a.b', 'axb'));
    assert.ok(!matches('esa:GetSite', 'esa:GetSites'));
    assert.ok(!matches('esa:GetSite', 'xesa:GetSite'));
  });

  it('counts a character outside the BMP as one for ?', () => {
    assert.ok(matches('site/?', 'site/😀'));
  });

  it('agrees with a regular-expression reference on many random cases', () => {
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const pick = (alphabet: string, max: number) =>
      Array.from({ length: random(max) }, () => alphabet[random(alphabet.length)]).join('');
    for (let i = 0; i < 5000; i++) {
      const pattern = pick('ab*?', 7);
      const value = pick('ab', 8);
      assert.equal(matches(pattern, value), reference(pattern, value), `${pattern} vs ${value}`);
    }
  });

  // A backtracking matcher would not finish this within the lifetime of the suite; the timeout only
  // turns such a hang into a failure, it is not a speed target.
  it('answers patterns that make backtracking engines explode', { timeout: 30_000 }, () => {
    assert.ok(!matches(`${'*a'.repeat(30)}*b`, 'a'.repeat(6000)));
    assert.ok(matches(`${'*a'.repeat(30)}*b`, `${'a'.repeat(6000)}b`));
  });
});
