// Pure builders for autoscaling (autoscaling/v2 HPA) and voluntary-disruption limits (PDB).
import type * as k8s from "@pulumi/kubernetes";
import type { AutoscalingConfig } from "../../config";
import type { Naming } from "../names";

export interface ScaleTarget {
  apiVersion: string;
  kind: string;
  name: string;
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

export function pdbSpec(naming: Naming, maxUnavailable: number): k8s.types.input.policy.v1.PodDisruptionBudgetSpec {
  return {
    maxUnavailable,
    selector: { matchLabels: naming.selector("api") },
    // Pods that never became healthy must not block node drains.
    unhealthyPodEvictionPolicy: "AlwaysAllow",
  };
}
