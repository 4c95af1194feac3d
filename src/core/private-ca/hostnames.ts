/**
 * The hostnames where a site enforces a client CA (SetClientCertificateHostnames): names of the
 * site itself, its name or a name under it, a wildcard allowed as the first label. Stored in ASCII
 * (punycode), lower case, each once, in the order given.
 */
import { domainToASCII } from 'node:url';
import { errors } from '../../kernel/errors.js';
import { limitExceeded, type Limits } from '../../kernel/limits.js';

const PARAMETER = 'hostnames';
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export function checkHostnames(siteName: string, given: unknown, limits: Pick<Limits, 'domains'>): string[] {
  if (!Array.isArray(given) || !given.every((h): h is string => typeof h === 'string')) {
    throw errors.invalidParameter(PARAMETER, 'must be a JSON list of host names, e.g. ["www.example.com"]');
  }
  if (given.length > limits.domains) throw limitExceeded(PARAMETER, `lists ${given.length} names, more than the ${limits.domains} accepted`, 'domains');
  const out: string[] = [];
  for (const raw of given) {
    const name = hostname(raw);
    if (name !== siteName && !name.endsWith(`.${siteName}`)) {
      throw errors.invalidParameter(PARAMETER, `${raw} is not ${siteName} or a name under it`);
    }
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

function hostname(raw: string): string {
  const wildcard = raw.startsWith('*.');
  const rest = wildcard ? raw.slice(2) : raw;
  const ascii = rest.length > 0 && rest.length <= 253 && !rest.endsWith('.') ? domainToASCII(rest.toLowerCase()) : '';
  if (ascii === '' || !ascii.split('.').every((label) => LABEL.test(label))) {
    throw errors.invalidParameter(PARAMETER, `"${raw.slice(0, 80)}" is not a host name`);
  }
  return wildcard ? `*.${ascii}` : ascii;
}
