import { z } from 'zod';
import type { IssuerProfile } from './issuers.js';

/**
 * CAS certificate products (`products`, config file only): each `ProductCode` a resource package
 * may hold names the issuer profile (a key of `issuers`) its certificates are obtained from, and
 * whether it certifies wildcard names. An order's package is consumed per product.
 */
export interface ProductDefinition {
  /** A key of `issuers`. */
  issuer: string;
  /** Whether `*.example.com` may be ordered. */
  wildcard: boolean;
}

/** CAS's default product (`ProductCode` when a request names none). */
export const DEFAULT_PRODUCT_CODE = 'digicert-free-1-free';

export const DEFAULT_PRODUCTS: Record<string, ProductDefinition> = {
  [DEFAULT_PRODUCT_CODE]: { issuer: 'lets_encrypt', wildcard: false },
};

/** ProductCode spelling: CAS's codes are lower-case words joined by dashes (`geotrust-dv-w-starter`). */
export const PRODUCT_CODE = /^[a-z0-9][a-z0-9-]{0,63}$/;

const productSchema = z
  .object({
    issuer: z.string({ error: 'issuer must name a key of issuers' }).min(1),
    wildcard: z.boolean({ error: 'wildcard must be true or false' }),
  })
  .strict();

export const productsSchema = z.record(z.string(), productSchema).superRefine((products, ctx) => {
  for (const code of Object.keys(products)) {
    if (!PRODUCT_CODE.test(code)) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(code)}: product codes are lower-case words joined by dashes (a-z, 0-9, -)` });
    }
  }
});

export type ProductsFileValue = z.infer<typeof productsSchema>;

/** Most hours an order may wait for its validation record: 30 days. */
const MAX_DEADLINE_HOURS = 720;
export const DEFAULT_CAS_VALIDATION_DEADLINE_HOURS = 72;

/**
 * `casValidationDeadlineHours`: how long after submission an order whose validation record (DNS TXT
 * or file) has not been seen is failed (`verify_fail`), giving its package unit back.
 */
export const casValidationDeadlineHoursSchema = z.coerce
  .number({ error: `must be a whole number of hours from 1 to ${MAX_DEADLINE_HOURS}` })
  .int({ error: `must be a whole number of hours from 1 to ${MAX_DEADLINE_HOURS}` })
  .min(1, { error: `must be a whole number of hours from 1 to ${MAX_DEADLINE_HOURS}` })
  .max(MAX_DEADLINE_HOURS, { error: `must be a whole number of hours from 1 to ${MAX_DEADLINE_HOURS}` });

/**
 * The catalogue in effect: the file's `products` replace the default catalogue as a whole. A
 * product naming an issuer profile that does not exist is a problem named by its key.
 */
export function productsFrom(
  raw: ProductsFileValue | undefined,
  issuers: Record<string, IssuerProfile>,
  problems: string[],
  nameOf: (key: string) => string,
): Record<string, ProductDefinition> {
  const products = raw ?? DEFAULT_PRODUCTS;
  for (const [code, product] of Object.entries(products)) {
    if (!Object.hasOwn(issuers, product.issuer)) {
      problems.push(`${nameOf('products')} (${code}.issuer): ${JSON.stringify(product.issuer)} is not a key of issuers (${Object.keys(issuers).join(', ')})`);
    }
  }
  return { ...products };
}
