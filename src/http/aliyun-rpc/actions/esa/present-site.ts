import type { PlanDefinition } from '../../../../config/config.js';
import type { Site } from '../../../../core/sites/model.js';
import { isoSeconds } from '../../../../kernel/time.js';

/** `SiteModel` (GetSite) and the items of `Sites` (ListSites), with the SDK's exact keys. */
export function presentSite(site: Site, plan: PlanDefinition) {
  return {
    AccessType: site.accessType,
    CnameZone: site.cnameZone,
    Coverage: site.coverage,
    CreateTime: isoSeconds(site.createdAt),
    InstanceId: site.instanceId,
    NameServerList: site.nameServers.join(','),
    OfflineReason: '',
    PlanName: site.plan,
    PlanSpecName: plan.specName,
    ResourceGroupId: site.resourceGroupId ?? '',
    SiteId: Number(site.id),
    SiteName: site.name,
    Status: site.status,
    Tags: {},
    UpdateTime: isoSeconds(site.updatedAt),
    VerifyCode: site.verifyCode,
  };
}
