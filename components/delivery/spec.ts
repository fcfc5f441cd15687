// Pure builders for progressive delivery: the Argo Rollout that replaces the API Deployment
// (same pod template), its AnalysisTemplates, and the release state machine that turns stack
// config into "promote now or wait" without a kubectl in sight.
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { AnalysisConfig, DeliveryConfig } from "../../config";
import type { Naming } from "../names";
import { HEALTH } from "../workload/spec";
import { SERVICE_PORT } from "../network/spec";

export const ROLLOUT_API_VERSION = "argoproj.io/v1alpha1";

type PodTemplateSpec = k8s.types.input.core.v1.PodTemplateSpec;
type RolloutDelivery = Exclude<DeliveryConfig, { strategy: "rolling" }>;

/** A release is named by the first 12 hex digits of its image digest, as in `promote`. */
export function releaseId(imageRef: string): string {
  const digest = /@sha256:([a-f0-9]{64})$/.exec(imageRef)?.[1];
  if (!digest) {
    throw new Error(`a release needs a digest-pinned image reference, got "${imageRef}"`);
  }
  return digest.slice(0, 12);
}

export interface ReleaseInput {
  delivery: DeliveryConfig;
  stack: string;
  /** The image this update deploys. */
  candidate: string;
  /** The release that was active after the previous update (its stack output), if any. */
  previousActive?: string;
  /** The candidate is a rollback the operator asked for. */
  rollback: boolean;
}

export interface ReleaseState {
  strategy: DeliveryConfig["strategy"];
  /** Serves all traffic once this update settles. */
  active: string;
  /** Deployed beside `active`, waiting for `promote` (blueGreen only). */
  preview?: string;
  /** The release before `active`, the one `rollbackTo` returns to. */
  previous?: string;
  /** Exact commands for the operator's next step. */
  promoteCommand?: string;
  rollbackCommand?: string;
  /**
   * blueGreen: why `active` may take traffic without waiting (the policy pack checks it): it
   * already was active (or is the first release), or the operator asked by rollbackTo, promote
   * or autoPromote.
   */
  promotedBy?: "active" | "rollbackTo" | "promote" | "autoPromote";
}

/** Rollout annotation recording what promoted its release, `<promotedBy>:<release id>`. */
export const PROMOTION_ANNOTATION = "api-stack.io/promotion";

/**
 * The blue-green promotion state machine. A new image waits in preview unless the operator
 * named exactly this release in `promote` (or asked for autoPromote, or a rollback). Because
 * promotion is bound to a release id, the flag is never sticky: the next image has another id
 * and waits again, even though `promote` still holds the old one.
 */
export function releaseState(input: ReleaseInput): ReleaseState {
  const { delivery, candidate, previousActive } = input;
  const stackFlag = `--stack ${input.stack}`;
  const isNew = previousActive !== undefined && previousActive !== candidate;
  const rollbackCommand = (to: string) => `pulumi config set rollbackTo ${to} ${stackFlag} && pulumi up ${stackFlag}`;

  let promotedBy: ReleaseState["promotedBy"];
  if (delivery.strategy === "blueGreen") {
    promotedBy = !isNew
      ? "active"
      : input.rollback
        ? "rollbackTo"
        : delivery.promote === releaseId(candidate)
          ? "promote"
          : delivery.autoPromote
            ? "autoPromote"
            : undefined;
    if (!promotedBy) {
      return {
        strategy: delivery.strategy,
        active: previousActive!,
        preview: candidate,
        promoteCommand: `pulumi config set promote ${releaseId(candidate)} ${stackFlag} && pulumi up ${stackFlag}`,
        rollbackCommand: rollbackCommand(previousActive!),
      };
    }
  }
  return {
    strategy: delivery.strategy,
    active: candidate,
    ...(isNew ? { previous: previousActive, rollbackCommand: rollbackCommand(previousActive) } : {}),
    ...(promotedBy ? { promotedBy } : {}),
  };
}

export interface RolloutNames {
  /** Service that sends production traffic (blueGreen: active; canary: stable). */
  main: string;
  /** Service that reaches only the new release (blueGreen: preview; canary: canary). */
  candidate: string;
  smokeTemplate: string;
  errorRateTemplate: string;
}

export function rolloutNames(naming: Naming, delivery: RolloutDelivery): RolloutNames {
  return {
    main: naming.name("api"),
    candidate: naming.name("api", delivery.strategy === "blueGreen" ? "preview" : "canary"),
    smokeTemplate: naming.name("api", "smoke"),
    errorRateTemplate: naming.name("api", "error-rate"),
  };
}

export interface RolloutInput {
  naming: Naming;
  namespace: string;
  delivery: RolloutDelivery;
  replicas: number;
  template: PodTemplateSpec;
  /** Whether this update promotes its release (from releaseState: no preview left). */
  promoted: pulumi.Input<boolean>;
}

export function rolloutSpec(input: RolloutInput): Record<string, unknown> {
  const { naming, delivery } = input;
  const names = rolloutNames(naming, delivery);
  const errorRate = { templates: [{ templateName: names.errorRateTemplate }], args: [canaryHashArg] };
  let strategy: Record<string, unknown>;
  if (delivery.strategy === "blueGreen") {
    strategy = {
      blueGreen: {
        activeService: names.main,
        previewService: names.candidate,
        autoPromotionEnabled: input.promoted,
        scaleDownDelaySeconds: delivery.scaleDownDelaySeconds,
        ...(delivery.prePromotionAnalysis
          ? {
              prePromotionAnalysis: {
                templates: [{ templateName: names.smokeTemplate }],
                args: [{ name: "url", value: `http://${names.candidate}.${input.namespace}.svc:${SERVICE_PORT}${HEALTH.ready}` }],
              },
            }
          : {}),
        ...(delivery.postPromotionAnalysis ? { postPromotionAnalysis: errorRate } : {}),
      },
    };
  } else {
    strategy = {
      canary: {
        stableService: names.main,
        canaryService: names.candidate,
        steps: delivery.steps,
        // Watches the new release for the whole rollout, from the first traffic step on.
        analysis: { ...errorRate, startingStep: 1 },
      },
    };
  }
  return {
    replicas: input.replicas,
    revisionHistoryLimit: 5,
    selector: { matchLabels: naming.selector("api") },
    template: input.template,
    strategy,
  };
}

const canaryHashArg = { name: "release-hash", valueFrom: { podTemplateHashValue: "Latest" } };

/** Smoke test: the preview must answer /health/ready with 200 three times in a row. */
export function smokeTemplateSpec(): Record<string, unknown> {
  return {
    args: [{ name: "url" }],
    metrics: [
      {
        name: "ready",
        count: 3,
        interval: "5s",
        failureLimit: 0,
        // The web provider fails a measurement on any non-2xx answer; 200 is all we require.
        successCondition: "true",
        provider: { web: { url: "{{args.url}}", timeoutSeconds: 5 } },
      },
    ],
  };
}

/**
 * Error-rate analysis: the share of 5xx responses served by the new release's pods, from the
 * app's `http_requests_total` counter scraped with the pod label rollouts-pod-template-hash.
 * No traffic yet is not a failure.
 */
export function errorRateTemplateSpec(naming: Naming, namespace: string, analysis: AnalysisConfig): Record<string, unknown> {
  const selector = `namespace="${namespace}",app_kubernetes_io_name="${naming.selector("api")["app.kubernetes.io/name"]}",rollouts_pod_template_hash="{{args.release-hash}}"`;
  const rate = (extra: string) => `sum(rate(http_requests_total{${selector}${extra}}[2m]))`;
  return {
    args: [{ name: "release-hash" }],
    metrics: [
      {
        name: "error-rate",
        interval: "1m",
        failureLimit: 1,
        successCondition: `len(result) == 0 || isNaN(result[0]) || result[0] <= ${analysis.maxErrorRatio}`,
        provider: {
          prometheus: {
            address: analysis.prometheusAddress,
            query: `${rate(`,status=~"5.."`)} / ${rate("")}`,
          },
        },
      },
    ],
  };
}
