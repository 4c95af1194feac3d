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
  /** The credential that proved it (access key id, or `token`), for audit. */
  via: string;
}
