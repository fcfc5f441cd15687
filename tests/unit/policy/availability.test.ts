// availability (stack) and topology-spread (advisory): serving workloads survive a node drain and
// the loss of a node or a zone.
import { strict as assert } from "node:assert";
import { availability, topologySpread } from "../../../policy/rules/availability";
import { deployment, hpa, migrationJob, names, patchOf, pdb, res, rollout, T, workerDeployment } from "./fixtures";

describe("policy rules: availability", () => {
  describe("availability (stack)", () => {
    const options = { minReplicas: 2 };

    it("passes a serving workload with an HPA floor of 2 or more and a PDB", () => {
      assert.deepEqual(
        availability([res(T.deployment, deployment()), res(T.hpa, hpa(3)), res(T.pdb, pdb())], options),
        [],
      );
      // Neither the worker (no port) nor a Job needs a budget.
      assert.deepEqual(availability([res(T.deployment, workerDeployment()), res(T.job, migrationJob())], options), []);
    });

    it("refuses an HPA floor of 1, explicit or by default", () => {
      for (const floor of [1, undefined]) {
        assert.deepEqual(
          availability([res(T.deployment, deployment()), res(T.hpa, hpa(floor)), res(T.pdb, pdb())], options),
          [
            {
              urn: "urn:pulumi:prod::api-stack::kubernetes:autoscaling/v2:HorizontalPodAutoscaler::api",
              message:
                "HorizontalPodAutoscaler api may scale down to 1 replica: set api-stack:hpaMinReplicas to 2 or more",
            },
          ],
        );
      }
    });

    it("refuses a single replica without an autoscaler", () => {
      const single = deployment();
      single.spec.replicas = 1;
      assert.deepEqual(availability([res(T.deployment, single), res(T.pdb, pdb())], options), [
        {
          urn: "urn:pulumi:prod::api-stack::kubernetes:apps/v1:Deployment::api",
          message:
            "Deployment api runs 1 replica without an autoscaler: set api-stack:replicas to 2 or more (or enable " +
            "api-stack:hpaEnabled with api-stack:hpaMinReplicas >= 2)",
        },
      ]);
      // An HPA aimed at another workload does not count.
      const elsewhere = hpa(3, { apiVersion: "apps/v1", kind: "Deployment", name: "other" });
      assert.equal(
        availability([res(T.deployment, single), res(T.hpa, elsewhere), res(T.pdb, pdb())], options).length,
        1,
      );
      assert.deepEqual(availability([res(T.deployment, single), res(T.pdb, pdb())], { minReplicas: 1 }), []);
    });

    it("refuses a serving workload without a PodDisruptionBudget that selects its pods", () => {
      const message = {
        urn: "urn:pulumi:prod::api-stack::kubernetes:argoproj.io/v1alpha1:Rollout::api",
        message:
          "Rollout api has no PodDisruptionBudget, so a node drain may evict all its pods at once: " +
          "add one whose selector matches its pod labels (the program's Scaling component does, " +
          "sized by api-stack:pdbMaxUnavailable)",
      };
      const rolloutHpa = hpa(3, { apiVersion: "argoproj.io/v1alpha1", kind: "Rollout", name: "api" });
      assert.deepEqual(availability([res(T.rollout, rollout(false)), res(T.hpa, rolloutHpa)], options), [message]);
      const worker = pdb(names.selector("worker"));
      assert.deepEqual(
        availability([res(T.rollout, rollout(false)), res(T.hpa, rolloutHpa), res(T.pdb, worker)], options),
        [message],
      );
      const otherNamespace = pdb();
      otherNamespace.metadata = { ...otherNamespace.metadata, namespace: "api-staging" };
      assert.deepEqual(
        availability([res(T.rollout, rollout(false)), res(T.hpa, rolloutHpa), res(T.pdb, otherNamespace)], options),
        [message],
      );
      const byExpression = pdb();
      byExpression.spec.selector = {
        matchExpressions: [{ key: "app.kubernetes.io/component", operator: "In", values: ["api"] }],
      };
      assert.deepEqual(
        availability([res(T.rollout, rollout(false)), res(T.hpa, rolloutHpa), res(T.pdb, byExpression)], options),
        [],
      );
    });

    it("refuses a PodDisruptionBudget that lets a drain evict every pod, on every API version of a kind", () => {
      const message = (setting: string, kind = "PodDisruptionBudget") => ({
        urn: `urn:pulumi:prod::api-stack::${kind === "PodDisruptionBudget" ? T.pdb : patchOf(T.pdb)}::api`,
        message:
          `${kind} api lets a node drain evict every pod it selects (${setting}): ` +
          "set maxUnavailable below the replica count (the program's Scaling component sets it from " +
          "api-stack:pdbMaxUnavailable)",
      });
      const all = pdb();
      all.spec.maxUnavailable = "100%";
      assert.deepEqual(availability([res(T.deployment, deployment()), res(T.hpa, hpa(3)), res(T.pdb, all)], options), [
        message('maxUnavailable: "100%"'),
      ]);
      const none = { metadata: { name: "api", namespace: "api-prod" }, spec: { minAvailable: 0 } };
      assert.deepEqual(availability([res(patchOf(T.pdb), none)], options), [
        message("minAvailable: 0", "PodDisruptionBudgetPatch"),
      ]);
      const v1 = { ...hpa(1), apiVersion: "autoscaling/v1" };
      assert.equal(
        availability(
          [
            res(T.deployment, deployment()),
            res("kubernetes:autoscaling/v1:HorizontalPodAutoscaler", v1),
            res(T.pdb, pdb()),
          ],
          options,
        ).length,
        1,
      );
    });

    it("blames a patch that lowers a floor or a serving workload's replicas, not for what it does not make", () => {
      const meta = { name: "api", namespace: "api-prod" };
      const hpaPatch = patchOf(T.hpa);
      assert.deepEqual(availability([res(hpaPatch, { metadata: meta, spec: { maxReplicas: 30 } })], options), []);
      assert.deepEqual(availability([res(hpaPatch, { metadata: meta, spec: { minReplicas: 1 } })], options), [
        {
          urn: `urn:pulumi:prod::api-stack::${hpaPatch}::api`,
          message:
            "HorizontalPodAutoscalerPatch api may scale down to 1 replica: set api-stack:hpaMinReplicas to 2 or more",
        },
      ]);
      const scaleDown = res(patchOf(T.deployment), { metadata: meta, spec: { replicas: 1 } });
      const single = {
        urn: `urn:pulumi:prod::api-stack::${patchOf(T.deployment)}::api`,
        message:
          "DeploymentPatch api runs 1 replica without an autoscaler: set api-stack:replicas to 2 or more (or " +
          "enable api-stack:hpaEnabled with api-stack:hpaMinReplicas >= 2)",
      };
      // Serving, by the stack's Deployment it patches.
      assert.deepEqual(
        availability([scaleDown], {
          ...options,
          registered: [scaleDown, res(T.deployment, deployment()), res(T.pdb, pdb())],
        }),
        [single],
      );
      // Serving, by its own template.
      const withPort = res(patchOf(T.deployment), {
        metadata: meta,
        spec: { replicas: 1, template: { spec: { containers: [{ name: "api", ports: [{ containerPort: 8000 }] }] } } },
      });
      assert.deepEqual(availability([withPort], options), [single]);
      // A worker, or a workload the stack does not show, serves nothing the pack can see; an autoscaled one keeps
      // its floor.
      assert.deepEqual(
        availability([scaleDown], {
          ...options,
          registered: [scaleDown, res(T.deployment, { ...workerDeployment(), metadata: meta })],
        }),
        [],
      );
      assert.deepEqual(availability([scaleDown], options), []);
      assert.deepEqual(
        availability([scaleDown], {
          ...options,
          registered: [scaleDown, res(T.deployment, deployment()), res(T.hpa, hpa(3))],
        }),
        [],
      );
      assert.deepEqual(
        availability(
          [res(patchOf(T.deployment), { metadata: meta, spec: { template: withPort.props.spec.template } })],
          options,
        ),
        [],
      );
    });
  });

  describe("topology-spread (advisory)", () => {
    it("asks multi-replica API workloads only to spread", () => {
      assert.deepEqual(topologySpread(T.deployment, deployment()), []);
      const object = deployment();
      delete object.spec.template.spec.topologySpreadConstraints;
      assert.deepEqual(topologySpread(T.deployment, object), [
        "Deployment runs 3 API replicas without topologySpreadConstraints: " +
          "spread them over topology.kubernetes.io/zone and kubernetes.io/hostname so one zone or node failure " +
          "cannot take them all (the program does when api-stack:replicas or api-stack:hpaMaxReplicas is above 1)",
      ]);
      // Without a count the HPA scales it, possibly to many pods.
      delete object.spec.replicas;
      assert.deepEqual(topologySpread(T.deployment, object), [
        "Deployment runs autoscaled API replicas without topologySpreadConstraints: " +
          "spread them over topology.kubernetes.io/zone and kubernetes.io/hostname so one zone or node failure " +
          "cannot take them all (the program does when api-stack:replicas or api-stack:hpaMaxReplicas is above 1)",
      ]);
      object.spec.replicas = 1;
      assert.deepEqual(topologySpread(T.deployment, object), []);
    });
  });
});
