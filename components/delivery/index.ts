import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../../config";
import type { Naming } from "../names";
import { serviceSpec } from "../network/spec";
import type { ScaleTarget } from "../scaling/spec";
import { deploymentSpec } from "../workload/spec";
import {
  errorRateTemplateSpec,
  PROMOTION_ANNOTATION,
  releaseId,
  releaseState,
  ROLLOUT_API_VERSION,
  rolloutNames,
  rolloutSpec,
  smokeTemplateSpec,
  type ReleaseState,
} from "./spec";

export interface DeliveryArgs {
  config: StackConfig;
  naming: Naming;
  namespace: string;
  template: k8s.types.input.core.v1.PodTemplateSpec;
  /** The image this update deploys (digest-pinned). */
  candidate: pulumi.Input<string>;
  /** The release active after the previous update, from the stack's own last outputs. */
  previousActive: pulumi.Input<string | undefined>;
  /** Resources the API waits for (migrations and their predecessors). */
  gates: pulumi.Resource[];
}

/**
 * How a new image reaches users. `rolling`: a Deployment. `blueGreen` and `canary`: an Argo
 * Rollout with the Service for the new release, its AnalysisTemplates and, when asked, Argo
 * Rollouts itself. The main Service (active/stable) belongs to Network; Argo adds its
 * `rollouts-pod-template-hash` selector, which Pulumi neither declares nor diffs.
 */
export class Delivery extends pulumi.ComponentResource {
  readonly scaleTarget: ScaleTarget;
  readonly release: pulumi.Output<ReleaseState>;

  constructor(name: string, args: DeliveryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("api-stack:index:Delivery", name, {}, opts);
    const { config, naming, namespace } = args;
    const { delivery } = config;
    const apiName = naming.name("api");
    const metadata = { name: apiName, namespace, labels: naming.labels("api") };
    // The HPA owns the replica count once it exists; the config value only seeds it.
    const replicaOwner = config.autoscaling ? { ignoreChanges: ["spec.replicas"] } : {};

    this.release = pulumi
      .all([args.candidate, args.previousActive])
      .apply(([candidate, previousActive]) =>
        releaseState({ delivery, stack: config.stack, candidate, previousActive, rollback: config.rollbackTo !== undefined }),
      );

    if (delivery.strategy === "rolling") {
      this.scaleTarget = { apiVersion: "apps/v1", kind: "Deployment", name: apiName };
      new k8s.apps.v1.Deployment(
        name,
        {
          metadata,
          spec: deploymentSpec({ naming, component: "api", replicas: config.api.replicas, template: args.template }),
        },
        { parent: this, dependsOn: args.gates, ...replicaOwner },
      );
      this.registerOutputs({ release: this.release });
      return;
    }

    this.scaleTarget = { apiVersion: ROLLOUT_API_VERSION, kind: "Rollout", name: apiName };
    const names = rolloutNames(naming, delivery);
    let argo: pulumi.Resource[] = [];
    if (config.argoRolloutsManifest) {
      argo = [new k8s.yaml.v2.ConfigFile(`${name}-argo-rollouts`, { file: config.argoRolloutsManifest }, { parent: this })];
    }

    // The new release's Service has endpoints only while a release is in flight, so the
    // provider must not wait for them; its selector hash is Argo's to write.
    new k8s.core.v1.Service(
      `${name}-${delivery.strategy === "blueGreen" ? "preview" : "canary"}`,
      {
        metadata: {
          name: names.candidate,
          namespace,
          labels: naming.labels("api"),
          annotations: { "pulumi.com/skipAwait": "true" },
        },
        spec: serviceSpec(naming),
      },
      { parent: this },
    );

    const templates: pulumi.Resource[] = [];
    const analysisTemplate = (templateName: string, spec: Record<string, unknown>) =>
      templates.push(
        new k8s.apiextensions.CustomResource(
          `${name}-${templateName}`,
          {
            apiVersion: ROLLOUT_API_VERSION,
            kind: "AnalysisTemplate",
            metadata: { name: templateName, namespace, labels: naming.labels("api") },
            spec,
          },
          { parent: this, dependsOn: argo },
        ),
      );
    if (delivery.strategy === "blueGreen" && delivery.prePromotionAnalysis) {
      analysisTemplate(names.smokeTemplate, smokeTemplateSpec());
    }
    const errorRate = delivery.strategy === "canary" ? delivery.analysis : delivery.postPromotionAnalysis;
    if (errorRate) {
      analysisTemplate(names.errorRateTemplate, errorRateTemplateSpec(naming, namespace, errorRate));
    }

    // Named literally, not through the Services' outputs: a Rollout that waited for the
    // Service would deadlock with a Service waiting for the Rollout's pods.
    new k8s.apiextensions.CustomResource(
      name,
      {
        apiVersion: ROLLOUT_API_VERSION,
        kind: "Rollout",
        metadata: {
          ...metadata,
          annotations: pulumi
            .all([this.release, args.candidate])
            .apply(([release, candidate]): Record<string, string> =>
              release.promotedBy ? { [PROMOTION_ANNOTATION]: `${release.promotedBy}:${releaseId(candidate)}` } : {},
            ),
        },
        spec: rolloutSpec({
          naming,
          namespace,
          delivery,
          replicas: config.api.replicas,
          template: args.template,
          promoted: this.release.apply((release) => release.preview === undefined),
        }),
      },
      { parent: this, dependsOn: [...args.gates, ...argo, ...templates], ...replicaOwner },
    );
    this.registerOutputs({ release: this.release });
  }
}
