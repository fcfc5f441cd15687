// The policy pack as a whole: how it scopes each rule to environments, reads kinds and patches,
// checks and exempts objects rendered from manifests and charts, resolves its config, and reports
// exactly as the engine calls it.
import { strict as assert } from "node:assert";
import { environmentOf, stackOf } from "../../../policy/environment";
import { groupKind, kubeType, renderedBy } from "../../../policy/kube";
import { evaluate, policies, settingsFor, type PackConfig, type ResourceValidationArgs } from "../../../policy/pack";
import { RULES, type StackResource } from "../../../policy/rules";
import { hostNamespaces } from "../../../policy/rules/host";
import { imageDigest } from "../../../policy/rules/releases";
import { visibleObjects } from "../../../policy/rules/visibility";
import { apiContainer, clone, deployment, patchOf, POD_BEARING, T, urn, type Manifest } from "./fixtures";

describe("policy pack", () => {
  it("judges an object by the strictest of its stack's environment and its label's", () => {
    const labelled = (instance: string) => {
      const object = deployment();
      object.metadata.labels["app.kubernetes.io/instance"] = instance;
      object.spec.template.metadata.labels["app.kubernetes.io/instance"] = instance;
      return object;
    };
    // A dev label cannot drop prod rules in a prod stack; a prod label adds them in a dev one.
    assert.equal(environmentOf(T.deployment, labelled("my-api-dev"), urn("prod", T.deployment)), "prod");
    assert.equal(environmentOf(T.deployment, labelled("api-staging"), urn("eu-prod", T.deployment)), "prod");
    assert.equal(environmentOf(T.deployment, labelled("api-prod"), urn("dev", T.deployment)), "prod");
    assert.equal(environmentOf(T.deployment, labelled("api-staging"), urn("dev", T.deployment)), "staging");
    assert.equal(environmentOf(T.deployment, labelled("api-dev"), urn("dev", T.deployment)), "dev");
    // The object's label and its pod template's count alike.
    const mixed = labelled("api-dev");
    mixed.spec.template.metadata.labels["app.kubernetes.io/instance"] = "api-staging";
    assert.equal(environmentOf(T.deployment, mixed, urn("dev", T.deployment)), "staging");
    // A stack whose name says no environment, or no stack at all, is prod.
    assert.equal(environmentOf(T.deployment, labelled("api-dev"), urn("alice", T.deployment)), "prod");
    assert.equal(environmentOf(T.deployment, labelled("api-dev")), "prod");
    const unlabelled = { kind: "Service", metadata: { name: "x" } };
    assert.equal(environmentOf(T.service, unlabelled, urn("dev", T.service)), "dev");
    assert.equal(environmentOf(T.service, unlabelled, urn("eu-production", T.service)), "prod");
    assert.equal(environmentOf(T.service, unlabelled, urn("staging", T.service)), "staging");
    assert.equal(environmentOf(T.service, unlabelled, urn("alice", T.service)), "prod");
    assert.equal(stackOf(urn("eu-prod", T.service)), "eu-prod");
  });

  it("reads kinds by group, whatever the version, and Patch resources as the kind they patch", () => {
    assert.deepEqual(kubeType(patchOf(T.deployment)), {
      group: "apps",
      version: "v1",
      kind: "Deployment",
      patch: true,
    });
    assert.deepEqual(kubeType("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"), {
      group: "apiextensions.k8s.io",
      version: "v1",
      kind: "CustomResourceDefinition",
      patch: false,
    });
    assert.equal(groupKind("kubernetes:argoproj.io/v1alpha1:RolloutPatch"), "argoproj.io/Rollout");
    assert.equal(groupKind("kubernetes:extensions/v1beta1:Ingress"), "extensions/Ingress");
    assert.equal(kubeType("pulumi:providers:kubernetes"), undefined);
    // A core kind made through a CustomResource has no group in its token.
    assert.equal(groupKind("kubernetes:v1:Pod"), "core/Pod");
    const pod = POD_BEARING.find(([type]) => type === T.pod)![1]();
    pod.spec.hostNetwork = true;
    assert.equal(hostNamespaces("kubernetes:v1:PodPatch", pod).length, 1);
  });

  describe("objects rendered from manifests and charts", () => {
    const chain = ["api-stack:index:ApiStack", "api-stack:index:Delivery"];
    const component = urn("prod", "kubernetes:yaml/v2:ConfigFile", "api-argo-rollouts", chain);
    const rendered = (kind = T.deployment, props: Manifest = argo()): StackResource => ({
      type: kind,
      props,
      urn: urn("prod", kind, "argo-rollouts:argo-rollouts/argo-rollouts", [...chain, "kubernetes:yaml/v2:ConfigFile"]),
      parent: component,
    });
    function argo(): Manifest {
      const object = deployment();
      apiContainer(object).image = "quay.io/argoproj/argo-rollouts:v1.9.3";
      object.spec.replicas = 1;
      delete object.metadata.labels;
      return object;
    }
    const HINT =
      " [rendered by api-argo-rollouts: change its manifest or chart values, or exempt it in this policy's config " +
      "(docs/policy.md, Exemptions)]";

    it("knows an object by the component that rendered it, of every renderer", () => {
      assert.equal(renderedBy(rendered()), component);
      for (const renderer of [
        "kubernetes:yaml:ConfigFile",
        "kubernetes:yaml:ConfigGroup",
        "kubernetes:yaml/v2:ConfigGroup",
        "kubernetes:helm.sh/v3:Chart",
        "kubernetes:helm.sh/v4:Chart",
        "kubernetes:kustomize/v2:Directory",
      ]) {
        const parent = urn("prod", renderer, "third-party", chain);
        assert.equal(
          renderedBy({ type: T.deployment, urn: urn("prod", T.deployment, "x", [...chain, renderer]), parent }),
          parent,
          renderer,
        );
      }
      // The program's own objects, children of its own components, were rendered by nobody.
      assert.equal(
        renderedBy({
          type: T.deployment,
          urn: urn("prod", T.deployment, "api", chain),
          parent: urn("prod", chain[1], "api", chain.slice(0, 1)),
        }),
        undefined,
      );
      // A Helm release stands for the objects it hides.
      const helm = urn("prod", T.helmRelease, "ingress-nginx", chain);
      assert.equal(renderedBy({ type: T.helmRelease, urn: helm, parent: component }), helm);
    });

    it("checks them like any other object, and says where they come from", () => {
      assert.deepEqual(
        evaluate([rendered()]).map((f) => [f.policy, f.message.endsWith(HINT)]),
        [
          ["image-digest", true],
          ["availability", true],
          ["availability", true],
          ["recommended-labels", true],
        ],
      );
      // Without a parent the pack cannot name the component: checked all the same, and not exemptable.
      const orphan = { ...rendered(), parent: undefined };
      assert.equal(
        evaluate([orphan], { "image-digest": { exempt: [{ component: "api-argo-rollouts", reason: "r" }] } }).filter(
          (f) => f.policy === "image-digest",
        ).length,
        1,
      );
    });

    it("exempts one only where a policy's config names its component, by name or URN, and optionally its kind", () => {
      const policiesOf = (config: PackConfig) => evaluate([rendered()], config).map((f) => f.policy);
      const reason = "Argo publishes its controller by tag; the platform team mirrors and scans it";
      assert.deepEqual(policiesOf({ "image-digest": { exempt: [{ component: "api-argo-rollouts", reason }] } }), [
        "availability",
        "availability",
        "recommended-labels",
      ]);
      assert.deepEqual(policiesOf({ availability: { exempt: [{ component, kinds: ["Deployment"], reason }] } }), [
        "image-digest",
        "recommended-labels",
      ]);
      assert.deepEqual(
        policiesOf({ availability: { exempt: [{ component, kinds: ["CustomResourceDefinition"], reason }] } }),
        ["image-digest", "availability", "availability", "recommended-labels"],
      );
      assert.deepEqual(policiesOf({ availability: { exempt: [{ component: "another-chart", reason }] } }), [
        "image-digest",
        "availability",
        "availability",
        "recommended-labels",
      ]);
      // The program's own objects are never exempt, whatever the config names.
      const own = {
        type: T.deployment,
        props: argo(),
        urn: urn("prod", T.deployment, "api", chain),
        parent: urn("prod", chain[1], "api", chain.slice(0, 1)),
      };
      assert.deepEqual(
        evaluate([own], { "image-digest": { exempt: [{ component: "api", reason }] } }).map((f) => f.policy),
        ["image-digest", "availability", "availability", "recommended-labels"],
      );
    });

    it("refuses a Helm Release, whose objects no policy sees, unless its own name is exempt", () => {
      const props = {
        chart: "ingress-nginx",
        version: "4.11.0",
        repositoryOpts: { repo: "https://kubernetes.github.io/ingress-nginx" },
      };
      const message =
        "Helm Release of chart ingress-nginx installs objects that only Helm sees, so no policy can check them: " +
        "install the chart with kubernetes.helm.v4.Chart, which registers each object, " +
        "or exempt this release in the visible-objects policy config (docs/policy.md, Exemptions)";
      assert.deepEqual(visibleObjects(T.helmRelease, props), [message]);
      assert.deepEqual(visibleObjects("kubernetes:helm.sh/v4:Chart", { chart: "ingress-nginx" }), []);
      const helm = {
        type: T.helmRelease,
        props,
        urn: urn("dev", T.helmRelease, "ingress-nginx", chain),
        parent: urn("dev", chain[1], "api", chain.slice(0, 1)),
      };
      assert.deepEqual(
        evaluate([helm]).map((f) => f.policy),
        ["visible-objects"],
      );
      assert.deepEqual(
        evaluate([helm], {
          "visible-objects": { exempt: [{ component: "ingress-nginx", reason: "the cluster's ingress controller" }] },
        }),
        [],
      );
    });
  });

  it("registers one policy per rule, mandatory unless advisory by design", () => {
    const pack = policies();
    assert.deepEqual(
      pack.map((p) => [p.name, p.enforcementLevel]),
      [
        ["pod-security", "mandatory"],
        ["host-namespaces", "mandatory"],
        ["volume-types", "mandatory"],
        ["host-ports", "mandatory"],
        ["resources", "mandatory"],
        ["probes", "mandatory"],
        ["image-digest", "mandatory"],
        ["no-external-service", "mandatory"],
        ["ingress-tls", "mandatory"],
        ["gateway-tls", "mandatory"],
        ["explicit-hosts", "mandatory"],
        ["no-secrets-in-configmap", "mandatory"],
        ["no-secrets-in-pods", "mandatory"],
        ["blue-green-promotion", "mandatory"],
        ["availability", "mandatory"],
        ["visible-objects", "mandatory"],
        ["rbac-escalation", "mandatory"],
        ["admission-webhooks", "mandatory"],
        ["namespace-pod-security", "mandatory"],
        ["recommended-labels", "advisory"],
        ["prometheus-scrape", "advisory"],
        ["topology-spread", "advisory"],
      ],
    );
    assert.ok(pack.every((p) => p.configSchema.properties.environments.type === "array"));
    assert.deepEqual(pack.find((p) => p.name === "image-digest")!.configSchema.properties.environments.default, [
      "prod",
    ]);
    assert.deepEqual(pack.find((p) => p.name === "pod-security")!.configSchema.properties.environments.default, [
      "dev",
      "staging",
      "prod",
    ]);
    // Exemptions are off by default, for every policy; the other options belong to one policy each.
    for (const { name, configSchema } of pack) {
      assert.equal(configSchema.properties.exempt.type, "array", name);
      assert.deepEqual(configSchema.properties.exempt.default, [], name);
    }
    assert.deepEqual(
      pack
        .filter((p) => Object.keys(p.configSchema.properties).length > 2)
        .map((p) => [p.name, Object.keys(p.configSchema.properties).slice(2)]),
      [
        ["gateway-tls", ["httpsListeners"]],
        ["availability", ["minReplicas"]],
      ],
    );
  });

  describe("as the engine calls it", () => {
    class NotApplicable extends Error {}
    const call = (
      policyName: string,
      type: string,
      props: Manifest,
      config: object = {},
      stack = "prod",
      parent?: string,
    ) => {
      const policy = policies().find((p) => p.name === policyName)!;
      assert.ok("validateResource" in policy);
      const reported: string[] = [];
      const args: ResourceValidationArgs = {
        type,
        props,
        urn: urn(stack, type),
        opts: { parent },
        getConfig: <T extends object>() => config as T,
        notApplicable: (reason?: string): never => {
          throw new NotApplicable(reason);
        },
      };
      try {
        policy.validateResource(args, (message) => reported.push(message));
      } catch (e) {
        if (e instanceof NotApplicable) {
          return `not applicable: ${e.message}`;
        }
        throw e;
      }
      return reported;
    };
    const tagged = () => {
      const object = deployment();
      apiContainer(object).image = "registry.example.com/platform/api:v2";
      return object;
    };
    const dev = (object: Manifest) => {
      object.metadata.labels["app.kubernetes.io/instance"] = "api-dev";
      object.spec.template.metadata.labels["app.kubernetes.io/instance"] = "api-dev";
      return object;
    };

    it("reports a prod object's violations", () => {
      assert.deepEqual(call("image-digest", T.deployment, tagged()), imageDigest(T.deployment, tagged()));
      assert.equal((call("image-digest", T.deployment, tagged()) as string[]).length, 1);
    });

    it("calls a prod-only rule not applicable to a dev object, unless its config widens it", () => {
      assert.equal(
        call("image-digest", T.deployment, dev(tagged()), {}, "dev"),
        "not applicable: checks prod objects; this one is dev",
      );
      assert.equal(
        (call("image-digest", T.deployment, dev(tagged()), { environments: ["dev", "prod"] }, "dev") as string[])
          .length,
        1,
      );
      // A dev label in a prod stack is prod.
      assert.equal((call("image-digest", T.deployment, dev(tagged())) as string[]).length, 1);
      assert.equal(
        call("pod-security", T.deployment, deployment(), { environments: ["dev"] }),
        "not applicable: checks dev objects; this one is prod",
      );
    });

    it("checks a stack's serving workloads in prod only", () => {
      const policy = policies().find((p) => p.name === "availability")!;
      assert.ok("validateStack" in policy);
      const single = deployment();
      single.spec.replicas = 1;
      const run = (props: Manifest, config: object, stack = "prod", parents: string[] = []) => {
        const reported: [string, string | undefined][] = [];
        const parent = parents.length > 0 ? urn(stack, parents.at(-1)!, "chart", parents.slice(0, -1)) : undefined;
        policy.validateStack(
          {
            resources: [{ type: T.deployment, props, urn: urn(stack, T.deployment, "api", parents), opts: { parent } }],
            getConfig: <T extends object>() => config as T,
            notApplicable: (): never => {
              throw new Error("unexpected");
            },
          },
          (message, at) => reported.push([message, at]),
        );
        return reported.map(([message, at]) => `${at}: ${message.split(":")[0]}`);
      };
      assert.deepEqual(run(single, {}), [
        `${urn("prod", T.deployment)}: Deployment api runs 1 replica without an autoscaler`,
        `${urn("prod", T.deployment)}: Deployment api has no PodDisruptionBudget, so a node drain may evict all ` +
          "its pods at once",
      ]);
      assert.deepEqual(run(dev(clone(single)), {}, "dev"), []);
      assert.equal(run(dev(clone(single)), {}).length, 2);
      assert.equal(run(single, { minReplicas: 1 }).length, 1);
      // Rendered by a chart: checked, and exempt only by the config.
      const chart = ["kubernetes:helm.sh/v4:Chart"];
      assert.equal(run(single, {}, "prod", chart).length, 2);
      assert.deepEqual(
        run(single, { exempt: [{ component: "chart", reason: "the chart's own replica count" }] }, "prod", chart),
        [],
      );
    });

    it(
      "calls an exempt rendered object not applicable, with the config's reason, " +
        "and points at the component otherwise",
      () => {
        const parents = ["api-stack:index:ApiStack", "kubernetes:helm.sh/v4:Chart"];
        const chart = urn("prod", "kubernetes:helm.sh/v4:Chart", "metrics-server", parents.slice(0, 1));
        const policy = policies().find((p) => p.name === "image-digest")!;
        assert.ok("validateResource" in policy);
        const check = (config: object) => {
          const reported: string[] = [];
          try {
            policy.validateResource(
              {
                type: T.deployment,
                props: tagged(),
                urn: urn("prod", T.deployment, "metrics-server", parents),
                opts: { parent: chart },
                getConfig: <T extends object>() => config as T,
                notApplicable: (reason?: string): never => {
                  throw new NotApplicable(reason);
                },
              },
              (message) => reported.push(message),
            );
          } catch (e) {
            return `not applicable: ${(e as Error).message}`;
          }
          return reported;
        };
        assert.deepEqual(check({}), [
          `${imageDigest(T.deployment, tagged())[0]} [rendered by metrics-server: ` +
            "change its manifest or chart values, or exempt it in this policy's config (docs/policy.md, Exemptions)]",
        ]);
        assert.equal(
          check({
            exempt: [
              {
                component: "metrics-server",
                kinds: ["Deployment"],
                reason: "the chart pins tags; mirrored by the platform team",
              },
            ],
          }),
          "not applicable: exempt by the policy config as rendered by metrics-server: " +
            "the chart pins tags; mirrored by the platform team",
        );
      },
    );

    it("resolves enforcement levels as the CLI does: the policy's entry over all over the default", () => {
      const rule = RULES.find((r) => r.name === "probes")!;
      assert.equal(settingsFor(rule).enforcementLevel, "mandatory");
      assert.equal(settingsFor(rule, { all: "advisory" }).enforcementLevel, "advisory");
      assert.equal(
        settingsFor(rule, { all: "advisory", probes: { enforcementLevel: "mandatory" } }).enforcementLevel,
        "mandatory",
      );
      assert.equal(settingsFor(rule, { probes: "disabled" }).enforcementLevel, "disabled");
      const config: PackConfig = { all: "advisory", "image-digest": "disabled" };
      const findings = evaluate([{ type: T.deployment, props: tagged(), urn: urn("prod", T.deployment) }], config);
      assert.deepEqual(
        findings.map((f) => [f.policy, f.enforcementLevel]),
        [["availability", "advisory"]],
      );
    });
  });
});
