import type { Principal } from '../core/accounts/model.js';
import type { App } from '../main.js';

export interface AccessKeySecrets {
  secretFor(accessKeyId: string): Promise<string | undefined>;
  /** Set once the signature's key was read and found active; undefined for an unknown or disabled key, and while `remembered` is set. */
  readonly principal: Principal | undefined;
  /** Set when `secretFor` answered from the secrets this process opened before, without reading the key. */
  readonly remembered: { accessKeyId: string; sealed: string } | undefined;
}

/**
 * The `secretFor` of a signature check (ACS3 or v1 on the RPC dialect, AK/SK on APIG) over the
 * account store, remembering whom the key it opened speaks for: `principal` is set once the
 * signature's key was found active, and stays undefined for an unknown or disabled key.
 *
 * With `useRemembered`, a key whose secret this process opened before is answered from memory and
 * not read: `remembered` says so, and the caller must confirm the key before trusting the request
 * (AccountsService.confirmKeyAndUseNonce, which stores the nonce only if the key still holds).
 */
export function accessKeySecrets(app: App, options: { useRemembered?: boolean } = {}): AccessKeySecrets {
  let principal: Principal | undefined;
  let remembered: AccessKeySecrets['remembered'];
  return {
    async secretFor(accessKeyId: string): Promise<string | undefined> {
      const known = options.useRemembered ? app.accounts.rememberedSecret(accessKeyId) : undefined;
      if (known) {
        remembered = { accessKeyId, sealed: known.sealed };
        return known.secret;
      }
      const found = await app.accounts.accessKeyWithSecret(accessKeyId);
      principal = found?.principal;
      return found?.secret;
    },
    get principal(): Principal | undefined {
      return principal;
    },
    get remembered(): AccessKeySecrets['remembered'] {
      return remembered;
    },
  };
}
