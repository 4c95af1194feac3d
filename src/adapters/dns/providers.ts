import type { Dns01Settings } from '../../config/dns01.js';
import type { DnsProvider } from '../../core/validation/ports.js';
import type { Clock } from '../../kernel/clock.js';
import { HookProvider } from './hook.js';
import { Rfc2136Provider } from './rfc2136.js';

type Factory<K extends Dns01Settings['provider']> = (settings: Extract<Dns01Settings, { provider: K }>, clock: Clock) => DnsProvider;

/** DNS providers by the `provider` of the `dns01` setting: a new type is one entry here and one file beside it. */
const PROVIDERS: { [K in Dns01Settings['provider']]: Factory<K> } = {
  rfc2136: (settings, clock) => new Rfc2136Provider(settings, () => clock.now()),
  hook: (settings) => new HookProvider(settings),
};

export function dnsProviderFor(settings: Dns01Settings, clock: Clock): DnsProvider {
  const make = PROVIDERS[settings.provider] as Factory<typeof settings.provider>;
  return make(settings as never, clock);
}
