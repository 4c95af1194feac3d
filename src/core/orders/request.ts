/**
 * What an order asks for, checked before anything is stored or counted: the CSR (signature, key,
 * names) or the names for a key certplane makes, the contact, the tags, the validation method.
 * Free text is refused when it holds control characters, backslashes or `..`, so no field can
 * carry a path or a forged log line.
 */
import { errors } from '../../kernel/errors.js';
import { PkiError, parseCsr, type CsrPolicy, type ParsedCsr } from '../../pki/index.js';
import { checkDomain } from './names.js';
import type { Contact, Tag } from './model.js';

/** Keys a CA issues DV certificates for: RSA 2048–4096, ECDSA P-256 or P-384; 16 KiB of PEM at most. */
export const ORDER_CSR_POLICY: Required<CsrPolicy> = { maxBytes: 16 * 1024, rsaMinBits: 2048, rsaMaxBits: 4096, curves: ['P-256', 'P-384'] };

export const MAX_TAGS = 20;

export interface CheckedCsr {
  pem: string;
  /** CN first, then the other requested DNS names, each once. */
  identifiers: string[];
  algorithm: 'RSA' | 'ECC';
}

/** The CSR's signature verified, its key within policy, every name it asks for certifiable. */
export function checkCsr(text: string): CheckedCsr {
  let csr: ParsedCsr;
  try {
    csr = parseCsr(text, ORDER_CSR_POLICY);
  } catch (err) {
    if (err instanceof PkiError) throw errors.invalidParameter('csr', err.message);
    throw err;
  }
  if (csr.requestedExtensions.ca) throw errors.invalidParameter('csr', 'the CSR asks for a CA certificate (basicConstraints CA:TRUE)');
  const cn = csr.subject.commonName;
  if (cn.length !== 1) throw errors.invalidParameter('csr', cn.length === 0 ? 'the CSR has no CN; its CN is the domain to certify' : 'the CSR has more than one CN');
  const sans = csr.requestedExtensions.subjectAltNames;
  const others = [...sans.ipAddresses, ...sans.emailAddresses, ...sans.uris];
  if (others.length > 0) throw errors.invalidParameter('csr', `the CSR asks for names other than DNS names (${others.slice(0, 3).join(', ')}); a DV certificate certifies domain names only`);
  const identifiers = [...new Set([cn[0]!, ...sans.dnsNames])];
  for (const name of identifiers) checkDomain(name, 'csr', name === cn[0] ? 'the CSR\'s CN' : 'the CSR\'s subjectAltName');
  return { pem: text, identifiers, algorithm: csr.publicKey.algorithm === 'RSA' ? 'RSA' : 'ECC' };
}

/** `Domain`: one name, or several joined by commas, each certifiable; all plain or all wildcards. */
export function checkDomains(text: string, max: number): string[] {
  const names = text.split(',');
  if (names.length > max) throw errors.invalidParameter('domain', `names ${names.length} domains; at most ${max} are accepted`);
  const checked = [...new Set(names.map((name) => checkDomain(name, 'domain')))];
  const wildcards = checked.filter((n) => n.startsWith('*.')).length;
  if (wildcards > 0 && wildcards < checked.length) {
    throw errors.invalidParameter('domain', 'mixes wildcard and plain names; ask for only one kind in one order');
  }
  return checked;
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Free text: bounded, no control characters, no backslash, no `..`. */
export function checkText(parameter: string, value: string, max: number): string {
  if (value.length > max) throw errors.invalidParameter(parameter, `is longer than ${max} characters`);
  if (CONTROL.test(value)) throw errors.invalidParameter(parameter, 'must not contain control characters or line breaks');
  if (value.includes('\\') || value.includes('..')) throw errors.invalidParameter(parameter, 'must not contain a backslash or ".."');
  return value;
}

const USERNAME = /^[\p{L}\p{M}\p{N}][\p{L}\p{M}\p{N} .'’·_-]*$/u;
const PHONE = /^\+?[0-9][0-9 ()-]{3,30}$/;
const EMAIL_LOCAL = /^[A-Za-z0-9!#$%&'*+=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+=?^_`{|}~-]+)*$/;

export interface ContactInput {
  username?: string | undefined;
  phone?: string | undefined;
  email?: string | undefined;
  companyName?: string | undefined;
}

/** Each field given is checked; `required` lists those that must be given. */
export function checkContact(input: ContactInput, required: ReadonlyArray<'username' | 'phone' | 'email'>): Contact {
  for (const name of required) if (input[name] === undefined) throw errors.missingParameter(name);
  const { username, phone, email, companyName } = input;
  if (username !== undefined) {
    checkText('username', username, 64);
    if (!USERNAME.test(username)) throw errors.invalidParameter('username', 'must be a name: letters, digits, spaces and . \' _ - (at most 64)');
  }
  if (phone !== undefined && !PHONE.test(phone)) {
    throw errors.invalidParameter('phone', 'must be a telephone number: digits, with an optional leading + and spaces, ( ) or - between them');
  }
  if (email !== undefined) checkEmail(email);
  if (companyName !== undefined) checkText('companyName', companyName, 128);
  return { username, phone, email, companyName };
}

function checkEmail(email: string): void {
  const at = email.lastIndexOf('@');
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (email.length > 254 || at < 1 || local.length > 64 || !EMAIL_LOCAL.test(local)) {
    throw errors.invalidParameter('email', 'must be an email address such as username@example.com');
  }
  checkDomain(domain.toLowerCase(), 'email', 'the email address\'s domain');
}

export function checkTags(tags: ReadonlyArray<{ key: string; value: string | undefined }>): Tag[] {
  if (tags.length > MAX_TAGS) throw errors.invalidParameter('tags', `holds ${tags.length} tags; at most ${MAX_TAGS} are accepted`);
  return tags.map((t) => ({ key: checkText('tags', t.key, 128), value: checkText('tags', t.value ?? '', 128) }));
}
