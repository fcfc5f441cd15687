import { strict as assert } from "node:assert";
import { naming } from "../names";
import { blueGreen, ref, type Canary } from "../../tests/support/delivery-fixtures";
import { ERROR_RATE, errorRateCheckSeconds, errorRateTemplateSpec, rolloutSpec } from "./delivery";

const NEW = ref("b");
const ANALYSIS = { prometheusAddress: "http://p:9090", maxErrorRatio: 0.02 };

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
      args: [{ name: "url", value: "http://api-preview.api-prod.svc:80/health/ready" }],
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
    assert.deepEqual(spec.strategy.canary.analysis.templates, [{ templateName: "api-error-rate" }]);
    assert.deepEqual(spec.strategy.canary.analysis.args, [
      { name: "release-hash", valueFrom: { podTemplateHashValue: "Latest" } },
    ]);
  });

  it("queries the 5xx ratio of the new release's pods against the configured threshold", () => {
    const spec = errorRateTemplateSpec(n, "api-prod", {
      prometheusAddress: "http://p:9090",
      maxErrorRatio: 0.02,
    }) as any;
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

  it("checks blue-green's promoted release with the error-rate template", () => {
    const spec = rolloutSpec({
      naming: n,
      namespace: "api-prod",
      delivery: blueGreen({ postPromotionAnalysis: ANALYSIS }),
      replicas: 3,
      template,
      promoted: true,
    }) as any;
    assert.deepEqual(spec.strategy.blueGreen.postPromotionAnalysis.templates, [{ templateName: "api-error-rate" }]);
  });

  it("leaves spec.replicas out when an autoscaler owns it, and sets it otherwise", () => {
    const owned = rolloutSpec({
      naming: n,
      namespace: "api-prod",
      delivery: blueGreen(),
      template,
      promoted: false,
    }) as any;
    assert.ok(!("replicas" in owned));
    assert.equal(
      (
        rolloutSpec({
          naming: n,
          namespace: "api-prod",
          delivery: blueGreen(),
          replicas: 3,
          template,
          promoted: false,
        }) as any
      ).replicas,
      3,
    );
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
    assert.equal(metricOf().initialDelay, `${ERROR_RATE.initialDelaySeconds}s`);
  });

  it("measures until the rollout ends by default, and a fixed number of times as a bounded check", () => {
    assert.equal(metricOf().count, undefined);
    const check = metricOf(ERROR_RATE.checkCount);
    assert.equal(check.count, ERROR_RATE.checkCount);
    assert.equal(check.interval, `${ERROR_RATE.intervalSeconds}s`);
    assert.equal(
      errorRateCheckSeconds(),
      ERROR_RATE.initialDelaySeconds + (ERROR_RATE.checkCount - 1) * ERROR_RATE.intervalSeconds,
    );
  });
});
