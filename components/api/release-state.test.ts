import { strict as assert } from "node:assert";
import { releaseId } from "../release";
import { blueGreen, ref } from "../../tests/support/delivery-fixtures";
import type { DeliveryConfig } from "./delivery";
import { observeRelease, promotes, releaseState, type LiveRelease, type WorkloadObservation } from "./release-state";

const OLD = ref("a");
const NEW = ref("b");
const NEXT = ref("c");
const ABSENT: LiveRelease = { kind: "absent" };
const UNKNOWN: LiveRelease = { kind: "unknown", reason: "GET Rollout api-prod/api: HTTP 403" };
const serving = (active: string, previous?: string): LiveRelease => ({
  kind: "live",
  active,
  ...(previous ? { previous } : {}),
});
const state = (delivery: DeliveryConfig, candidate: string, live: LiveRelease, rollback = false) =>
  releaseState({ delivery, stack: "prod", candidate, live, rollback });

describe("release state machine (blueGreen)", () => {
  it("makes the first release active at once: no Rollout exists, so nothing to preview beside", () => {
    assert.deepEqual(state(blueGreen(), NEW, ABSENT), { strategy: "blueGreen", active: NEW, promotedBy: "active" });
  });

  it("puts a new release in preview beside the active one, with the command that promotes it", () => {
    const s = state(blueGreen(), NEW, serving(OLD));
    assert.equal(s.active, OLD);
    assert.equal(s.preview, NEW);
    assert.equal(s.promoteCommand, "pulumi config set promote bbbbbbbbbbbb --stack prod && pulumi up --stack prod");
    assert.equal(s.rollbackCommand, `pulumi config set rollbackTo ${OLD} --stack prod && pulumi up --stack prod`);
  });

  it("promotes exactly the release named in `promote`", () => {
    const s = state(blueGreen({ promote: releaseId(NEW) }), NEW, serving(OLD));
    assert.equal(s.active, NEW);
    assert.equal(s.preview, undefined);
    assert.equal(s.previous, OLD);
    assert.equal(s.promotedBy, "promote");
  });

  it("is not sticky: the next release waits although `promote` still names the last one", () => {
    const s = state(blueGreen({ promote: releaseId(NEW) }), NEXT, serving(NEW));
    assert.equal(s.active, NEW);
    assert.equal(s.preview, NEXT);
  });

  it("stays settled when nothing changed, recording the promotion as the update that made it did", () => {
    assert.deepEqual(state(blueGreen({ promote: releaseId(NEW) }), NEW, serving(NEW)), {
      strategy: "blueGreen",
      active: NEW,
      promotedBy: "promote",
    });
    assert.equal(state(blueGreen(), NEW, serving(NEW)).promotedBy, "active");
  });

  it("promotes a rollback at once, and everything with autoPromote", () => {
    assert.equal(state(blueGreen(), OLD, serving(NEW), true).promotedBy, "rollbackTo");
    assert.equal(state(blueGreen({ autoPromote: true }), NEXT, serving(NEW)).promotedBy, "autoPromote");
    assert.equal(
      state(blueGreen({ autoPromote: true, promote: releaseId(NEXT) }), NEXT, serving(NEW)).promotedBy,
      "promote",
    );
    assert.equal(state(blueGreen(), NEW, serving(OLD)).promotedBy, undefined);
  });

  it("fails closed: with the live state unknown a release waits, says why, and claims no promotion", () => {
    const s = state(blueGreen(), NEW, UNKNOWN);
    assert.equal(promotes(s), false);
    assert.equal(s.promotedBy, undefined);
    assert.equal(s.active, undefined);
    assert.equal(s.preview, NEW);
    assert.equal(s.rollbackCommand, undefined, "no rollback target is known");
    assert.equal(s.promoteCommand, "pulumi config set promote bbbbbbbbbbbb --stack prod && pulumi up --stack prod");
    assert.match(String(s.note), /could not be read \(GET Rollout api-prod\/api: HTTP 403\).*waits in preview/);
  });

  it("with the live state unknown, still promotes what the operator named", () => {
    assert.equal(state(blueGreen({ promote: releaseId(NEW) }), NEW, UNKNOWN).promotedBy, "promote");
    assert.equal(state(blueGreen(), OLD, UNKNOWN, true).promotedBy, "rollbackTo");
  });

  it("offers the release before the active one for a rollback once the candidate serves", () => {
    const s = state(blueGreen(), NEW, serving(NEW, OLD));
    assert.equal(s.previous, OLD);
    assert.equal(s.rollbackCommand, `pulumi config set rollbackTo ${OLD} --stack prod && pulumi up --stack prod`);
  });

  it("reports what serves after Argo aborted the candidate", () => {
    const s = state(blueGreen({ promote: releaseId(NEW) }), NEW, {
      kind: "live",
      active: OLD,
      current: NEW,
      aborted: true,
    });
    assert.equal(s.active, OLD);
    assert.equal(s.previous, undefined);
    assert.match(String(s.note), /aborted release bbbbbbbbbbbb/);
  });
});

describe("release state machine (rolling, canary)", () => {
  const canary: DeliveryConfig = {
    strategy: "canary",
    steps: [{ setWeight: 50 }],
    analysis: { prometheusAddress: "http://p", maxErrorRatio: 0.05, maxLatencyP99Seconds: 1 },
    releaseTimeoutSeconds: 1800,
  };

  it("rolling and canary releases head straight for active", () => {
    assert.deepEqual(state(canary, NEW, serving(OLD)).active, NEW);
    assert.deepEqual(state({ strategy: "rolling" }, NEW, serving(OLD)).previous, OLD);
  });

  it("a canary aborted by its analysis leaves the stable release active", () => {
    const s = state(canary, NEXT, { kind: "live", active: NEW, current: NEXT, aborted: true, phase: "Degraded" });
    assert.equal(s.active, NEW);
    assert.match(String(s.note), /aborted release cccccccccccc; .*bbbb keeps serving/);
  });

  it("says so when it cannot know the release to roll back to", () => {
    const s = state({ strategy: "rolling" }, NEW, UNKNOWN);
    assert.equal(s.active, NEW);
    assert.equal(s.previous, undefined);
    assert.match(String(s.note), /could not be read/);
  });
});

describe("observeRelease", () => {
  const rs = (hash: string, revision: number, image: string, owner = "uid-1") => ({
    metadata: {
      labels: { "rollouts-pod-template-hash": hash },
      annotations: { "rollout.argoproj.io/revision": String(revision) },
      ownerReferences: [{ uid: owner }],
    },
    spec: { template: { spec: { containers: [{ name: "api", image }] } } },
  });
  const rollout = (
    status: Record<string, unknown>,
    replicaSets = [rs("h1", 1, OLD), rs("h2", 2, NEW)],
  ): WorkloadObservation => ({
    workload: { kind: "Rollout", metadata: { name: "api", uid: "uid-1" }, status },
    replicaSets,
    container: "api",
  });

  it("reads the active release from the blue-green active selector, with the preview as current", () => {
    assert.deepEqual(
      observeRelease(
        rollout({ blueGreen: { activeSelector: "h1" }, stableRS: "h1", currentPodHash: "h2", phase: "Paused" }),
      ),
      {
        kind: "live",
        active: OLD,
        current: NEW,
        phase: "Paused",
      },
    );
  });

  it("reads a canary's stable ReplicaSet, the one before it and an abort", () => {
    const sets = [rs("h1", 1, OLD), rs("h2", 2, NEW), rs("h3", 3, NEXT)];
    assert.deepEqual(observeRelease(rollout({ stableRS: "h2", currentPodHash: "h3", abort: true }, sets)), {
      kind: "live",
      active: NEW,
      previous: OLD,
      current: NEXT,
      aborted: true,
    });
  });

  it("ignores ReplicaSets another object owns", () => {
    const sets = [rs("h1", 1, OLD, "uid-other"), rs("h2", 2, NEW)];
    assert.equal((observeRelease(rollout({ stableRS: "h2" }, sets)) as { previous?: string }).previous, undefined);
  });

  it("is unknown, not absent, for a Rollout that reports no active ReplicaSet yet", () => {
    assert.equal(observeRelease(rollout({})).kind, "unknown");
  });

  it("reads a Deployment's newest revision as active", () => {
    const deployment = (revision: number, hash: string, image: string) => ({
      metadata: {
        labels: { "pod-template-hash": hash },
        annotations: { "deployment.kubernetes.io/revision": String(revision) },
      },
      spec: { template: { spec: { containers: [{ name: "api", image }] } } },
    });
    const observed = observeRelease({
      workload: { kind: "Deployment", metadata: { name: "api" } },
      replicaSets: [deployment(1, "d1", OLD), deployment(2, "d2", NEW)],
      container: "api",
    });
    assert.deepEqual(observed, { kind: "live", active: NEW, previous: OLD, current: NEW });
  });
});
