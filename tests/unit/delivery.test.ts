// Blue-green and canary stacks under Pulumi's mocks (unit tests): Service wiring, canary traffic
// routing, analysis, HPA target, the promotion state machine across updates, rollback, the
// order backup -> migrate -> rollout, and how an update waits for its release. The same
// scenarios run against a real cluster in tests/e2e.
import { strict as assert } from "node:assert";
import type { ReleaseReader } from "../../components/api/cluster-reader";
import type { LiveRelease } from "../../components/api/release-state";
import { ApiStack } from "../../components/api-stack";
import { validateConfig } from "../../config";
import {
  asManifest,
  devInput,
  PROJECT,
  PROJECT_DIR,
  prodInput,
  runAndWait,
  runProgram,
  withConfig,
  type RunResult,
  type StackInput,
} from "../support/harness";
import { validateCustomResource } from "../support/crd-schema";
import { validateManifest } from "../support/k8s-schema";
import { withCosign } from "../support/cosign";

const ROLLOUT = "kubernetes:argoproj.io/v1alpha1:Rollout";
const TEMPLATE = "kubernetes:argoproj.io/v1alpha1:AnalysisTemplate";
const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";
const SERVICE = "kubernetes:core/v1:Service";
const JOB = "kubernetes:batch/v1:Job";
const HASH_LABEL = "rollouts-pod-template-hash";

const ref = (c: string) => `registry.example.com/platform/api@sha256:${c.repeat(64)}`;
const [V1, V2, V3] = [ref("1"), ref("2"), ref("3")];
const PROMETHEUS = "http://prometheus.monitoring.svc:9090";

const blueGreen = (base: () => StackInput, extra: Record<string, unknown> = {}) =>
  withConfig(base(), { strategy: "blueGreen", ...extra });
const canary = (base: () => StackInput, extra: Record<string, unknown> = {}) =>
  withConfig(base(), { strategy: "canary", prometheusAddress: PROMETHEUS, ...extra });
/** Prod deploying a given image, so consecutive updates can release different images. */
const prodWith = (image: string) => () => withConfig(prodInput(), { imageRef: image });

const rolloutOf = (run: RunResult) => asManifest(run.one(ROLLOUT));
const release = (run: RunResult) => run.outputs.release as Record<string, string | undefined>;

for (const [stack, input] of [
  ["dev", devInput],
  ["prod", prodInput],
] as const) {
  describe(`${stack} stack with strategy blueGreen (mocks)`, () => {
    // Prod verifies its prebuilt image as signed before registering anything.
    withCosign();
    let run: RunResult;
    before(async () => {
      run = await runProgram(blueGreen(input), { stack });
    });

    it("replaces the API Deployment with a Rollout of the same pod template", () => {
      assert.deepEqual(
        run.all("kubernetes:apps/v1:Deployment").map((d) => d.name),
        ["api-worker"],
      );
      const rollout = rolloutOf(run);
      const container = rollout.spec.template.spec.containers[0];
      assert.equal(container.image, run.outputs.image);
      assert.equal(container.readinessProbe.httpGet.path, "/health/ready");
      assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    });

    it("wires the active and preview Services, leaving the pod-template-hash selector to Argo", () => {
      const bg = rolloutOf(run).spec.strategy.blueGreen;
      assert.equal(bg.activeService, "api");
      assert.equal(bg.previewService, "api-preview");
      assert.equal(bg.autoPromotionEnabled, true, "the first release has nothing to wait beside");
      // Prod checks each promotion against Prometheus, and keeps the previous release to roll back to.
      assert.equal(bg.scaleDownDelaySeconds, stack === "prod" ? 240 : 30);
      for (const name of ["api", "api-preview"]) {
        const service = asManifest(run.all(SERVICE).find((s) => asManifest(s).metadata.name === name)!);
        assert.equal(service.spec.selector[HASH_LABEL], undefined);
        assert.deepEqual(service.spec.selector, rolloutOf(run).spec.selector.matchLabels);
      }
      const preview = asManifest(run.one(SERVICE, "api-preview"));
      assert.equal(preview.metadata.annotations["pulumi.com/skipAwait"], "true");
    });

    it("smoke-tests the preview before promotion with a Job of the release's own pod template", () => {
      const smoke = asManifest(run.one(TEMPLATE, "api-api-smoke"));
      assert.equal(smoke.metadata.name, "api-smoke");
      const job = smoke.spec.metrics[0].provider.job.spec;
      const pod = job.template.spec;
      const container = pod.containers[0];
      const api = rolloutOf(run).spec.template.spec;
      assert.equal(container.image, api.containers[0].image);
      assert.deepEqual(container.command, ["python", "-m", "app.smoke", "{{args.url}}"]);
      assert.deepEqual(container.securityContext, api.containers[0].securityContext);
      assert.deepEqual(pod.securityContext, api.securityContext);
      assert.deepEqual(container.envFrom, api.containers[0].envFrom, "the same settings");
      assert.deepEqual(pod.volumes, api.volumes, "the same secrets");
      assert.equal(pod.serviceAccountName, api.serviceAccountName);
      assert.equal(pod.restartPolicy, "Never");
      assert.equal(container.readinessProbe, undefined, "a Job's pod serves nothing");
      assert.equal(job.template.metadata.labels["app.kubernetes.io/component"], "smoke");
      assert.deepEqual(rolloutOf(run).spec.strategy.blueGreen.prePromotionAnalysis.args, [
        { name: "url", value: `http://api-preview.api-${stack}.svc:80` },
      ]);
      assert.ok(run.one(ROLLOUT).dependsOn.includes(`${TEMPLATE}::api-api-smoke`));
    });

    it("lets the smoke test's pods reach the API's port, and nothing but DNS and that", () => {
      const policies = run.all("kubernetes:networking.k8s.io/v1:NetworkPolicy").map((p) => asManifest(p));
      const egress = policies.find((p) => p.metadata.name === "api-smoke-allow-egress");
      assert.ok(egress, "a policy for the smoke test's pods");
      const ingress = policies.find((p) => p.metadata.name === "api-allow-ingress")!;
      assert.ok(
        ingress.spec.ingress[0].from.some(
          (peer: any) => peer.podSelector?.matchLabels?.["app.kubernetes.io/component"] === "smoke",
        ),
      );
    });

    it("points the HPA at the Rollout, which starts with the HPA's minimum and leaves it the count", () => {
      const hpa = asManifest(run.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler"));
      assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: "argoproj.io/v1alpha1", kind: "Rollout", name: "api" });
      // Sent when the Rollout is created (the scale subresource's field), kept out of updates.
      assert.equal(rolloutOf(run).spec.replicas, hpa.spec.minReplicas);
      assert.deepEqual(run.one(ROLLOUT).ignoreChanges, ["spec.replicas"]);
    });

    it("without the HPA, gives the Rollout its replica count and keeps it", async () => {
      const fixed = await runProgram(blueGreen(input, { hpaEnabled: false, replicas: 4 }), { stack });
      assert.deepEqual(fixed.all("kubernetes:autoscaling/v2:HorizontalPodAutoscaler"), []);
      assert.equal(rolloutOf(fixed).spec.replicas, 4);
      assert.deepEqual(fixed.one(ROLLOUT).ignoreChanges, []);
    });

    it("rolls out only after migrations", () => {
      assert.ok(run.one(ROLLOUT).dependsOn.includes(`${JOB}::api-migration`));
    });

    it("emits objects valid for the Kubernetes and Argo Rollouts schemas", async () => {
      for (const resource of run.resources.filter((r) => r.type.startsWith("kubernetes:"))) {
        await validateManifest(asManifest(resource));
      }
    });
  });

  describe(`${stack} stack with strategy canary (mocks)`, () => {
    withCosign();
    let run: RunResult;
    before(async () => {
      run = await runProgram(canary(input), { stack });
    });

    it("steps traffic 10/30/50/80 with 5 minute pauses between the stable and canary Services", () => {
      const spec = rolloutOf(run).spec.strategy.canary;
      assert.equal(spec.stableService, "api");
      assert.equal(spec.canaryService, "api-canary");
      assert.deepEqual(
        spec.steps.filter((s: any) => s.setWeight).map((s: any) => s.setWeight),
        [10, 30, 50, 80],
      );
      assert.ok(spec.steps.filter((s: any) => s.pause).every((s: any) => s.pause.duration === "5m"));
    });

    it("shifts the steps' weights of real traffic: Argo's NGINX router splits the API's Ingress", () => {
      const spec = rolloutOf(run).spec.strategy.canary;
      const ingress = asManifest(run.one(INGRESS));
      assert.deepEqual(spec.trafficRouting, { nginx: { stableIngress: ingress.metadata.name } });
      // The router copies the rules that send traffic to the stable Service into its canary Ingress.
      assert.equal(ingress.spec.rules[0].http.paths[0].backend.service.name, spec.stableService);
    });

    it("aborts on the new release's 5xx ratio and p99 latency from Prometheus", () => {
      const errorRate = asManifest(run.one(TEMPLATE, "api-api-error-rate"));
      assert.equal(errorRate.metadata.name, "api-error-rate");
      assert.equal(errorRate.spec.metrics[0].provider.prometheus.address, PROMETHEUS);
      assert.match(errorRate.spec.metrics[0].successCondition, /<= 0\.05$/);
      const latency = asManifest(run.one(TEMPLATE, "api-api-latency"));
      assert.match(latency.spec.metrics[0].successCondition, /<= 1$/);
      assert.deepEqual(
        rolloutOf(run).spec.strategy.canary.analysis.templates.map((t: any) => t.templateName),
        ["api-error-rate", "api-latency"],
      );
    });

    it("emits objects valid for the Argo Rollouts schemas", () => {
      validateCustomResource(rolloutOf(run));
      for (const template of run.all(TEMPLATE)) {
        validateCustomResource(asManifest(template));
      }
    });

    it("would notice a malformed Rollout (the schema check can fail)", () => {
      const broken = rolloutOf(run);
      broken.spec.strategy.canary.steps = [{ setWeight: "ten" }];
      assert.throws(() => validateCustomResource(broken), /fails the Argo Rollouts CRD schema/);
    });
  });
}

/** A cluster in which prod's API serves `active` (what Argo's status and ReplicaSets say). */
const serving = (active: string, namespace = "api-prod", name = "api"): Record<string, LiveRelease> => ({
  [`${namespace}/${name}`]: { kind: "live", active },
});

describe("blue-green promotion by config, across updates (mocks)", () => {
  // Prod verifies prebuilt images as signed before registering anything.
  withCosign();
  const update = (image: string, active: string | undefined, extra: Record<string, unknown> = {}) =>
    runProgram(blueGreen(prodWith(image), extra), { stack: "prod", cluster: active ? serving(active) : {} });
  const autoPromotion = (run: RunResult) => rolloutOf(run).spec.strategy.blueGreen.autoPromotionEnabled;

  it("a new release waits in preview and the outputs say how to promote it", async () => {
    const run = await update(V2, V1);
    assert.equal(autoPromotion(run), false);
    assert.equal(rolloutOf(run).metadata.annotations["api-stack.io/promotion"], undefined);
    assert.equal(release(run).active, V1);
    assert.equal(release(run).preview, V2);
    assert.equal(
      release(run).promoteCommand,
      "pulumi config set promote 222222222222 --stack prod && pulumi up --stack prod",
    );
  });

  it("the promote config promotes exactly that release, and the Rollout records why", async () => {
    const run = await update(V2, V1, { promote: "222222222222" });
    assert.equal(autoPromotion(run), true);
    assert.equal(rolloutOf(run).metadata.annotations["api-stack.io/promotion"], "promote:222222222222");
    assert.equal(release(run).active, V2);
    assert.equal(release(run).previous, V1);
    assert.equal(release(run).preview, undefined);
  });

  it("promoting another release id does not promote this one", async () => {
    const run = await update(V2, V1, { promote: "111111111111" });
    assert.equal(autoPromotion(run), false);
  });

  it("the next release waits again although promote still names the last one", async () => {
    const run = await update(V3, V2, { promote: "222222222222" });
    assert.equal(autoPromotion(run), false);
    assert.equal(release(run).preview, V3);
  });

  it("rolls back by config: the earlier image, promoted at once, without migrations or a build", async () => {
    const run = await runProgram(blueGreen(prodInput, { rollbackTo: V1, promote: "333333333333" }), {
      stack: "prod",
      cluster: serving(V3),
    });
    assert.equal(autoPromotion(run), true);
    assert.equal(rolloutOf(run).spec.template.spec.containers[0].image, V1);
    assert.equal(release(run).active, V1);
    assert.deepEqual(run.all(JOB), []);
    assert.deepEqual(run.all("docker:index/image:Image"), []);
  });
});

describe("the live release comes from the cluster, and fails closed (mocks)", () => {
  // Prod verifies prebuilt images as signed before registering anything.
  withCosign();
  const autoPromotion = (run: RunResult) => rolloutOf(run).spec.strategy.blueGreen.autoPromotionEnabled;

  it("reads the live release of this API's own Rollout, not the stack's outputs", async () => {
    const run = await runProgram(blueGreen(prodWith(V2)), { stack: "prod" });
    assert.deepEqual(run.reads, [{ kind: "Rollout", namespace: "api-prod", name: "api", container: "api" }]);
    assert.deepEqual(
      run.resources.filter((r) => r.type === "pulumi:pulumi:StackReference"),
      [],
    );
  });

  it("a release waits while another serves, even with no record of it in the stack's outputs", async () => {
    // The stack's `release` output is gone (reshaped, moved backend, lost); the cluster still runs V1.
    const run = await runProgram(blueGreen(prodWith(V2)), { stack: "prod", cluster: serving(V1) });
    assert.equal(autoPromotion(run), false);
    assert.equal(rolloutOf(run).metadata.annotations["api-stack.io/promotion"], undefined);
    assert.equal(release(run).active, V1);
    assert.equal(release(run).preview, V2);
  });

  it("an unreadable live state waits, claims no promotion and says so", async () => {
    const run = await runProgram(blueGreen(prodWith(V2)), {
      stack: "prod",
      cluster: { "api-prod/api": { kind: "unknown", reason: "GET Rollout api-prod/api: HTTP 403" } },
    });
    assert.equal(autoPromotion(run), false);
    assert.equal(rolloutOf(run).metadata.annotations["api-stack.io/promotion"], undefined);
    assert.equal(release(run).active, undefined);
    assert.equal(release(run).preview, V2);
    assert.match(String(release(run).note), /could not be read \(GET Rollout api-prod\/api: HTTP 403\)/);
  });

  it("render mode reads no cluster, so a new release waits there too", async () => {
    const input = withConfig(blueGreen(prodWith(V2)), { renderYamlTo: "rendered/prod" });
    const run = await runProgram(input, { stack: "prod", cluster: serving(V2) });
    assert.deepEqual(run.reads, []);
    assert.equal(autoPromotion(run), false);
    assert.match(String(release(run).note), /render mode/);
  });

  it("two ApiStacks in one program promote and roll back independently", async () => {
    const input = blueGreen(prodWith(V2));
    const config = validateConfig({
      values: input.values,
      secretKeys: new Set(input.secretKeys),
      project: PROJECT,
      stack: "prod",
      projectDir: PROJECT_DIR,
    });
    assert.ok(config.ok);
    const { args } = config.config;
    const bg = args.delivery as Extract<typeof args.delivery, { strategy: "blueGreen" }>;
    // One config, three APIs: orders promotes V2, billing rolls back to V1, search lets V2 wait.
    const apis: Record<string, Partial<typeof args>> = {
      orders: { delivery: { ...bg, promote: "222222222222" } },
      billing: { rollbackTo: V1 },
      search: {},
    };
    const program = (readRelease: ReleaseReader) =>
      Promise.resolve(
        Object.fromEntries(
          Object.entries(apis).map(([name, extra]) => {
            const api = {
              ...args,
              app: { ...args.app, appName: name },
              namespace: `${name}-prod`,
              readRelease,
              ...extra,
            };
            return [name, new ApiStack(name, api).release];
          }),
        ),
      );
    const run = await runProgram(input, {
      stack: "prod",
      program,
      cluster: {
        ...serving(V1, "orders-prod", "orders"),
        ...serving(V2, "billing-prod", "billing"),
        ...serving(V1, "search-prod", "search"),
      },
    });
    assert.deepEqual(
      run.reads.map((r) => `${r.namespace}/${r.name}`),
      ["orders-prod/orders", "billing-prod/billing", "search-prod/search"],
    );
    const rolloutIn = (namespace: string) =>
      run
        .all(ROLLOUT)
        .map(asManifest)
        .find((r) => r.metadata.namespace === namespace)!;
    const promotion = (namespace: string) => [
      rolloutIn(namespace).spec.strategy.blueGreen.autoPromotionEnabled,
      rolloutIn(namespace).metadata.annotations["api-stack.io/promotion"],
      rolloutIn(namespace).spec.template.spec.containers[0].image,
    ];
    assert.deepEqual(promotion("orders-prod"), [true, "promote:222222222222", V2]);
    assert.deepEqual(promotion("billing-prod"), [true, "rollbackTo:111111111111", V1]);
    assert.deepEqual(promotion("search-prod"), [false, undefined, V2]);
    const outputs = run.outputs as Record<string, Record<string, string | undefined>>;
    assert.deepEqual([outputs.orders.active, outputs.orders.previous], [V2, V1]);
    assert.deepEqual([outputs.billing.active, outputs.billing.previous], [V1, V2]);
    assert.deepEqual([outputs.search.active, outputs.search.preview], [V1, V2]);
  });
});

describe("the deployment checklist as dependencies (mocks)", () => {
  // Prod verifies prebuilt images as signed before registering anything.
  withCosign();
  it("backs up, then migrates, then rolls out, once per image digest", async () => {
    const run = await runProgram(blueGreen(prodWith(V2), { backupEnabled: true }), { stack: "prod" });
    const backup = asManifest(run.one(JOB, "api-backup"));
    // Named by the release and the settings it runs with (api-secrets-<settings id>).
    const secretName = asManifest(run.one("kubernetes:core/v1:Secret", "api-secrets")).metadata.name;
    const settingsId = secretName.slice("api-secrets-".length);
    assert.equal(backup.metadata.name, `api-backup-222222222222-${settingsId}`);
    const container = backup.spec.template.spec.containers[0];
    assert.match(container.image, /^postgres:16-alpine@sha256:[a-f0-9]{64}$/);
    assert.deepEqual(
      backup.spec.template.spec.volumes.find((v: { name: string }) => v.name === "secrets").secret.secretName,
      secretName,
    );
    assert.equal(container.env[0].value, `api-backup-222222222222-${settingsId}.dump`);
    assert.equal(backup.spec.backoffLimit, 0);
    assert.equal(backup.spec.template.spec.volumes[0].persistentVolumeClaim.claimName, "api-backup");
    await validateManifest(backup);

    assert.ok(run.one(JOB, "api-migration").dependsOn.includes(`${JOB}::api-backup`));
    assert.ok(run.one(ROLLOUT).dependsOn.includes(`${JOB}::api-migration`));
    assert.ok(run.one(ROLLOUT).dependsOn.includes(`${JOB}::api-backup`));
  });

  it("installs Argo Rollouts first when the stack asks for it", async () => {
    const manifest = "https://github.com/argoproj/argo-rollouts/releases/download/v1.9.3/install.yaml";
    const run = await runProgram(blueGreen(prodWith(V2), { argoRolloutsManifest: manifest }), { stack: "prod" });
    const install = run.one("kubernetes:yaml/v2:ConfigFile");
    assert.equal(install.inputs.file, manifest);
    assert.ok(run.one(ROLLOUT).dependsOn.includes(install.key));
    assert.ok(run.all(TEMPLATE).every((template) => template.dependsOn.includes(install.key)));
  });
});

describe("blue-green post-promotion analysis (mocks)", () => {
  // Prod verifies prebuilt images as signed before registering anything.
  withCosign();
  it("is a bounded check that completes, so a release with it can finish", async () => {
    const run = await runProgram(
      blueGreen(prodWith(V2), { postPromotionAnalysis: true, prometheusAddress: PROMETHEUS }),
      { stack: "prod" },
    );
    const post = rolloutOf(run).spec.strategy.blueGreen.postPromotionAnalysis;
    assert.equal(post.templates.length, 2, "the 5xx ratio and the p99 latency");
    for (const { templateName } of post.templates) {
      const template = asManifest(run.all(TEMPLATE).find((t) => asManifest(t).metadata.name === templateName)!);
      const metric = template.spec.metrics[0];
      assert.ok(Number(metric.count) > 0, "an interval without a count measures forever");
      assert.ok(metric.interval);
      validateCustomResource(template);
    }
  });
});

describe("an update waits for its release (mocks, a fake cluster)", () => {
  // Prod verifies prebuilt images as signed before registering anything.
  withCosign();
  const canaryProd = (image: string) => canary(prodWith(image), { releaseTimeoutSeconds: 2400 });

  it("waits for the canary image this update deployed, with its settings, up to releaseTimeoutSeconds", async () => {
    const { run, waits, failures } = await runAndWait(canaryProd(V3), serving(V2), {
      kind: "released",
      live: { kind: "live", active: V3 },
    });
    assert.equal(waits.length, 1);
    const [{ target, expected, options }] = waits;
    assert.deepEqual(target, { kind: "Rollout", namespace: "api-prod", name: "api", container: "api" });
    const template = rolloutOf(run).spec.template;
    assert.deepEqual(expected, {
      image: V3,
      settingsChecksum: template.metadata.annotations["api-stack.io/settings-checksum"],
      waitsForPromotion: false,
      prePromotionAnalysis: false,
    });
    assert.equal(options.deadlineSeconds, 2400);
    assert.equal(typeof options.onProgress, "function");
    assert.deepEqual(failures, []);
    assert.equal(release(run).active, V3);
  });

  it("after an abort, fails with Argo's reason, reporting the stable release active, not the aborted one", async () => {
    const reason =
      "Argo Rollouts aborted release 333333333333 of Rollout api-prod/api (RolloutAborted: " +
      'Metric "error-rate" assessed Failed)';
    const { run, failures } = await runAndWait(canaryProd(V3), serving(V2), {
      kind: "failed",
      reason,
      live: { kind: "live", active: V2, previous: V1, current: V3, aborted: true },
    });
    assert.equal(release(run).active, V2);
    assert.equal(release(run).previous, V1);
    assert.equal(release(run).note, `${reason}.`);
    // One error, however many promise chains report it (the runtime reports it once, by identity).
    assert.equal(new Set(failures).size, 1);
    assert.equal(failures[0].message, `${reason}.`);
  });

  it("blue-green: a release waiting for promotion ends the update, which succeeds with it in preview", async () => {
    const { run, waits, failures } = await runAndWait(blueGreen(prodWith(V2)), serving(V1), {
      kind: "awaitingPromotion",
      live: { kind: "live", active: V1, current: V2 },
    });
    assert.deepEqual([waits[0].expected.waitsForPromotion, waits[0].expected.prePromotionAnalysis], [true, true]);
    assert.deepEqual([release(run).active, release(run).preview], [V1, V2]);
    assert.deepEqual(failures, []);
  });

  it("blue-green: a promoted release is waited for until it is active", async () => {
    const { waits } = await runAndWait(blueGreen(prodWith(V2), { promote: "222222222222" }), serving(V1), {
      kind: "released",
      live: { kind: "live", active: V2 },
    });
    assert.equal(waits[0].expected.waitsForPromotion, false);
  });

  it("a rolling Deployment is left to the provider's own wait", async () => {
    const { waits } = await runAndWait(
      withConfig(prodWith(V2)(), { strategy: "rolling" }),
      {},
      { kind: "released", live: { kind: "absent" } },
    );
    assert.deepEqual(waits, []);
  });
});

describe("delivery config rules", () => {
  const fails = async (input: StackInput, pattern: RegExp) => {
    await assert.rejects(runProgram(input), pattern);
  };

  it("refuses blue-green keys on other strategies", () =>
    fails(
      withConfig(prodInput(), { strategy: "rolling", promote: "222222222222" }),
      /api-stack:promote must not be set unless api-stack:strategy is blueGreen/,
    ));

  it("needs Prometheus for canary", () =>
    fails(
      withConfig(prodInput(), { strategy: "canary", prometheusAddress: undefined }),
      /api-stack:prometheusAddress is required when api-stack:strategy is canary/,
    ));

  it("refuses auto-promotion in prod", () =>
    fails(blueGreen(prodInput, { autoPromote: true }), /api-stack:autoPromote: true is refused in prod/));

  it("refuses canary weights that go down", () =>
    fails(canary(prodInput, { canarySteps: [{ setWeight: 50 }, { setWeight: 20 }] }), /weights 50, 20 must increase/));

  it("refuses canary on a Gateway, saying why and what to use instead", () =>
    fails(
      canary(prodInput, { exposure: "gateway", gatewayName: "platform", clusterIssuer: undefined }),
      new RegExp(
        "canary is not available with api-stack:exposure gateway: " +
          "Argo Rollouts routes Gateway API traffic only through its Gateway API plugin .*" +
          "Use exposure ingress .* or strategy blueGreen",
      ),
    ));

  it("refuses canary without an Ingress to shift traffic on", () =>
    fails(
      canary(prodInput, { ingressEnabled: false, ingressHost: undefined }),
      /canary shifts traffic on the API's Ingress/,
    ));

  it("refuses canary steps that could complete before the analysis measured anything", () =>
    fails(
      canary(prodInput, { canarySteps: [{ setWeight: 50 }, { pause: { duration: "90s" } }] }),
      /pauses after the first setWeight last 90 s; they must last at least 120 s/,
    ));
});

describe("a release that changes only appVersion (mocks)", () => {
  withCosign();
  // Argo Rollouts writes its hash into the selector of the Services it switches; the selector is
  // an atomic map, so any apply of such a Service by the program would conflict with Argo (seen
  // on a real cluster). Volume claim templates are immutable: a change replaces the StatefulSet
  // and, with its claims deleted with it, the dev database. Neither may change with a release.
  const untouched = (run: RunResult) =>
    [...run.all(SERVICE), ...run.all("kubernetes:apps/v1:StatefulSet")].map((r) => {
      const manifest = asManifest(r);
      return r.type === SERVICE
        ? manifest
        : { name: manifest.metadata.name, claims: manifest.spec.volumeClaimTemplates };
    });

  for (const [strategy, input] of [
    ["blueGreen", () => blueGreen(devInput)],
    ["canary", () => canary(devInput)],
  ] as const) {
    it(`${strategy}: leaves every Service and volume claim template as it was`, async () => {
      const before = await runProgram(withConfig(input(), { appVersion: "1.0.0" }), { stack: "dev" });
      const after = await runProgram(withConfig(input(), { appVersion: "2.0.0" }), { stack: "dev" });
      assert.ok(untouched(before).length >= 4);
      assert.deepEqual(untouched(after), untouched(before));
      assert.notDeepEqual(
        rolloutOf(after).metadata.labels,
        rolloutOf(before).metadata.labels,
        "the Rollout does carry the version",
      );
    });

    it(`${strategy}: never changes the Services Argo switches once they exist`, async () => {
      const run = await runProgram(input(), { stack: "dev" });
      const argoServices = run
        .all(SERVICE)
        .filter((r) => ["api", "api-preview", "api-canary"].includes(asManifest(r).metadata.name));
      assert.equal(argoServices.length, 2);
      for (const service of argoServices) {
        assert.deepEqual(service.ignoreChanges, ["metadata.labels", "metadata.annotations", "spec"], service.key);
      }
    });
  }

  it("the dev StatefulSets never replace themselves for a volume claim template change", async () => {
    const run = await runProgram(devInput(), { stack: "dev" });
    const sets = run.all("kubernetes:apps/v1:StatefulSet");
    assert.equal(sets.length, 2);
    for (const set of sets) {
      assert.deepEqual(set.ignoreChanges, ["spec.volumeClaimTemplates"], set.key);
    }
  });

  it("rolling: the API's Service is the program's alone and follows every change", async () => {
    const run = await runProgram(devInput(), { stack: "dev" });
    const api = run.all(SERVICE).find((r) => asManifest(r).metadata.name === "api")!;
    assert.deepEqual(api.ignoreChanges, []);
  });
});
