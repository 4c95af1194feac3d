import type { PolicyDocument } from '../policy/index.js';

export interface User {
  id: string;
  accountId: string;
  name: string;
  createdAt: Date;
}

export interface Policy {
  id: string;
  accountId: string;
  name: string;
  document: PolicyDocument;
  createdAt: Date;
}
