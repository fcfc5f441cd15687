// What the local environment's Prometheus, run by the Prometheus Operator, makes of a stack's
// monitoring. It reads PodMonitors, ServiceMonitors and PrometheusRules of every namespace, and no
// scrape annotations, as kube-prometheus-stack's does: the API's and the worker's series arrive
// through the stack's PodMonitors with the labels the analyses select by, and the app's alerts
// load and evaluate. With monitoring annotations, the only way the program described its scrape
// before, that Prometheus has no series of the app and a canary's analysis never decides.
import { strict as assert } from "node:assert";
import type { Stack } from "@pulumi/pulumi/automation";
import { LOCAL_PROMETHEUS, localShape, setConfig, type ConfigValues } from "../../tools/automation";
import { explain, startLoadInThread } from "../support/load";
import { buildReleases } from "../support/releases";
import { destroyStack, eventually, kubectlJson, newStack, progress, upRelease, viaIngress } from "./env";
import { activeTargets, jobsOf, query, ruleGroups } from "./prometheus";

const API_TOKEN = "e2e-monitoring-api-token-0123456789abcdef0123";
const SECRETS = {
  secretKey: "e2e-monitoring-secret-key-0123456789abcdef0123456789abcdef",
  devPostgresPassword: "e2e-postgres-password",
  apiTokens: API_TOKEN,
};

function monitoredStack(name: string, host: string, image: string, extra: ConfigValues): Promise<Stack> {
  return newStack(
    name,
    {
      ...localShape("dev", image, SECRETS),
      namespace: `api-${name}`,
      ingressHost: host,
      hpaEnabled: false,
      replicas: 1,
      appVersion: "1.0.1",
      // The load comes from one client address: above the default rate limit it would get 429s.
      rateLimitPerMinute: 100_000,
      ...extra,
    },
    Object.keys(SECRETS),
  );
}

describe("monitoring prometheusOperator: the stack's PodMonitors and rules on the Operator's Prometheus", function () {
  this.timeout(20 * 60_000);
  const ns = "api-e2emonitoring";
  const host = "monitoring.e2e.localhost";
  let stack: Stack;

  before(async () => {
    const [v1] = buildReleases(1);
    stack = await monitoredStack("e2emonitoring", host, v1, {});
    progress("monitoring: a dev-shaped stack with its worker");
    await upRelease(stack);
  });

  after(async () => {
    await destroyStack(stack);
  });

  it("Prometheus scrapes the API's and the worker's pods through their PodMonitors", async () => {
    const pools = [`podMonitor/${ns}/api/0`, `podMonitor/${ns}/api-worker/0`];
    await eventually("both PodMonitors' targets up", 180, () => {
      const up = activeTargets().filter((t) => pools.includes(t.scrapePool) && t.health === "up");
      return pools.every((pool) => up.some((t) => t.scrapePool === pool)) ? true : undefined;
    });
    for (const target of activeTargets().filter((t) => pools.includes(t.scrapePool))) {
      assert.equal(target.labels.app_kubernetes_io_name, "api");
      assert.equal(target.labels.namespace, ns);
    }
  });

  it("the API's requests reach Prometheus with the labels the analyses select by", async () => {
    for (let i = 0; i < 5; i++) {
      assert.equal((await viaIngress(host, "/notes?limit=1", { token: API_TOKEN })).status, 200);
    }
    const series = await eventually("the requests' series", 120, () => {
      const found = query(`http_requests_total{namespace="${ns}",app_kubernetes_io_name="api",route="/notes"}`);
      return found.length > 0 ? found : undefined;
    });
    for (const { metric } of series) {
      assert.equal(metric.app_kubernetes_io_component, "api");
      assert.equal(metric.job, `${ns}/api`, "through the PodMonitor");
      assert.ok(metric.pod && metric.app_kubernetes_io_instance);
    }
  });

  it("the worker's finished tasks and its queue's length reach Prometheus", async () => {
    const created = await viaIngress(host, "/notes", { token: API_TOKEN, json: { title: "counted by the worker" } });
    assert.equal(created.status, 201, created.body);
    const tasks = await eventually("a counted task", 180, () => {
      const found = query(`celery_tasks_total{namespace="${ns}",task="notes.count_words",state="success"}`);
      return found.some((s) => Number(s.value[1]) > 0) ? found : undefined;
    });
    assert.deepEqual(
      tasks.map((s) => s.metric.job),
      [`${ns}/api-worker`],
    );
    const queue = query(`celery_queue_length{namespace="${ns}",queue="celery"}`);
    assert.equal(queue.length, 1, "the worker reads the queue it consumes");
    assert.equal(queue[0].metric.app_kubernetes_io_component, "worker");
  });

  it("Prometheus loads the app's alerts and evaluates each without error", async () => {
    const group = await eventually("the rules evaluated", 180, () => {
      const found = ruleGroups().find((g) => g.name === `${ns}.api`);
      return found && found.rules.every((rule) => rule.health === "ok") ? found : undefined;
    });
    assert.deepEqual(
      group.rules.map((rule) => rule.name),
      ["ApiErrorRatioHigh", "ApiLatencyP99High", "ApiContainerRestarting", "WorkerStalled"],
    );
    assert.ok(group.rules.every((rule) => rule.type === "alerting" && !rule.lastError));
  });
});

describe("monitoring annotations, what the program did before: a PodMonitor-only Prometheus sees nothing", function () {
  this.timeout(20 * 60_000);
  const ns = "api-e2eannotations";
  const host = "annotations.e2e.localhost";
  let stack: Stack;
  let v1: string, v2: string;

  before(async () => {
    [v1, v2] = buildReleases(2);
    stack = await monitoredStack("e2eannotations", host, v1, {
      monitoring: "annotations",
      workerEnabled: false,
      replicas: 2,
      strategy: "canary",
      prometheusAddress: LOCAL_PROMETHEUS,
      canarySteps: [{ setWeight: 50 }, { pause: { duration: "2m" } }],
    });
  });

  after(async () => {
    await destroyStack(stack);
  });

  it("the first release becomes stable, with the scrape annotations on its pods and no PodMonitor", async () => {
    progress("annotations: first release");
    await upRelease(stack);
    const pods = kubectlJson("get", "pods", "-n", ns, "-l", "app.kubernetes.io/component=api").items;
    assert.ok(pods.every((pod: any) => pod.metadata.annotations["prometheus.io/scrape"] === "true"));
    assert.deepEqual(kubectlJson("get", "podmonitors", "-n", ns).items, []);
  });

  it("no series of the app reaches Prometheus: the canary's analysis never decides, the release pauses", async () => {
    progress("annotations: a canary under load, whose analysis finds no data");
    // On a thread of its own: the `up` below runs the program in this process (load.ts).
    const load = await startLoadInThread({
      url: "http://127.0.0.1/openapi.json",
      host,
      ratePerSecond: 10,
      maxRequests: 10_000,
      maxSeconds: 600,
      byOpenApiVersion: true,
    });
    await setConfig(stack, { imageRef: v2, appVersion: "1.0.2" });
    let message = "";
    await assert.rejects(stack.up({ onOutput: () => undefined }), (error: Error) => {
      message = error.message;
      return true;
    });
    const traffic = await load.stop();
    assert.match(message, /measured no traffic \(inconclusive\)/);
    assert.ok(traffic.releases["1.0.2"], "the canary served users: there was traffic to measure");
    assert.equal(traffic.failed, 0, explain(traffic));
    assert.deepEqual(jobsOf("http_requests_total", ns), [], "Prometheus has none of the app's series");
    const runs = kubectlJson("get", "analysisruns", "-n", ns).items;
    assert.ok(runs.some((run: any) => run.status?.phase === "Inconclusive"));
    // Paused for a decision on the analysis (beside the canary's own pause step, when it came first).
    const reasons = kubectlJson("get", "rollout", "api", "-n", ns).status.pauseConditions.map((c: any) => c.reason);
    assert.ok(reasons.includes("InconclusiveAnalysisRun"), `paused for ${reasons.join(", ")}`);
  });
});
