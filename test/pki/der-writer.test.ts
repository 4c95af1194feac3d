/**
 * The DER writer against OpenSSL's own encoder: every value is written by us
 * and by `openssl asn1parse -genconf` (which DER-encodes, SET OF sorted
 * included), and the bytes must be identical.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  derBitString,
  derBoolean,
  derEnumerated,
  derExplicit,
  derGeneralizedTime,
  derIa5String,
  derImplicit,
  derInteger,
  derLength,
  derNamedBits,
  derNull,
  derOctetString,
  derOid,
  derPrintableString,
  derSequence,
  derSetOf,
  derTime,
  derUtcTime,
  derUtf8String,
  PkiError,
} from '../../src/pki/index.js';
import { DerReader } from '../../src/pki/der.js';
import { asn1Generate } from '../support/pki.js';

/** Our encodings of `fields` in one SEQUENCE vs openssl's for the same genconf field values. */
function assertSameAsOpenssl(fields: [string, Buffer][]): void {
  const config = ['asn1 = SEQUENCE:top', '[top]', ...fields.map(([gen], i) => `f${i} = ${gen}`), ''].join('\n');
  const theirs = asn1Generate(config);
  const ours = derSequence(fields.map(([, der]) => der));
  // Compare element by element first, so a failure names the culprit.
  const r = new DerReader(theirs, 'certificate.invalid').enter(0x30, 'SEQUENCE');
  fields.forEach(([gen, der]) => assert.equal(der.toString('hex'), r.raw(r.next()).toString('hex'), gen));
  assert.deepEqual(ours, theirs);
}

const hex = (n: number, byte = '00') => byte.repeat(n);

describe('DER writer encodes like OpenSSL', () => {
  it('INTEGER from numbers, bigints and unsigned magnitudes, with the right sign octet', () => {
    assertSameAsOpenssl([
      ['INTEGER:0', derInteger(0)],
      ['INTEGER:1', derInteger(1)],
      ['INTEGER:127', derInteger(127)],
      ['INTEGER:128', derInteger(128)],
      ['INTEGER:255', derInteger(255n)],
      ['INTEGER:256', derInteger(256)],
      ['INTEGER:-1', derInteger(-1)],
      ['INTEGER:-128', derInteger(-128n)],
      ['INTEGER:-129', derInteger(-129)],
      ['INTEGER:-0x8000', derInteger(-0x8000)],
      ['INTEGER:0x10000000000000000', derInteger(1n << 64n)],
      ['INTEGER:0x7fffffffffffffffffffffffffffffffffffffff', derInteger(Buffer.from('7f' + hex(19, 'ff'), 'hex'))],
      ['INTEGER:0xff', derInteger(Buffer.from([0x00, 0x00, 0xff]))],
      ['INTEGER:0x7f', derInteger(Buffer.from([0x00, 0x7f]))],
      ['INTEGER:0x80', derInteger(Buffer.from([0x80]))],
      ['INTEGER:0', derInteger(Buffer.from([0, 0]))],
      ['ENUMERATED:0', derEnumerated(0)],
      ['ENUMERATED:6', derEnumerated(6)],
    ]);
  });

  it('OBJECT IDENTIFIERs, including large arcs and the joint-iso 2.x form', () => {
    assertSameAsOpenssl(
      ['1.2.840.113549.1.1.11', '2.5.29.19', '2.999.3', '1.3.6.1.4.1.311.60.2.1.3', '0.9.2342.19200300.100.1.25', '1.2.4294967296'].map(
        (oid) => [`OID:${oid}`, derOid(oid)],
      ),
    );
  });

  it('strings, BOOLEAN, NULL and OCTET STRINGs across every length form', () => {
    assertSameAsOpenssl([
      ['FORMAT:UTF8,UTF8:测试 Ü', derUtf8String('测试 Ü')],
      ['PRINTABLESTRING:Example Co. (1)', derPrintableString('Example Co. (1)')],
      ['IA5STRING:http://x.example/y?z=1', derIa5String('http://x.example/y?z=1')],
      ['BOOLEAN:TRUE', derBoolean(true)],
      ['BOOLEAN:FALSE', derBoolean(false)],
      ['NULL', derNull()],
      ['OCTETSTRING:', derOctetString(Buffer.alloc(0))],
      ...[1, 127, 128, 255, 256, 65535, 65536].map((n): [string, Buffer] => [`FORMAT:HEX,OCTETSTRING:${hex(n, 'ab')}`, derOctetString(Buffer.alloc(n, 0xab))]),
    ]);
  });

  it('BIT STRINGs: whole octets, and named bits with trailing zero bits removed', () => {
    assertSameAsOpenssl([
      ['FORMAT:HEX,BITSTRING:00ff', derBitString(Buffer.from([0x00, 0xff]))],
      ['FORMAT:BITLIST,BITSTRING:0', derNamedBits([0])],
      ['FORMAT:BITLIST,BITSTRING:0,2', derNamedBits([0, 2])],
      ['FORMAT:BITLIST,BITSTRING:0,5,6', derNamedBits([6, 0, 5])],
      ['FORMAT:BITLIST,BITSTRING:7', derNamedBits([7])],
      ['FORMAT:BITLIST,BITSTRING:8', derNamedBits([8])],
      ['FORMAT:BITLIST,BITSTRING:1,9', derNamedBits([1, 9])],
    ]);
  });

  it('times: UTCTime through 2049, GeneralizedTime outside 1950–2049, milliseconds dropped', () => {
    const d = (iso: string) => new Date(iso);
    assertSameAsOpenssl([
      ['UTCTIME:500101000000Z', derTime(d('1950-01-01T00:00:00Z'))],
      ['UTCTIME:491231235959Z', derTime(d('2049-12-31T23:59:59.999Z'))],
      ['UTCTIME:260305070809Z', derUtcTime(d('2026-03-05T07:08:09.5Z'))],
      ['GENTIME:20500101000000Z', derTime(d('2050-01-01T00:00:00Z'))],
      ['GENTIME:19491231235959Z', derTime(d('1949-12-31T23:59:59Z'))],
      ['GENTIME:20260305070809Z', derGeneralizedTime(d('2026-03-05T07:08:09.123Z'))],
      ['GENTIME:99991231235959Z', derTime(d('9999-12-31T23:59:59Z'))],
    ]);
  });

  it('context tags (EXPLICIT and IMPLICIT, primitive and constructed) and sorted SET OF', () => {
    const config = [
      'asn1 = SEQUENCE:top',
      '[top]',
      'a = EXPLICIT:3,OID:2.5.29.19',
      'b = IMPLICIT:0,FORMAT:HEX,OCTETSTRING:0102',
      'c = IMPLICIT:0,SEQUENCE:inner',
      'd = IMPLICIT:6,IA5STRING:http://x/',
      'e = SET:members',
      'f = EXPLICIT:0,EXPLICIT:1,INTEGER:2',
      '[inner]',
      'x = INTEGER:1',
      '[members]',
      'p = UTF8:zz',
      'q = INTEGER:5',
      'r = PRINTABLESTRING:ab',
      's = FORMAT:HEX,OCTETSTRING:6162',
      't = FORMAT:HEX,OCTETSTRING:61',
      '',
    ].join('\n');
    const ours = derSequence([
      derExplicit(3, derOid('2.5.29.19')),
      derImplicit(0, Buffer.from([1, 2]), false),
      derImplicit(0, derInteger(1), true),
      derIa5String('http://x/', 0x86),
      derSetOf([derUtf8String('zz'), derInteger(5), derPrintableString('ab'), derOctetString(Buffer.from('ab')), derOctetString(Buffer.from('a'))]),
      derExplicit(0, derExplicit(1, derInteger(2))),
    ]);
    assert.equal(ours.toString('hex'), asn1Generate(config).toString('hex'));
  });

  it('length octets: short form below 128, minimal long form above', () => {
    const cases: [number, string][] = [
      [0, '00'],
      [127, '7f'],
      [128, '8180'],
      [255, '81ff'],
      [256, '820100'],
      [65535, '82ffff'],
      [65536, '83010000'],
      [2 ** 24, '8401000000'],
    ];
    for (const [n, want] of cases) assert.equal(derLength(n).toString('hex'), want, String(n));
  });

  it('what DER cannot say is refused with build.invalid', () => {
    const refused = (fn: () => unknown, pattern: RegExp) =>
      assert.throws(fn, (err: unknown) => err instanceof PkiError && err.failure === 'build.invalid' && pattern.test(err.message));
    refused(() => derPrintableString('Zürich'), /not a PrintableString/);
    refused(() => derIa5String('http://bücher.example/'), /not an IA5String/);
    refused(() => derUtcTime(new Date('2050-01-01T00:00:00Z')), /UTCTime cannot hold the year 2050/);
    refused(() => derTime(new Date('nope')), /invalid date/);
    refused(() => derOid('1.40.1'), /malformed OBJECT IDENTIFIER/);
    refused(() => derOid('1.2.03'), /malformed OBJECT IDENTIFIER/);
    refused(() => derInteger(2 ** 60), /not a safe integer/);
    refused(() => derBitString(Buffer.from([0xff]), 1), /unused bits must be zero/);
    refused(() => derLength(-1), /invalid DER length/);
  });
});
