import { randomBytes } from 'node:crypto';

/** A uniform number in [0, 1), a port like the clock: policies that draw at random take one. */
export type Random = () => number;

/** From node:crypto's CSPRNG: 48 random bits over 2^48. */
export const cryptoRandom: Random = () => randomBytes(6).readUIntBE(0, 6) / 2 ** 48;
