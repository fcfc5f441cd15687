import { strict as assert } from "node:assert";
import type { DeliveryConfig } from "../../config";
import { naming } from "../names";
import { errorRateTemplateSpec, releaseId, releaseState, rolloutSpec } from "./spec";

const ref = (c: string) => `registry.example.com/api@sha256:${c.repeat(64)}`;
const OLD = ref("a");
const NEW = ref("b");
const NEXT = ref("c");
type BlueGreen = Extract<DeliveryConfig, { strategy: "blueGreen" }>;
type Canary = Extract<DeliveryConfig, { strategy: "canary" }>;
const blueGreen = (extra: Partial<BlueGreen> = {}): BlueGreen => ({
  strategy: "blueGreen",
  autoPromote: false,
  scaleDownDelaySeconds: 30,
  prePromotionAnalysis: true,
  ...extra,
});
const state = (delivery: DeliveryConfig, candidate: string, previousActive?: string, rollback = false) =>
  releaseState({ delivery, stack: "prod", candidate, previousActive, rollback });

describe("release state machine (blueGreen)", () => {
  it("makes the first release active at once (there is nothing to preview beside)", () => {
    assert.deepEqual(state(blueGreen(), NEW), { strategy: "blueGreen", active: NEW, promotedBy: "active" });
  });

  it("puts a new release in preview beside the active one, with the command that promotes it", () => {
    const s = state(blueGreen(), NEW, OLD);
    assert.equal(s.active, OLD);
    assert.equal(s.preview, NEW);
    assert.equal(s.promoteCommand, "pulumi config set promote bbbbbbbbbbbb --stack prod && pulumi up --stack prod");
    assert.equal(s.rollbackCommand, `pulumi config set rollbackTo ${OLD} --stack prod && pulumi up --stack prod`);
  });

  it("promotes exactly the release named in `promote`", () => {
    const s = state(blueGreen({ promote: releaseId(NEW) }), NEW, OLD);
    assert.equal(s.active, NEW);
    assert.equal(s.preview, undefined);
    assert.equal(s.previous, OLD);
    assert.equal(s.promotedBy, "promote");
  });

  it("is not sticky: the next release waits although `promote` still names the last one", () => {
    const s = state(blueGreen({ promote: releaseId(NEW) }), NEXT, NEW);
    assert.equal(s.active, NEW);
    assert.equal(s.preview, NEXT);
  });

  it("stays settled when nothing changed", () => {
    assert.deepEqual(state(blueGreen({ promote: releaseId(NEW) }), NEW, NEW), {
      strategy: "blueGreen",
      active: NEW,
      promotedBy: "active",
    });
  });

  it("promotes a rollback at once, and everything with autoPromote", () => {
    assert.equal(state(blueGreen(), OLD, NEW, true).promotedBy, "rollbackTo");
    assert.equal(state(blueGreen({ autoPromote: true }), NEXT, NEW).promotedBy, "autoPromote");
    assert.equal(state(blueGreen({ autoPromote: true, promote: releaseId(NEXT) }), NEXT, NEW).promotedBy, "promote");
    assert.equal(state(blueGreen(), NEW, OLD).promotedBy, undefined);
  });

  it("rolling and canary releases head straight for active", () => {
    const canary: DeliveryConfig = { strategy: "canary", steps: [{ setWeight: 50 }], analysis: { prometheusAddress: "http://p", maxErrorRatio: 0.05 } };
    assert.deepEqual(state(canary, NEW, OLD).active, NEW);
    assert.deepEqual(state({ strategy: "rolling" }, NEW, OLD).previous, OLD);
  });

  it("names releases by their digest only", () => {
    assert.equal(releaseId(NEW), "bbbbbbbbbbbb");
    assert.throws(() => releaseId("registry.example.com/api:1.0"), /digest-pinned/);
  });
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
