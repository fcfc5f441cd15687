import { strict as assert } from "node:assert";
import { validateCustomResource } from "../../tests/support/crd-schema";
import { errorRateTemplateSpec, latencyTemplateSpec } from "../api/delivery";
import { naming } from "../names";
import { podTemplate } from "../workload/spec";
import { ALERT_TIMING, MONITORING_API_VERSION, podMonitorSpec, prometheusRuleSpec } from "./spec";
import { seriesLabel, TARGET_POD_LABELS } from "./series";

const n = naming({ appName: "notes", environment: "prod", appVersion: "1", project: "api-stack" });
const ALERTS = { maxErrorRatio: 0.05, maxLatencyP99Seconds: 1 };
const manifest = (kind: string, spec: Record<string, unknown>) => ({
  apiVersion: MONITORING_API_VERSION,
  kind,
  metadata: { name: "notes", namespace: "notes-prod" },
  spec,
});
/** Every label name a PromQL expression matches on: `name=`, `name=~`, `name!=`. */
const matchedLabels = (query: string) => [...query.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)(?:=~|!=|=)"/g)].map((m) => m[1]);

describe("podMonitorSpec", () => {
  it("scrapes every release of a component's pods on the port the pod names metrics", () => {
    for (const component of ["api", "worker"] as const) {
      const spec = podMonitorSpec(n, component) as any;
      assert.deepEqual(spec.selector, { matchLabels: n.selector(component) });
      const pod = podTemplate({
        naming: n,
        component,
        image: "registry.example.com/notes@sha256:" + "a".repeat(64),
        resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } },
        configMapName: "settings",
        secretName: "secrets",
        serviceAccountName: "notes",
        terminationGracePeriodSeconds: 30,
        metrics: { port: 9000, annotate: false },
      }) as any;
      const ports = pod.spec.containers[0].ports.map((port: { name: string }) => port.name);
      assert.ok(ports.includes(spec.podMetricsEndpoints[0].port), `${component}: the pod declares the port`);
      assert.equal(spec.podMetricsEndpoints[0].path, "/metrics");
      // Argo's hash does not select: the monitor follows every release, old and new.
      assert.ok(!("rollouts-pod-template-hash" in spec.selector.matchLabels));
      validateCustomResource(manifest("PodMonitor", spec));
    }
  });

  it("carries onto every series each label the release analyses select by", () => {
    const carried = new Set(["namespace", ...(podMonitorSpec(n, "api") as any).podTargetLabels.map(seriesLabel)]);
    const analysis = { prometheusAddress: "http://p:9090", maxErrorRatio: 0.05, maxLatencyP99Seconds: 1 };
    for (const template of [
      errorRateTemplateSpec(n, "notes-prod", analysis),
      latencyTemplateSpec(n, "notes-prod", analysis),
    ]) {
      const query: string = (template as any).metrics[0].provider.prometheus.query;
      // status and le are the app's own labels (docs/apps.md); every other one is the monitor's.
      const fromPods = matchedLabels(query).filter((label) => label !== "status" && label !== "le");
      assert.ok(fromPods.length >= 3, query);
      for (const label of fromPods) {
        assert.ok(carried.has(label), `${label} (in ${query}) is on the series`);
      }
    }
  });

  it("names the series' labels as the Operator sanitizes the pod labels", () => {
    assert.deepEqual(TARGET_POD_LABELS.map(seriesLabel), [
      "app_kubernetes_io_name",
      "app_kubernetes_io_instance",
      "app_kubernetes_io_component",
      "rollouts_pod_template_hash",
    ]);
  });
});

describe("prometheusRuleSpec", () => {
  const rulesOf = (worker: boolean) =>
    (prometheusRuleSpec({ naming: n, namespace: "notes-prod", alerts: ALERTS, worker }) as any).groups[0].rules as {
      alert: string;
      expr: string;
      for?: string;
      labels: Record<string, string>;
    }[];
  const byName = (worker = true) => Object.fromEntries(rulesOf(worker).map((rule) => [rule.alert, rule]));

  it("alerts on the 5xx ratio and the p99 latency above the analyses' thresholds, for the app's own series", () => {
    const { ApiErrorRatioHigh, ApiLatencyP99High } = byName();
    assert.match(ApiErrorRatioHigh.expr, /status=~"5\.\."/);
    assert.match(ApiErrorRatioHigh.expr, / > 0\.05$/);
    assert.match(ApiLatencyP99High.expr, /^histogram_quantile\(0\.99, /);
    assert.match(ApiLatencyP99High.expr, / > 1$/);
    for (const rule of [ApiErrorRatioHigh, ApiLatencyP99High]) {
      assert.match(rule.expr, /namespace="notes-prod",app_kubernetes_io_name="notes"/);
      assert.equal(rule.for, ALERT_TIMING.for);
    }
  });

  it("alerts on containers of the app that keep restarting", () => {
    const { ApiContainerRestarting } = byName();
    assert.match(ApiContainerRestarting.expr, /^increase\(kube_pod_container_status_restarts_total\{/);
    assert.match(ApiContainerRestarting.expr, /namespace="notes-prod",container=~"api\|worker"/);
    assert.match(ApiContainerRestarting.expr, new RegExp(`\\[${ALERT_TIMING.restartWindow}\\]\\) >= 3$`));
  });

  it("alerts on a worker that finishes no task while tasks wait, and only when there is a worker", () => {
    const { WorkerStalled } = byName();
    assert.match(WorkerStalled.expr, /max\(celery_queue_length\{[^}]*app_kubernetes_io_component="worker"\}\) > 0/);
    assert.match(WorkerStalled.expr, /\(sum\(increase\(celery_tasks_total\{[^}]*\}\[10m\]\)\) or vector\(0\)\) == 0/);
    assert.match(WorkerStalled.expr, /\) and on\(\) \(/);
    assert.deepEqual(
      rulesOf(false).map((rule) => rule.alert),
      ["ApiErrorRatioHigh", "ApiLatencyP99High", "ApiContainerRestarting"],
    );
  });

  it("labels every alert with a severity, the namespace and the app", () => {
    for (const rule of rulesOf(true)) {
      assert.ok(["warning", "critical"].includes(rule.labels.severity));
      assert.equal(rule.labels.namespace, "notes-prod");
      assert.equal(rule.labels.app, "notes");
    }
  });

  it("is valid for the Prometheus Operator's CRD", () => {
    validateCustomResource(
      manifest(
        "PrometheusRule",
        prometheusRuleSpec({ naming: n, namespace: "notes-prod", alerts: ALERTS, worker: true }),
      ),
    );
  });
});
