// Pure builders for progressive delivery: the Argo Rollout that replaces the API Deployment
// (same pod template) and its AnalysisTemplates. Canary traffic is shifted by Argo's NGINX
// router on the API's Ingress; the error-rate analysis sees only the new release's own pods and
// never counts "no data" as a pass (docs/traffic.md).
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { Naming } from "../names";
import { HEALTH } from "../workload/spec";
import { SERVICE_PORT } from "../network/spec";

export const ROLLOUT_API_VERSION = "argoproj.io/v1alpha1";

export interface AnalysisConfig {
  /** Prometheus the analysis queries, an http(s) URL. */
  prometheusAddress: string;
  /** The new release fails analysis above this share of 5xx responses (0..1). */
  maxErrorRatio: number;
}

/** A timed pause: `pulumi up` waits for the release, so no step may wait for a human. */
export type CanaryStep = { setWeight: number } | { pause: { duration: string } };

/** How a new image reaches users. `rolling` is a plain Deployment; the others an Argo Rollout. */
export type DeliveryConfig =
  | { strategy: "rolling" }
  | {
      strategy: "blueGreen";
      /** Release id (components/release.ts) the operator promoted, if any. */
      promote?: string;
      /** Promote every release without waiting for `promote`. */
      autoPromote: boolean;
      /** How long the previous release keeps running after a promotion. */
      scaleDownDelaySeconds: number;
      /** Smoke-test the preview Service before promotion. */
      prePromotionAnalysis: boolean;
      /** Watch the 5xx ratio after promotion and roll back above it. Unset: no analysis. */
      postPromotionAnalysis?: AnalysisConfig;
      /** How long `pulumi up` waits for the release to be active, or ready in preview. */
      releaseTimeoutSeconds: number;
    }
  | {
      strategy: "canary";
      steps: CanaryStep[];
      analysis: AnalysisConfig;
      /** How long `pulumi up` waits for the release to become stable. */
      releaseTimeoutSeconds: number;
    };

type PodTemplateSpec = k8s.types.input.core.v1.PodTemplateSpec;
export type RolloutDelivery = Exclude<DeliveryConfig, { strategy: "rolling" }>;

export interface RolloutNames {
  /** Service that sends production traffic (blueGreen: active; canary: stable). */
  main: string;
  /** canary: the Ingress whose traffic Argo's NGINX router splits (the Network's, routing to `main`). */
  ingress: string;
  /** Service that reaches only the new release (blueGreen: preview; canary: canary). */
  candidate: string;
  smokeTemplate: string;
  errorRateTemplate: string;
}

export function rolloutNames(naming: Naming, delivery: RolloutDelivery): RolloutNames {
  return {
    main: naming.name("api"),
    ingress: naming.name("api"),
    candidate: naming.name("api", delivery.strategy === "blueGreen" ? "preview" : "canary"),
    smokeTemplate: naming.name("api", "smoke"),
    errorRateTemplate: naming.name("api", "error-rate"),
  };
}

export interface RolloutInput {
  naming: Naming;
  namespace: string;
  delivery: RolloutDelivery;
  /** Unset when an autoscaler owns the count (the Rollout's scale subresource), as for a Deployment. */
  replicas?: number;
  template: PodTemplateSpec;
  /** blueGreen: whether Argo may promote this update's release without waiting (releaseState). */
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
                args: [
                  {
                    name: "url",
                    value: `http://${names.candidate}.${input.namespace}.svc:${SERVICE_PORT}${HEALTH.ready}`,
                  },
                ],
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
        // Without a router both Services are pinned to their ReplicaSets and the Ingress, which
        // routes to the stable one, never reaches the canary. The NGINX router writes a canary
        // Ingress (canary-weight = the step's weight) beside the stable one.
        trafficRouting: { nginx: { stableIngress: names.ingress } },
        steps: delivery.steps,
        // Watches the new release for the whole rollout, from its first traffic on.
        analysis: { ...errorRate, startingStep: delivery.steps.findIndex((step) => "setWeight" in step) + 1 },
      },
    };
  }
  return {
    ...(input.replicas === undefined ? {} : { replicas: input.replicas }),
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

/** The error-rate analysis' timing: every measurement looks at the last `window` of traffic. */
export const ERROR_RATE = {
  /** Before the first measurement: a few scrapes of the new pods, so a rate exists. */
  initialDelaySeconds: 60,
  intervalSeconds: 60,
  window: "2m",
  /** Measurements of a bounded check (blue-green post-promotion). */
  checkCount: 3,
} as const;

/** How long a bounded error-rate check (postPromotionAnalysis) takes. */
export const errorRateCheckSeconds = (): number =>
  ERROR_RATE.initialDelaySeconds + (ERROR_RATE.checkCount - 1) * ERROR_RATE.intervalSeconds;

/**
 * Error-rate analysis: the share of 5xx responses served by the new release's pods, from the
 * app's `http_requests_total` counter scraped with the pod label rollouts-pod-template-hash.
 * A measurement without traffic (no series, or no requests in the window: 0/0) is neither a
 * pass nor a failure but inconclusive, and an inconclusive run pauses the rollout for a human.
 * Two measurements above the threshold fail it, which aborts the release.
 *
 * `count` unset: measures until the rollout ends (canary background analysis). A count: a
 * bounded check that completes (blue-green post-promotion; an unbounded run there would never
 * let the release finish).
 */
export function errorRateTemplateSpec(
  naming: Naming,
  namespace: string,
  analysis: AnalysisConfig,
  count?: number,
): Record<string, unknown> {
  const selector = [
    `namespace="${namespace}"`,
    `app_kubernetes_io_name="${naming.selector("api")["app.kubernetes.io/name"]}"`,
    'rollouts_pod_template_hash="{{args.release-hash}}"',
  ].join(",");
  const rate = (extra: string) => `sum(rate(http_requests_total{${selector}${extra}}[${ERROR_RATE.window}]))`;
  // No 5xx series at all is a ratio of 0, not a missing one; no requests at all stays missing.
  const ratio = `(${rate(`,status=~"5.."`)} or vector(0)) / ${rate("")}`;
  const measured = "len(result) == 1 && !isNaN(result[0])";
  return {
    args: [{ name: "release-hash" }],
    metrics: [
      {
        name: "error-rate",
        initialDelay: `${ERROR_RATE.initialDelaySeconds}s`,
        interval: `${ERROR_RATE.intervalSeconds}s`,
        ...(count === undefined ? {} : { count }),
        failureLimit: 1,
        inconclusiveLimit: 0,
        successCondition: `${measured} && result[0] <= ${analysis.maxErrorRatio}`,
        failureCondition: `${measured} && result[0] > ${analysis.maxErrorRatio}`,
        provider: { prometheus: { address: analysis.prometheusAddress, query: ratio } },
      },
    ],
  };
}
