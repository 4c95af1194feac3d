import type { Migration, MigrationProvider } from 'kysely';
import * as foundation from './001-foundation.js';
import * as identitySites from './002-identity-sites.js';
import * as siteOwnership from './003-site-ownership.js';

/** Versioned migrations, applied in name order at start-up on both engines. */
const migrations: Record<string, Migration> = {
  '001-foundation': foundation,
  '002-identity-sites': identitySites,
  '003-site-ownership': siteOwnership,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
