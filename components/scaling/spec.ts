// Pure builders for autoscaling (autoscaling/v2 HPA) and voluntary-disruption limits (PDB).
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { Labels } from "../names";

/** autoscaling/v2 HPA settings; utilizations are percent of the pods' requests. */
export interface AutoscalingConfig {
  minReplicas: number;
  maxReplicas: number;
  cpuUtilization: number;
  memoryUtilization: number;
}

export interface ScaleTarget {
  apiVersion: pulumi.Input<string>;
  kind: pulumi.Input<string>;
  name: pulumi.Input<string>;
}

export function hpaSpec(
  autoscaling: AutoscalingConfig,
  target: ScaleTarget,
): k8s.types.input.autoscaling.v2.HorizontalPodAutoscalerSpec {
  const utilization = (name: "cpu" | "memory", averageUtilization: number) => ({
    type: "Resource",
    resource: { name, target: { type: "Utilization", averageUtilization } },
  });
  return {
    scaleTargetRef: target,
    minReplicas: autoscaling.minReplicas,
    maxReplicas: autoscaling.maxReplicas,
    metrics: [utilization("cpu", autoscaling.cpuUtilization), utilization("memory", autoscaling.memoryUtilization)],
    behavior: {
      // Scale up fast (double per minute), scale down slowly (a tenth per minute, after five
      // quiet minutes) so a short lull does not throw away capacity the next burst needs.
      scaleUp: { stabilizationWindowSeconds: 60, policies: [{ type: "Percent", value: 100, periodSeconds: 60 }] },
      scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: "Percent", value: 10, periodSeconds: 60 }] },
    },
  };
}

export function pdbSpec(selector: Labels, maxUnavailable: number): k8s.types.input.policy.v1.PodDisruptionBudgetSpec {
  return {
    maxUnavailable,
    selector: { matchLabels: selector },
    // Pods that never became healthy must not block node drains.
    unhealthyPodEvictionPolicy: "AlwaysAllow",
  };
}
