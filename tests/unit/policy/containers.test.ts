// resources and probes: every container sets its requests and limits, and a container that serves
// a port is probed; a container a patch lists is judged whole, since the patch may be adding it.
import { strict as assert } from "node:assert";
import { probes, resources } from "../../../policy/rules/containers";
import {
  apiContainer,
  deployment,
  IMAGE,
  migrationJob,
  POD_BEARING,
  podPatch,
  T,
  workerDeployment,
  type Manifest,
} from "./fixtures";

describe("policy rules: containers", () => {
  describe("resources", () => {
    it("passes containers with CPU and memory requests and limits", () => {
      assert.deepEqual(resources(T.deployment, deployment()), []);
      assert.deepEqual(resources(T.job, migrationJob()), []);
    });

    it("names the missing fields and the config keys that set them", () => {
      const object = deployment();
      apiContainer(object).resources = { requests: { cpu: "250m" } };
      assert.deepEqual(resources(T.deployment, object), [
        'container "api" lacks resources.requests.memory, resources.limits.cpu, resources.limits.memory: ' +
          "set them (for the app's containers: api-stack:memoryRequest, api-stack:cpuLimit, api-stack:memoryLimit)",
      ]);
      delete apiContainer(object).resources;
      object.spec.template.spec.containers[0].resources = {
        requests: { cpu: "1", memory: "1Gi" },
        limits: { cpu: "1" },
      };
      assert.deepEqual(resources(T.deployment, object), [
        'container "api" lacks resources.limits.memory: set it (for the app\'s containers: api-stack:memoryLimit)',
      ]);
    });

    it("judges each container a patch lists whole, since it may add it: every request and limit, removals too", () => {
      const lacking = (fields: string, keys: string) =>
        `container "api" lacks ${fields}: set them (for the app's containers: ${keys})`;
      const all = lacking(
        "resources.requests.cpu, resources.requests.memory, resources.limits.cpu, resources.limits.memory",
        "api-stack:cpuRequest, api-stack:memoryRequest, api-stack:cpuLimit, api-stack:memoryLimit",
      );
      const set = { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } };
      for (const [type] of POD_BEARING) {
        assert.deepEqual(resources(...podPatch(type, { containers: [{ name: "api", resources: set }] })), [], type);
        assert.deepEqual(resources(...podPatch(type, { terminationGracePeriodSeconds: 60 })), [], type);
        assert.deepEqual(resources(...podPatch(type, { containers: [{ name: "api", image: IMAGE }] })), [all], type);
        assert.deepEqual(resources(...podPatch(type, { containers: [{ name: "api", resources: null }] })), [all], type);
        assert.deepEqual(
          resources(...podPatch(type, { containers: [{ name: "api", resources: { limits: { cpu: "2" } } }] })),
          [
            lacking(
              "resources.requests.cpu, resources.requests.memory, resources.limits.memory",
              "api-stack:cpuRequest, api-stack:memoryRequest, api-stack:memoryLimit",
            ),
          ],
          type,
        );
      }
      assert.deepEqual(
        resources(
          ...podPatch(T.deployment, {
            containers: [{ name: "api", resources: { limits: null, requests: { cpu: null, memory: "1Gi" } } }],
          }),
        ),
        [
          lacking(
            "resources.requests.cpu, resources.limits.cpu, resources.limits.memory",
            "api-stack:cpuRequest, api-stack:cpuLimit, api-stack:memoryLimit",
          ),
        ],
      );
    });
  });

  describe("probes", () => {
    it("passes the API and the worker (its metrics port), each probed", () => {
      assert.deepEqual(probes(T.deployment, deployment()), []);
      assert.deepEqual(probes(T.deployment, workerDeployment()), []);
    });

    it("wants liveness and readiness probes on a container that serves a port", () => {
      // The API serves its app port and the metrics port.
      const object = deployment();
      delete apiContainer(object).livenessProbe;
      assert.deepEqual(probes(T.deployment, object), [
        'container "api" serves ports 8000, 9000 without livenessProbe: add it so Kubernetes restarts a hung ' +
          "process and routes only to ready pods (the app answers /health/live and /health/ready)",
      ]);
      delete apiContainer(object).readinessProbe;
      assert.deepEqual(probes(T.deployment, object), [
        'container "api" serves ports 8000, 9000 without livenessProbe or readinessProbe: ' +
          "add them so Kubernetes restarts a hung process and routes only to ready pods (the app answers " +
          "/health/live and /health/ready)",
      ]);
      apiContainer(object).ports = apiContainer(object).ports.filter((port: Manifest) => port.name === "http");
      apiContainer(object).readinessProbe = { httpGet: { path: "/health/ready", port: "http" } };
      assert.deepEqual(probes(T.deployment, object), [
        'container "api" serves port 8000 without livenessProbe: add it so Kubernetes restarts a hung process and ' +
          "routes only to ready pods (the app answers /health/live and /health/ready)",
      ]);
    });

    it("blames a patch for the probes it removes, and a container it lists that serves a port without them", () => {
      const WHY =
        "so Kubernetes restarts a hung process and routes only to ready pods (the app answers /health/live and " +
        "/health/ready)";
      const probed = {
        livenessProbe: { httpGet: { path: "/health/live", port: 8000 } },
        readinessProbe: { tcpSocket: { port: 8000 } },
      };
      for (const [type] of POD_BEARING) {
        assert.deepEqual(probes(...podPatch(type, { containers: [{ name: "api", image: IMAGE }] })), [], type);
        assert.deepEqual(
          probes(...podPatch(type, { containers: [{ name: "api", ports: [{ containerPort: 8000 }], ...probed }] })),
          [],
          type,
        );
        assert.deepEqual(
          probes(...podPatch(type, { containers: [{ name: "api", image: IMAGE, ports: [{ containerPort: 8000 }] }] })),
          [`container "api" serves port 8000 without livenessProbe or readinessProbe: add them ${WHY}`],
          type,
        );
        assert.deepEqual(
          probes(...podPatch(type, { containers: [{ name: "api", livenessProbe: null, readinessProbe: null }] })),
          [`container "api": the patch removes its livenessProbe and readinessProbe: keep them ${WHY}`],
          type,
        );
      }
      // Removed is reported once, as removed.
      assert.deepEqual(
        probes(
          ...podPatch(T.deployment, {
            containers: [{ name: "api", ports: [{ containerPort: 8000 }], ...probed, livenessProbe: null }],
          }),
        ),
        [`container "api": the patch removes its livenessProbe: keep it ${WHY}`],
      );
    });
  });
});
