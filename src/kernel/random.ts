import { randomInt } from 'node:crypto';

/** A uniform number in [0, 1), a port like the clock: policies that draw at random take one. */
export type Random = () => number;

const SCALE = 2 ** 48;

/** From node:crypto's CSPRNG (48 random bits). */
export const cryptoRandom: Random = () => randomInt(0, SCALE) / SCALE;
