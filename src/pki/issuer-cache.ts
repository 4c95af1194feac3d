import type { ParsedCertificate } from './types.js';

/**
 * Parsed issuer certificates, kept by their exact base64 body. A fleet's certificates share a
 * handful of intermediates, so an upload's chain usually ends in bytes parsed before; identical
 * bytes parse to an identical result, so reusing it changes nothing but the cost. Only issuers
 * (positions after the leaf) are looked up here: every leaf is parsed in full.
 */
export class IssuerCache {
  private readonly entries = new Map<string, ParsedCertificate>();

  constructor(private readonly capacity = 256) {}

  get(base64: string): ParsedCertificate | undefined {
    const found = this.entries.get(base64);
    if (found) {
      // Refresh its place: the map's insertion order is the eviction order.
      this.entries.delete(base64);
      this.entries.set(base64, found);
    }
    return found;
  }

  set(base64: string, cert: ParsedCertificate): void {
    if (this.capacity <= 0) return;
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(base64, Object.freeze(cert));
  }

  get size(): number {
    return this.entries.size;
  }
}
