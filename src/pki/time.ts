/** X.509 validity times (RFC 5280 §4.1.2.5), parsed from the DER bytes. */
import { DerReader, TAG, type Tlv } from './der.js';

/** UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSS[.fff]Z, read from the bytes directly (hot path). */
export function readTime(r: DerReader): Date {
  const t = r.next();
  const { buf } = r;
  let pos = t.valueStart;
  const digits = (n: number): number => {
    let v = 0;
    for (let k = 0; k < n; k++, pos++) {
      const c = pos < t.end ? buf[pos]! - 48 : -1;
      if (c < 0 || c > 9) r.fail('malformed validity time');
      v = v * 10 + c;
    }
    return v;
  };
  let year: number;
  if (t.tag === TAG.UTC_TIME) {
    const yy = digits(2);
    year = yy >= 50 ? 1900 + yy : 2000 + yy; // RFC 5280 §4.1.2.5.1
  } else if (t.tag === TAG.GENERALIZED_TIME) {
    year = digits(4);
  } else {
    return r.fail('malformed validity time');
  }
  const [mo, d, h, mi, sec] = [digits(2), digits(2), digits(2), digits(2), digits(2)];
  let ms = 0;
  if (t.tag === TAG.GENERALIZED_TIME && buf[pos] === 0x2e) {
    ms = readFraction(r, t, pos + 1);
    pos = t.end - 1;
  }
  if (pos !== t.end - 1 || buf[pos] !== 0x5a) r.fail('validity time must end in Z');
  const date = new Date(Date.UTC(year, mo - 1, d, h, mi, sec, ms));
  if (year < 100) date.setUTCFullYear(year); // Date.UTC maps years 0..99 to 1900..1999
  // Date.UTC silently rolls over (month 13, Feb 30); a round-trip check rejects those.
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || date.getUTCHours() !== h || date.getUTCMinutes() !== mi || date.getUTCSeconds() !== sec) {
    r.fail('invalid validity date');
  }
  return date;
}

/** Fractional seconds "[0-9]*[1-9]" up to the final Z, as milliseconds. */
function readFraction(r: DerReader, t: Tlv, start: number): number {
  const frac = r.buf.toString('latin1', start, t.end - 1);
  if (!/^\d*[1-9]$/.test(frac)) r.fail('malformed fractional seconds');
  return Math.floor(Number('0.' + frac) * 1000);
}
