// Every Kubernetes object has a fixed name, so a resource whose URN changed without an alias
// would be deleted and created again: a live object gone for a moment (or, for a Service or a
// Rollout, its traffic). This checks the program against the URNs it produced before the
// components were regrouped (fixtures/urns-before-redesign.json, captured under mocks from the
// same four stacks): every old URN is still produced or is an alias of exactly one resource
// now, and no object changed its apiVersion, kind, namespace or name. Unit test: mocks only.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import {
  asManifest,
  devInput,
  prodInput,
  runProgram,
  withConfig,
  type Registered,
  type StackInput,
} from "../support/harness";
import { withCosign } from "../support/cosign";

type Captured = { urn: string; object?: string };
const BEFORE = JSON.parse(
  fs.readFileSync(path.join(__dirname, "fixtures/urns-before-redesign.json"), "utf8"),
) as Record<string, Captured[]>;

const DROPPED = [
  // The stack's reference to its own outputs is gone on purpose: the live release is read from the
  // cluster now. It was a read of another stack's outputs, so dropping it deletes nothing.
  /\$pulumi:pulumi:StackReference::api-previous$/,
  // Prod builds nothing now: it deploys the digest CI built and signed (imageRef). Its Image
  // component stays, without the docker image, which leaves the state; a docker Image deletes no
  // tag, locally or in the registry, when it goes.
  /^urn:pulumi:prod::api-stack::api-stack:index:ApiStack\$api-stack:index:Image\$docker:index\/image:Image::api$/,
];

// Objects added since the capture: the namespace's NetworkPolicies, prod's backup volume and Job
// (backups are on by default in prod now), the PodMonitors and the PrometheusRule (monitoring
// prometheusOperator), and the analyses' templates that prod's blue-green now runs after each
// promotion (and a canary besides its error rate). They have no earlier URN to keep.
const ADDED = (object: string) =>
  object.startsWith("networking.k8s.io/v1 NetworkPolicy ") ||
  / api-prod\/api-backup(-<release>)?$/.test(object) ||
  object.startsWith("monitoring.coreos.com/v1 ") ||
  / api-prod\/api-(error-rate|latency)$/.test(object);
// Names that change by design, under the same URN: the settings objects are content-addressed
// (`api-settings-<8 hex>`), and a release Job's name carries the release it runs (every image
// renames it; prod's image is the release workflow's now, not the capture's build) and the
// settings it ran with.
const byDesign = (object: string) =>
  object
    .replace(/\/(api-(?:settings|secrets))-[a-f0-9]{8}$/, "/$1")
    .replace(/\/(api-(?:migration|backup))-[a-f0-9]{12}(-[a-f0-9]{8})?$/, "/$1-<release>");

const SCENARIOS: Record<string, [() => StackInput, string]> = {
  dev: [devInput, "dev"],
  // The capture's prod stack released rolling; prod releases blue-green now, the next scenario.
  prod: [() => withConfig(prodInput(), { strategy: "rolling" }), "prod"],
  blueGreen: [
    () =>
      withConfig(prodInput(), {
        strategy: "blueGreen",
        backupEnabled: true,
        argoRolloutsManifest: "https://example.com/argo-rollouts/v1.7.2/install.yaml",
      }),
    "prod",
  ],
  canary: [
    () => withConfig(prodInput(), { strategy: "canary", prometheusAddress: "http://prometheus.monitoring.svc:9090" }),
    "prod",
  ],
};

interface Place {
  /** Types from the outermost parent to the resource, joined by `$` as a URN spells them. */
  chain: string;
  name: string;
}

/** The URN a resource has now, and every URN it may have had (its aliases and those its parents pass on). */
function urnsOf(resources: Registered[], stack: string) {
  const byKey = new Map(resources.map((r) => [r.key, r]));
  const urn = (place: Place) => `urn:pulumi:${stack}::api-stack::${place.chain}::${place.name}`;
  const join = (parent: string, type: string) => (parent === "" ? type : `${parent}$${type}`);
  const parentOf = (r: Registered) => (r.parent ? byKey.get(r.parent) : undefined);
  const isRoot = (r: Registered | undefined) => r === undefined || r.type === "pulumi:pulumi:Stack";

  const current = (r: Registered): Place => {
    const parent = parentOf(r);
    return { chain: join(isRoot(parent) ? "" : current(parent!).chain, r.type), name: r.name };
  };
  const candidates = (r: Registered): Place[] => {
    const parent = parentOf(r);
    const parentChains = isRoot(parent) ? [""] : candidates(parent!).map((p) => p.chain);
    const places = parentChains.map((chain) => ({ chain: join(chain, r.type), name: r.name }));
    for (const alias of r.aliases as pulumi.Alias[]) {
      assert.equal(typeof alias, "object", `${r.key}: aliases are given as Alias objects`);
      const keyOfParent = (alias.parent as { __key?: string } | undefined)?.__key;
      const chains =
        alias.parent === undefined
          ? parentChains
          : keyOfParent === undefined || isRoot(byKey.get(keyOfParent))
            ? [""]
            : [current(byKey.get(keyOfParent)!).chain];
      for (const chain of chains) {
        places.push({ chain: join(chain, (alias.type as string) ?? r.type), name: (alias.name as string) ?? r.name });
      }
    }
    return places;
  };

  return resources
    .filter((r) => !isRoot(r))
    .map((r) => {
      const manifest =
        r.type.startsWith("kubernetes:") && r.type !== "kubernetes:yaml/v2:ConfigFile" ? asManifest(r) : undefined;
      return {
        urn: urn(current(r)),
        aliases: new Set(candidates(r).map(urn)),
        object: manifest
          ? `${manifest.apiVersion ?? ""} ${manifest.kind} ` +
            `${manifest.metadata?.namespace ?? ""}/${manifest.metadata?.name}`
          : undefined,
      };
    });
}

describe("URNs survive the redesign (mocks)", () => {
  // Prod verifies its prebuilt image as signed before registering anything.
  withCosign();
  for (const [scenario, [input, stack]] of Object.entries(SCENARIOS)) {
    it(`${scenario}: every earlier URN is kept or aliased, and every object keeps its kind and name`, async () => {
      const run = await runProgram(input(), { stack });
      const now = urnsOf(run.resources, stack);
      const before = BEFORE[scenario].filter((old) => !DROPPED.some((dropped) => dropped.test(old.urn)));
      assert.ok(before.length >= 15, `the fixture holds ${scenario}`);

      for (const old of before) {
        const heirs = now.filter((resource) => resource.urn === old.urn || resource.aliases.has(old.urn));
        assert.equal(
          heirs.length,
          1,
          `${old.urn} must be kept or aliased by exactly one resource, found ${heirs.length}`,
        );
        assert.equal(
          heirs[0].object && byDesign(heirs[0].object),
          old.object && byDesign(old.object),
          `${old.urn} now manages another object`,
        );
      }
      const objects = (list: Array<{ object?: string }>) =>
        list.flatMap((r) => (r.object ? [byDesign(r.object)] : [])).sort();
      const added = objects(now).filter((object) => !objects(before).includes(object));
      assert.deepEqual(
        added.filter((object) => !ADDED(object)),
        [],
        "objects created that did not exist before",
      );
      assert.ok(added.some(ADDED), "the NetworkPolicies are new");
      assert.deepEqual(
        objects(now).filter((object) => !ADDED(object) || objects(before).includes(object)),
        objects(before),
      );
    });
  }

  it("would notice a moved resource without an alias (the check can fail)", async () => {
    const run = await runProgram(prodInput(), { stack: "prod" });
    const hpa = run.resources.find((r) => r.type === "kubernetes:autoscaling/v2:HorizontalPodAutoscaler")!;
    const scaling = run.resources.find((r) => r.key === hpa.parent)!;
    const withoutAlias = run.resources.map((r) => (r === scaling ? { ...r, aliases: [] } : r));
    const old = BEFORE.prod.find((r) => r.urn.endsWith("$kubernetes:autoscaling/v2:HorizontalPodAutoscaler::api"))!;
    assert.ok(!urnsOf(withoutAlias, "prod").some((r) => r.urn === old.urn || r.aliases.has(old.urn)));
  });
});
