import { domainToASCII } from 'node:url';
import { parse as parseDomain } from 'tldts';
import { errors } from '../../kernel/errors.js';

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * A site name: a domain under a public suffix that is not itself a public suffix, with IDN
 * converted to punycode, case folded and without a trailing dot. `example.com`,
 * `shop.example.com` and `例子.中国` are site names (ESA lets an account add a subdomain as its own
 * site); `com`, `co.uk`, `github.io` (the PSL's private section counts too: nobody owns all of
 * it) and IP addresses are not.
 */
export function parseSiteName(input: string): string {
  const trimmed = input.trim();
  if (trimmed.length === 0 || trimmed.length > 253) throw invalid(input, 'must be 1 to 253 characters');
  if (trimmed.endsWith('.')) throw invalid(input, 'must not end with a dot');
  const ascii = domainToASCII(trimmed.toLowerCase());
  if (ascii === '' || ascii.length > 253) throw invalid(input, 'is not a valid domain name');
  const labels = ascii.split('.');
  if (!labels.every((label) => LABEL.test(label))) throw invalid(input, 'is not a valid domain name');
  const parsed = parseDomain(ascii, { allowPrivateDomains: true });
  if (parsed.isIp) throw invalid(input, 'must be a domain name, not an IP address');
  // `domain` is the registrable part (one label above the public suffix): absent when the name
  // is a public suffix itself. A single label counts as one (an unknown top-level name).
  if (labels.length < 2 || parsed.domain === null || parsed.publicSuffix === ascii) {
    throw invalid(input, 'is a public suffix; a site is a domain under one, such as example.com or shop.example.com');
  }
  return ascii;
}

function invalid(input: string, why: string) {
  return errors.invalidParameter('siteName', `${JSON.stringify(input)} ${why}`);
}
