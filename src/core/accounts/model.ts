export interface Account {
  id: string;
  name: string;
  projectId: string;
  createdAt: Date;
}

export interface AccessKey {
  id: string;
  accountId: string;
  userId: string | null;
  status: 'active' | 'disabled';
  createdAt: Date;
}

/** An `X-Auth-Token`: only its hash is stored; the id names it for listing and revocation. */
export interface Token {
  id: string;
  accountId: string;
  /** The user it speaks for, with only the rights of the user's policies; null: the account's root. */
  userId: string | null;
  expiresAt: Date;
  createdAt: Date;
  revokedAt: Date | null;
}

/** What a token can do now: a revoked or expired token opens nothing. */
export function tokenStatus(token: Token, now: Date): 'active' | 'revoked' | 'expired' {
  if (token.revokedAt !== null) return 'revoked';
  return token.expiresAt.getTime() <= now.getTime() ? 'expired' : 'active';
}

export interface Instance {
  id: string;
  accountId: string;
  name: string;
  createdAt: Date;
}

/** Who is calling: always an account, sometimes a user inside it. */
export interface Principal {
  accountId: string;
  projectId: string;
  userId: string | null;
  /** The credential that proved it (access key id, or `token:<token id>`), for audit. */
  via: string;
}
