import type { Site } from './model.js';

/**
 * What one VerifySite looked at: the record it asked for, the resolver it asked, what it expected
 * and what it found, and in one sentence why it passed or did not. Shown to the caller and logged,
 * so a user who set up their zone can see what certplane saw.
 */
export interface VerificationReport {
  passed: boolean;
  recordType: 'NS' | 'TXT';
  recordName: string;
  expected: string[];
  found: string[];
  /** The DNS server asked (DnsResolver.description). */
  resolver: string;
  reason: string;
}

/** Where CNAME-mode ownership is published, as the ESA documentation says: `_esaauth.<site>`. */
export function txtRecordName(siteName: string): string {
  return `_esaauth.${siteName}`;
}

/**
 * NS mode: the name must be delegated to exactly the site's own pair, no more and no fewer. A pair
 * among other nameservers would let another account that holds one of the extra names, or that
 * was given the same names for another site, pass too.
 */
export function judgeDelegation(site: Site, found: string[], resolver: string): VerificationReport {
  const expected = site.nameServers;
  const seen = [...new Set(found)].sort();
  const report = { recordType: 'NS' as const, recordName: site.name, expected, found: seen, resolver };
  if (expected.length === 0) {
    return fail(report, 'this site holds no nameservers of its own (it predates per-site pairs); delete it and create it again');
  }
  if (seen.length === 0) return fail(report, `${site.name} has no NS records: it is not delegated yet`);
  const missing = expected.filter((ns) => !seen.includes(ns));
  const extra = seen.filter((ns) => !expected.includes(ns));
  if (missing.length === 0 && extra.length === 0) {
    return { ...report, passed: true, reason: `${site.name} is delegated to exactly this site's nameservers` };
  }
  const parts = [
    missing.length > 0 ? `missing ${missing.join(', ')}` : '',
    extra.length > 0 ? `not this site's ${extra.join(', ')}` : '',
  ].filter(Boolean);
  return fail(report, `${site.name} must be delegated to exactly ${expected.join(' and ')}: ${parts.join('; ')}`);
}

/** CNAME mode: a TXT record at `_esaauth.<site>` must hold the site's own VerifyCode; others may sit beside it. */
export function judgeTxt(site: Site, found: string[], resolver: string): VerificationReport {
  const recordName = txtRecordName(site.name);
  const report = { recordType: 'TXT' as const, recordName, expected: [site.verifyCode], found, resolver };
  if (found.length === 0) return fail(report, `no TXT record at ${recordName}`);
  if (found.some((value) => value.trim() === site.verifyCode)) {
    return { ...report, passed: true, reason: `a TXT record at ${recordName} holds this site's VerifyCode` };
  }
  return fail(report, `no TXT record at ${recordName} holds this site's VerifyCode`);
}

function fail(report: Omit<VerificationReport, 'passed' | 'reason'>, reason: string): VerificationReport {
  return { ...report, passed: false, reason };
}
