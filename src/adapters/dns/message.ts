/**
 * The few byte-level views of a DNS message that dns-packet does not give: canonical names for
 * signing, and where each record starts (TSIG is verified over the bytes before it).
 */

/** A malformed message from a server. */
export class MalformedMessage extends Error {
  override readonly name = 'MalformedMessage';
}

/** `name` in canonical wire form (RFC 4034 §6.2): lower-case labels, uncompressed, root-terminated. */
export function nameToWire(name: string): Buffer {
  const labels = name.replace(/\.$/, '').toLowerCase().split('.').filter((label) => label !== '');
  const parts: Buffer[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(label, 'ascii');
    if (bytes.length > 63) throw new RangeError(`label ${label} is longer than 63 bytes`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  const wire = Buffer.concat(parts);
  if (wire.length > 255) throw new RangeError(`${name} is longer than 255 bytes`);
  return wire;
}

/** Reads the (possibly compressed) name at `offset`: the name, lower-case without the trailing dot, and where it ends. */
export function readName(message: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let at = offset;
  let end: number | undefined;
  for (let jumps = 0; ; ) {
    const length = byteAt(message, at);
    if (length === 0) {
      return { name: labels.join('.').toLowerCase(), end: end ?? at + 1 };
    }
    if ((length & 0xc0) === 0xc0) {
      // A compression pointer; a loop of pointers is cut off rather than followed forever.
      if (++jumps > 64) throw new MalformedMessage('a name with a pointer loop');
      end ??= at + 2;
      at = ((length & 0x3f) << 8) | byteAt(message, at + 1);
      continue;
    }
    if ((length & 0xc0) !== 0) throw new MalformedMessage('an unknown label type');
    if (at + 1 + length > message.length) throw new MalformedMessage('a label past the end of the message');
    labels.push(message.toString('latin1', at + 1, at + 1 + length));
    at += 1 + length;
  }
}

export interface RawRecord {
  /** Where the record starts in the message. */
  start: number;
  name: string;
  type: number;
  klass: number;
  ttl: number;
  rdata: Buffer;
  /** Where its RDATA starts (names inside it may point back into the message). */
  rdataStart: number;
}

/** Every record of the message's additional section, in order (the last is where TSIG must be). */
export function additionalRecords(message: Buffer): RawRecord[] {
  if (message.length < 12) throw new MalformedMessage('a message shorter than its header');
  const counts = [4, 6, 8, 10].map((at) => message.readUInt16BE(at));
  let at = 12;
  for (let i = 0; i < counts[0]!; i++) at = readName(message, at).end + 4;
  for (let i = 0; i < counts[1]! + counts[2]!; i++) at = readRecord(message, at).end;
  const records: RawRecord[] = [];
  for (let i = 0; i < counts[3]!; i++) {
    const { record, end } = readRecord(message, at);
    records.push(record);
    at = end;
  }
  return records;
}

function readRecord(message: Buffer, start: number): { record: RawRecord; end: number } {
  const { name, end: nameEnd } = readName(message, start);
  if (nameEnd + 10 > message.length) throw new MalformedMessage('a record past the end of the message');
  const length = message.readUInt16BE(nameEnd + 8);
  const rdataStart = nameEnd + 10;
  if (rdataStart + length > message.length) throw new MalformedMessage('record data past the end of the message');
  const record: RawRecord = {
    start,
    name,
    type: message.readUInt16BE(nameEnd),
    klass: message.readUInt16BE(nameEnd + 2),
    ttl: message.readUInt32BE(nameEnd + 4),
    rdata: message.subarray(rdataStart, rdataStart + length),
    rdataStart,
  };
  return { record, end: rdataStart + length };
}

function byteAt(message: Buffer, at: number): number {
  const value = message[at];
  if (value === undefined) throw new MalformedMessage('a name past the end of the message');
  return value;
}
