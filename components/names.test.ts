import { strict as assert } from "node:assert";
import { naming } from "./names";

describe("naming", () => {
  const n = naming({ appName: "orders", environment: "prod", appVersion: "1.2.3", project: "api-stack" });

  it("names the API after the app and other components with a suffix", () => {
    assert.equal(n.name("api"), "orders");
    assert.equal(n.name("worker"), "orders-worker");
    assert.equal(n.name("api", "settings"), "orders-settings");
    assert.equal(n.name("migration", "abc"), "orders-migration-abc");
  });

  it("selects by name, instance and component only, never by version", () => {
    assert.deepEqual(n.selector("worker"), {
      "app.kubernetes.io/name": "orders",
      "app.kubernetes.io/instance": "orders-prod",
      "app.kubernetes.io/component": "worker",
    });
    const labels = n.labels("worker");
    assert.equal(labels["app.kubernetes.io/version"], "1.2.3");
    assert.equal(labels["app.kubernetes.io/part-of"], "api-stack");
    for (const [key, value] of Object.entries(n.selector("worker"))) {
      assert.equal(labels[key], value);
    }
  });
});
