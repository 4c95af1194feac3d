/**
 * The names an order may certify, checked exactly as given: a CA certifies what it is asked for,
 * so nothing is folded or trimmed into something else. A name is lower-case ASCII (an IDN in its
 * `xn--` form), LDH labels, no empty label, no trailing dot, at most 253 characters, under a
 * public suffix without being one; a wildcard is `*.` before such a name.
 */
import { parse as parseDomain } from 'tldts';
import { errors } from '../../kernel/errors.js';

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Why `name` cannot be certified, or undefined when it can. */
export function domainProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > 253) return 'is longer than 253 characters';
  if (/[^\x21-\x7e]/.test(name)) return 'must be ASCII without spaces (write an IDN in its xn-- form)';
  if (/[A-Z]/.test(name)) return 'must be lower-case';
  if (name.endsWith('.')) return 'must not end with a dot';
  if (name.includes('..') || name.startsWith('.')) return 'has an empty label';
  const wildcard = name.startsWith('*.');
  const body = wildcard ? name.slice(2) : name;
  if (body.includes('*')) return 'may hold a wildcard only as its whole first label (*.example.com)';
  const labels = body.split('.');
  if (!labels.every((label) => LABEL.test(label))) return 'is not a valid domain name (letters, digits and inner hyphens in each label)';
  if (labels.length < 2) return 'is a single label; a certificate names a domain such as example.com';
  if (/^\d+$/.test(labels.at(-1)!)) return 'is an IP address or ends in a numeric label; only domain names are certified';
  const parsed = parseDomain(body, { allowPrivateDomains: true });
  if (parsed.domain === null || parsed.publicSuffix === body) return 'is a public suffix; nobody can prove control of all of it';
  return undefined;
}

/** The name, refused as `parameter` with the reason when it cannot be certified. */
export function checkDomain(name: string, parameter: string, label = 'domain name'): string {
  const problem = domainProblem(name);
  if (problem) throw errors.invalidParameter(parameter, `${label} ${JSON.stringify(name.slice(0, 300))} ${problem}`);
  return name;
}
