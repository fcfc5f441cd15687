import { strict as assert } from "node:assert";
import { naming } from "../names";
import { blueGreen, ref, type Canary } from "../../tests/support/delivery-fixtures";
import {
  analysisCheckSeconds,
  errorRateTemplateSpec,
  latencyTemplateSpec,
  postPromotionScaleDownDelaySeconds,
  RELEASE_ANALYSIS,
  rolloutSpec,
  SMOKE_TIMEOUT_SECONDS,
  SMOKE_URL_ARG,
  smokeTemplateSpec,
} from "./delivery";

const NEW = ref("b");
const ANALYSIS = { prometheusAddress: "http://p:9090", maxErrorRatio: 0.02, maxLatencyP99Seconds: 0.5 };

describe("rolloutSpec", () => {
  const n = naming({ appName: "api", environment: "prod", appVersion: "1", project: "api-stack" });
  const template = { metadata: { labels: n.labels("api") }, spec: { containers: [{ name: "api", image: NEW }] } };

  it("wires blue-green to the active and preview Services and the smoke test", () => {
    const spec = rolloutSpec({
      naming: n,
      namespace: "api-prod",
      delivery: blueGreen(),
      replicas: 3,
      template,
      promoted: false,
    }) as any;
    assert.deepEqual(spec.selector.matchLabels, n.selector("api"));
    const bg = spec.strategy.blueGreen;
    assert.equal(bg.activeService, "api");
    assert.equal(bg.previewService, "api-preview");
    assert.equal(bg.autoPromotionEnabled, false);
    assert.equal(bg.scaleDownDelaySeconds, 30);
    assert.deepEqual(bg.prePromotionAnalysis, {
      templates: [{ templateName: "api-smoke" }],
      args: [{ name: "url", value: "http://api-preview.api-prod.svc:80" }],
    });
    assert.equal(bg.postPromotionAnalysis, undefined);
  });

  it("runs canary steps with background analysis of the new release", () => {
    const steps = [{ setWeight: 20 }, { pause: { duration: "1m" } }];
    const canary: Canary = { strategy: "canary", steps, analysis: ANALYSIS, releaseTimeoutSeconds: 1800 };
    const spec = rolloutSpec({
      naming: n,
      namespace: "api-prod",
      delivery: canary,
      replicas: 3,
      template,
      promoted: true,
    }) as any;
    assert.equal(spec.strategy.canary.stableService, "api");
    assert.equal(spec.strategy.canary.canaryService, "api-canary");
    assert.deepEqual(spec.strategy.canary.steps, steps);
    assert.deepEqual(spec.strategy.canary.analysis.templates, [
      { templateName: "api-error-rate" },
      { templateName: "api-latency" },
    ]);
    assert.deepEqual(spec.strategy.canary.analysis.args, [
      { name: "release-hash", valueFrom: { podTemplateHashValue: "Latest" } },
    ]);
  });

  it("queries the 5xx ratio of the new release's pods against the configured threshold", () => {
    const spec = errorRateTemplateSpec(n, "api-prod", ANALYSIS) as any;
    const metric = spec.metrics[0];
    assert.equal(metric.provider.prometheus.address, "http://p:9090");
    assert.match(metric.provider.prometheus.query, /status=~"5\.\."/);
    assert.match(metric.provider.prometheus.query, /rollouts_pod_template_hash="\{\{args\.release-hash\}\}"/);
    assert.match(metric.provider.prometheus.query, /namespace="api-prod"/);
    assert.match(metric.successCondition, /result\[0\] <= 0\.02$/);
  });

  it("routes canary traffic through Argo's NGINX router on the API's Ingress, so the weights reach users", () => {
    const canary: Canary = {
      strategy: "canary",
      steps: [{ setWeight: 20 }],
      analysis: ANALYSIS,
      releaseTimeoutSeconds: 1800,
    };
    const spec = rolloutSpec({
      naming: n,
      namespace: "api-prod",
      delivery: canary,
      replicas: 3,
      template,
      promoted: true,
    }) as any;
    // Without a router Argo pins the stable Service (which the Ingress routes to) to the stable pods.
    assert.deepEqual(spec.strategy.canary.trafficRouting, { nginx: { stableIngress: "api" } });
  });

  it("starts the background analysis with the first traffic, even after a leading pause", () => {
    const steps = [{ pause: { duration: "1m" } }, { setWeight: 20 }, { pause: { duration: "5m" } }];
    const canary: Canary = { strategy: "canary", steps, analysis: ANALYSIS, releaseTimeoutSeconds: 1800 };
    const spec = rolloutSpec({
      naming: n,
      namespace: "api-prod",
      delivery: canary,
      replicas: 3,
      template,
      promoted: true,
    }) as any;
    assert.equal(spec.strategy.canary.analysis.startingStep, 2);
  });

  it("checks blue-green's promoted release with the error-rate and latency templates", () => {
    const spec = rolloutSpec({
      naming: n,
      namespace: "api-prod",
      delivery: blueGreen({ postPromotionAnalysis: ANALYSIS }),
      replicas: 3,
      template,
      promoted: true,
    }) as any;
    assert.deepEqual(spec.strategy.blueGreen.postPromotionAnalysis.templates, [
      { templateName: "api-error-rate" },
      { templateName: "api-latency" },
    ]);
  });
});

describe("errorRateTemplateSpec", () => {
  const n = naming({ appName: "api", environment: "prod", appVersion: "1", project: "api-stack" });
  const metricOf = (count?: number) => (errorRateTemplateSpec(n, "api-prod", ANALYSIS, count) as any).metrics[0];
  /**
   * What Argo concludes from one Prometheus answer (`result`, the vector's values): success;
   * else, without a failureCondition, failure; else failure or, when neither holds,
   * inconclusive. The conditions use only what Argo's expression language and JavaScript read
   * alike (len, isNaN, ||, &&, comparisons), so they are evaluated here as such.
   */
  const verdict = (metric: any, result: number[]): "Successful" | "Failed" | "Inconclusive" => {
    const holds = (condition: string) =>
      // eslint-disable-next-line @typescript-eslint/no-implied-eval -- evaluating the condition is the test (see above)
      new Function("result", "len", "isNaN", `return ${condition};`)(
        result,
        (r: number[]) => r.length,
        Number.isNaN,
      ) as boolean;
    if (holds(metric.successCondition)) {
      return "Successful";
    }
    return metric.failureCondition === undefined || holds(metric.failureCondition) ? "Failed" : "Inconclusive";
  };

  it("never passes a measurement without the release's traffic: no series, or no requests in the window", () => {
    const metric = metricOf();
    assert.equal(verdict(metric, []), "Inconclusive");
    assert.equal(verdict(metric, [NaN]), "Inconclusive");
    // Argo pauses the rollout for a human on the first inconclusive measurement.
    assert.equal(metric.inconclusiveLimit, 0);
  });

  it("passes a release whose 5xx share is within the threshold, and fails one above it", () => {
    const metric = metricOf();
    assert.equal(verdict(metric, [0]), "Successful");
    assert.equal(verdict(metric, [0.02]), "Successful");
    assert.equal(verdict(metric, [0.5]), "Failed");
  });

  it("counts a release without any 5xx series as a ratio of 0, not as missing data", () => {
    const [errors, all] = metricOf().provider.prometheus.query.split(" / ");
    assert.match(errors, /^\(sum\(rate\(http_requests_total\{.*status=~"5\.\."\}\[2m\]\)\) or vector\(0\)\)$/);
    assert.match(all, /^sum\(rate\(http_requests_total\{.*\}\[2m\]\)\)$/);
  });

  it("lets Prometheus see the new pods before the first measurement", () => {
    assert.equal(metricOf().initialDelay, `${RELEASE_ANALYSIS.initialDelaySeconds}s`);
  });

  it("measures until the rollout ends by default, and a fixed number of times as a bounded check", () => {
    assert.equal(metricOf().count, undefined);
    const check = metricOf(RELEASE_ANALYSIS.checkCount);
    assert.equal(check.count, RELEASE_ANALYSIS.checkCount);
    assert.equal(check.interval, `${RELEASE_ANALYSIS.intervalSeconds}s`);
    assert.equal(
      analysisCheckSeconds(),
      RELEASE_ANALYSIS.initialDelaySeconds + (RELEASE_ANALYSIS.checkCount - 1) * RELEASE_ANALYSIS.intervalSeconds,
    );
  });

  it("tolerates one bad measurement of a canary, none once every user is on the release", () => {
    assert.equal(metricOf().failureLimit, 1);
    assert.equal(metricOf(RELEASE_ANALYSIS.checkCount).failureLimit, 0);
  });

  it("keeps the previous release until a failed check can roll back to it", () => {
    assert.ok(postPromotionScaleDownDelaySeconds() > analysisCheckSeconds());
  });
});

describe("latencyTemplateSpec", () => {
  const n = naming({ appName: "api", environment: "prod", appVersion: "1", project: "api-stack" });
  const metric = (latencyTemplateSpec(n, "api-prod", ANALYSIS) as any).metrics[0];

  it("takes the p99 of the new release's response times from the histogram, against the threshold in seconds", () => {
    const query: string = metric.provider.prometheus.query;
    assert.match(query, /^histogram_quantile\(0\.99, sum by \(le\) \(rate\(http_request_duration_seconds_bucket\{/);
    assert.match(query, /rollouts_pod_template_hash="\{\{args\.release-hash\}\}"/);
    assert.match(query, /app_kubernetes_io_name="api"/);
    assert.match(metric.successCondition, /result\[0\] <= 0\.5$/);
    assert.match(metric.failureCondition, /isNaN/);
    assert.equal(metric.inconclusiveLimit, 0);
  });

  it("has a name of its own, so Argo can merge it with the error-rate template into one run", () => {
    const errorRate = (errorRateTemplateSpec(n, "api-prod", ANALYSIS) as any).metrics[0];
    assert.notEqual(metric.name, errorRate.name);
  });
});

describe("smokeTemplateSpec", () => {
  const pod = {
    metadata: {},
    spec: { containers: [{ name: "smoke", command: ["python", "-m", "app.smoke", SMOKE_URL_ARG] }] },
  };
  const metric = (smokeTemplateSpec(pod) as any).metrics[0];

  it("runs the app's smoke command once, as a Job of the given pod, and fails the release on its failure", () => {
    assert.deepEqual(metric.provider.job.spec.template, pod);
    assert.equal(metric.provider.job.spec.backoffLimit, 0);
    assert.equal(metric.provider.job.spec.activeDeadlineSeconds, SMOKE_TIMEOUT_SECONDS);
    assert.equal(metric.failureLimit, 0);
    assert.equal(metric.count, undefined, "a Job metric measures once");
  });

  it("hands the command the preview's URL, an argument the Rollout fills", () => {
    assert.equal(SMOKE_URL_ARG, "{{args.url}}");
    assert.deepEqual((smokeTemplateSpec(pod) as any).args, [{ name: "url" }]);
  });
});
