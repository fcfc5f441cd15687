// Pure builders for progressive delivery: the Argo Rollout that replaces the API Deployment
// (same pod template) and its AnalysisTemplates.
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

export type CanaryStep = { setWeight: number } | { pause: { duration?: string } };

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
    }
  | { strategy: "canary"; steps: CanaryStep[]; analysis: AnalysisConfig };

type PodTemplateSpec = k8s.types.input.core.v1.PodTemplateSpec;
export type RolloutDelivery = Exclude<DeliveryConfig, { strategy: "rolling" }>;

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
