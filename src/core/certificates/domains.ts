import { errors } from '../../kernel/errors.js';

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** A host name a certificate may be bound to: lower-cased, no trailing dot, LDH labels (leading `*.` allowed). */
export function parseBindableDomain(input: string): string {
  const domain = input.trim().toLowerCase().replace(/\.$/, '');
  const labels = domain.split('.');
  const body = labels[0] === '*' ? labels.slice(1) : labels;
  if (domain.length > 253 || body.length < 2 || !body.every((label) => LABEL.test(label))) {
    throw errors.invalidParameter('domain', `${input} is not a valid domain name`);
  }
  return domain;
}

/** True when one SAN entry covers the domain; a wildcard covers exactly one leftmost label. */
export function coversDomain(san: readonly string[], domain: string): boolean {
  return san.some((entry) => {
    const name = entry.toLowerCase();
    if (name === domain) return true;
    if (!name.startsWith('*.')) return false;
    const [first, ...rest] = domain.split('.');
    return first !== undefined && first !== '*' && rest.join('.') === name.slice(2);
  });
}
