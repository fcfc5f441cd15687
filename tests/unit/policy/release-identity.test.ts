// The pack's copy of release identity (policy/release.ts) against the program's
// (components/release.ts and the image references of components/image/reference.ts): the pack is
// its own package and cannot import them, so this pins the copy to them.
import { strict as assert } from "node:assert";
import * as imageReference from "../../../components/image/reference";
import * as releaseIdentity from "../../../components/release";
import * as packRelease from "../../../policy/release";
import { imageDigest } from "../../../policy/rules/releases";
import { IMAGE, T } from "./fixtures";

/** The program's release identity, with the image references it is defined over. */
const release = { ...releaseIdentity, ...imageReference };

describe("the policy pack's release identity (policy/release.ts) is the program's (components/release.ts)", () => {
  const hex = "0123456789abcdef".repeat(4);
  const VALID = [
    `registry.example.com/platform/api@sha256:${hex}`,
    `127.0.0.1:5000/api-stack/fastapi:dev@sha256:${hex}`,
    `postgres@sha256:${"f".repeat(64)}`,
    IMAGE,
  ];
  const INVALID = [
    "registry.example.com/platform/api:v2",
    "registry.example.com/platform/api",
    `api@sha256:${hex.slice(1)}`,
    `api@sha256:${hex}0`,
    `api@sha256:${hex.toUpperCase()}`,
    `api@sha512:${hex}`,
    `api@${hex}`,
    `@sha256:${hex}`,
    `a b@sha256:${hex}`,
    `a@b@sha256:${hex}`,
    ` api@sha256:${hex}`,
    `api@sha256:${hex}\n`,
    "",
  ];

  it("has the same length and patterns", () => {
    assert.equal(packRelease.RELEASE_ID_LENGTH, release.RELEASE_ID_LENGTH);
    for (const name of ["RELEASE_ID_PATTERN", "DIGEST_REF_PATTERN"] as const) {
      assert.equal(packRelease[name].source, release[name].source, name);
      assert.equal(packRelease[name].flags, release[name].flags, name);
    }
    assert.equal(packRelease.PROMOTION_ANNOTATION, release.PROMOTION_ANNOTATION);
  });

  it("gives the same answers on valid and invalid image references", () => {
    for (const ref of VALID) {
      assert.ok(release.DIGEST_REF_PATTERN.test(ref) && packRelease.DIGEST_REF_PATTERN.test(ref), ref);
      assert.equal(packRelease.releaseIdOf(ref), release.releaseId(ref), ref);
      assert.ok(packRelease.RELEASE_ID_PATTERN.test(release.releaseId(ref)), ref);
      assert.deepEqual(
        imageDigest(T.deployment, { spec: { template: { spec: { containers: [{ name: "api", image: ref }] } } } }),
        [],
        ref,
      );
    }
    for (const ref of INVALID) {
      assert.throws(
        () => release.parseDigestRef(ref),
        new RegExp(`"${ref.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}"`),
        JSON.stringify(ref),
      );
      assert.equal(packRelease.releaseIdOf(ref), undefined, JSON.stringify(ref));
      assert.equal(
        imageDigest(T.deployment, { spec: { template: { spec: { containers: [{ name: "api", image: ref }] } } } })
          .length,
        1,
        JSON.stringify(ref),
      );
    }
  });

  it("reads every promotion record the program writes, and nothing else", () => {
    for (const source of packRelease.PROMOTION_SOURCES) {
      assert.deepEqual(packRelease.readPromotionRecord(release.promotionRecord(source, IMAGE)), {
        source,
        release: release.releaseId(IMAGE),
      });
    }
    for (const value of [
      "yes",
      "promote",
      "promote:",
      ":222222222222",
      "promote:22222222222",
      "promote:2222222222222",
      "promote:22222222222G",
      "later:222222222222",
      "promote:222222222222:x",
    ]) {
      assert.equal(packRelease.readPromotionRecord(value), undefined, value);
    }
  });
});
