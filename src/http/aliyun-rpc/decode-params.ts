/**
 * RPC parameters: the query string merged with an application/x-www-form-urlencoded body, decoded
 * strictly (the signature check reads the same pairs, so both agree on what was sent).
 */
import { errors } from '../../kernel/errors.js';

/**
 * The operation's parameters: the query merged with a form body. Percent-decoding reads '+' as a space
 * (the SDK sends spaces as %20, but curl and HTML forms send '+'). Throws the catalogue's errors.
 */
export function parseRpcParams(rawQuery: string, body: Buffer, contentType: string | undefined): Map<string, string> {
  try {
    return decodeParams(rawQuery, body, contentType);
  } catch (err) {
    if (!(err instanceof DecodeProblem)) throw err;
    throw err.key === undefined ? errors.malformedBody(err.why) : errors.invalidParameter(err.key, err.why);
  }
}

export function isForm(contentType: string | undefined): boolean {
  return contentType?.split(';')[0]?.trim().toLowerCase() === 'application/x-www-form-urlencoded';
}

/** A decoding failure, named by key when one key is at fault, translated by each public entry point. */
export class DecodeProblem extends Error {
  constructor(
    readonly why: string,
    readonly key?: string,
  ) {
    super(key === undefined ? why : `${key} ${why}`);
  }
}

/** The query merged with a form body; the SDK never sends a key in both, so that is refused. */
export function decodeParams(rawQuery: string, body: Buffer, contentType: string | undefined): Map<string, string> {
  const params = decodePairs(rawQuery);
  if (body.length === 0 || !isForm(contentType)) return params;
  for (const [key, value] of decodePairs(utf8(body))) {
    if (params.has(key)) throw new DecodeProblem('is given in both the query string and the body', key);
    params.set(key, value);
  }
  return params;
}

/** Strict: bad percent-escapes, invalid UTF-8, empty and repeated keys are refused, never guessed at. */
export function decodePairs(raw: string): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const piece of raw.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const key = decodeComponent(eq < 0 ? piece : piece.slice(0, eq));
    if (key === '') throw new DecodeProblem('a parameter has an empty name');
    if (pairs.has(key)) throw new DecodeProblem('is given more than once', key);
    pairs.set(key, eq < 0 ? '' : decodeComponent(piece.slice(eq + 1)));
  }
  return pairs;
}

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw new DecodeProblem('a parameter is not valid percent-encoded UTF-8');
  }
}

function utf8(body: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new DecodeProblem('the form body is not valid UTF-8');
  }
}
