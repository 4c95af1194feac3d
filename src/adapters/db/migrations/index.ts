import type { Migration, MigrationProvider } from 'kysely';
import * as foundation from './001-foundation.js';
import * as identitySites from './002-identity-sites.js';
import * as siteOwnership from './003-site-ownership.js';
import * as credentials from './004-credentials.js';
import * as privateCa from './005-private-ca.js';
import * as revocation from './006-revocation.js';
import * as jobs from './007-jobs.js';
import * as acmeIssuance from './008-acme-issuance.js';
import * as casOrders from './011-cas-orders.js';
import * as userTokens from './015-user-tokens.js';
import * as renewal from './016-renewal.js';
import * as expiryWebhooks from './017-expiry-webhooks.js';
import * as inventoryIndexes from './018-inventory-indexes.js';
import * as listFilters from './019-list-filters.js';
import * as certificateGroups from './020-certificate-groups.js';
import * as finishedJobs from './021-finished-jobs.js';
import * as clientCaDeploy from './022-client-ca-deploy.js';
import * as unicodeSearch from './023-unicode-search.js';
import * as jobClaimOrder from './024-job-claim-order.js';

/** Versioned migrations, applied in name order at start-up on both engines. */
const migrations: Record<string, Migration> = {
  '001-foundation': foundation,
  '002-identity-sites': identitySites,
  '003-site-ownership': siteOwnership,
  '004-credentials': credentials,
  '005-private-ca': privateCa,
  '006-revocation': revocation,
  '007-jobs': jobs,
  '008-acme-issuance': acmeIssuance,
  '011-cas-orders': casOrders,
  '015-user-tokens': userTokens,
  '016-renewal': renewal,
  '017-expiry-webhooks': expiryWebhooks,
  '018-inventory-indexes': inventoryIndexes,
  '019-list-filters': listFilters,
  '020-certificate-groups': certificateGroups,
  '021-finished-jobs': finishedJobs,
  '022-client-ca-deploy': clientCaDeploy,
  '023-unicode-search': unicodeSearch,
  '024-job-claim-order': jobClaimOrder,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
