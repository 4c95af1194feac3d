import { isIP } from 'node:net';
import { z } from 'zod';

/** TSIG algorithms an `rfc2136` provider signs with (RFC 8945 §6). */
export const TSIG_ALGORITHM_NAMES = ['hmac-sha256', 'hmac-sha512', 'hmac-sha384', 'hmac-sha224', 'hmac-sha1'] as const;

/** The DNS provider that publishes dns-01 records: the `dns01` setting. */
export type Dns01Settings =
  | {
      provider: 'rfc2136';
      /** The primary server, `IP:PORT` (port 53 when omitted). */
      server: string;
      tsigKeyName: string;
      tsigAlgorithm: (typeof TSIG_ALGORITHM_NAMES)[number];
      /** base64; never logged. */
      tsigSecret: string;
      /** Unset: the zone is found by asking the server for the SOA of the name and its parents. */
      zone: string | undefined;
    }
  | {
      provider: 'hook';
      command: string[];
      timeoutSeconds: number;
    };

/** How long and how often a published record is looked for at the zone's authoritative servers. */
export interface Dns01Propagation {
  timeoutSeconds: number;
  intervalMs: number;
  /** The port authoritative nameservers are asked on. */
  nameServerPort: number;
}

export const DEFAULT_DNS01_PROPAGATION: Dns01Propagation = { timeoutSeconds: 120, intervalMs: 2000, nameServerPort: 53 };

const dnsName = (field: string) =>
  z
    .string({ error: `${field} must be a DNS name` })
    .regex(/^(?=.{1,253}\.?$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?$/, {
      error: `${field} must be a DNS name`,
    });

const serverAddress = z.string({ error: 'server must be IP:PORT' }).refine((text) => {
  const match = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(text) ?? /^([0-9.]+)(?::(\d{1,5}))?$/.exec(text);
  const port = match?.[2] === undefined ? 53 : Number(match[2]);
  return match !== null && isIP(match[1]!) !== 0 && port >= 1 && port <= 65_535;
}, 'server must be IP:PORT (an IP address: the server is not looked up by name)');

// The secret's value never appears in a message: only what is wrong with it.
const tsigSecret = z.string({ error: 'tsigSecret must be base64' }).refine((text) => {
  const bytes = Buffer.from(text, 'base64');
  return bytes.length >= 16 && bytes.toString('base64').replace(/=+$/, '') === text.replace(/=+$/, '');
}, 'tsigSecret must be base64 of at least 16 bytes (as tsig-keygen prints it)');

const rfc2136Schema = z
  .object({
    provider: z.literal('rfc2136'),
    server: serverAddress,
    tsigKeyName: dnsName('tsigKeyName'),
    tsigAlgorithm: z.enum(TSIG_ALGORITHM_NAMES, { error: `tsigAlgorithm must be one of ${TSIG_ALGORITHM_NAMES.join(', ')}` }).optional(),
    tsigSecret,
    zone: dnsName('zone').optional(),
  })
  .strict();

const hookSchema = z
  .object({
    provider: z.literal('hook'),
    command: z
      .array(z.string().min(1, { error: 'command must not hold an empty string' }), { error: 'command must be an array of strings' })
      .min(1, { error: 'command must name a program' }),
    timeoutSeconds: z.number({ error: 'timeoutSeconds must be a whole number from 1 to 3600' }).int().min(1).max(3600).optional(),
  })
  .strict();

export const dns01Schema = z.discriminatedUnion('provider', [rfc2136Schema, hookSchema], {
  error: 'provider must be "rfc2136" or "hook"',
});

export const dns01PropagationSchemas = {
  dns01PropagationTimeoutSeconds: z.coerce.number().int().min(1).max(3600).optional(),
  dns01PropagationIntervalMs: z.coerce.number().int().min(50).max(60_000).optional(),
  dns01NameServerPort: z.coerce.number().int().min(1).max(65_535).optional(),
};

export function dns01From(raw: z.infer<typeof dns01Schema> | undefined): Dns01Settings | undefined {
  if (raw === undefined) return undefined;
  if (raw.provider === 'hook') return { provider: 'hook', command: raw.command, timeoutSeconds: raw.timeoutSeconds ?? 60 };
  return { ...raw, tsigAlgorithm: raw.tsigAlgorithm ?? 'hmac-sha256', zone: raw.zone?.replace(/\.$/, '').toLowerCase() };
}

export function dns01PropagationFrom(raw: {
  dns01PropagationTimeoutSeconds?: number | undefined;
  dns01PropagationIntervalMs?: number | undefined;
  dns01NameServerPort?: number | undefined;
}): Dns01Propagation {
  return {
    timeoutSeconds: raw.dns01PropagationTimeoutSeconds ?? DEFAULT_DNS01_PROPAGATION.timeoutSeconds,
    intervalMs: raw.dns01PropagationIntervalMs ?? DEFAULT_DNS01_PROPAGATION.intervalMs,
    nameServerPort: raw.dns01NameServerPort ?? DEFAULT_DNS01_PROPAGATION.nameServerPort,
  };
}
