// The Rollout path of Api (`blueGreen`, `canary`): Argo Rollouts itself when the stack installs
// it, the Service of the new release, the analyses, the Rollout, and the wait for its release.
// Every object is a child of the Api component under the names it always had, so URNs do not move.
import * as k8s from "@pulumi/kubernetes";
import { explained } from "../checkers";
import * as pulumi from "@pulumi/pulumi";
import type { Naming } from "../names";
import { ROLLOUT_SERVICE_IGNORE_CHANGES, serviceSpec } from "../network/spec";
import { PROMOTION_ANNOTATION, promotionRecord } from "../release";
import type { PodEnvironment } from "../settings";
import type { ReleaseReader, ReleaseTarget } from "./cluster-reader";
import {
  errorRateTemplateSpec,
  latencyTemplateSpec,
  RELEASE_ANALYSIS,
  ROLLOUT_API_VERSION,
  rolloutNames,
  rolloutSpec,
  smokeTemplateSpec,
  type AnalysisConfig,
  type DeliveryConfig,
} from "./delivery";
import { promotes, type ReleaseState } from "./release-state";
import type { ReleaseOutcome } from "./release-wait";

type RolloutDelivery = Exclude<DeliveryConfig, { strategy: "rolling" }>;

export interface ApiRolloutInput {
  naming: Naming;
  namespace: string;
  delivery: RolloutDelivery;
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  template: k8s.types.input.core.v1.PodTemplateSpec;
  /** The smoke test's pod: the app's pod template running `command` (blueGreen prePromotionAnalysis). */
  smokePod: (command: string[]) => k8s.types.input.core.v1.PodTemplateSpec;
  image: pulumi.Input<string>;
  env: PodEnvironment;
  /** The count the Rollout is created with (under the HPA, its minReplicas). */
  replicas: number;
  /** The release state this update plans (which release promotes). */
  planned: pulumi.Output<ReleaseState>;
  target: ReleaseTarget;
  readRelease: ReleaseReader;
  argoRolloutsManifest?: string;
  gates: pulumi.Resource[];
  resourceOptions: pulumi.CustomResourceOptions;
}

export interface ApiRollout {
  rollout: k8s.apiextensions.CustomResource;
  /** How the release settled, when this update waits for it (`up`, with a cluster to read). */
  outcome?: pulumi.Output<ReleaseOutcome>;
}

export function apiRollout(parent: pulumi.Resource, name: string, input: ApiRolloutInput): ApiRollout {
  const { naming, namespace, delivery, metadata } = input;
  const names = rolloutNames(naming, delivery);
  const argo = input.argoRolloutsManifest
    ? [new k8s.yaml.v2.ConfigFile(`${name}-argo-rollouts`, { file: input.argoRolloutsManifest }, { parent })]
    : [];

  // The new release's Service has endpoints only while a release is in flight, so the provider
  // must not wait for them; its selector hash is Argo's to write.
  new k8s.core.v1.Service(
    `${name}-${delivery.strategy === "blueGreen" ? "preview" : "canary"}`,
    {
      metadata: {
        ...metadata,
        name: names.candidate,
        labels: naming.stableLabels("api"),
        annotations: { "pulumi.com/skipAwait": "true", ...explained("serviceTargets") },
      },
      spec: serviceSpec(naming),
    },
    { parent, ignoreChanges: ROLLOUT_SERVICE_IGNORE_CHANGES },
  );

  const templates: pulumi.Resource[] = [];
  const analysisTemplate = (templateName: string, spec: Record<string, unknown>) =>
    templates.push(
      new k8s.apiextensions.CustomResource(
        `${name}-${templateName}`,
        {
          apiVersion: ROLLOUT_API_VERSION,
          kind: "AnalysisTemplate",
          metadata: { ...metadata, name: templateName },
          spec,
        },
        { parent, dependsOn: argo },
      ),
    );
  // The error-rate and latency analyses of the new release: for the whole canary, or as a bounded
  // check after a blue-green promotion.
  const analyses = (analysis: AnalysisConfig, count?: number) => {
    analysisTemplate(names.errorRateTemplate, errorRateTemplateSpec(naming, namespace, analysis, count));
    analysisTemplate(names.latencyTemplate, latencyTemplateSpec(naming, namespace, analysis, count));
  };
  if (delivery.strategy === "blueGreen" && delivery.prePromotionAnalysis) {
    analysisTemplate(names.smokeTemplate, smokeTemplateSpec(input.smokePod(delivery.prePromotionAnalysis.command)));
  }
  if (delivery.strategy === "canary") {
    analyses(delivery.analysis);
  } else if (delivery.postPromotionAnalysis) {
    analyses(delivery.postPromotionAnalysis, RELEASE_ANALYSIS.checkCount);
  }

  // Names its Services literally (rolloutNames), not through their outputs: a Rollout that waited
  // for the Service would deadlock with a Service waiting for the Rollout's pods.
  const rollout = new k8s.apiextensions.CustomResource(
    name,
    {
      apiVersion: ROLLOUT_API_VERSION,
      kind: "Rollout",
      metadata: {
        ...metadata,
        annotations: pulumi
          .all([input.planned, input.image])
          .apply(([release, candidate]): Record<string, string> =>
            release.promotedBy ? { [PROMOTION_ANNOTATION]: promotionRecord(release.promotedBy, candidate) } : {},
          ),
      },
      spec: rolloutSpec({
        naming,
        namespace,
        delivery,
        replicas: input.replicas,
        template: input.template,
        promoted: input.planned.apply(promotes),
      }),
    },
    { ...input.resourceOptions, parent, dependsOn: [...input.gates, ...argo, ...templates] },
  );

  // Only once the update applied the Rollout, and never in a preview, which applies nothing.
  const awaitRelease = input.readRelease.awaitRelease;
  if (!awaitRelease || pulumi.runtime.isDryRun()) {
    return { rollout };
  }
  const outcome = pulumi
    .all([rollout.id, input.image, input.env.settingsChecksum, input.planned])
    .apply(([, image, settingsChecksum, plan]) =>
      awaitRelease(
        input.target,
        {
          image,
          settingsChecksum,
          waitsForPromotion: delivery.strategy === "blueGreen" && !promotes(plan),
          prePromotionAnalysis: delivery.strategy === "blueGreen" && delivery.prePromotionAnalysis !== undefined,
        },
        {
          deadlineSeconds: delivery.releaseTimeoutSeconds,
          onProgress: (status) => void pulumi.log.info(status, rollout),
        },
      ),
    );
  return { rollout, outcome };
}
