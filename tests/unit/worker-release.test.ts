// The Celery worker runs the release that serves users (components/api-stack/worker-image.ts),
// under Pulumi's mocks with a fake cluster that answers both the read of the live release and the
// wait for it: a blue-green release waiting in preview, its promotion, an abort, a rollback, a
// canary, the rolling Deployment, and a live state that cannot be read. tests/e2e/worker-release
// runs the same steps on the real node.
import { strict as assert } from "node:assert";
import type { LiveRelease } from "../../components/api/release-state";
import type { ReleaseOutcome } from "../../components/api/release-wait";
import { asManifest, prodInput, runAndWait, runProgram, withConfig, type RunResult } from "../support/harness";
import { withCosign } from "../support/cosign";

const ref = (c: string) => `registry.example.com/platform/api@sha256:${c.repeat(64)}`;
const [V1, V2] = [ref("1"), ref("2")];
const ID2 = "222222222222";

const workerImage = (run: RunResult) =>
  asManifest(run.one("kubernetes:apps/v1:Deployment", "api-worker")).spec.template.spec.containers[0].image;
const prod = (strategy: string, image: string, extra: Record<string, unknown> = {}) =>
  withConfig(prodInput(), {
    strategy,
    imageRef: image,
    ...(strategy === "canary" ? { prometheusAddress: "http://prometheus.monitoring.svc:9090" } : {}),
    ...extra,
  });
/** What the fake cluster runs: the API's Rollout or Deployment and, when given, the worker's Deployment. */
const cluster = (api: LiveRelease, worker?: LiveRelease): Record<string, LiveRelease> => ({
  "api-prod/api": api,
  ...(worker ? { "api-prod/api-worker": worker } : {}),
});
const live = (active: string, more: Partial<Extract<LiveRelease, { kind: "live" }>> = {}): LiveRelease => ({
  kind: "live",
  active,
  ...more,
});

describe("the worker runs the release that serves users (mocks, a fake cluster)", () => {
  // Prod verifies prebuilt images as signed before registering anything.
  withCosign();
  const released = (active: string): ReleaseOutcome => ({ kind: "released", live: live(active) });

  it("blue-green: stays on the active image while the new release waits in preview", async () => {
    const { run, failures } = await runAndWait(prod("blueGreen", V2), cluster(live(V1), live(V1)), {
      kind: "awaitingPromotion",
      live: live(V1, { current: V2 }),
    });
    assert.deepEqual(failures, []);
    assert.equal(
      asManifest(run.one("kubernetes:argoproj.io/v1alpha1:Rollout")).spec.template.spec.containers[0].image,
      V2,
    );
    assert.equal(workerImage(run), V1);
  });

  it("blue-green: moves to the new image once its promotion is active", async () => {
    const { run } = await runAndWait(
      prod("blueGreen", V2, { promote: ID2 }),
      cluster(live(V1), live(V1)),
      released(V2),
    );
    assert.equal(workerImage(run), V2);
  });

  it("blue-green: after an abort, runs the image that still serves, and the update fails", async () => {
    const reason = `Argo Rollouts aborted release ${ID2} of Rollout api-prod/api`;
    const { run, failures } = await runAndWait(prod("blueGreen", V2, { promote: ID2 }), cluster(live(V1), live(V1)), {
      kind: "failed",
      reason,
      live: live(V1, { current: V2, aborted: true }),
    });
    assert.equal(workerImage(run), V1);
    assert.equal(failures[0]?.message, `${reason}.`);
  });

  it("a rollback moves the worker back with the API", async () => {
    const { run } = await runAndWait(
      prod("blueGreen", V2, { rollbackTo: V1 }),
      cluster(live(V2, { previous: V1 }), live(V2)),
      released(V1),
    );
    assert.equal(workerImage(run), V1);
  });

  it("canary: stays on the stable image until the canary completes, then moves", async () => {
    const aborted = await runAndWait(prod("canary", V2), cluster(live(V1), live(V1)), {
      kind: "failed",
      reason: "Argo Rollouts aborted the canary",
      live: live(V1, { current: V2, aborted: true }),
    });
    assert.equal(workerImage(aborted.run), V1);
    const completed = await runAndWait(prod("canary", V2), cluster(live(V1), live(V1)), released(V2));
    assert.equal(workerImage(completed.run), V2);
  });

  it("rolling: moves with the API, without a wait of its own", async () => {
    const run = await runProgram(prod("rolling", V2), { stack: "prod", cluster: cluster(live(V1), live(V1)) });
    assert.equal(workerImage(run), V2);
    assert.equal(run.reads.length, 1, "only the API's release is read: the worker's image is known");
  });

  it("with the live release unreadable, keeps the image the worker runs", async () => {
    const unreadable: LiveRelease = { kind: "unknown", reason: "GET Rollout api-prod/api: HTTP 403" };
    const { run, failures } = await runAndWait(prod("blueGreen", V2), cluster(unreadable, live(V1)), {
      kind: "awaitingPromotion",
      live: unreadable,
    });
    assert.deepEqual(failures, []);
    assert.equal(workerImage(run), V1);
    assert.deepEqual(
      run.reads.map((read) => `${read.kind} ${read.name}`),
      ["Rollout api", "Deployment api-worker"],
    );
  });

  it("with neither the release nor a worker to keep, the update stops and says why", async () => {
    const unreadable: LiveRelease = { kind: "unknown", reason: "GET Rollout api-prod/api: HTTP 403" };
    const { failures } = await runAndWait(prod("blueGreen", V2), cluster(unreadable), {
      kind: "awaitingPromotion",
      live: unreadable,
    });
    // One error, however many promise chains report it (the runtime reports it once, by identity).
    assert.equal(new Set(failures).size, 1);
    assert.match(failures[0].message, /HTTP 403.*its Deployment does not exist yet, so the update stops/s);
  });

  it("in render mode, which waits for nothing, renders this update's image", async () => {
    const run = await runProgram(withConfig(prod("blueGreen", V2), { renderYamlTo: "rendered/prod" }), {
      stack: "prod",
    });
    assert.equal(workerImage(run), V2);
  });
});
