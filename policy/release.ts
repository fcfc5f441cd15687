// The pack's copy of the program's release identity (components/release.ts). The pack is its own
// package and is loaded by the policy engine apart from the program, so it cannot import that
// module; tests/unit/policy.test.ts pins this copy to it (same patterns, same answers on a table
// of valid and invalid references, same promotion records). Change both together.

/** Hex digits of the image digest that name a release. */
export const RELEASE_ID_LENGTH = 12;
/** A release id, as `promote` takes it and the promotion record writes it. */
export const RELEASE_ID_PATTERN = new RegExp(`^[a-f0-9]{${RELEASE_ID_LENGTH}}$`);
/** `repository@sha256:<64 hex digits>`: the only image form a release can be named by. */
export const DIGEST_REF_PATTERN = /^([^\s@]+)@sha256:([a-f0-9]{64})$/;

/**
 * The release an image is (the first RELEASE_ID_LENGTH hex digits of its digest), or undefined
 * for an image that is not pinned by digest: a rule reports that instead of throwing.
 */
export function releaseIdOf(image: string): string | undefined {
  return DIGEST_REF_PATTERN.exec(image)?.[2].slice(0, RELEASE_ID_LENGTH);
}

/**
 * The Rollout annotation in which the program records why it lets Argo promote a blue-green
 * release, as `<source>:<release id>`:
 * - `promote:<id>`     the `promote` config key names this release;
 * - `rollbackTo:<id>`  the `rollbackTo` config key deploys this earlier release;
 * - `active:<id>`      the release is already the active one, so nothing waits in preview;
 * - `autoPromote:<id>` the `autoPromote` config key promotes every release (refused in prod).
 * The program writes it whenever it sets spec.strategy.blueGreen.autoPromotionEnabled to true.
 */
export const PROMOTION_ANNOTATION = "api-stack.io/promotion";
export const PROMOTION_SOURCES = ["promote", "rollbackTo", "active", "autoPromote"] as const;
export type PromotionSource = (typeof PROMOTION_SOURCES)[number];

export interface PromotionRecord {
  source: PromotionSource;
  release: string;
}

/** A promotion record as the program writes it, or undefined for anything else. */
export function readPromotionRecord(value: string): PromotionRecord | undefined {
  const colon = value.indexOf(":");
  const source = value.slice(0, colon);
  const release = value.slice(colon + 1);
  if (colon < 0 || !(PROMOTION_SOURCES as readonly string[]).includes(source) || !RELEASE_ID_PATTERN.test(release)) {
    return undefined;
  }
  return { source: source as PromotionSource, release };
}
