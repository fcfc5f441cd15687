// Progressive delivery for real: the Argo Rollouts controller of testbed/local-env acting on
// what `pulumi up` declares. Promotion, rollback and abort are config changes only.
import { strict as assert } from "node:assert";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { Stack } from "@pulumi/pulumi/automation";
import { setConfig, type ConfigValues } from "../../scripts/automation";
import { changes, eventually, kubectlJson, newStack, progress, releaseId } from "./env";
import { buildReleases } from "./images";

const SECRETS = {
  secretKey: "e2e-secret-key-0123456789abcdef0123456789abcdef",
  databaseUrl: "postgresql://app:e2e-password@postgres.databases.svc:5432/app",
  redisUrl: "redis://redis.databases.svc:6379/0",
};

function newDeliveryStack(name: string, namespace: string, image: string, extra: ConfigValues): Promise<Stack> {
  const values = { environment: "staging", namespace, imageRef: image, replicas: 2, hpaEnabled: false, workerEnabled: false };
  return newStack(name, { ...values, ...SECRETS, ...extra }, Object.keys(SECRETS));
}

const rollout = (namespace: string) => kubectlJson("get", "rollout", "api", "-n", namespace);
const selectorHash = (namespace: string, service: string): string | undefined =>
  kubectlJson("get", "service", service, "-n", namespace).spec.selector["rollouts-pod-template-hash"];
/** The pod-template hash of the ReplicaSet that runs a given image. */
function hashOf(namespace: string, image: string): string | undefined {
  const sets = kubectlJson("get", "replicasets", "-n", namespace, "-l", "app.kubernetes.io/component=api").items;
  const set = sets.find((rs: any) => rs.spec.template.spec.containers[0].image === image);
  return set?.metadata.labels["rollouts-pod-template-hash"];
}

async function up(stack: Stack, values: ConfigValues = {}) {
  await setConfig(stack, values);
  const result = await stack.up({ onOutput: () => undefined });
  assert.equal(result.summary.result, "succeeded");
  return result.outputs.release.value as Record<string, string | undefined>;
}

describe("blue-green releases promoted by config", function () {
  this.timeout(20 * 60_000);
  const ns = "api-e2ebluegreen";
  let stack: Stack;
  let v1: string, v2: string, v3: string;

  before(async () => {
    [v1, v2, v3] = buildReleases(3);
    // The controller runs beside the cluster, not in it: it cannot resolve Service DNS names,
    // so the in-cluster smoke test is left to real clusters (unit tests cover its wiring).
    stack = await newDeliveryStack("e2ebluegreen", ns, v1, { strategy: "blueGreen", prePromotionAnalysis: false });
  });

  after(async () => {
    await stack?.destroy({ onOutput: () => undefined });
  });

  const activeIs = (image: string) =>
    eventually(`active Service on ${image.slice(-12)}`, 180, () => {
      const hash = hashOf(ns, image);
      return hash && selectorHash(ns, "api") === hash && rollout(ns).status.phase === "Healthy" ? hash : undefined;
    });

  it("the first release becomes active", async () => {
    progress("blue-green: first release");
    const release = await up(stack);
    assert.equal(release.active, v1);
    await activeIs(v1);
  });

  it("a new release waits in preview while the active Service stays on the old one", async () => {
    progress("blue-green: second release waits");
    const release = await up(stack, { imageRef: v2 });
    assert.equal(release.active, v1);
    assert.equal(release.preview, v2);
    assert.match(String(release.promoteCommand), new RegExp(`pulumi config set promote ${releaseId(v2)}`));
    const previewHash = await eventually("the preview ReplicaSet ready and the rollout paused", 180, () => {
      const hash = hashOf(ns, v2);
      return hash && selectorHash(ns, "api-preview") === hash && rollout(ns).status.phase === "Paused" ? hash : undefined;
    });
    assert.notEqual(selectorHash(ns, "api"), previewHash);
    assert.equal(selectorHash(ns, "api"), hashOf(ns, v1));
  });

  it("a second preview shows no changes (Argo's selector hash is not Pulumi's)", async () => {
    const preview = await stack.preview({ expectNoChanges: true, onOutput: () => undefined });
    assert.deepEqual(changes(preview.changeSummary), []);
  });

  it("the promotion config switches the active Service to the new release", async () => {
    progress("blue-green: promote by config");
    const release = await up(stack, { promote: releaseId(v2) });
    assert.equal(release.active, v2);
    assert.equal(release.previous, v1);
    await activeIs(v2);
  });

  it("the next release waits again although promote still names the last one", async () => {
    progress("blue-green: third release waits");
    const release = await up(stack, { imageRef: v3 });
    assert.equal(release.preview, v3);
    await eventually("the rollout paused on the third release", 180, () =>
      rollout(ns).status.phase === "Paused" && selectorHash(ns, "api-preview") === hashOf(ns, v3) ? true : undefined,
    );
    assert.equal(selectorHash(ns, "api"), hashOf(ns, v2));
  });

  it("rolling back by config restores the previous release", async () => {
    progress("blue-green: promote, then roll back by config");
    await up(stack, { promote: releaseId(v3) });
    await activeIs(v3);
    const release = await up(stack, { rollbackTo: v2 });
    assert.equal(release.active, v2);
    await activeIs(v2);
  });
});

describe("canary releases analysed against Prometheus", function () {
  this.timeout(20 * 60_000);
  const ns = "api-e2ecanary";
  let stack: Stack;
  let v1: string, v2: string, v3: string;
  // A Prometheus-compatible query endpoint on loopback: the 5xx ratio the analysis will read.
  let errorRatio = "0";
  const prometheus = http.createServer((request, response) => {
    if (!request.url?.startsWith("/api/v1/query")) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "content-type": "application/json" }).end(
      JSON.stringify({
        status: "success",
        data: { resultType: "vector", result: [{ metric: {}, value: [Date.now() / 1000, errorRatio] }] },
      }),
    );
  });

  before(async () => {
    await new Promise<void>((resolve) => prometheus.listen(0, "127.0.0.1", resolve));
    const address = `http://127.0.0.1:${(prometheus.address() as AddressInfo).port}`;
    [v1, v2, v3] = buildReleases(3);
    stack = await newDeliveryStack("e2ecanary", ns, v1, {
      strategy: "canary",
      prometheusAddress: address,
      // Long enough for two failed one-minute measurements to abort before the pause ends.
      canarySteps: [{ setWeight: 50 }, { pause: { duration: "90s" } }],
    });
  });

  after(async () => {
    await stack?.destroy({ onOutput: () => undefined });
    prometheus.close();
  });

  it("the first release becomes stable", async () => {
    progress("canary: first release");
    await up(stack);
    await eventually("the first release healthy", 180, () =>
      rollout(ns).status.phase === "Healthy" && selectorHash(ns, "api") === hashOf(ns, v1) ? true : undefined,
    );
  });

  it("a healthy release steps through its weights and becomes stable", async () => {
    progress("canary: healthy release progresses (about 90 s of pause)");
    errorRatio = "0";
    await up(stack, { imageRef: v2 });
    await eventually("the canary at its first weight", 120, () => (rollout(ns).status.currentStepIndex >= 1 ? true : undefined));
    await eventually("the second release stable", 300, () => {
      const status = rollout(ns).status;
      return status.phase === "Healthy" && status.stableRS === hashOf(ns, v2) ? true : undefined;
    });
  });

  it("a release whose 5xx ratio exceeds the threshold is aborted and the stable one keeps serving", async () => {
    progress("canary: failing analysis aborts (about 60-120 s)");
    errorRatio = "0.5";
    await up(stack, { imageRef: v3 });
    const status = await eventually("the rollout aborted", 300, () => {
      const s = rollout(ns).status;
      return s.abort ? s : undefined;
    });
    assert.equal(status.stableRS, hashOf(ns, v2));
    assert.equal(selectorHash(ns, "api"), hashOf(ns, v2));
    const runs = kubectlJson("get", "analysisruns", "-n", ns).items;
    assert.ok(runs.some((run: any) => run.status?.phase === "Failed"), "an AnalysisRun failed");
  });
});
