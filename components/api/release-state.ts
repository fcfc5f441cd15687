// The release state machine, pure: the image this update deploys, the delivery config and what
// the cluster runs now (a live observation, read per API before the update) in; which release is
// active, which waits in preview, and whether Argo may promote, out. It fails closed: when the
// live state cannot be read, a blue-green release waits for a promotion by config.
import { releaseId, type PromotionSource } from "../release";
import type { DeliveryConfig } from "./delivery";

/** What the cluster runs for one API, read before the update. */
export type LiveRelease =
  /** The API server answered 404 for this API's Deployment or Rollout: the first release. */
  | { kind: "absent" }
  /** No answer to rely on: no cluster reachable, render mode, forbidden, anything unexpected. */
  | { kind: "unknown"; reason: string }
  | {
      kind: "live";
      /** Image of the ReplicaSet that serves production traffic (blue-green: the active selector; canary: stable). */
      active: string;
      /** Image of the newest earlier revision that ran another image: what a rollback returns to. */
      previous?: string;
      /** Image of the newest revision (the one in preview or in progress). */
      current?: string;
      /** status.phase of a Rollout (Healthy, Paused, Progressing, Degraded). */
      phase?: string;
      /** The controller aborted the newest revision (failed analysis or an operator's abort). */
      aborted?: boolean;
    };

export interface ReleaseInput {
  delivery: DeliveryConfig;
  /** Stack name, for the commands in the outputs. */
  stack: string;
  /** The image this update deploys. */
  candidate: string;
  live: LiveRelease;
  /** The candidate is a rollback the operator asked for (rollbackTo). */
  rollback: boolean;
}

export interface ReleaseState {
  strategy: DeliveryConfig["strategy"];
  /** Serves all traffic once this update settles; undefined when the live state is unknown. */
  active?: string;
  /** Deployed beside `active`, waiting for `promote` (blueGreen only). */
  preview?: string;
  /** The release before `active`, the one `rollbackTo` returns to. */
  previous?: string;
  /** Exact commands for the operator's next step. */
  promoteCommand?: string;
  rollbackCommand?: string;
  /**
   * blueGreen: why `active` may take traffic without waiting (recorded on the Rollout for the
   * policy pack): it already is active (or no Rollout exists yet), or the operator asked by
   * rollbackTo, promote or autoPromote. Unset: the release waits.
   */
  promotedBy?: PromotionSource;
  /** Said when the state is not what it seems: the live state was unknown, or Argo aborted the release. */
  note?: string;
}

/**
 * A new image waits in preview unless the operator named exactly this release in `promote`, or
 * asked for autoPromote or a rollback, or the cluster shows it already active or has no Rollout
 * yet. Because promotion is bound to a release id, the flag is never sticky: the next image has
 * another id and waits again, even though `promote` still holds the old one.
 */
export function releaseState(input: ReleaseInput): ReleaseState {
  const { delivery, candidate, live } = input;
  const stackFlag = `--stack ${input.stack}`;
  const rollbackCommand = (to: string) => rollbackCommandOf(input.stack, to);
  const serving = live.kind === "live" ? live.active : undefined;
  // The release this one follows: what serves now, or, when the candidate already serves, the one before it.
  const before =
    serving !== undefined && serving !== candidate ? serving : live.kind === "live" ? live.previous : undefined;
  const notes: string[] = [];
  if (live.kind === "unknown") {
    notes.push(`the live release could not be read (${live.reason})`);
  }

  let state: ReleaseState;
  if (delivery.strategy === "blueGreen") {
    // The operator's word first, also once it took effect: the same config on the same cluster
    // then records the same source, so an update after a promotion, or drift.yml's preview of it,
    // changes nothing.
    const promotedBy: PromotionSource | undefined = input.rollback
      ? "rollbackTo"
      : delivery.promote === releaseId(candidate)
        ? "promote"
        : live.kind === "absent" || serving === candidate
          ? "active"
          : delivery.autoPromote
            ? "autoPromote"
            : undefined;
    if (promotedBy) {
      state = { strategy: delivery.strategy, active: candidate, ...rollbackTo(before), promotedBy };
    } else {
      if (live.kind === "unknown") {
        notes.push("so the release waits in preview until `promote` names it");
      }
      state = {
        strategy: delivery.strategy,
        // Unknown: nothing is claimed to serve; the note says why.
        ...(serving !== undefined ? { active: serving, rollbackCommand: rollbackCommand(serving) } : {}),
        preview: candidate,
        promoteCommand: `pulumi config set promote ${releaseId(candidate)} ${stackFlag} && pulumi up ${stackFlag}`,
      };
    }
  } else {
    state = { strategy: delivery.strategy, active: candidate, ...rollbackTo(before) };
  }

  // An aborted release does not serve, whatever the config says, until a new image or a retry.
  if (live.kind === "live" && live.aborted && live.current === candidate && serving !== candidate) {
    notes.push(
      `Argo Rollouts aborted release ${releaseId(candidate)}; ${serving} keeps serving until a new image or a retry`,
    );
    const { previous: _previous, rollbackCommand: _rollbackCommand, ...rest } = state;
    state = { ...rest, active: serving };
  }
  return notes.length > 0 ? { ...state, note: capitalize(notes.join(", ")) + "." } : state;

  function rollbackTo(to: string | undefined) {
    return to === undefined ? {} : { previous: to, rollbackCommand: rollbackCommand(to) };
  }
}

/** The operator's command to return to an earlier image. */
export const rollbackCommandOf = (stack: string, to: string): string =>
  `pulumi config set rollbackTo ${to} --stack ${stack} && pulumi up --stack ${stack}`;

/** Whether Argo may promote the release of this update on its own (blueGreen autoPromotionEnabled). */
export const promotes = (state: ReleaseState): boolean => state.promotedBy !== undefined;

export const capitalize = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

/** A Deployment or Rollout and the ReplicaSets it owns, as the API server returns them. */
export interface WorkloadObservation {
  workload: {
    kind: string;
    metadata: { name: string; namespace?: string; uid?: string; generation?: number };
    spec?: WorkloadSpec;
    status?: WorkloadStatus;
  };
  replicaSets: ReplicaSetObservation[];
  /** The app's container in the pod template. */
  container: string;
}

/** The fields of a Deployment's or Rollout's spec that a release is read from. */
export interface WorkloadSpec {
  selector?: { matchLabels?: Record<string, string> };
  strategy?: { canary?: { steps?: unknown[] } };
}

/**
 * The fields of a Deployment's or Rollout's status that a release is read from; all but the
 * generation are a Rollout's.
 */
export interface WorkloadStatus {
  /** A Deployment writes a number, Argo Rollouts a string. */
  observedGeneration?: number | string;
  currentPodHash?: string;
  stableRS?: string;
  phase?: string;
  message?: string;
  abort?: boolean;
  currentStepIndex?: number;
  pauseConditions?: Array<{ reason?: string }>;
  blueGreen?: {
    activeSelector?: string;
    previewSelector?: string;
    prePromotionAnalysisRunStatus?: { status?: string };
  };
  canary?: { weights?: { canary?: { weight?: number } } };
}

export interface ReplicaSetObservation {
  metadata: {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Array<{ uid: string }>;
  };
  spec?: {
    template?: {
      metadata?: { annotations?: Record<string, string> };
      spec?: { containers?: Array<{ name: string; image?: string }> };
    };
  };
}

const ROLLOUT = { hashLabel: "rollouts-pod-template-hash", revision: "rollout.argoproj.io/revision" };
const DEPLOYMENT = { hashLabel: "pod-template-hash", revision: "deployment.kubernetes.io/revision" };

/**
 * Which release serves, from the controller's own record: a Rollout's status (the active
 * selector of blue-green, the stable ReplicaSet of canary, the newest pod hash, abort) and the
 * images of the ReplicaSets it owns. A Deployment serves its newest revision.
 */
export function observeRelease({ workload, replicaSets, container }: WorkloadObservation): LiveRelease {
  const keys = workload.kind === "Rollout" ? ROLLOUT : DEPLOYMENT;
  const owned = replicaSets
    .filter(
      (rs) =>
        workload.metadata.uid === undefined ||
        rs.metadata.ownerReferences?.some((o) => o.uid === workload.metadata.uid),
    )
    .map((rs) => ({
      hash: rs.metadata.labels?.[keys.hashLabel],
      revision: Number(rs.metadata.annotations?.[keys.revision] ?? 0),
      image: rs.spec?.template?.spec?.containers?.find((c) => c.name === container)?.image,
    }))
    .sort((a, b) => b.revision - a.revision);
  const status = workload.status ?? {};
  const currentHash = workload.kind === "Rollout" ? status.currentPodHash : owned[0]?.hash;
  const activeHash = workload.kind === "Rollout" ? (status.blueGreen?.activeSelector ?? status.stableRS) : currentHash;
  const active = owned.find((rs) => activeHash !== undefined && rs.hash === activeHash);
  if (!active?.image) {
    return {
      kind: "unknown",
      reason: `${workload.kind} ${workload.metadata.name} reports no active ReplicaSet with a ${container} container`,
    };
  }
  const previous = owned.find(
    (rs) => rs.revision < active.revision && rs.image !== undefined && rs.image !== active.image,
  );
  const current = owned.find((rs) => rs.hash === currentHash);
  return {
    kind: "live",
    active: active.image,
    ...(previous ? { previous: previous.image } : {}),
    ...(current?.image ? { current: current.image } : {}),
    ...(status.phase ? { phase: status.phase } : {}),
    ...(status.abort === true ? { aborted: true } : {}),
  };
}
