// The dev and prod stacks (rolling, blue-green, canary) under mocks, through the whole pack: the
// program violates no mandatory rule, and the pack refuses what config refuses the program when it
// comes from elsewhere.
import { strict as assert } from "node:assert";
import type { LiveRelease } from "../../../components/api/release-state";
import { evaluate } from "../../../policy/pack";
import { withCosign } from "../../support/cosign";
import { asManifest, devInput, prodInput, runProgram, withConfig, type RunResult } from "../../support/harness";
import { apiContainer, mandatory, ref, T, type Resource } from "./fixtures";

const PROMETHEUS = "http://prometheus.monitoring.svc:9090";
const manifests = (run: RunResult, stack: string): Resource[] =>
  run.resources.map((r) => ({
    type: r.type,
    props: asManifest(r),
    urn: `urn:pulumi:${stack}::api-stack::${r.type}::${r.name}`,
  }));

/**
 * The contract the pack needs from the program for blue-green Rollouts (PROMOTION_ANNOTATION):
 * the program records what promoted a release exactly when it auto-promotes it.
 */
function withPromotionRecord(resources: Resource[], expected: string | undefined): Resource[] {
  const rollout = resources.find((r) => r.type === T.rollout)!;
  assert.equal(
    rollout.props.metadata.annotations?.["api-stack.io/promotion"],
    expected,
    "the program's promotion record",
  );
  return resources;
}

describe("policy pack over whole stacks (mocks)", () => {
  // Prod verifies its prebuilt image as signed before registering anything.
  withCosign();
  for (const [stack, input] of [
    ["dev", devInput],
    ["prod", prodInput],
  ] as const) {
    it(`${stack}: the rolling stack violates no rule, mandatory or advisory`, async () => {
      const run = await runProgram(input(), { stack });
      const findings = evaluate(manifests(run, stack));
      assert.deepEqual(findings, []);
    });

    it(`${stack}: a canary stack violates no mandatory rule`, async () => {
      const run = await runProgram(withConfig(input(), { strategy: "canary", prometheusAddress: PROMETHEUS }), {
        stack,
      });
      assert.deepEqual(mandatory(evaluate(manifests(run, stack))), []);
    });

    it(`${stack}: a blue-green stack's first release violates no mandatory rule`, async () => {
      const run = await runProgram(withConfig(input(), { strategy: "blueGreen" }), { stack });
      const release = String(run.outputs.image).split("@sha256:")[1].slice(0, 12);
      const resources = withPromotionRecord(manifests(run, stack), `active:${release}`);
      assert.deepEqual(mandatory(evaluate(resources)), []);
    });
  }

  it("dev: the in-cluster Postgres and Redis are why probes is a prod rule", async () => {
    const run = await runProgram(devInput(), { stack: "dev" });
    const findings = evaluate(manifests(run, "dev"), { probes: { environments: ["dev", "staging", "prod"] } });
    assert.deepEqual(findings.map((f) => f.message).sort(), [
      'container "postgres" serves port 5432 without livenessProbe: add it so Kubernetes restarts a hung process ' +
        "and routes only to ready pods (the app answers /health/live and /health/ready)",
      'container "redis" serves port 6379 without livenessProbe: add it so Kubernetes restarts a hung process and ' +
        "routes only to ready pods (the app answers /health/live and /health/ready)",
    ]);
  });

  describe("prod blue-green across updates", () => {
    const [V1, V2, V3] = [ref("1"), ref("2"), ref("3")];
    /** A cluster in which prod's API serves `active`, as an earlier update left it. */
    const serving = (active: string): Record<string, LiveRelease> => ({ "api-prod/api": { kind: "live", active } });
    const update = (image: string, previousActive: string, extra: Record<string, string> = {}) =>
      runProgram(withConfig(prodInput(), { imageRef: image, strategy: "blueGreen", ...extra }), {
        stack: "prod",
        cluster: serving(previousActive),
      });

    it("a release waiting in preview passes", async () => {
      const run = await update(V2, V1);
      assert.deepEqual(mandatory(evaluate(withPromotionRecord(manifests(run, "prod"), undefined))), []);
    });

    it("a release promoted by config passes", async () => {
      const run = await update(V2, V1, { promote: "222222222222" });
      assert.deepEqual(mandatory(evaluate(withPromotionRecord(manifests(run, "prod"), "promote:222222222222"))), []);
    });

    it("a rollback by config passes", async () => {
      const run = await runProgram(withConfig(prodInput(), { strategy: "blueGreen", rollbackTo: V1 }), {
        stack: "prod",
        cluster: serving(V3),
      });
      assert.deepEqual(mandatory(evaluate(withPromotionRecord(manifests(run, "prod"), "rollbackTo:111111111111"))), []);
    });

    it("an auto-promotion without a record, or one that stuck to the last release, is refused", async () => {
      const run = await update(V2, V1, { promote: "222222222222" });
      const unrecorded = manifests(run, "prod");
      const rollout = unrecorded.find((r) => r.type === T.rollout)!;
      assert.equal(rollout.props.spec.strategy.blueGreen.autoPromotionEnabled, true);
      delete rollout.props.metadata.annotations?.["api-stack.io/promotion"];
      assert.deepEqual(
        evaluate(unrecorded).map((f) => [f.policy, f.enforcementLevel]),
        [["blue-green-promotion", "mandatory"]],
      );
      // The next image under the same record: what a sticky promote would deploy.
      const sticky = withPromotionRecord(manifests(run, "prod"), "promote:222222222222");
      apiContainer(sticky.find((r) => r.type === T.rollout)!.props).image = V3;
      assert.deepEqual(mandatory(evaluate(sticky)), [
        `blue-green-promotion: urn:pulumi:prod::api-stack::${T.rollout}::api: Rollout auto-promotes release ` +
          "333333333333 but api-stack:promote names release 222222222222: a promotion applies to exactly one " +
          "release; set spec.strategy.blueGreen.autoPromotionEnabled: false so the release waits in preview, " +
          "then promote it with `pulumi config set promote 333333333333` (api-stack:promote)",
      ]);
    });
  });

  // What the config refuses in prod never reaches the pack from this program; the pack still
  // refuses it from anywhere else (another program, a Patch, a chart). These take the program's
  // prod objects and change them where the config stops the program itself.
  describe("prod variations", () => {
    type Overrides = Record<string, string | number | boolean | object | undefined>;
    const prod = (overrides: Overrides = {}) => runProgram(withConfig(prodInput(), overrides), { stack: "prod" });
    const resourcesOf = async (overrides: Overrides = {}) => manifests(await prod(overrides), "prod");
    /** The object a resource of the program registered, by its Pulumi type and name. */
    const objectOf = (resources: Resource[], type: string, name: string) =>
      resources.find((r) => r.urn?.endsWith(`::${type}::${name}`))!.props;

    it("a backup Job's image pinned only by a tag is refused", async () => {
      await assert.rejects(
        prod({ backupImage: "postgres:16-alpine" }),
        /api-stack:backupImage: "postgres:16-alpine" is refused in prod/,
      );
      const resources = await resourcesOf();
      assert.deepEqual(mandatory(evaluate(resources)), [], "the default backupImage is pinned by digest");
      apiContainer(objectOf(resources, T.job, "api-backup")).image = "postgres:16-alpine";
      assert.deepEqual(mandatory(evaluate(resources)), [
        `image-digest: urn:pulumi:prod::api-stack::${T.job}::api-backup: ` +
          'container "backup" image "postgres:16-alpine" is pinned only by the tag 16-alpine, which can be moved: ' +
          "pin it by digest, as repository@sha256:<digest> (api-stack:backupImage; the app's image is pinned when " +
          "the program builds it)",
      ]);
    });

    it("without the HPA, the replica count must keep two pods", async () => {
      await assert.rejects(
        prod({ hpaEnabled: false, replicas: 1 }),
        /api-stack:pdbMaxUnavailable: 1 is refused in prod; with api-stack:replicas 1/,
      );
      const resources = await resourcesOf({ hpaEnabled: false });
      assert.deepEqual(mandatory(evaluate(resources)), []);
      objectOf(resources, T.rollout, "api").spec.replicas = 1;
      assert.deepEqual(mandatory(evaluate(resources)), [
        `availability: urn:pulumi:prod::api-stack::${T.rollout}::api: Rollout api runs 1 replica without an ` +
          "autoscaler: set api-stack:replicas to 2 or more (or enable api-stack:hpaEnabled with " +
          "api-stack:hpaMinReplicas >= 2)",
      ]);
    });

    it("an HPA floor of 1 and plain HTTP are refused", async () => {
      const refused = prod({ hpaMinReplicas: 1, ingressTls: false });
      await assert.rejects(refused, /api-stack:ingressTls: false is refused in prod/);
      await assert.rejects(
        refused,
        /api-stack:pdbMaxUnavailable: 1 is refused in prod; with api-stack:hpaMinReplicas 1/,
      );
      const resources = await resourcesOf();
      objectOf(resources, T.hpa, "api").spec.minReplicas = 1;
      // What the program writes for an Ingress without TLS.
      const ingress = objectOf(resources, T.ingress, "api");
      delete ingress.spec.tls;
      delete ingress.metadata.annotations["cert-manager.io/cluster-issuer"];
      delete ingress.metadata.annotations["nginx.ingress.kubernetes.io/ssl-redirect"];
      assert.deepEqual(mandatory(evaluate(resources)), [
        `ingress-tls: urn:pulumi:prod::api-stack::${T.ingress}::api: Ingress serves api.example.com over plain ` +
          "HTTP: set api-stack:ingressTls to true so cert-manager (api-stack:clusterIssuer) issues a certificate " +
          "and spec.tls lists the host",
        `availability: urn:pulumi:prod::api-stack::${T.hpa}::api: HorizontalPodAutoscaler api may scale down to 1 ` +
          "replica: set api-stack:hpaMinReplicas to 2 or more",
      ]);
    });
  });
});
