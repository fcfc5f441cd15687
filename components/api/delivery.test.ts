import { strict as assert } from "node:assert";
import { naming } from "../names";
import { errorRateTemplateSpec, rolloutSpec, type DeliveryConfig } from "./delivery";

const ref = (c: string) => `registry.example.com/api@sha256:${c.repeat(64)}`;
const NEW = ref("b");
type BlueGreen = Extract<DeliveryConfig, { strategy: "blueGreen" }>;
type Canary = Extract<DeliveryConfig, { strategy: "canary" }>;
const blueGreen = (extra: Partial<BlueGreen> = {}): BlueGreen => ({
  strategy: "blueGreen",
  autoPromote: false,
  scaleDownDelaySeconds: 30,
  prePromotionAnalysis: true,
  ...extra,
});

describe("rolloutSpec", () => {
  const n = naming({ appName: "api", environment: "prod", appVersion: "1", project: "api-stack" });
  const template = { metadata: { labels: n.labels("api") }, spec: { containers: [{ name: "api", image: NEW }] } };

  it("wires blue-green to the active and preview Services and the smoke test", () => {
    const spec = rolloutSpec({ naming: n, namespace: "api-prod", delivery: blueGreen(), replicas: 3, template, promoted: false }) as any;
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
    const canary: Canary = { strategy: "canary", steps, analysis: { prometheusAddress: "http://p:9090", maxErrorRatio: 0.02 } };
    const spec = rolloutSpec({ naming: n, namespace: "api-prod", delivery: canary, replicas: 3, template, promoted: true }) as any;
    assert.equal(spec.strategy.canary.stableService, "api");
    assert.equal(spec.strategy.canary.canaryService, "api-canary");
    assert.deepEqual(spec.strategy.canary.steps, steps);
    assert.deepEqual(spec.strategy.canary.analysis.templates, [{ templateName: "api-error-rate" }]);
    assert.deepEqual(spec.strategy.canary.analysis.args, [{ name: "release-hash", valueFrom: { podTemplateHashValue: "Latest" } }]);
  });

  it("queries the 5xx ratio of the new release's pods against the configured threshold", () => {
    const spec = errorRateTemplateSpec(n, "api-prod", { prometheusAddress: "http://p:9090", maxErrorRatio: 0.02 }) as any;
    const metric = spec.metrics[0];
    assert.equal(metric.provider.prometheus.address, "http://p:9090");
    assert.match(metric.provider.prometheus.query, /status=~"5\.\."/);
    assert.match(metric.provider.prometheus.query, /rollouts_pod_template_hash="\{\{args\.release-hash\}\}"/);
    assert.match(metric.provider.prometheus.query, /namespace="api-prod"/);
    assert.match(metric.successCondition, /result\[0\] <= 0\.02$/);
  });
});
