/**
 * Resource ids: random ones, and ordered ones for rows written on every request.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomIds } from '../../src/kernel/ids.js';

describe('randomIds', () => {
  it('hex32: 32 lower-case hex characters, never twice', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => randomIds.hex32()));
    assert.equal(ids.size, 10_000);
    for (const id of ids) assert.match(id, /^[0-9a-f]{32}$/);
  });

  it('ordered32: the same shape, sorting by when it was made, its last 80 bits random', async () => {
    const before = Date.now();
    const first = Array.from({ length: 5_000 }, () => randomIds.ordered32());
    await new Promise((resolve) => setTimeout(resolve, 5));
    const later = randomIds.ordered32();
    const after = Date.now();
    assert.equal(new Set(first).size, first.length);
    for (const id of [...first, later]) {
      assert.match(id, /^[0-9a-f]{32}$/);
      const ms = parseInt(id.slice(0, 12), 16);
      assert.ok(ms >= before && ms <= after, `${id} holds ${ms}, not a time between ${before} and ${after}`);
    }
    for (const id of first) assert.ok(id < later, `${id} sorts before ${later}, made 5 ms later`);
    // Made in the same millisecond, ids share their prefix and differ in the random part.
    const tails = new Set(first.map((id) => id.slice(12)));
    assert.equal(tails.size, first.length);
  });
});
