import { domainToASCII } from 'node:url';
import { AppError } from '../../kernel/errors.js';
import type { Site } from '../sites/model.js';

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * Why a `Domains` list is refused: each reason reads as ESA's documentation words it, followed by
 * the domain at fault, so the caller sees both the documented sentence and what to fix.
 */
export const DOMAIN_REFUSALS = {
  invalid: 'The domain specified in Domains parameter is not a valid domain name, please check and try again.',
  notOfSite: 'One or more domain names specified by parameter Domains do not belong to the current website. Check and try again.',
  tooMany: 'The maximum number of domain names specified by parameter Domains has been reached. Adjust your configurations and try again.',
  wildcardOnCname: 'The site which is configured in CNAME mode does not support wildcard domain certificate application.',
  inProgress: 'You have already submitted a certificate application for the domain name.',
  duplicate: 'A domain name is specified more than once in parameter Domains. Check and try again.',
} as const;

export function domainsRefused(reason: keyof typeof DOMAIN_REFUSALS, detail: string): AppError {
  return new AppError('request.invalid_parameter', `${DOMAIN_REFUSALS[reason]} (${detail})`, { parameter: 'domains' });
}

/**
 * A host name as a certificate names it: IDN to punycode, case folded, one trailing dot dropped,
 * LDH labels, a wildcard only as the whole leftmost label (`*.example.com`). Undefined when it is
 * not one.
 */
export function parseCertificateName(input: string): string | undefined {
  const trimmed = input.trim().replace(/\.$/, '');
  if (trimmed.length === 0 || trimmed.length > 253) return undefined;
  const wildcard = trimmed.startsWith('*.');
  const body = wildcard ? trimmed.slice(2) : trimmed;
  const ascii = /^[\x21-\x7e]*$/.test(body) ? body.toLowerCase() : domainToASCII(body.toLowerCase());
  if (ascii === '' || ascii.length > 251) return undefined;
  const labels = ascii.split('.');
  if (labels.length < 2 || !labels.every((label) => LABEL.test(label))) return undefined;
  // A top-level label is never all digits: that would be an IPv4 address.
  if (/^\d+$/.test(labels[labels.length - 1]!)) return undefined;
  return wildcard ? `*.${ascii}` : ascii;
}

/** The site's name, or a name under it (a wildcard's base included). */
export function belongsToSite(name: string, siteName: string): boolean {
  const base = name.startsWith('*.') ? name.slice(2) : name;
  return base === siteName || base.endsWith(`.${siteName}`);
}

/**
 * The `Domains` of one ApplyCertificate, checked one by one against the site and the issuer's
 * limit: every refusal names the domain at fault. Applications in progress are judged later, in
 * the transaction that stores the new ones.
 */
export function parseApplyDomains(text: string, site: Pick<Site, 'name' | 'accessType'>, limit: number): string[] {
  const entries = text.split(',');
  if (entries.length > limit) {
    throw domainsRefused('tooMany', `${entries.length} domains given; this certificate type accepts at most ${limit} in one application`);
  }
  const seen = new Set<string>();
  return entries.map((entry) => {
    const name = parseCertificateName(entry);
    if (name === undefined) throw domainsRefused('invalid', `${JSON.stringify(entry.trim())} is not a valid domain name`);
    if (!belongsToSite(name, site.name)) throw domainsRefused('notOfSite', `${name} is neither ${site.name} nor under it`);
    if (name.startsWith('*.') && site.accessType === 'CNAME') {
      throw domainsRefused('wildcardOnCname', `${name}: a CNAME-mode site proves control over http-01, which cannot prove a wildcard`);
    }
    if (seen.has(name)) throw domainsRefused('duplicate', `${name} is given twice`);
    seen.add(name);
    return name;
  });
}
