// Progressive delivery for real: the Argo Rollouts controller in the cluster acting on what
// `pulumi up` declares, pods that really serve, Traefik really splitting traffic, analyses that
// really query Prometheus (the Prometheus Operator's, which knows the app's pods only through the
// stack's PodMonitors) and a smoke test that really walks the notes flow through the preview.
// Promotion, rollback and abort are config changes only; a bounded load through the ingress
// counts every failed request.
import { strict as assert } from "node:assert";
import type { Stack } from "@pulumi/pulumi/automation";
import { LOCAL_PROMETHEUS, localShape, setConfig, type ConfigValues } from "../../tools/automation";
import { explain, startLoad, startLoadInThread, type LoadResult, type LoadRun } from "../support/load";
import {
  destroyStack,
  kubectl,
  kubectlJson,
  newStack,
  openApiVersion,
  progress,
  releaseId,
  upRelease,
  viaIngress,
} from "./env";
import { jobsOf } from "./prometheus";
import {
  buildReleases,
  failingBehindIngress,
  failingMigration,
  failingRequests,
  failingUserFlow,
  neverReady,
} from "../support/releases";

const API_TOKEN = "e2e-delivery-api-token-0123456789abcdef0123";
const SECRETS = {
  secretKey: "e2e-delivery-secret-key-0123456789abcdef0123456789abcdef",
  devPostgresPassword: "e2e-postgres-password",
  apiTokens: API_TOKEN,
};

/** A dev-shaped stack (in-cluster Postgres and Redis, so pods really become ready) with a strategy. */
function deliveryStack(
  name: string,
  namespace: string,
  host: string,
  image: string,
  extra: ConfigValues,
): Promise<Stack> {
  const values: ConfigValues = {
    ...localShape("dev", image, SECRETS),
    namespace,
    ingressHost: host,
    hpaEnabled: false,
    replicas: 2,
    workerEnabled: false,
    appVersion: "1.0.1",
    // The load comes from one client address: above the default rate limit it would get 429s.
    rateLimitPerMinute: 100_000,
    ...extra,
  };
  return newStack(name, values, Object.keys(SECRETS));
}

/** Users of `host`, on a thread of their own: each `up` runs the program in this process (load.ts). */
function loadOn(host: string, path = "/openapi.json", ratePerSecond = 20): Promise<LoadRun> {
  return startLoadInThread({
    url: `http://127.0.0.1${path}`,
    host,
    ratePerSecond,
    maxRequests: 20_000,
    maxSeconds: 900,
    byOpenApiVersion: true,
  });
}

const rollout = (namespace: string) => kubectlJson("get", "rollout", "api", "-n", namespace);

interface AnalysisRun {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { metrics: { name: string; provider: Record<string, unknown> }[] };
  status?: { phase?: string; metricResults?: { name: string; phase: string; measurements?: { value?: string }[] }[] };
}
const analysisRuns = (namespace: string) =>
  kubectlJson<{ items: AnalysisRun[] }>("get", "analysisruns", "-n", namespace).items;
/** The runs of a blue-green release's analyses, by Argo's label: the smoke test (pre) or the check after (post). */
const runsOfType = (namespace: string, type: "PrePromotion" | "PostPromotion") =>
  analysisRuns(namespace).filter((run) => run.metadata.labels?.["rollout-type"] === type);
/**
 * Whether every measurement of the run was one number, as Argo records a vector of one value
 * (`[0.012]`): it decided on data, not on its absence (`[]`) or an empty window (`[NaN]`).
 */
const measuredData = (run: AnalysisRun) =>
  (run.status?.metricResults ?? []).every((metric) =>
    (metric.measurements ?? []).every((m) => Number.isFinite(Number(/^\[([^,\]]+)\]$/.exec(m.value ?? "")?.[1]))),
  );

/** What the smoke test's Jobs printed, to explain a smoke test that failed. */
const smokeLogs = (namespace: string) =>
  kubectlJson<{ items: { metadata: { name: string } }[] }>(
    "get",
    "jobs",
    "-n",
    namespace,
    "-l",
    "analysisrun.argoproj.io/uid",
  )
    .items.map((job) => `${job.metadata.name}:\n${kubectl("logs", "-n", namespace, `job/${job.metadata.name}`)}`)
    .join("\n");

/** Notes a user of the API sees whose title the smoke test gives its notes. */
async function smokeNotesSeen(host: string): Promise<unknown[]> {
  const answer = await viaIngress(host, "/notes?limit=200", { token: API_TOKEN });
  assert.equal(answer.status, 200, answer.body);
  return (JSON.parse(answer.body) as { title: string }[]).filter((note) => note.title.startsWith("smoke test "));
}

/** How a release that failed its users ended: requests failed from its first 5xx to the last, and over how long. */
function failedStretch(traffic: LoadResult): { failed: number; seconds: number } {
  assert.ok(traffic.failedSpan, "the release failed some requests");
  return { failed: traffic.failed, seconds: (traffic.failedSpan.lastMs - traffic.failedSpan.firstMs) / 1000 };
}

/** `up` that must fail; returns the engine's message. */
async function failingUp(stack: Stack, values: ConfigValues): Promise<string> {
  await setConfig(stack, values);
  let message = "";
  await assert.rejects(stack.up({ onOutput: () => undefined }), (error: Error) => {
    message = error.message;
    return true;
  });
  return message;
}

describe("blue-green releases on the real node", function () {
  this.timeout(30 * 60_000);
  const ns = "api-e2ebluegreen";
  const host = "bluegreen.e2e.localhost";
  let stack: Stack;
  let v1: string, v2: string, v3: string;

  before(async () => {
    [v1, v2, v3] = buildReleases(3);
    stack = await deliveryStack("e2ebluegreen", ns, host, v1, { strategy: "blueGreen" });
  });

  after(async () => {
    await destroyStack(stack);
  });

  it("the first release becomes active, and `up` returns once it serves", async () => {
    progress("blue-green: first release");
    const release = await upRelease(stack);
    assert.equal(release.active, v1);
    assert.equal(rollout(ns).status.phase, "Healthy");
  });

  it("a new release waits in preview after its smoke test walked the notes flow through the preview", async () => {
    progress("blue-green: second release waits in preview");
    const load = await loadOn(host);
    const release = await upRelease(stack, { imageRef: v2, appVersion: "1.0.2" });
    const traffic = await load.stop();
    assert.equal(release.active, v1);
    assert.equal(release.preview, v2);
    assert.match(String(release.promoteCommand), new RegExp(`pulumi config set promote ${releaseId(v2)}`));
    assert.equal(rollout(ns).status.phase, "Paused", "`up` returned once the preview was ready and waiting");
    const [smoke] = runsOfType(ns, "PrePromotion");
    assert.equal(smoke?.status?.phase, "Successful", "the pre-promotion smoke test passed");
    assert.ok(smoke.spec.metrics[0].provider.job, "as a Job");
    const jobs = kubectlJson<{ items: { metadata: { name: string }; spec: any }[] }>(
      "get",
      "jobs",
      "-n",
      ns,
      "-l",
      `analysisrun.argoproj.io/uid`,
    ).items;
    const job = jobs.find((j) => j.spec.template.spec.containers[0].image === v2);
    assert.ok(job, "the smoke Job ran the new release's image");
    assert.equal(job.spec.template.spec.securityContext.runAsNonRoot, true);
    assert.match(kubectl("logs", "-n", ns, `job/${job.metadata.name}`), /the notes flow works/);
    assert.deepEqual(await smokeNotesSeen(host), [], "the smoke test left no note users see");
    assert.equal(traffic.failed, 0, explain(traffic));
    assert.deepEqual(Object.keys(traffic.releases), ["1.0.1"], "users saw only the active release");
  });

  it("promotion by config moves every user to the new release without a failed request", async () => {
    progress("blue-green: promote under load");
    const load = await loadOn(host);
    const promotedAt = load.elapsedMs();
    const release = await upRelease(stack, { promote: releaseId(v2) });
    await new Promise((r) => setTimeout(r, 5000));
    const traffic = await load.stop();
    assert.equal(release.active, v2);
    assert.equal(release.previous, v1);
    assert.equal(traffic.failed, 0, explain(traffic));
    const switched = traffic.releases["1.0.1"] ? traffic.releases["1.0.1"].lastMs - promotedAt : 0;
    progress(
      `blue-green: ${traffic.sent} requests, 0 failed, last answer from the old ` +
        `release ${(switched / 1000).toFixed(1)} s after the promoting up started`,
    );
    assert.ok(traffic.releases["1.0.2"], "the new release served");
  });

  it("a healthy release that cannot read a note back fails its smoke test and is never promoted", async () => {
    progress("blue-green: a healthy release whose user flow fails");
    const load = await loadOn(host);
    const message = await failingUp(stack, { imageRef: failingUserFlow(), appVersion: "1.0.6" });
    const traffic = await load.stop();
    assert.match(message, /aborted/);
    assert.match(message, /pre-promotion/);
    const failed = runsOfType(ns, "PrePromotion").find((run) => run.status?.phase === "Failed");
    assert.ok(failed, "the smoke test's run failed");
    assert.equal(traffic.failed, 0, explain(traffic));
    assert.deepEqual(Object.keys(traffic.releases), ["1.0.2"], "only the active release answered");
    assert.equal((await stack.outputs()).release.value.active, v2);
    assert.deepEqual(await smokeNotesSeen(host), [], "the note of the broken flow was deleted too");
  });

  it("a release that never becomes ready is never promoted, and the active one keeps serving", async () => {
    progress("blue-green: a release whose readiness fails (bounded wait)");
    const load = await loadOn(host);
    const message = await failingUp(stack, { imageRef: neverReady(), appVersion: "1.0.3", releaseTimeoutSeconds: 90 });
    const traffic = await load.stop();
    assert.match(message, /did not settle within 90 s/);
    assert.equal(traffic.failed, 0, explain(traffic));
    assert.deepEqual(Object.keys(traffic.releases), ["1.0.2"], "only the active release answered");
  });

  it("a release whose migration fails stops before any new pod; the next good release migrates and waits", async () => {
    progress("blue-green: a failing migration, then a good release");
    const broken = failingMigration();
    const load = await loadOn(host);
    const message = await failingUp(stack, { imageRef: broken, appVersion: "1.0.4" });
    assert.match(message, /migration/i);
    const pods = kubectlJson("get", "pods", "-n", ns, "-l", "app.kubernetes.io/component=api").items;
    assert.ok(
      !pods.some((pod: any) => pod.spec.containers[0].image === broken),
      "no API pod of the release that failed to migrate",
    );
    const release = await upRelease(stack, { imageRef: v3, appVersion: "1.0.5", releaseTimeoutSeconds: 1800 });
    const traffic = await load.stop();
    assert.equal(release.preview, v3, "the good release migrated and waits in preview");
    assert.equal(release.active, v2);
    assert.equal(traffic.failed, 0, explain(traffic));
  });

  it("rolling back by config returns every user to the previous release without a failed request", async () => {
    progress("blue-green: promote, then roll back under load");
    await upRelease(stack, { promote: releaseId(v3) });
    const load = await loadOn(host);
    const release = await upRelease(stack, { rollbackTo: v2 });
    const traffic = await load.stop();
    assert.equal(release.active, v2);
    assert.equal(traffic.failed, 0, explain(traffic));
    const status = rollout(ns).status;
    const active = kubectlJson(
      "get",
      "replicasets",
      "-n",
      ns,
      "-l",
      `rollouts-pod-template-hash=${status.blueGreen.activeSelector}`,
    ).items[0];
    assert.equal(
      active.spec.template.spec.containers[0].image,
      v2,
      "the active Service selects the rolled-back-to release",
    );
    progress(`blue-green: ${traffic.sent} requests across the rollback, 0 failed`);
  });
});

describe("canary releases that shift real traffic", function () {
  this.timeout(30 * 60_000);
  const ns = "api-e2ecanary";
  const host = "canary.e2e.localhost";
  let stack: Stack;
  let v1: string, v2: string;

  before(async () => {
    [v1, v2] = buildReleases(2);
    stack = await deliveryStack("e2ecanary", ns, host, v1, {
      strategy: "canary",
      prometheusAddress: LOCAL_PROMETHEUS,
      canarySteps: [{ setWeight: 50 }, { pause: { duration: "2m" } }],
    });
  });

  after(async () => {
    await destroyStack(stack);
  });

  it("the first release becomes stable", async () => {
    progress("canary: first release");
    await upRelease(stack);
    assert.equal(rollout(ns).status.phase, "Healthy");
  });

  it("a good canary gets its share of real traffic, passes the analysis and reaches 100 %", async () => {
    progress("canary: good release under load (about 3 minutes of steps and analysis)");
    const load = await loadOn(host);
    const release = await upRelease(stack, { imageRef: v2, appVersion: "1.0.2" });
    const traffic = await load.stop();
    assert.equal(release.active, v2);
    assert.equal(traffic.failed, 0, explain(traffic));
    const share = (traffic.releases["1.0.2"]?.count ?? 0) / traffic.ok;
    progress(
      `canary: ${traffic.sent} requests, ${Math.round(share * 100)} % answered by the new release ` +
        "over the whole update",
    );
    assert.ok(traffic.releases["1.0.1"] && traffic.releases["1.0.2"], "both releases served users during the canary");
    const status = rollout(ns).status;
    assert.equal(status.phase, "Healthy");
    assert.equal(status.stableRS, status.currentPodHash);
    const passed = analysisRuns(ns).find((run) => run.status?.phase === "Successful");
    assert.ok(passed && measuredData(passed), "the analysis passed on measurements of the canary's traffic");
    assert.deepEqual(jobsOf("http_requests_total", ns), [`${ns}/api`], "the series came through the PodMonitor alone");
  });

  it("a canary that answers 5xx is aborted by its analysis; `up` fails, the stable release keeps serving", async () => {
    progress("canary: failing release under load (analysis over real 5xx)");
    const load = await loadOn(host, "/openapi.json", 10);
    const message = await failingUp(stack, { imageRef: failingRequests(), appVersion: "1.0.3" });
    const during = await load.stop();
    assert.match(message, /abort/i);
    const status = rollout(ns).status;
    assert.equal(status.abort, true);
    const stable = kubectlJson("get", "replicasets", "-n", ns, "-l", `rollouts-pod-template-hash=${status.stableRS}`)
      .items[0];
    assert.equal(stable.spec.template.spec.containers[0].image, v2, "the stable release is still the good one");
    assert.ok((during.outcomes["500"] ?? 0) > 0, "the canary really got requests, and failed them");
    const failed = analysisRuns(ns).find((run) => run.status?.phase === "Failed");
    assert.ok(failed, "an AnalysisRun over Prometheus failed");
    assert.ok(measuredData(failed), "on measurements of real data, not on their absence");
    assert.deepEqual(jobsOf("http_requests_total", ns), [`${ns}/api`], "the series came through the PodMonitor alone");
    const after = await startLoad({
      url: "http://127.0.0.1/openapi.json",
      host,
      ratePerSecond: 10,
      maxRequests: 100,
      maxSeconds: 10,
    }).done;
    assert.equal(after.failed, 0, `after the abort every request is served by the stable release: ${explain(after)}`);
    assert.equal(
      (await stack.outputs()).release.value.active,
      v2,
      "the release output names what serves, not the aborted image",
    );
  });
});

describe("blue-green's post-promotion analysis, on what the PodMonitor brings Prometheus", function () {
  this.timeout(40 * 60_000);
  const ns = "api-e2epostpromotion";
  const host = "postpromotion.e2e.localhost";
  let stack: Stack;
  let v1: string, v2: string;

  before(async () => {
    [v1, v2] = buildReleases(2);
    stack = await deliveryStack("e2epostpromotion", ns, host, v1, {
      strategy: "blueGreen",
      postPromotionAnalysis: true,
      prometheusAddress: LOCAL_PROMETHEUS,
    });
  });

  after(async () => {
    await destroyStack(stack);
  });

  it("the first release becomes active", async () => {
    progress("post-promotion: first release");
    assert.equal((await upRelease(stack)).active, v1);
  });

  it("a good release passes the check after its promotion, on series only the PodMonitor brought", async () => {
    progress("post-promotion: a good release, promoted under load (about 4 minutes of analysis)");
    await upRelease(stack, { imageRef: v2, appVersion: "1.0.2" });
    const load = await loadOn(host);
    const release = await upRelease(stack, { promote: releaseId(v2) });
    const traffic = await load.stop();
    assert.equal(release.active, v2);
    assert.equal(traffic.failed, 0, explain(traffic));
    const [check] = runsOfType(ns, "PostPromotion");
    assert.equal(check?.status?.phase, "Successful");
    assert.deepEqual(
      check.spec.metrics.map((metric) => metric.name),
      ["error-rate", "latency-p99"],
    );
    assert.ok(measuredData(check), "every measurement was a number: the release's own traffic");
    assert.deepEqual(jobsOf("http_requests_total", ns), [`${ns}/api`], "the series came through the PodMonitor alone");
  });

  it("a release that fails its users once promoted is rolled back by the analysis", async () => {
    progress("post-promotion: a release that fails every user once promoted");
    const broken = failingBehindIngress();
    const preview = await upRelease(stack, { imageRef: broken, appVersion: "1.0.3" }).catch((error: Error) => {
      throw new Error(`${error.message}\nthe smoke test's log:\n${smokeLogs(ns)}`);
    });
    assert.equal(preview.preview, broken, "its smoke test passed: it fails only what comes through the ingress");
    const load = await loadOn(host);
    const message = await failingUp(stack, { promote: releaseId(broken) });
    // Past the abort, until Traefik follows the Service back to the previous release.
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const traffic = await load.stop();
    assert.match(message, /aborted/);
    assert.match(message, /post-promotion/);
    const stretch = failedStretch(traffic);
    progress(
      `post-promotion: ${stretch.failed} of ${traffic.sent} requests failed, over ${stretch.seconds.toFixed(1)} s ` +
        "from the release's first 5xx to the rollback",
    );
    assert.equal(
      stretch.failed,
      traffic.outcomes["500"],
      `only the broken release failed requests: ${explain(traffic)}`,
    );
    const after = await startLoad({
      url: "http://127.0.0.1/openapi.json",
      host,
      ratePerSecond: 10,
      maxRequests: 100,
      maxSeconds: 10,
      release: openApiVersion,
    }).done;
    assert.equal(after.failed, 0, `after the rollback every request is served: ${explain(after)}`);
    assert.deepEqual(Object.keys(after.releases), ["1.0.2"], "by the previous release");
    assert.equal((await stack.outputs()).release.value.active, v2);
    const failed = runsOfType(ns, "PostPromotion").find((run) => run.status?.phase === "Failed");
    assert.ok(failed && measuredData(failed), "the check failed on the release's real 5xx ratio");
  });
});
