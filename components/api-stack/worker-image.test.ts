import { strict as assert } from "node:assert";
import type { ReleaseState } from "../api/release-state";
import { workerImage } from "./worker-image";

const ref = (c: string) => `registry.example.com/team/api@sha256:${c.repeat(64)}`;
const [V1, V2] = [ref("1"), ref("2")];
const UNKNOWN = "The live release could not be read (GET Rollout api-prod/api: HTTP 403).";

describe("the worker's image", () => {
  it("is the active release's, whatever the worker runs now", () => {
    const release: ReleaseState = { strategy: "blueGreen", active: V1, preview: V2 };
    for (const worker of [undefined, { kind: "live" as const, active: V2 }]) {
      assert.deepEqual(workerImage({ release, candidate: V2, worker, rendersOnly: false }), { image: V1 });
    }
  });

  it("follows the active release back on a rollback and forward on a promotion", () => {
    const rollback: ReleaseState = { strategy: "blueGreen", active: V1, previous: V2, promotedBy: "rollbackTo" };
    assert.deepEqual(workerImage({ release: rollback, candidate: V1, rendersOnly: false }), { image: V1 });
    const promotion: ReleaseState = { strategy: "blueGreen", active: V2, previous: V1, promotedBy: "promote" };
    assert.deepEqual(workerImage({ release: promotion, candidate: V2, rendersOnly: false }), { image: V2 });
  });

  it("with no active release known, keeps the image the worker runs, and says why", () => {
    const release: ReleaseState = { strategy: "blueGreen", preview: V2, note: UNKNOWN };
    const chosen = workerImage({ release, candidate: V2, worker: { kind: "live", active: V1 }, rendersOnly: false });
    assert.deepEqual(chosen, { image: V1, warning: `${UNKNOWN} The worker keeps the image it runs, ${V1}.` });
  });

  it("refuses when neither the release nor the worker can be read, or no worker runs yet", () => {
    const release: ReleaseState = { strategy: "canary", note: UNKNOWN };
    for (const [worker, says] of [
      [
        { kind: "unknown" as const, reason: "no answer within 10 s" },
        /could not be read either \(no answer within 10 s\)/,
      ],
      [{ kind: "absent" as const }, /does not exist yet/],
    ] as const) {
      const chosen = workerImage({ release, candidate: V2, worker, rendersOnly: false });
      assert.ok("refused" in chosen);
      assert.ok(chosen.refused.startsWith(UNKNOWN), chosen.refused);
      assert.match(chosen.refused, says);
      assert.match(chosen.refused, /the update stops before the worker changes/);
    }
  });

  it("in render mode, renders this update's image and warns that nothing holds the worker back", () => {
    const release: ReleaseState = { strategy: "blueGreen", preview: V2, note: "The live release could not be read." };
    const chosen = workerImage({
      release,
      candidate: V2,
      worker: { kind: "unknown", reason: "render mode writes manifests and reads no cluster" },
      rendersOnly: true,
    });
    assert.ok("image" in chosen);
    assert.equal(chosen.image, V2);
    assert.match(String(chosen.warning), /render mode reads no cluster, so it cannot keep the worker/);
  });
});
