import * as k8s from "@pulumi/kubernetes";
import { explained } from "../checkers";
import * as pulumi from "@pulumi/pulumi";
import type { Labels, Naming } from "../names";
import { hpaSpec, pdbSpec, type AutoscalingConfig } from "./spec";

/** The object whose pods are scaled and protected: a Deployment or an Argo Rollout. */
export type ScaledWorkload = k8s.apps.v1.Deployment | k8s.apiextensions.CustomResource;

export interface ScalingArgs {
  naming: Naming;
  namespace: pulumi.Input<string>;
  target: ScaledWorkload;
  /** The target's pod selector, which the PodDisruptionBudget protects. */
  selector: Labels;
  /** Unset: no HPA; the target's own replica count stands. */
  autoscaling?: AutoscalingConfig;
  /** Pods a voluntary disruption (node drain) may take down at once. Default: 1. */
  maxUnavailable?: number;
}

/** The API's HorizontalPodAutoscaler (when enabled) and PodDisruptionBudget. */
export class Scaling extends pulumi.ComponentResource {
  /** Unset without autoscaling. */
  readonly hpa?: k8s.autoscaling.v2.HorizontalPodAutoscaler;
  readonly pdb: k8s.policy.v1.PodDisruptionBudget;

  constructor(name: string, args: ScalingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("api-stack:index:Scaling", name, {}, opts);
    const { naming, namespace, target } = args;
    const metadata = { name: naming.name("api"), namespace, labels: naming.labels("api") };
    if (args.autoscaling) {
      this.hpa = new k8s.autoscaling.v2.HorizontalPodAutoscaler(
        name,
        {
          metadata: {
            ...metadata,
            annotations: pulumi.output(target.kind).apply((kind) => (kind === "Rollout" ? explained("hpaTarget") : {})),
          },
          spec: hpaSpec(args.autoscaling, {
            apiVersion: target.apiVersion,
            kind: target.kind,
            name: target.metadata.name,
          }),
        },
        { parent: this },
      );
    }
    this.pdb = new k8s.policy.v1.PodDisruptionBudget(
      name,
      { metadata, spec: pdbSpec(args.selector, args.maxUnavailable ?? 1) },
      { parent: this },
    );
    this.registerOutputs({ hpa: this.hpa, pdb: this.pdb });
  }
}
