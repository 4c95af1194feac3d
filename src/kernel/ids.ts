import { randomBytes, randomInt } from 'node:crypto';

/** Randomness is a port too; the default draws from node:crypto. */
export interface IdGenerator {
  /** 32 lower-case hex characters, the shape Huawei uses for resource ids. */
  hex32(): string;
  /** A decimal id of the given number of digits (first digit non-zero), within 2^53 for JSON clients. */
  numeric(digits: number): string;
  /** Url-safe random secret text of the given byte length. */
  secret(bytes: number): string;
}

export const randomIds: IdGenerator = {
  hex32: () => randomBytes(16).toString('hex'),
  numeric: (digits) => {
    if (digits < 1 || digits > 15) throw new RangeError('numeric ids are 1 to 15 digits');
    let out = String(randomInt(1, 10));
    for (let i = 1; i < digits; i++) out += String(randomInt(0, 10));
    return out;
  },
  secret: (bytes) => randomBytes(bytes).toString('base64url'),
};
