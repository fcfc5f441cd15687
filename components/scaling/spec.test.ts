import { strict as assert } from "node:assert";
import { hpaSpec } from "./spec";

describe("hpaSpec", () => {
  it("targets whatever workload it is given (Deployment now, Rollout later)", () => {
    const target = { apiVersion: "argoproj.io/v1alpha1", kind: "Rollout", name: "api" };
    const spec = hpaSpec({ minReplicas: 2, maxReplicas: 4, cpuUtilization: 50, memoryUtilization: 60 }, target) as any;
    assert.deepEqual(spec.scaleTargetRef, target);
    assert.equal(spec.metrics[0].resource.target.averageUtilization, 50);
    assert.equal(spec.metrics[1].resource.target.averageUtilization, 60);
  });
});
