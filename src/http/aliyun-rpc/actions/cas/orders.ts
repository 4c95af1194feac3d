/**
 * What the CAS actions share: their resources (`acs:yundun-cert:{region}:{account}:order/{id}`…),
 * how their errors read (CreateCertificateWithCsrRequest's table: 500 is `Error`), and the
 * parameters every order submission carries.
 */
import type { OrderInput } from '../../../../core/orders/service.js';
import { VALIDATION_METHODS, type ValidationMethod } from '../../../../core/orders/model.js';
import { checkContact, checkTags, MAX_TAGS } from '../../../../core/orders/request.js';
import { casResource, type CasResourceKind } from '../../../../core/policy/index.js';
import { DEFAULT_PRODUCT_CODE } from '../../../../config/products.js';
import { errors } from '../../../../kernel/errors.js';
import type { RpcRequestContext } from '../../action.js';
import { INTERNAL_MESSAGE, type RpcErrorOverrides } from '../../errors.js';
import type { RpcParams } from '../../params.js';

export const CAS_ERRORS: RpcErrorOverrides = {
  internal: [500, 'Error', INTERNAL_MESSAGE],
};

function resource(ctx: RpcRequestContext, kind: CasResourceKind, id: string): string {
  return casResource(ctx.app.config.regionId, ctx.principal.accountId, kind, id);
}

/** Every order of the account (submissions, listings). */
export const anyOrder = (ctx: RpcRequestContext) => resource(ctx, 'order', '*');
/** The order named by `OrderId`. */
export const orderOf = (ctx: RpcRequestContext) => resource(ctx, 'order', orderIdOf(ctx.params));
export const createdOrder = (ctx: RpcRequestContext, id: string) => resource(ctx, 'order', id);
export const anyCertificate = (ctx: RpcRequestContext) => resource(ctx, 'certificate', '*');
export const certificateOf = (ctx: RpcRequestContext) => resource(ctx, 'certificate', certIdOf(ctx.params));
export const createdCertificate = (ctx: RpcRequestContext, id: string) => resource(ctx, 'certificate', id);
/** The package of the product `ProductCode` names (the default product when none). */
export const packageOf = (ctx: RpcRequestContext) => resource(ctx, 'package', productCodeOf(ctx.params));

export function orderIdOf(params: RpcParams): string {
  return params.requiredLong('OrderId');
}

export function certIdOf(params: RpcParams): string {
  return params.requiredLong('CertId');
}

export function productCodeOf(params: RpcParams): string {
  return params.string('ProductCode', { max: 64 }) ?? DEFAULT_PRODUCT_CODE;
}

/** A CSR is bounded by its own check (16 KiB, named in the refusal), not by the generic parameter length. */
export const CSR_READ_LIMIT = 16 * 1024 * 1024;

/**
 * ProductCode, ValidateType, the contact and the tags. `required` lists the contact fields the
 * operation's documentation requires; `ValidateType` is required unless a default is given.
 */
export function orderInputOf(
  params: RpcParams,
  required: ReadonlyArray<'username' | 'phone' | 'email'>,
  defaultValidation?: ValidationMethod,
): OrderInput {
  const validation = params.enumOf('ValidateType', VALIDATION_METHODS) ?? defaultValidation;
  if (validation === undefined) throw errors.missingParameter('validateType');
  const contact = checkContact(
    {
      username: params.string('Username', { max: 256 }),
      phone: params.string('Phone', { max: 256 }),
      email: params.string('Email', { max: 512 }),
      companyName: params.string('CompanyName', { max: 512 }),
    },
    required,
  );
  return { productCode: productCodeOf(params), validation, contact, tags: checkTags(tagsOf(params)) };
}

/** `Tags.N.Key` / `Tags.N.Value`, N from 1, as the SDK flattens them. */
export function tagsOf(params: RpcParams): Array<{ key: string; value: string | undefined }> {
  const tags: Array<{ key: string; value: string | undefined }> = [];
  for (let n = 1; n <= MAX_TAGS + 1; n++) {
    const key = params.string(`Tags.${n}.Key`, { max: 256 });
    const value = params.string(`Tags.${n}.Value`, { max: 256 });
    if (key === undefined && value === undefined) break;
    if (key === undefined) throw errors.invalidParameter('tags', `tag ${n} has a value but no key`);
    tags.push({ key, value });
  }
  return tags;
}

/** `YYYY-MM-DD` in UTC, as CAS shows StartDate and EndDate. */
export function day(at: Date): string {
  return at.toISOString().slice(0, 10);
}
