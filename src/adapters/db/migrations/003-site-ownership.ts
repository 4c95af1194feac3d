import { sql, type Kysely } from 'kysely';
import { nameServerKey } from '../../../core/sites/model.js';

/** The columns of `sites` this migration reads, as 002 left them. */
interface LegacySite {
  id: string;
  name: string;
  access_type: string;
  status: string;
  name_servers: string;
  created_at: string;
  verified_at: string | null;
}

/**
 * Ownership of a site name: each NS-mode site holds its own nameserver set (`ns_pair`, unique per
 * name) and at most one site of a name is active. Sites made before this had the same nameservers
 * for every site of a name, and several of them could be active; they are brought into line first
 * (see settle), so the unique indexes can be built on any existing database.
 */
export async function up(db: Kysely<{ sites: LegacySite & { ns_pair: string | null } }>): Promise<void> {
  await db.schema.alterTable('sites').addColumn('ns_pair', 'text').execute();
  const rows = await db
    .selectFrom('sites')
    .select(['id', 'name', 'access_type', 'status', 'name_servers', 'created_at', 'verified_at'])
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  for (const change of settle(rows)) {
    await db.updateTable('sites').set(change.set).where('id', '=', change.id).execute();
  }
  // CNAME-mode sites have a null ns_pair, and nulls never collide in a unique index on either
  // engine; left whole rather than partial, the index also serves every lookup by name.
  await db.schema.createIndex('sites_name_ns_pair').on('sites').columns(['name', 'ns_pair']).unique().execute();
  // Partial: only active sites compete for a name.
  await db.schema.createIndex('sites_active_name').on('sites').column('name').unique().where(sql.ref('status'), '=', 'active').execute();
}

type Change = { id: string; set: { status?: string; ns_pair?: string | null; name_servers?: string } };

/**
 * Of several active sites of one name, the one verified last stays active (as a new verification
 * would have it) and the others are moved. Of several NS-mode sites of one name with the same
 * nameservers, the active one (else the oldest) keeps them; the others hold none from now on, so
 * they cannot verify and must be created again to get a pair of their own.
 */
function settle(rows: LegacySite[]): Change[] {
  const changes = new Map<string, Change>();
  const change = (id: string, set: Change['set']) => {
    const entry = changes.get(id) ?? { id, set: {} };
    Object.assign(entry.set, set);
    changes.set(id, entry);
  };
  const lastVerified = new Map<string, LegacySite>();
  for (const row of rows.filter((r) => r.status === 'active')) {
    const kept = lastVerified.get(row.name);
    if (kept && (kept.verified_at ?? '') > (row.verified_at ?? '')) {
      change(row.id, { status: 'moved' });
      continue;
    }
    if (kept) change(kept.id, { status: 'moved' });
    lastVerified.set(row.name, row);
  }
  const isKeptActive = (row: LegacySite) => lastVerified.get(row.name)?.id === row.id;
  const ns = rows.filter((r) => r.access_type === 'NS').sort((a, b) => Number(isKeptActive(b)) - Number(isKeptActive(a)));
  const held = new Set<string>();
  for (const row of ns) {
    const key = nameServerKey(JSON.parse(row.name_servers) as string[]);
    if (key !== '' && !held.has(`${row.name} ${key}`)) {
      held.add(`${row.name} ${key}`);
      change(row.id, { ns_pair: key });
    } else {
      change(row.id, { name_servers: '[]' });
    }
  }
  return [...changes.values()];
}
