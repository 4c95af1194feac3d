import type { RpcAction } from './action.js';
import { createSite } from './actions/esa/create-site.js';
import { deleteSite } from './actions/esa/delete-site.js';
import { getCertificateQuota } from './actions/esa/get-certificate-quota.js';
import { getSite } from './actions/esa/get-site.js';
import { listSites } from './actions/esa/list-sites.js';
import { verifySite } from './actions/esa/verify-site.js';

/** Every RPC operation certplane answers, keyed by `version/action`. */
const ACTIONS: RpcAction[] = [createSite, getSite, listSites, deleteSite, verifySite, getCertificateQuota];

export const ACTION_TABLE: ReadonlyMap<string, RpcAction> = new Map(ACTIONS.map((a) => [`${a.version}/${a.name}`, a]));

export function findAction(version: string | undefined, action: string | undefined): RpcAction | undefined {
  if (!version || !action) return undefined;
  return ACTION_TABLE.get(`${version}/${action}`);
}
