import type { ColumnType } from 'kysely';

/**
 * Row types of the one schema both SQLite and PostgreSQL carry. Times are ISO-8601 text in UTC
 * (sortable as text on both engines); booleans are 0/1 integers; lists are JSON text.
 */
export interface AccountsTable {
  id: string;
  name: string;
  project_id: string;
  created_at: string;
}

export interface AccessKeysTable {
  id: string;
  account_id: string;
  user_id: string | null;
  secret_sealed: string;
  status: string;
  created_at: string;
}

export interface AuthTokensTable {
  token_hash: string;
  /** Nullable in the table (added by migration 004, which gave every older token one); never null since. */
  id: string;
  account_id: string;
  expires_at: string;
  created_at: string;
  revoked_at: string | null;
}

export interface InstancesTable {
  id: string;
  account_id: string;
  name: string;
  created_at: string;
}

export interface PrivateKeysTable {
  id: string;
  account_id: string;
  algorithm: string;
  sealed: string;
  created_at: string;
}

export interface CertificatesTable {
  id: string;
  account_id: string;
  name: string;
  scope: string;
  instance_id: string | null;
  algorithm_type: string;
  chain_pem: string;
  key_id: string;
  sign_chain_pem: string | null;
  sign_key_id: string | null;
  trusted_root_ca: string | null;
  common_name: string;
  san: string;
  subject: string;
  issuer: string;
  not_before: string;
  not_after: string;
  serial_number: string;
  signature_algorithm: string;
  version: number;
  fingerprint_sha256: string;
  created_at: string;
  updated_at: string;
  site_id: string | null;
  /** `upload` (brought by the user) or `free` (obtained by certplane through ACME). */
  source: string;
}

export interface CertificateDomainsTable {
  certificate_id: string;
  account_id: string;
  domain: string;
  instance_ids: string;
  verified_client_certificate_enabled: number;
  created_at: ColumnType<string, string, never>;
}

export interface UsersTable {
  id: string;
  account_id: string;
  name: string;
  created_at: string;
}

export interface PoliciesTable {
  id: string;
  account_id: string;
  name: string;
  document: string;
  created_at: string;
}

export interface UserPoliciesTable {
  user_id: string;
  policy_id: string;
  created_at: string;
}

export interface SignatureNoncesTable {
  access_key_id: string;
  nonce: string;
  expires_at: string;
}

export interface AuditEventsTable {
  id: string;
  at: string;
  account_id: string;
  actor: string;
  action: string;
  resource: string;
  outcome: string;
  request_id: string;
}

export interface PlanInstancesTable {
  id: string;
  account_id: string;
  plan: string;
  created_at: string;
}

export interface SitesTable {
  id: string;
  account_id: string;
  name: string;
  access_type: string;
  coverage: string;
  instance_id: string;
  resource_group_id: string | null;
  status: string;
  verify_code: string;
  name_servers: string;
  /** NS mode: the nameservers' key (sorted, comma-joined), unique per name; null in CNAME mode. */
  ns_pair: string | null;
  cname_zone: string;
  created_at: string;
  updated_at: string;
  verified_at: string | null;
}

/** Facts about the installation itself (the master-key canary). */
export interface ServiceFactsTable {
  name: string;
  value: string;
  updated_at: string;
}

export interface Schema {
  accounts: AccountsTable;
  access_keys: AccessKeysTable;
  auth_tokens: AuthTokensTable;
  instances: InstancesTable;
  private_keys: PrivateKeysTable;
  certificates: CertificatesTable;
  certificate_domains: CertificateDomainsTable;
  users: UsersTable;
  policies: PoliciesTable;
  user_policies: UserPoliciesTable;
  signature_nonces: SignatureNoncesTable;
  audit_events: AuditEventsTable;
  plan_instances: PlanInstancesTable;
  sites: SitesTable;
  service_facts: ServiceFactsTable;
}
