// Release identity, in one place: the release id an operator names in `promote` (the first 12
// hex digits of the image digest) and the promotion record derived from it. Pure (no Pulumi
// runtime), so config validation, the components, the tests and the policy pack's pinned copy
// (tests/unit/policy/release-identity.test.ts) all agree on one definition.
import { parseDigestRef } from "./image/reference";

/** Hex digits of the image digest that name a release. */
export const RELEASE_ID_LENGTH = 12;
/** A release id, as `promote` takes it and the promotion record writes it. */
export const RELEASE_ID_PATTERN = new RegExp(`^[a-f0-9]{${RELEASE_ID_LENGTH}}$`);

/** The release an image is: the first RELEASE_ID_LENGTH hex digits of its digest. */
export function releaseId(ref: string): string {
  return parseDigestRef(ref).digest.slice(0, RELEASE_ID_LENGTH);
}

/** Rollout annotation recording what promoted its release, `<source>:<release id>` (the policy pack reads it). */
export const PROMOTION_ANNOTATION = "api-stack.io/promotion";

export type PromotionSource = "active" | "rollbackTo" | "promote" | "autoPromote";

export function promotionRecord(source: PromotionSource, ref: string): string {
  return `${source}:${releaseId(ref)}`;
}
