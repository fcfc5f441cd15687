// Waiting for a release, after the Rollout's update was applied: Argo Rollouts carries a
// release out on its own, so the update would otherwise end before anyone knows whether the
// release became active, waits in preview, or was aborted. The verdict on one observation is
// pure (releaseProgress); the loop around it reads the cluster until a verdict or a deadline.
//
// The new release is identified by what Argo records, not by the phase alone: Argo writes
// status.observedGeneration as a string, so nothing generic can tell the previous release's
// Healthy status from the new one's. Here the Rollout's generation must equal it, and the
// ReplicaSet of status.currentPodHash must run the candidate image with the candidate's
// settings checksum; only then do stableRS, the preview selector and the phase speak of it.
import { releaseId } from "../release";
import { SETTINGS_CHECKSUM_ANNOTATION } from "../names";
import {
  capitalize,
  observeRelease,
  rollbackCommandOf,
  type LiveRelease,
  type ReleaseState,
  type WorkloadObservation,
  type WorkloadStatus,
} from "./release-state";

/** The release this update asked for. */
export interface ExpectedRelease {
  /** Image of the app's container. */
  image: string;
  /** The pod template's SETTINGS_CHECKSUM_ANNOTATION. */
  settingsChecksum: string;
  /** blueGreen without a promotion: the release ends paused in preview. */
  waitsForPromotion: boolean;
  /** blueGreen: the preview counts as ready only once its smoke test passed. */
  prePromotionAnalysis: boolean;
}

/** How a release ended, with what the cluster showed then. */
export type ReleaseOutcome =
  /** The release is the stable one and Healthy. */
  | { kind: "released"; live: LiveRelease }
  /** blueGreen: the preview is ready and the Rollout paused until `promote` names it. */
  | { kind: "awaitingPromotion"; live: LiveRelease }
  /** Aborted, Degraded, paused for a human, gone, or past the deadline: `reason` says which, and what to do. */
  | { kind: "failed"; reason: string; live: LiveRelease };

export type ReleaseProgress =
  { settled: true; outcome: ReleaseOutcome } | { settled: false; status: string; live: LiveRelease };

/** What the API server answered for a Rollout and its ReplicaSets. */
export type ClusterAnswer =
  Exclude<LiveRelease, { kind: "live" }> | { kind: "observed"; observation: WorkloadObservation };

const HASH_LABEL = "rollouts-pod-template-hash";

/** Where one observation leaves the expected release. */
export function releaseProgress(observation: WorkloadObservation, expected: ExpectedRelease): ReleaseProgress {
  const { workload, replicaSets, container } = observation;
  const status = workload.status ?? {};
  const live = observeRelease(observation);
  const id = releaseId(expected.image);
  const rollout = `${workload.metadata.namespace}/${workload.metadata.name}`;
  const kubectl = (verb: string) =>
    `kubectl argo rollouts ${verb} ${workload.metadata.name} -n ${workload.metadata.namespace}`;
  const waiting = (text: string): ReleaseProgress => ({
    settled: false,
    status: `Rollout ${rollout}, release ${id}: ${text}`,
    live,
  });
  const ended = (kind: "released" | "awaitingPromotion"): ReleaseProgress => ({
    settled: true,
    outcome: { kind, live },
  });
  const failed = (reason: string): ReleaseProgress => ({ settled: true, outcome: { kind: "failed", reason, live } });

  if (
    workload.metadata.generation === undefined ||
    status.observedGeneration !== String(workload.metadata.generation)
  ) {
    return waiting(`waiting for Argo Rollouts to take generation ${workload.metadata.generation} of the Rollout`);
  }
  const hash = status.currentPodHash;
  const current = replicaSets.find((rs) => hash !== undefined && rs.metadata.labels?.[HASH_LABEL] === hash);
  const template = current?.spec?.template;
  if (
    template?.spec?.containers?.find((c) => c.name === container)?.image !== expected.image ||
    template.metadata?.annotations?.[SETTINGS_CHECKSUM_ANNOTATION] !== expected.settingsChecksum
  ) {
    return waiting("waiting for the ReplicaSet of this release");
  }
  const message = status.message ? ` (${status.message})` : "";
  if (status.abort === true) {
    // After a promotion (post-promotion analysis) Argo records the abort one reconcile before it
    // moves the active Service back to the stable ReplicaSet: until then the outcome would name
    // the aborted image as serving.
    const activeHash = status.blueGreen?.activeSelector;
    if (activeHash !== undefined && activeHash !== status.stableRS) {
      return waiting("aborted; waiting for Argo Rollouts to return the active Service to the stable release");
    }
    return failed(
      `Argo Rollouts aborted release ${id} of Rollout ${rollout}${message}; the stable release keeps serving. ` +
        `Deploy a fixed image, or try this one again with \`${kubectl("retry rollout")}\``,
    );
  }
  if (status.phase === "Degraded") {
    return failed(`Rollout ${rollout} is Degraded on release ${id}${message}; see \`${kubectl("get rollout")}\``);
  }
  if (status.phase === "Healthy" && status.stableRS === hash) {
    return ended("released");
  }
  const pauses = (status.pauseConditions ?? []).map((p) => p.reason);
  // Argo's PauseReasonInconclusiveAnalysis, whose value names the run.
  if (pauses.includes("InconclusiveAnalysisRun")) {
    return failed(
      `the analysis of release ${id} (5xx ratio, p99 latency) measured no traffic (inconclusive), ` +
        `so Argo Rollouts paused Rollout ${rollout} for a decision: ` +
        "check that the release receives requests and Prometheus scrapes them, " +
        `then \`${kubectl("promote")}\` or \`${kubectl("abort")}\``,
    );
  }
  if (expected.waitsForPromotion && pauses.includes("BlueGreenPause") && status.blueGreen?.previewSelector === hash) {
    const smoke = status.blueGreen?.prePromotionAnalysisRunStatus?.status;
    return !expected.prePromotionAnalysis || smoke === "Successful"
      ? ended("awaitingPromotion")
      : waiting(`preview ready, smoke test ${smoke ?? "not started"}`);
  }
  return waiting(stepOf(workload, status));
}

function stepOf(workload: WorkloadObservation["workload"], status: WorkloadStatus): string {
  const steps = workload.spec?.strategy?.canary?.steps;
  const weight = status.canary?.weights?.canary?.weight;
  return [
    status.phase ?? "no phase yet",
    steps && status.currentStepIndex !== undefined ? `step ${status.currentStepIndex} of ${steps.length}` : undefined,
    weight !== undefined ? `canary weight ${weight} %` : undefined,
    status.message,
  ]
    .filter(Boolean)
    .join(", ");
}

// Function properties, not methods: waitForRelease takes them apart, so they must not depend on `this`.
export interface WaitOptions {
  /** Past it the wait fails; Argo carries on with the release. */
  deadlineSeconds: number;
  /** Called with each new status line (a line is not repeated while it holds). */
  onProgress: (status: string) => void;
  /** Default: 5. */
  pollSeconds?: number;
  /** Default: a timer. */
  sleep?: (ms: number) => Promise<void>;
  /** Default: Date.now. */
  now?: () => number;
}

/** Polls `read` until the expected release settles, fails, or the deadline passes. */
export async function waitForRelease(
  read: () => Promise<ClusterAnswer>,
  target: { namespace: string; name: string },
  expected: ExpectedRelease,
  {
    deadlineSeconds,
    onProgress,
    pollSeconds = 5,
    sleep = (ms) => new Promise((r) => setTimeout(r, ms)),
    now = Date.now,
  }: WaitOptions,
): Promise<ReleaseOutcome> {
  const started = now();
  let shown: string | undefined;
  for (;;) {
    const answer = await read();
    let progress: Extract<ReleaseProgress, { settled: false }>;
    if (answer.kind === "observed") {
      const verdict = releaseProgress(answer.observation, expected);
      if (verdict.settled) {
        return verdict.outcome;
      }
      progress = verdict;
    } else if (answer.kind === "absent") {
      return {
        kind: "failed",
        reason: `Rollout ${target.namespace}/${target.name} was deleted during the release`,
        live: answer,
      };
    } else {
      progress = {
        settled: false,
        status: `Rollout ${target.namespace}/${target.name}: not readable (${answer.reason})`,
        live: answer,
      };
    }
    if (progress.status !== shown) {
      onProgress(progress.status);
      shown = progress.status;
    }
    if (now() - started >= deadlineSeconds * 1000) {
      return {
        kind: "failed",
        reason:
          `release ${releaseId(expected.image)} did not settle within ${deadlineSeconds} s (releaseTimeoutSeconds); ` +
          `last seen: ${progress.status}. Argo Rollouts carries on: ` +
          `\`kubectl argo rollouts get rollout ${target.name} -n ${target.namespace} --watch\``,
        live: progress.live,
      };
    }
    await sleep(pollSeconds * 1000);
  }
}

/**
 * The release output once the wait is over: what was planned when the release went out, or,
 * when it failed, what the cluster showed then (the image that still serves, not the one that
 * was aborted).
 */
export function settledState(planned: ReleaseState, outcome: ReleaseOutcome, stack: string): ReleaseState {
  if (outcome.kind !== "failed") {
    return planned;
  }
  const { live } = outcome;
  const active = live.kind === "live" ? live.active : undefined;
  const previous = live.kind === "live" ? live.previous : undefined;
  return {
    strategy: planned.strategy,
    ...(active !== undefined ? { active } : {}),
    ...(previous !== undefined ? { previous, rollbackCommand: rollbackCommandOf(stack, previous) } : {}),
    note: `${capitalize(outcome.reason)}.`,
  };
}
