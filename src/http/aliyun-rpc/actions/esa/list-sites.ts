import { z } from 'zod';
import { ACCESS_TYPES, COVERAGES, SITE_STATUSES, type NameMatch } from '../../../../core/sites/model.js';
import { errors } from '../../../../kernel/errors.js';
import type { App } from '../../../../main.js';
import { ESA_VERSION, type RpcAction } from '../../action.js';
import type { RpcParams } from '../../params.js';
import { presentSite } from './present-site.js';
import { anySite } from './resources.js';

const SEARCH_TYPES: readonly NameMatch[] = ['prefix', 'suffix', 'exact', 'fuzzy'];
const tagFilter = z.array(z.object({ Key: z.string().min(1), Value: z.string().optional() })).max(20);

/** Plans a ListSites call narrows to, from OnlyEnterprise and PlanSubscribeType; undefined = all. */
function planFilter(app: App, params: RpcParams): string[] | undefined {
  const subscribeType = params.string('PlanSubscribeType', { max: 64 });
  const onlyEnterprise = params.boolean('OnlyEnterprise') === true;
  if (!subscribeType && !onlyEnterprise) return undefined;
  return Object.entries(app.config.plans)
    .filter(([, p]) => (!subscribeType || p.subscribeType === subscribeType) && (!onlyEnterprise || p.subscribeType === 'enterpriseplan'))
    .map(([name]) => name);
}

export const listSites: RpcAction = {
  version: ESA_VERSION,
  name: 'ListSites',
  permission: 'esa:ListSites',
  writes: false,
  resource: anySite,
  async handle({ app, principal, params }) {
    const pageNumber = params.integer('PageNumber', { min: 1, max: 100_000, fallback: 1 });
    const pageSize = params.integer('PageSize', { min: 1, max: 500, fallback: 20 });
    params.enumOf('OrderBy', ['gmtCreate', 'visitTime'] as const);
    const tags = tagFilter.safeParse(params.json('TagFilter') ?? []);
    if (!tags.success) throw errors.invalidParameter('tagFilter', 'must be a JSON list of {"Key","Value"}');
    const siteName = params.string('SiteName', { max: 253 });
    const filter = {
      name: siteName ? { text: siteName, match: params.enumOf('SiteSearchType', SEARCH_TYPES) ?? 'fuzzy' } : undefined,
      status: params.enumOf('Status', SITE_STATUSES),
      accessType: params.enumOf('AccessType', ACCESS_TYPES),
      coverage: params.enumOf('Coverage', COVERAGES),
      resourceGroupId: params.string('ResourceGroupId', { max: 64 }),
      // Sites carry no tags, so a tag filter matches none of them.
      plans: tags.data.length > 0 ? [] : planFilter(app, params),
    };
    const { total, items } = await app.sites.list(principal.accountId, filter, { number: pageNumber, size: pageSize });
    return {
      PageNumber: pageNumber,
      PageSize: pageSize,
      TotalCount: total,
      Sites: items.map((site) => ({ ...presentSite(site, app.plans.definition(site.plan)), VisitTime: '' })),
    };
  },
};
