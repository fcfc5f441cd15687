import { strict as assert } from "node:assert";
import { hpaSpec } from "./spec";

describe("hpaSpec", () => {
  const target = { apiVersion: "argoproj.io/v1alpha1", kind: "Rollout", name: "api" };
  const autoscaling = {
    minReplicas: 2,
    maxReplicas: 4,
    cpuUtilization: 50,
    memoryUtilization: 60,
    stabilizationSeconds: { scaleUp: 60, scaleDown: 300 },
  };

  it("targets whatever workload it is given (Deployment now, Rollout later)", () => {
    const spec = hpaSpec(autoscaling, target) as any;
    assert.deepEqual(spec.scaleTargetRef, target);
    assert.equal(spec.metrics[0].resource.target.averageUtilization, 50);
    assert.equal(spec.metrics[1].resource.target.averageUtilization, 60);
  });

  it("scales on CPU alone unless given a memory target", () => {
    const { memoryUtilization: _memory, ...cpuOnly } = autoscaling;
    const spec = hpaSpec(cpuOnly, target) as any;
    assert.deepEqual(
      spec.metrics.map((m: any) => m.resource.name),
      ["cpu"],
    );
  });

  it("waits the stabilization windows it is given, then scales at a fixed rate", () => {
    const spec = hpaSpec({ ...autoscaling, stabilizationSeconds: { scaleUp: 0, scaleDown: 30 } }, target) as any;
    assert.deepEqual(spec.behavior, {
      scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: "Percent", value: 100, periodSeconds: 60 }] },
      scaleDown: { stabilizationWindowSeconds: 30, policies: [{ type: "Percent", value: 10, periodSeconds: 60 }] },
    });
  });
});
