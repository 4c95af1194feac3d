/**
 * One ACME account per (certplane account, issuer profile, directory): its key is made and sealed
 * on first use, the row inserted before registering (the unique key decides a race between two
 * workers; the loser uses the winner's key), and the account URL stored once the CA gave it, so
 * later runs and other processes make no registration request at all.
 */
import type { IssuerProfile } from '../../config/issuers.js';
import type { AcmeClient, AcmeClients } from '../acme/ports.js';
import type { Clock } from '../../kernel/clock.js';
import type { IdGenerator } from '../../kernel/ids.js';
import type { Sealer } from '../../kernel/sealer.js';
import { IssuanceFailed } from './failure.js';
import { acmeAccountKeyContext, type IssuanceStore, type StoredAcmeAccount } from './ports.js';

export interface AcmeAccountsDeps {
  store: IssuanceStore;
  acme: AcmeClients;
  sealer: Sealer;
  clock: Clock;
  ids: IdGenerator;
  /** Makes an account key (PEM PKCS#8); P-256 by default. */
  newAccountKey: () => string;
}

export class AcmeAccounts {
  constructor(private readonly deps: AcmeAccountsDeps) {}

  /** The client of the account `accountId` has with `profile`'s CA, registered on first use. */
  async forOwner(accountId: string, profile: IssuerProfile): Promise<{ client: AcmeClient; account: StoredAcmeAccount }> {
    const directoryUrl = configuredDirectory(profile);
    const { store, clock } = this.deps;
    let account = await store.findAcmeAccountFor(accountId, profile.type, directoryUrl);
    if (!account) {
      const id = this.deps.ids.hex32();
      const keySealed = this.deps.sealer.seal(this.deps.newAccountKey(), acmeAccountKeyContext(id));
      account = await store.insertAcmeAccount({ id, accountId, profile: profile.type, directoryUrl, keySealed, accountUrl: undefined }, clock.now());
    }
    return { client: await this.clientOf(account, profile), account };
  }

  /** The client of a stored account (the one an order was made with), registering it if it never was. */
  async byId(id: string, profile: IssuerProfile): Promise<AcmeClient> {
    const account = await this.deps.store.findAcmeAccount(id);
    if (!account) throw new IssuanceFailed('accountDoesNotExist', `the ACME account ${id} this order was made with is gone`);
    return this.clientOf(account, profile);
  }

  private async clientOf(account: StoredAcmeAccount, profile: IssuerProfile): Promise<AcmeClient> {
    const keyPem = this.deps.sealer.open(account.keySealed, acmeAccountKeyContext(account.id));
    const { client, account: registered } = await this.deps.acme.ensureAccount({
      // The directory the account lives at, trusted through the profile's bundle of today.
      directory: { url: account.directoryUrl, caBundlePem: profile.caBundlePem },
      keyPem,
      url: account.accountUrl,
      termsOfServiceAgreed: true,
      externalAccountBinding: profile.eab,
    });
    if (account.accountUrl === undefined) await this.deps.store.setAcmeAccountUrl(account.id, registered.url, this.deps.clock.now());
    return client;
  }
}

export function configuredDirectory(profile: IssuerProfile): string {
  if (profile.directoryUrl === undefined) {
    throw new IssuanceFailed('issuerNotConfigured', `the issuer profile ${profile.type} has no ACME directory configured (issuers.${profile.type}.directoryUrl)`);
  }
  return profile.directoryUrl;
}
