import { strict as assert } from "node:assert";
import { SETTINGS_CHECKSUM_ANNOTATION } from "../names";
import type { ReleaseState, WorkloadObservation } from "./release-state";
import {
  releaseProgress,
  settledState,
  waitForRelease,
  type ClusterAnswer,
  type ExpectedRelease,
} from "./release-wait";

const ref = (c: string) => `registry.example.com/api@sha256:${c.repeat(64)}`;
const [V1, V2] = [ref("1"), ref("2")];
const CHECKSUM = "c".repeat(64);
const expected = (extra: Partial<ExpectedRelease> = {}): ExpectedRelease => ({
  image: V2,
  settingsChecksum: CHECKSUM,
  waitsForPromotion: false,
  prePromotionAnalysis: false,
  ...extra,
});
const replicaSet = (hash: string, revision: number, image: string, checksum = CHECKSUM) => ({
  metadata: {
    labels: { "rollouts-pod-template-hash": hash },
    annotations: { "rollout.argoproj.io/revision": String(revision) },
    ownerReferences: [{ uid: "uid-1" }],
  },
  spec: {
    template: {
      metadata: { annotations: { [SETTINGS_CHECKSUM_ANNOTATION]: checksum } },
      spec: { containers: [{ name: "api", image }] },
    },
  },
});
/** The Rollout as the API server returns it at generation 7, V1 (h1) stable and V2 (h2) the newest. */
const observe = (
  status: Record<string, unknown>,
  sets = [replicaSet("h1", 1, V1), replicaSet("h2", 2, V2)],
): WorkloadObservation => ({
  workload: {
    kind: "Rollout",
    metadata: { name: "api", namespace: "api-prod", uid: "uid-1", generation: 7 },
    spec: { strategy: { canary: { steps: [{ setWeight: 20 }, { pause: { duration: "5m" } }] } } },
    status: { observedGeneration: "7", currentPodHash: "h2", stableRS: "h1", ...status },
  },
  replicaSets: sets,
  container: "api",
});
const verdict = (status: Record<string, unknown>, wanted = expected(), sets?: ReturnType<typeof replicaSet>[]) => {
  const progress = releaseProgress(observe(status, sets), wanted);
  return progress.settled ? progress.outcome.kind : "waiting";
};

describe("releaseProgress: where one observation leaves the release", () => {
  it("does not trust a status the controller wrote before it saw this update (observedGeneration is a string)", () => {
    // The previous release's Healthy status, still there right after the patch.
    assert.equal(verdict({ observedGeneration: "6", currentPodHash: "h1", phase: "Healthy" }), "waiting");
  });

  it("waits until the current ReplicaSet runs the candidate image with the candidate's settings", () => {
    assert.equal(verdict({ currentPodHash: "h1", phase: "Healthy" }), "waiting");
    assert.equal(
      verdict({ phase: "Healthy", stableRS: "h2" }, expected(), [replicaSet("h2", 2, V2, "d".repeat(64))]),
      "waiting",
    );
    assert.equal(verdict({ phase: "Healthy", stableRS: "h2" }), "released");
  });

  it("is released only when the candidate is the stable ReplicaSet and Healthy", () => {
    assert.equal(verdict({ phase: "Progressing" }), "waiting");
    assert.equal(
      verdict({ phase: "Paused", pauseConditions: [{ reason: "CanaryPauseStep" }], currentStepIndex: 1 }),
      "waiting",
    );
    assert.equal(verdict({ phase: "Healthy", stableRS: "h2" }), "released");
  });

  it("fails with Argo's own message when the release is aborted or Degraded", () => {
    const aborted = releaseProgress(
      observe({
        abort: true,
        phase: "Degraded",
        message: 'RolloutAborted: Metric "error-rate" assessed Failed due to failed (2) > failureLimit (1)',
      }),
      expected(),
    );
    assert.ok(aborted.settled && aborted.outcome.kind === "failed");
    assert.match(
      aborted.outcome.reason,
      new RegExp(
        "^Argo Rollouts aborted release 222222222222 of Rollout api-prod/api " +
          '\\(RolloutAborted: Metric "error-rate" assessed Failed',
      ),
    );
    assert.match(aborted.outcome.reason, /kubectl argo rollouts retry rollout api -n api-prod/);
    assert.deepEqual(aborted.outcome.live, { kind: "live", active: V1, current: V2, phase: "Degraded", aborted: true });

    // Post-promotion: the abort is written while the active Service still selects the release.
    const reverting = { abort: true, phase: "Degraded", blueGreen: { activeSelector: "h2" } };
    assert.equal(verdict(reverting), "waiting");
    assert.equal(verdict({ ...reverting, blueGreen: { activeSelector: "h1" } }), "failed");

    const degraded = releaseProgress(
      observe({ phase: "Degraded", message: "ProgressDeadlineExceeded: ReplicaSet has timed out progressing" }),
      expected(),
    );
    assert.ok(degraded.settled && degraded.outcome.kind === "failed");
    assert.match(degraded.outcome.reason, /is Degraded on release 222222222222 \(ProgressDeadlineExceeded/);
  });

  it("fails when an analysis without data paused the release for a human", () => {
    const paused = releaseProgress(
      // The reason as Argo Rollouts writes it (seen on a real Rollout, tests/e2e/monitoring.test.ts).
      observe({ phase: "Paused", pauseConditions: [{ reason: "InconclusiveAnalysisRun" }] }),
      expected(),
    );
    assert.ok(paused.settled && paused.outcome.kind === "failed");
    assert.match(paused.outcome.reason, /measured no traffic \(inconclusive\)/);
    assert.match(paused.outcome.reason, /kubectl argo rollouts promote api -n api-prod/);
  });

  it("blue-green: ends waiting for promotion once the preview is ready and its smoke test passed", () => {
    const preview = {
      phase: "Paused",
      pauseConditions: [{ reason: "BlueGreenPause" }],
      blueGreen: { previewSelector: "h2", activeSelector: "h1" },
    };
    const bg = expected({ waitsForPromotion: true, prePromotionAnalysis: true });
    assert.equal(verdict(preview, bg), "waiting");
    const passed = {
      ...preview,
      blueGreen: { ...preview.blueGreen, prePromotionAnalysisRunStatus: { status: "Successful" } },
    };
    assert.equal(verdict(passed, bg), "awaitingPromotion");
    assert.equal(verdict(preview, expected({ waitsForPromotion: true })), "awaitingPromotion");
    // A promoted release does not stop at the preview.
    assert.equal(verdict(passed, expected({ prePromotionAnalysis: true })), "waiting");
  });

  it("describes the progress of a canary for the log", () => {
    const progress = releaseProgress(
      observe({
        phase: "Paused",
        currentStepIndex: 1,
        canary: { weights: { canary: { weight: 20 } } },
        message: "CanaryPauseStep",
      }),
      expected(),
    );
    assert.ok(!progress.settled);
    assert.equal(
      progress.status,
      "Rollout api-prod/api, release 222222222222: Paused, step 1 of 2, canary weight 20 %, CanaryPauseStep",
    );
  });
});

describe("waitForRelease (an injected clock, no timers)", () => {
  const run = async (answers: ClusterAnswer[], deadlineSeconds = 60) => {
    let clock = 0;
    let reads = 0;
    const shown: string[] = [];
    const outcome = await waitForRelease(
      () => Promise.resolve(answers[Math.min(reads++, answers.length - 1)]),
      { namespace: "api-prod", name: "api" },
      expected(),
      {
        deadlineSeconds,
        onProgress: (status) => shown.push(status),
        sleep: (ms) => {
          clock += ms;
          return Promise.resolve();
        },
        now: () => clock,
      },
    );
    return { outcome, shown, reads };
  };
  const at = (status: Record<string, unknown>): ClusterAnswer => ({ kind: "observed", observation: observe(status) });

  it("polls until the release is stable, through a stale status and a progressing one, each shown once", async () => {
    const { outcome, shown, reads } = await run([
      at({ observedGeneration: "6", currentPodHash: "h1", phase: "Healthy" }),
      at({ phase: "Progressing" }),
      at({ phase: "Progressing" }),
      at({ phase: "Healthy", stableRS: "h2" }),
    ]);
    assert.equal(outcome.kind, "released");
    assert.equal(reads, 4);
    assert.deepEqual(shown, [
      "Rollout api-prod/api, release 222222222222: waiting for Argo Rollouts to take generation 7 of the Rollout",
      "Rollout api-prod/api, release 222222222222: Progressing",
    ]);
  });

  it("keeps polling through a failed read, and says why", async () => {
    const { outcome, shown } = await run([
      { kind: "unknown", reason: "GET Rollout api-prod/api: HTTP 503" },
      at({ phase: "Healthy", stableRS: "h2" }),
    ]);
    assert.equal(outcome.kind, "released");
    assert.deepEqual(shown, ["Rollout api-prod/api: not readable (GET Rollout api-prod/api: HTTP 503)"]);
  });

  it("fails at the deadline with the last status, and what Argo does meanwhile", async () => {
    const { outcome } = await run([at({ phase: "Paused", pauseConditions: [{ reason: "CanaryPauseStep" }] })], 30);
    assert.ok(outcome.kind === "failed");
    assert.match(
      outcome.reason,
      new RegExp(
        "^release 222222222222 did not settle within 30 s \\(releaseTimeoutSeconds\\); " +
          "last seen: Rollout api-prod/api, release 222222222222: Paused",
      ),
    );
    assert.match(outcome.reason, /Argo Rollouts carries on/);
  });

  it("fails at once when the Rollout is gone", async () => {
    const { outcome, reads } = await run([{ kind: "absent" }]);
    assert.equal(outcome.kind, "failed");
    assert.equal(reads, 1);
  });
});

describe("settledState: the release output after the wait", () => {
  const planned: ReleaseState = {
    strategy: "canary",
    active: V2,
    previous: V1,
    rollbackCommand: "pulumi config set rollbackTo … --stack prod && pulumi up --stack prod",
  };

  it("keeps the plan when the release went out as planned", () => {
    assert.equal(settledState(planned, { kind: "released", live: { kind: "live", active: V2 } }, "prod"), planned);
  });

  it("names what still serves, never the aborted image, after a failure", () => {
    const live = { kind: "live" as const, active: V1, current: V2, aborted: true, previous: ref("0") };
    const state = settledState(
      planned,
      { kind: "failed", reason: "argo Rollouts aborted release 222222222222", live },
      "prod",
    );
    assert.deepEqual(state, {
      strategy: "canary",
      active: V1,
      previous: ref("0"),
      rollbackCommand: `pulumi config set rollbackTo ${ref("0")} --stack prod && pulumi up --stack prod`,
      note: "Argo Rollouts aborted release 222222222222.",
    });
  });

  it("claims nothing serves when the cluster could not say", () => {
    const state = settledState(
      planned,
      { kind: "failed", reason: "x", live: { kind: "unknown", reason: "HTTP 403" } },
      "prod",
    );
    assert.deepEqual(state, { strategy: "canary", note: "X." });
  });
});
