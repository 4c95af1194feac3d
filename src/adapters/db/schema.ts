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
  /** The user the token speaks for (migration 015); null for an account's root token. */
  user_id: string | null;
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
  /** CAS's ResourceGroupId (migration 020); NULL: in no group. */
  resource_group_id: string | null;
  /** JSON array of {key, value} (migration 020). */
  tags: string;
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

/** Client CAs of ESA sites: the managed CA of each site (key sealed) and uploaded CAs (no key). */
export interface ClientCasTable {
  id: string;
  account_id: string;
  site_id: string;
  /** `managed` (certplane's own CA for the site; at most one per site) or `uploaded`. */
  kind: string;
  name: string;
  certificate_pem: string;
  /** Managed CAs: the key, sealed by the signer with context `client_ca_key:{id}`; null for uploaded CAs. */
  key_sealed: string | null;
  common_name: string;
  issuer: string;
  serial_number: string;
  fingerprint_sha256: string;
  signature_algorithm: string;
  public_key_algorithm: string;
  san: string;
  not_before: string;
  not_after: string;
  /** JSON list of the hostnames where the CA is enforced. */
  hostnames: ColumnType<string, string | undefined, string>;
  /** Number of the latest CRL issued (0: none yet); the next CRL takes crl_number + 1. */
  crl_number: ColumnType<number, number | undefined, number>;
  /** DER of the latest CRL, with its validity; null until the first is issued. */
  crl_der: ColumnType<Buffer | null, Buffer | null | undefined, Buffer | null>;
  crl_this_update: ColumnType<string | null, string | null | undefined, string | null>;
  crl_next_update: ColumnType<string | null, string | null | undefined, string | null>;
  /**
   * Raised in the transaction of every change of what the CA's CRL lists (revoke, activate, void);
   * crl_revocation_version is the version the stored CRL was built from. Behind: reissue it.
   */
  revocation_version: ColumnType<number, number | undefined, number>;
  crl_revocation_version: ColumnType<number, number | undefined, number>;
  /**
   * Managed CAs: how OCSP CertIDs name the CA, per hash (issuer name hash then key hash, hex;
   * ocspIssuerIds); null for uploaded CAs, which certplane does not answer for.
   */
  ocsp_sha1: ColumnType<string | null, string | null | undefined, string | null>;
  ocsp_sha256: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: string;
  updated_at: string;
}

/**
 * Client certificates issued by managed CAs, recorded before they are signed. `status` is
 * `issuing`, `active`, `revoked` or `void`; `deleted_at` hides a row from the API while its serial
 * and revocation stay on record. Unique per (ca_id, serial_number).
 */
export interface ClientCertificatesTable {
  id: string;
  account_id: string;
  site_id: string;
  ca_id: string;
  /** Lower-case hex, 32 digits. */
  serial_number: string;
  status: string;
  common_name: string;
  issuer: string;
  /** `RSA` or `ECC`. */
  public_key_algorithm: string;
  key_generated: number;
  /** A key certplane generated, sealed with context `client_certificate_key:{id}`; null for a CSR. */
  key_sealed: string | null;
  certificate_pem: string | null;
  fingerprint_sha256: string | null;
  signature_algorithm: string | null;
  not_before: string;
  not_after: string;
  validity_days: number;
  revoked_at: string | null;
  deleted_at: string | null;
  created_at: string;
  updated_at: string;
}

/**
 * Durable jobs (migration 007). `state` is `queued`, `running`, `done` or `failed`; a running job
 * is held by `lease_owner` until `lease_expires_at`, and claimed again by anyone after it. `payload`
 * is JSON text; `idempotency_key` is unique when set.
 */
export interface JobsTable {
  id: string;
  name: string;
  payload: string;
  state: string;
  run_at: string;
  lease_owner: string | null;
  lease_expires_at: string | null;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  idempotency_key: string | null;
  created_at: string;
  updated_at: string;
}

/** Facts about the installation itself (the master-key canary). */
export interface ServiceFactsTable {
  name: string;
  value: string;
  updated_at: string;
}

/** ACME accounts (migration 008): one per (account, issuer profile, directory), key sealed. */
export interface AcmeAccountsTable {
  id: string;
  account_id: string;
  profile: string;
  directory_url: string;
  key_sealed: string;
  /** Null until registered with the CA. */
  account_url: string | null;
  created_at: string;
  updated_at: string;
}

/**
 * Certificates to obtain through ACME (migration 008), worked by the `acme.issue` job; see
 * core/issuance/model.ts for the states. `identifiers` and `authorizations` are JSON text.
 */
export interface AcmeIssuancesTable {
  id: string;
  account_id: string;
  profile: string;
  identifiers: string;
  challenge_type: string;
  placement: string;
  state: string;
  csr_pem: string | null;
  key_type: string | null;
  key_id: string | null;
  acme_account_id: string | null;
  order_url: string | null;
  authorizations: ColumnType<string, string | undefined, string>;
  replaces: string | null;
  error_code: string | null;
  error_detail: string | null;
  chain_pem: string | null;
  common_name: string | null;
  san: string | null;
  serial_number: string | null;
  fingerprint_sha256: string | null;
  issuer: string | null;
  issuer_cn: string | null;
  public_key_algorithm: string | null;
  signature_algorithm: string | null;
  not_before: string | null;
  not_after: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  /** Migration 016: when the renewal scan next looks at this valid issuance (null: nobody renews it). */
  renew_at: ColumnType<string | null, string | null | undefined, string | null>;
  renewal_failures: ColumnType<number, number | undefined, number>;
  /** The renewal in progress, then the issuance that replaced this one. */
  renewed_by: ColumnType<string | null, string | null | undefined, string | null>;
  retired_at: ColumnType<string | null, string | null | undefined, string | null>;
  /** ARI: the CA is not asked again before this time (its Retry-After). */
  ari_check_at: ColumnType<string | null, string | null | undefined, string | null>;
}

/** Tokens the http-01 responder answers (migration 008). */
export interface Http01ChallengesTable {
  token: string;
  key_authorization: string;
  issuance_id: string;
  domain: string;
  expires_at: string;
  created_at: string;
}

/**
 * ESA's certificates of a site (migration 008): `free` ones point at their issuance, `upload` and
 * `cas` ones at the inventory. `applying` is 1 while a free application is in progress (unique per
 * site and domain).
 */
export interface SiteCertificatesTable {
  id: string;
  account_id: string;
  site_id: string;
  type: string;
  name: string;
  domain: string | null;
  issuer_profile: string | null;
  applying: ColumnType<number, number | undefined, number>;
  issuance_id: string | null;
  certificate_id: string | null;
  cas_id: string | null;
  region: string | null;
  /** The served certificate's notAfter, kept by serving-not-after.ts (migration 019). */
  not_after: ColumnType<string | null, string | null | undefined, string | null>;
  /** The served certificate's common name and SANs (`cn|san`), kept with not_after: what a Keyword matches without joins. */
  served_names: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: string;
  updated_at: string;
}

/** CAS resource packages (migration 011): certificates granted per (account, ProductCode). */
export interface CasPackagesTable {
  account_id: string;
  product_code: string;
  total_count: number;
  created_at: string;
  updated_at: string;
}

/** CAS certificate orders (migration 011), each fulfilled by one `acme_issuances` row. */
export interface CasOrdersTable {
  id: string;
  account_id: string;
  product_code: string;
  issuance_id: string;
  /** `DNS` or `FILE`. */
  validate_type: string;
  domain: string;
  /** `csr` (the user's key) or `certplane` (a key certplane makes). */
  key_source: string;
  /** `RSA` or `ECC`. */
  algorithm: string;
  username: string | null;
  phone: string | null;
  email: string | null;
  company_name: string | null;
  /** JSON `[{"key","value"}]`. */
  tags: ColumnType<string, string | undefined, string>;
  deadline_at: string;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

/** Deploy targets (migration 016): where a site certificate's files are written, and how the server is reloaded. */
export interface DeployTargetsTable {
  id: string;
  account_id: string;
  site_id: string | null;
  site_certificate_id: string | null;
  /** A managed client CA whose certificate and CRL the target holds (migration 022); `site_id` is then its site. */
  client_ca_id: string | null;
  directory: string;
  /** JSON array of argv strings, or null: no reload. */
  reload_command: string | null;
  reload_timeout_seconds: number;
  created_at: string;
}

/** An account's webhook endpoints (migration 017); `events` is a JSON list of event types (empty: all). */
export interface WebhooksTable {
  id: string;
  account_id: string;
  url: string;
  events: string;
  /** Sealed with context `webhook_secret:{id}`. */
  secret_sealed: string;
  created_at: string;
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
  client_cas: ClientCasTable;
  client_certificates: ClientCertificatesTable;
  jobs: JobsTable;
  acme_accounts: AcmeAccountsTable;
  acme_issuances: AcmeIssuancesTable;
  http01_challenges: Http01ChallengesTable;
  site_certificates: SiteCertificatesTable;
  cas_packages: CasPackagesTable;
  cas_orders: CasOrdersTable;
  deploy_targets: DeployTargetsTable;
  webhooks: WebhooksTable;
}
