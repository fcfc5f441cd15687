import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { AutoscalingConfig } from "../../config";
import type { Naming } from "../names";
import { hpaSpec, pdbSpec, type ScaleTarget } from "./spec";

export interface ScalingArgs {
  naming: Naming;
  namespace: pulumi.Input<string>;
  target: ScaleTarget;
  autoscaling?: AutoscalingConfig;
  maxUnavailable: number;
}

/** The API's HorizontalPodAutoscaler (when enabled) and PodDisruptionBudget. */
export class Scaling extends pulumi.ComponentResource {
  constructor(name: string, args: ScalingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("api-stack:index:Scaling", name, {}, opts);
    const { naming, namespace } = args;
    const metadata = { name: naming.name("api"), namespace, labels: naming.labels("api") };
    if (args.autoscaling) {
      new k8s.autoscaling.v2.HorizontalPodAutoscaler(
        name,
        { metadata, spec: hpaSpec(args.autoscaling, args.target) },
        { parent: this },
      );
    }
    new k8s.policy.v1.PodDisruptionBudget(name, { metadata, spec: pdbSpec(naming, args.maxUnavailable) }, { parent: this });
    this.registerOutputs({});
  }
}
