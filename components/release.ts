// Release identity, in one place: what a digest-pinned image reference is, the release id an
// operator names in `promote` (the first 12 hex digits of the digest), and every name derived
// from it. Pure (no Pulumi runtime), so config validation, the components, the tests and the
// policy pack's pinned copy (tests/unit/policy.test.ts) all agree on one definition.
import type { Naming } from "./names";

/** Hex digits of the image digest that name a release. */
export const RELEASE_ID_LENGTH = 12;
/** A release id, as `promote` takes it and the promotion record writes it. */
export const RELEASE_ID_PATTERN = new RegExp(`^[a-f0-9]{${RELEASE_ID_LENGTH}}$`);
/** `repository@sha256:<64 hex digits>`: the only image form a release can be named by. */
export const DIGEST_REF_PATTERN = /^([^\s@]+)@sha256:([a-f0-9]{64})$/;

export interface DigestRef {
  repository: string;
  /** The 64 hex digits after `sha256:`. */
  digest: string;
}

export function parseDigestRef(ref: string): DigestRef {
  const match = DIGEST_REF_PATTERN.exec(ref);
  if (!match) {
    throw new Error(`"${ref}" is not a digest-pinned image reference; expected repository@sha256:<64 hex digits>`);
  }
  return { repository: match[1], digest: match[2] };
}

/** The release an image is: the first RELEASE_ID_LENGTH hex digits of its digest. */
export function releaseId(ref: string): string {
  return parseDigestRef(ref).digest.slice(0, RELEASE_ID_LENGTH);
}

/** Job name per release: a new image runs its Job once, an unchanged one never again. */
export function releaseJobName(naming: Naming, component: "migration" | "backup", ref: string): string {
  return naming.name(component, releaseId(ref));
}

/** Rollout annotation recording what promoted its release, `<source>:<release id>` (the policy pack reads it). */
export const PROMOTION_ANNOTATION = "api-stack.io/promotion";

export type PromotionSource = "active" | "rollbackTo" | "promote" | "autoPromote";

export function promotionRecord(source: PromotionSource, ref: string): string {
  return `${source}:${releaseId(ref)}`;
}
