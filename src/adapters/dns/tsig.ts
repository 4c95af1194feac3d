/**
 * TSIG (RFC 8945): HMAC signatures over a DNS message and its answer, with a shared secret. A
 * request is signed; the answer to it must carry a TSIG the same key made over our request's MAC
 * and the answer, else it is not trusted.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { additionalRecords, nameToWire, readName, type RawRecord } from './message.js';

export const TSIG_ALGORITHMS = ['hmac-sha256', 'hmac-sha512', 'hmac-sha384', 'hmac-sha224', 'hmac-sha1'] as const;
export type TsigAlgorithm = (typeof TSIG_ALGORITHMS)[number];

export interface TsigKey {
  name: string;
  algorithm: TsigAlgorithm;
  secret: Buffer;
}

const TYPE_TSIG = 250;
const CLASS_ANY = 255;
/** Seconds of clock difference either side accepts (RFC 8945 recommends 300). */
const FUDGE = 300;

/** TSIG error codes (RFC 8945 §5.3) a server puts in an unsigned answer to a request it would not accept. */
const TSIG_ERRORS: Record<number, string> = { 16: 'BADSIG', 17: 'BADKEY', 18: 'BADTIME', 22: 'BADTRUNC' };

/** The signed message, and the MAC the answer's signature must cover. */
export function signMessage(message: Buffer, key: TsigKey, now: Date): { message: Buffer; mac: Buffer } {
  const time = Math.floor(now.getTime() / 1000);
  const variables = tsigVariables(key, time, FUDGE, 0, Buffer.alloc(0));
  const mac = hmac(key, [message, variables]);
  const rdata = Buffer.concat([
    nameToWire(algorithmName(key.algorithm)),
    time48(time),
    u16(FUDGE),
    u16(mac.length),
    mac,
    message.subarray(0, 2), // original id
    u16(0), // error
    u16(0), // other len
  ]);
  const record = Buffer.concat([nameToWire(key.name), u16(TYPE_TSIG), u16(CLASS_ANY), Buffer.alloc(4), u16(rdata.length), rdata]);
  const signed = Buffer.concat([message, record]);
  signed.writeUInt16BE(signed.readUInt16BE(10) + 1, 10);
  return { message: signed, mac };
}

/** The answer's TSIG is missing, made with another key, wrong, or says the server refused our signature. */
export class TsigFailure extends Error {
  override readonly name = 'TsigFailure';
  constructor(
    message: string,
    /** The server's TSIG error (`BADSIG`, `BADKEY`, `BADTIME`, `BADTRUNC`), when it reported one. */
    readonly serverError?: string,
  ) {
    super(message);
  }
}

/** Throws TsigFailure unless `answer` is signed by `key` as the answer to the request whose MAC was `requestMac`. */
export function verifyAnswer(answer: Buffer, key: TsigKey, requestMac: Buffer, now: Date): void {
  const records = additionalRecords(answer);
  const tsig = records.at(-1);
  if (!tsig || tsig.type !== TYPE_TSIG) throw new TsigFailure('the answer is not signed (no TSIG record)');
  let fields: TsigFields;
  try {
    fields = parseTsig(answer, tsig);
  } catch (err) {
    if (err instanceof TsigFailure) throw err;
    throw new TsigFailure('the answer has a malformed TSIG record');
  }
  if (fields.error !== 0) {
    const code = TSIG_ERRORS[fields.error] ?? `TSIG error ${fields.error}`;
    throw new TsigFailure(`the server refused the request's signature: ${code}`, code);
  }
  if (tsig.name !== key.name.replace(/\.$/, '').toLowerCase() || fields.algorithm !== algorithmName(key.algorithm).replace(/\.$/, '')) {
    throw new TsigFailure(`the answer is signed with another key (${tsig.name}, ${fields.algorithm})`);
  }
  // The MAC covers the answer as it was before the TSIG was added: without it, the count one less, the original id.
  const unsigned = Buffer.from(answer.subarray(0, tsig.start));
  unsigned.writeUInt16BE(unsigned.readUInt16BE(10) - 1, 10);
  unsigned.writeUInt16BE(fields.originalId, 0);
  const variables = tsigVariables(key, fields.time, fields.fudge, fields.error, fields.other);
  const expected = hmac(key, [u16(requestMac.length), requestMac, unsigned, variables]);
  if (fields.mac.length !== expected.length || !timingSafeEqual(fields.mac, expected)) {
    throw new TsigFailure('the answer\'s signature does not verify with the key');
  }
  const skew = Math.abs(Math.floor(now.getTime() / 1000) - fields.time);
  if (skew > fields.fudge) throw new TsigFailure(`the answer was signed ${skew} s away from this machine's clock`);
}

interface TsigFields {
  algorithm: string;
  time: number;
  fudge: number;
  mac: Buffer;
  originalId: number;
  error: number;
  other: Buffer;
}

function parseTsig(answer: Buffer, record: RawRecord): TsigFields {
  const { name: algorithm, end } = readName(answer, record.rdataStart);
  let at = end;
  const read16 = () => {
    const value = answer.readUInt16BE(at);
    at += 2;
    return value;
  };
  const time = answer.readUInt16BE(at) * 2 ** 32 + answer.readUInt32BE(at + 2);
  at += 6;
  const fudge = read16();
  const macLength = read16();
  const mac = answer.subarray(at, at + macLength);
  at += macLength;
  const originalId = read16();
  const error = read16();
  const otherLength = read16();
  const other = answer.subarray(at, at + otherLength);
  if (at + otherLength !== record.rdataStart + record.rdata.length) throw new TsigFailure('the answer has a malformed TSIG record');
  return { algorithm, time, fudge, mac, originalId, error, other };
}

/** The TSIG variables (RFC 8945 §4.3.3) appended to the message for the MAC. */
function tsigVariables(key: TsigKey, time: number, fudge: number, error: number, other: Buffer): Buffer {
  return Buffer.concat([
    nameToWire(key.name),
    u16(CLASS_ANY),
    Buffer.alloc(4), // TTL 0
    nameToWire(algorithmName(key.algorithm)),
    time48(time),
    u16(fudge),
    u16(error),
    u16(other.length),
    other,
  ]);
}

function hmac(key: TsigKey, parts: Buffer[]): Buffer {
  const mac = createHmac(key.algorithm.slice('hmac-'.length), key.secret);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** The algorithm's name as TSIG spells it (RFC 8945 §6). */
function algorithmName(algorithm: TsigAlgorithm): string {
  return `${algorithm}.`;
}

function u16(value: number): Buffer {
  const buf = Buffer.alloc(2);
  buf.writeUInt16BE(value);
  return buf;
}

function time48(seconds: number): Buffer {
  const buf = Buffer.alloc(6);
  buf.writeUInt16BE(Math.floor(seconds / 2 ** 32));
  buf.writeUInt32BE(seconds % 2 ** 32, 2);
  return buf;
}
