/**
 * Looking for secrets in logs. A secret may reach a log spelled as the request carried it: inside a
 * JSON string (newlines as `\n`), percent-encoded in a URL, in 64-column PEM lines. The log is read in
 * every such spelling, and a secret counts as leaked when any 32-character slice of it shows up.
 */

/** Every `size`-character slice of a secret (the secret itself when it is shorter). */
export function slicesOf(secret: string, size = 32): string[] {
  if (secret.length <= size) return [secret];
  return Array.from({ length: secret.length - size + 1 }, (_, i) => secret.slice(i, i + size));
}

/** The base64 body of a PEM text, armour and whitespace removed. */
export function pemBody(pem: string): string {
  return pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
}

/** The log with JSON escapes and percent-encoding undone, serialised Buffers decoded, and whitespace removed. */
function normalise(log: string): string {
  const buffers = [...log.matchAll(/"type":"Buffer","data":\[([\d,]*)\]/g)].map((m) =>
    Buffer.from(m[1]!.split(',').filter(Boolean).map(Number)).toString('latin1'),
  );
  log = [log, ...buffers].join('\n');
  const unescaped = log.replace(/\\[nrt]/g, ' ').replace(/\\\//g, '/').replace(/\\u([0-9a-fA-F]{4})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  const decoded = unescaped.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  return `${unescaped}\n${decoded}`.replace(/[ \t\r\n]+/g, '');
}

/** The names of the secrets a 32-character slice of which appears in the log. */
export function leakedSecrets(log: string, secrets: Record<string, string>): string[] {
  const text = normalise(log);
  return Object.entries(secrets)
    .filter(([, secret]) => slicesOf(secret.replace(/\s+/g, '')).some((slice) => text.includes(slice)))
    .map(([name]) => name);
}
