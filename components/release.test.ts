import { strict as assert } from "node:assert";
import { naming } from "./names";
import { DIGEST_REF_PATTERN, parseDigestRef } from "./image/reference";
import { promotionRecord, RELEASE_ID_LENGTH, RELEASE_ID_PATTERN, releaseId } from "./release";
import { releaseJobName } from "./workload/spec";

const n = naming({ appName: "api", environment: "dev", appVersion: "0.1.0", project: "api-stack" });
const ref = `127.0.0.1:5000/api@sha256:${"d".repeat(64)}`;

describe("release identity", () => {
  it("names releases by their digest only", () => {
    assert.equal(releaseId(`registry.example.com/api@sha256:${"b".repeat(64)}`), "bbbbbbbbbbbb");
    assert.equal(releaseId(ref).length, RELEASE_ID_LENGTH);
    assert.match(releaseId(ref), RELEASE_ID_PATTERN);
    assert.throws(() => releaseId("registry.example.com/api:1.0"), /digest-pinned/);
  });

  it("parses a digest reference and names the value it refuses", () => {
    assert.deepEqual(parseDigestRef(ref), { repository: "127.0.0.1:5000/api", digest: "d".repeat(64) });
    for (const bad of [
      "api",
      `api@sha256:${"d".repeat(63)}`,
      `api@sha256:${"D".repeat(64)}`,
      `a b@sha256:${"d".repeat(64)}`,
    ]) {
      assert.doesNotMatch(bad, DIGEST_REF_PATTERN);
      assert.throws(
        () => parseDigestRef(bad),
        (e: Error) => e.message.includes(`"${bad}"`),
      );
    }
  });

  it("accepts as a release id exactly twelve lowercase hex digits", () => {
    assert.match("0123456789ab", RELEASE_ID_PATTERN);
    for (const bad of ["0123456789a", "0123456789abc", "0123456789AB"]) {
      assert.doesNotMatch(bad, RELEASE_ID_PATTERN);
    }
  });

  it("derives the Job names from the digest", () => {
    assert.equal(releaseJobName(n, "migration", ref, "0123abcd"), "api-migration-dddddddddddd-0123abcd");
    assert.throws(() => releaseJobName(n, "backup", "127.0.0.1:5000/api:latest", "0123abcd"), /digest-pinned/);
  });

  it("records a promotion as <source>:<release id>", () => {
    assert.equal(promotionRecord("promote", ref), "promote:dddddddddddd");
  });
});
