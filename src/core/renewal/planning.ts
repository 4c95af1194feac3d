/**
 * Where the renewal policy meets the CA: the first time a new certificate is looked at again, and
 * what to do when that time comes. With a CA that offers ACME Renewal Information, its window
 * decides; without, two thirds of the lifetime with jitter.
 */
import type { AcmeClient } from '../acme/ports.js';
import type { IssuedFacts } from '../issuance/model.js';
import type { Logger } from '../../kernel/logger.js';
import type { Random } from '../../kernel/random.js';
import { ARI_DEFAULT_RECHECK_MS, decideWithAri, renewAtWithoutAri, type RenewalDecision } from './policy.js';

/** When a just-issued certificate is first looked at by the renewal scan, and (ARI) when the CA may be asked again. */
export async function firstLook(client: AcmeClient, issued: IssuedFacts, now: Date, random: Random, logger: Logger): Promise<{ renewAt: Date; ariCheckAt?: Date | undefined }> {
  const fallback = renewAtWithoutAri(issued, random);
  try {
    const info = await client.renewalInfo(issued.chainPem);
    if (!info) return { renewAt: fallback };
    const decision = decideWithAri(info, now, random);
    return decision.renewNow ? { renewAt: now } : { renewAt: decision.nextLookAt, ariCheckAt: decision.nextCheckAt };
  } catch (err) {
    // The certificate is stored all the same; renewalInfo is asked again later.
    logger.warn({ err }, 'renewalInfo could not be read; asking again later');
    return { renewAt: new Date(Math.min(fallback.getTime(), now.getTime() + ARI_DEFAULT_RECHECK_MS)) };
  }
}

/**
 * The scan's decision for a certificate whose time came: a time chosen in the CA's window that came
 * before the CA may be asked again (`ariCheckAt`) is kept: renew now. Otherwise, with ARI, the CA's
 * window (renew now, or look again later); without, renew now. When renewalInfo cannot be read,
 * renew once two thirds of the lifetime have passed, and otherwise ask again in an hour.
 */
export async function decideWhenDue(
  client: AcmeClient,
  certificate: { chainPem: string; notBefore: Date; notAfter: Date; ariCheckAt?: Date | undefined },
  now: Date,
  random: Random,
): Promise<RenewalDecision & { explanationUrl?: string | undefined }> {
  if (certificate.ariCheckAt !== undefined && certificate.ariCheckAt.getTime() > now.getTime()) return { renewNow: true };
  try {
    const info = await client.renewalInfo(certificate.chainPem);
    if (!info) return { renewNow: true };
    return { ...decideWithAri(info, now, random), explanationUrl: info.explanationUrl };
  } catch {
    const twoThirds = renewAtWithoutAri(certificate, () => 0.5);
    if (twoThirds.getTime() <= now.getTime()) return { renewNow: true };
    return { renewNow: false, nextLookAt: new Date(now.getTime() + 3_600_000) };
  }
}
