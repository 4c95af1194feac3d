import { siteResource } from '../../../../core/policy/index.js';
import type { RpcRequestContext } from '../../action.js';

/** `acs:esa:{regionId}:{accountId}:site/{SiteId}`, the resource of every per-site ESA action. */
export function siteOf(ctx: RpcRequestContext): string {
  return siteResource(ctx.app.config.regionId, ctx.principal.accountId, ctx.params.requiredLong('SiteId'));
}

/** `acs:esa:{regionId}:{accountId}:site/*`, for actions on the account's sites as a whole. */
export function anySite(ctx: RpcRequestContext): string {
  return siteResource(ctx.app.config.regionId, ctx.principal.accountId, '*');
}

/** The resource of one site of the caller's account, by id (a site just created, in the audit log). */
export function siteById(ctx: RpcRequestContext, id: string): string {
  return siteResource(ctx.app.config.regionId, ctx.principal.accountId, id);
}
