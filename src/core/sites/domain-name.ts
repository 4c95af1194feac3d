import { domainToASCII } from 'node:url';
import { parse as parseDomain } from 'tldts';
import { errors } from '../../kernel/errors.js';

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * A site name: a registrable domain (exactly one label above its public suffix), with IDN
 * converted to punycode, case folded and without a trailing dot. `example.com` and `例子.中国`
 * are site names; `www.example.com`, `co.uk` and `com` are not.
 */
export function parseSiteName(input: string): string {
  const trimmed = input.trim();
  if (trimmed.length === 0 || trimmed.length > 253) throw invalid(input, 'must be 1 to 253 characters');
  if (trimmed.endsWith('.')) throw invalid(input, 'must not end with a dot');
  const ascii = domainToASCII(trimmed.toLowerCase());
  if (ascii === '') throw invalid(input, 'is not a valid domain name');
  const labels = ascii.split('.');
  if (labels.length < 2 || !labels.every((label) => LABEL.test(label))) {
    throw invalid(input, 'is not a valid domain name');
  }
  const parsed = parseDomain(ascii, { allowPrivateDomains: false });
  if (parsed.isIp || parsed.domain !== ascii) {
    throw invalid(input, 'must be a registrable domain such as example.com, not a subdomain or a public suffix');
  }
  return ascii;
}

function invalid(input: string, why: string) {
  return errors.invalidParameter('siteName', `${JSON.stringify(input)} ${why}`);
}
