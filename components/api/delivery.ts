// Pure builders for progressive delivery: the Argo Rollout that replaces the API Deployment
// (same pod template) and its AnalysisTemplates. Canary traffic is shifted by Argo's NGINX
// router on the API's Ingress; the analyses see only the new release's own pods and never count
// "no data" as a pass; the blue-green smoke test runs the app's own smoke command against the
// preview (docs/traffic.md).
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { appSelector, errorRatio, latencyQuantile, releaseMatcher } from "../monitoring/series";
import type { Naming } from "../names";
import { SERVICE_PORT } from "../network/spec";

export const ROLLOUT_API_VERSION = "argoproj.io/v1alpha1";

export interface AnalysisConfig {
  /** Prometheus the analysis queries, an http(s) URL. */
  prometheusAddress: string;
  /** The new release fails analysis above this share of 5xx responses (0..1). */
  maxErrorRatio: number;
  /** The new release fails analysis when its p99 response time exceeds this, in seconds. */
  maxLatencyP99Seconds: number;
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
      /**
       * Before promotion, run this command of the app's image against the preview Service, with
       * the preview's base URL as its last argument; a failure aborts the release. Unset: none.
       */
      prePromotionAnalysis?: { command: string[] };
      /** Watch the 5xx ratio and p99 latency after promotion and roll back above them. Unset: no analysis. */
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
  latencyTemplate: string;
}

export function rolloutNames(naming: Naming, delivery: RolloutDelivery): RolloutNames {
  return {
    main: naming.name("api"),
    ingress: naming.name("api"),
    candidate: naming.name("api", delivery.strategy === "blueGreen" ? "preview" : "canary"),
    smokeTemplate: naming.name("api", "smoke"),
    errorRateTemplate: naming.name("api", "error-rate"),
    latencyTemplate: naming.name("api", "latency"),
  };
}

export interface RolloutInput {
  naming: Naming;
  namespace: string;
  delivery: RolloutDelivery;
  /** The count the Rollout is created with; under an HPA, its minReplicas, as for a Deployment. */
  replicas: number;
  template: PodTemplateSpec;
  /** blueGreen: whether Argo may promote this update's release without waiting (releaseState). */
  promoted: pulumi.Input<boolean>;
}

export function rolloutSpec(input: RolloutInput): Record<string, unknown> {
  const { naming, delivery } = input;
  const names = rolloutNames(naming, delivery);
  const analysis = {
    templates: [{ templateName: names.errorRateTemplate }, { templateName: names.latencyTemplate }],
    args: [releaseHashArg],
  };
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
                args: [{ name: "url", value: `http://${names.candidate}.${input.namespace}.svc:${SERVICE_PORT}` }],
              },
            }
          : {}),
        ...(delivery.postPromotionAnalysis ? { postPromotionAnalysis: analysis } : {}),
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
        analysis: { ...analysis, startingStep: delivery.steps.findIndex((step) => "setWeight" in step) + 1 },
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

const releaseHashArg = { name: "release-hash", valueFrom: { podTemplateHashValue: "Latest" } };

/** Where the smoke command's last argument comes from: the preview's base URL, an argument of the analysis. */
export const SMOKE_URL_ARG = "{{args.url}}";
/**
 * How long the smoke Job may take, from its start to its pod's exit, before it counts as failed;
 * a pod that waits for a node spends it too (Job activeDeadlineSeconds).
 */
export const SMOKE_TIMEOUT_SECONDS = 120;

/**
 * Smoke test of the preview: one Job that runs the app's own smoke command (its image, its pod
 * template: the same locked-down pod as every app pod, the same settings and secrets), which
 * walks a key user flow through the preview Service. The Job's success is the measurement's; one
 * failure fails the analysis and aborts the release. `pod`'s command ends with SMOKE_URL_ARG.
 */
export function smokeTemplateSpec(pod: PodTemplateSpec): Record<string, unknown> {
  return {
    args: [{ name: "url" }],
    metrics: [
      {
        name: "user-flow",
        failureLimit: 0,
        provider: {
          job: {
            // A failed flow is not retried: the release stops and the pod's log says which step broke.
            spec: { backoffLimit: 0, activeDeadlineSeconds: SMOKE_TIMEOUT_SECONDS, template: pod },
          },
        },
      },
    ],
  };
}

/** The analyses' timing: every measurement looks at the last `window` of traffic. */
export const RELEASE_ANALYSIS = {
  /** Before the first measurement: a few scrapes of the new pods, so a rate exists. */
  initialDelaySeconds: 60,
  intervalSeconds: 60,
  window: "2m",
  /** Measurements of a bounded check (blue-green post-promotion). */
  checkCount: 3,
} as const;

/** How long a bounded check (postPromotionAnalysis) takes, from its start to its last measurement. */
export const analysisCheckSeconds = (): number =>
  RELEASE_ANALYSIS.initialDelaySeconds + (RELEASE_ANALYSIS.checkCount - 1) * RELEASE_ANALYSIS.intervalSeconds;

/**
 * How long the previous release must keep running after a promotion for the post-promotion check
 * to roll back to it: until the check's last measurement, and one interval more for the run to
 * start after the switch and for the abort to switch the Service back.
 */
export const postPromotionScaleDownDelaySeconds = (): number =>
  analysisCheckSeconds() + RELEASE_ANALYSIS.intervalSeconds;

/** The new release's own series: its pods carry the hash the Rollout passes as `release-hash`. */
const releaseSelector = (naming: Naming, namespace: string) =>
  appSelector(namespace, naming.selector("api")["app.kubernetes.io/name"], releaseMatcher("{{args.release-hash}}"));

/**
 * Error-rate analysis: the share of 5xx responses served by the new release's pods, from the
 * app's `http_requests_total` (series labelled as components/monitoring/series.ts says).
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
  const query = errorRatio(releaseSelector(naming, namespace), RELEASE_ANALYSIS.window);
  return prometheusTemplate("error-rate", query, analysis.maxErrorRatio, analysis.prometheusAddress, count);
}

/** Latency analysis: the p99 response time of the new release's pods, in seconds; `count` as above. */
export function latencyTemplateSpec(
  naming: Naming,
  namespace: string,
  analysis: AnalysisConfig,
  count?: number,
): Record<string, unknown> {
  const query = latencyQuantile(0.99, releaseSelector(naming, namespace), RELEASE_ANALYSIS.window);
  return prometheusTemplate("latency-p99", query, analysis.maxLatencyP99Seconds, analysis.prometheusAddress, count);
}

/**
 * One Prometheus metric that passes at or below `max`. A measurement without traffic (no series,
 * or no requests in the window: NaN) is neither a pass nor a failure but inconclusive, and an
 * inconclusive run pauses the rollout for a human. A failed run aborts the release: a canary's
 * at its second measurement above `max` (it serves a share of the users, and one spike may pass),
 * a bounded check's at its first (after a promotion every user is on the new release).
 */
function prometheusTemplate(
  name: string,
  query: string,
  max: number,
  address: string,
  count: number | undefined,
): Record<string, unknown> {
  const measured = "len(result) == 1 && !isNaN(result[0])";
  return {
    args: [{ name: "release-hash" }],
    metrics: [
      {
        name,
        initialDelay: `${RELEASE_ANALYSIS.initialDelaySeconds}s`,
        interval: `${RELEASE_ANALYSIS.intervalSeconds}s`,
        ...(count === undefined ? {} : { count }),
        failureLimit: count === undefined ? 1 : 0,
        inconclusiveLimit: 0,
        successCondition: `${measured} && result[0] <= ${max}`,
        failureCondition: `${measured} && result[0] > ${max}`,
        provider: { prometheus: { address, query } },
      },
    ],
  };
}
