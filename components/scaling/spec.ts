// Pure builders for autoscaling (autoscaling/v2 HPA) and voluntary-disruption limits (PDB).
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { Labels } from "../names";

/** autoscaling/v2 HPA settings; utilizations are percent of the pods' requests. */
export interface AutoscalingConfig {
  minReplicas: number;
  maxReplicas: number;
  cpuUtilization: number;
  /** Unset: CPU only (a memory target that the pods' steady memory sits near would pin the count). */
  memoryUtilization?: number;
  /** How long a higher (lower) count must be recommended before pods are added (removed). */
  stabilizationSeconds: { scaleUp: number; scaleDown: number };
}

/** How fast the HPA may change the count once its stabilization window has passed. */
export const SCALING_RATE = {
  /** Double per minute: capacity arrives within a minute or two of a sustained rise. */
  scaleUp: { type: "Percent", value: 100, periodSeconds: 60 },
  /** A tenth per minute (at least one pod): the count comes down gently. */
  scaleDown: { type: "Percent", value: 10, periodSeconds: 60 },
} as const;

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
    metrics: [
      utilization("cpu", autoscaling.cpuUtilization),
      ...(autoscaling.memoryUtilization === undefined ? [] : [utilization("memory", autoscaling.memoryUtilization)]),
    ],
    behavior: {
      // Scale up fast, scale down slowly (by default after five quiet minutes), so a short lull
      // does not throw away capacity the next burst needs.
      scaleUp: {
        stabilizationWindowSeconds: autoscaling.stabilizationSeconds.scaleUp,
        policies: [SCALING_RATE.scaleUp],
      },
      scaleDown: {
        stabilizationWindowSeconds: autoscaling.stabilizationSeconds.scaleDown,
        policies: [SCALING_RATE.scaleDown],
      },
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
