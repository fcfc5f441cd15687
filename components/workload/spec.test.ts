import { strict as assert } from "node:assert";
import { naming } from "../names";
import { deploymentSpec, podTemplate, type PodInput } from "./spec";

const n = naming({ appName: "api", environment: "dev", appVersion: "0.1.0", project: "api-stack" });
const ref = `127.0.0.1:5000/api@sha256:${"d".repeat(64)}`;
const base: PodInput = {
  naming: n,
  component: "worker",
  image: ref,
  resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "1Gi" } },
  configMapName: "api-settings",
  secretName: "api-secrets",
  serviceAccountName: "api",
  terminationGracePeriodSeconds: 30,
};

describe("podTemplate", () => {
  it("gives non-HTTP pods no ports, probes or scrape annotations", () => {
    const pod = podTemplate({ ...base, command: ["celery", "worker"] });
    const container = (pod.spec as any).containers[0];
    assert.equal(container.ports, undefined);
    assert.equal(container.livenessProbe, undefined);
    assert.deepEqual(container.command, ["celery", "worker"]);
    assert.deepEqual((pod.metadata as any).annotations, {});
  });

  it("locks down every pod the same way", () => {
    for (const component of ["api", "worker", "migration"] as const) {
      const pod = podTemplate({ ...base, component, http: component === "api" ? { preStopSleepSeconds: 3 } : undefined });
      const spec = pod.spec as any;
      assert.equal(spec.automountServiceAccountToken, false);
      assert.equal(spec.securityContext.runAsNonRoot, true);
      assert.equal(spec.securityContext.seccompProfile.type, "RuntimeDefault");
      assert.deepEqual(spec.containers[0].securityContext.capabilities, { drop: ["ALL"] });
      assert.equal(spec.containers[0].securityContext.readOnlyRootFilesystem, true);
    }
  });

  it("uses a named port so probes and the Service follow a port change", () => {
    const container = (podTemplate({ ...base, component: "api", http: { preStopSleepSeconds: 5 } }).spec as any).containers[0];
    assert.equal(container.readinessProbe.httpGet.port, "http");
    assert.equal(container.ports[0].name, "http");
  });

  it("spreads only when asked", () => {
    assert.equal((podTemplate(base).spec as any).topologySpreadConstraints, undefined);
    const spread = (podTemplate({ ...base, spread: true }).spec as any).topologySpreadConstraints;
    assert.equal(spread.length, 2);
    assert.ok(spread.every((c: any) => c.whenUnsatisfiable === "ScheduleAnyway"));
  });
});

describe("deploymentSpec", () => {
  it("never takes a pod down before its replacement is ready", () => {
    const spec = deploymentSpec({ naming: n, component: "api", replicas: 2, template: podTemplate(base) }) as any;
    assert.equal(spec.strategy.rollingUpdate.maxUnavailable, 0);
    assert.deepEqual(spec.selector.matchLabels, n.selector("api"));
  });
});
