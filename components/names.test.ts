import { strict as assert } from "node:assert";
import {
  DNS_LABEL_MAX_LENGTH,
  isReservedNamespace,
  LABEL_KEY,
  LABEL_VALUE,
  LONGEST_NAME_SUFFIX_LENGTH,
  naming,
} from "./names";

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

describe("names and labels Kubernetes accepts", () => {
  it("refuses an app name, version or instance that is not a label value", () => {
    const input = { appName: "orders", environment: "prod", appVersion: "1.2.3", project: "api-stack" };
    assert.throws(
      () => naming({ ...input, appVersion: "1.2.3+build.7" }),
      /app version "1\.2\.3\+build\.7" is not a Kubernetes label value/,
    );
    assert.throws(() => naming({ ...input, appVersion: "1.2." }), /not a Kubernetes label value/);
    assert.throws(() => naming({ ...input, appVersion: "v".repeat(64) }), /not a Kubernetes label value/);
    assert.doesNotThrow(() => naming({ ...input, appVersion: "1.2.3-rc.1_b" }));
  });

  it("refuses an object name longer than a DNS label", () => {
    const n = naming({ appName: "a".repeat(40), environment: "prod", appVersion: "1", project: "api-stack" });
    assert.throws(() => n.name("migration", "0123456789ab-01234567"), /is not a DNS label of at most 63 characters/);
  });

  it("fits the longest name of the longest app name config allows in a DNS label", () => {
    const n = naming({ appName: "a".repeat(30), environment: "staging", appVersion: "1", project: "api-stack" });
    const longest = n.name("migration", `${"0".repeat(12)}-${"1".repeat(8)}`);
    assert.equal(longest.length, 30 + LONGEST_NAME_SUFFIX_LENGTH);
    assert.ok(longest.length <= DNS_LABEL_MAX_LENGTH);
  });

  it("tells label values and keys Kubernetes accepts from those it refuses", () => {
    for (const value of ["", "a", "traefik", "ingress-nginx", "v1.2_3"]) {
      assert.match(value, LABEL_VALUE, value);
    }
    for (const value of ["-a", "a-", "a b", "a/b", "x".repeat(64)]) {
      assert.doesNotMatch(value, LABEL_VALUE, value);
    }
    for (const key of ["app", "app.kubernetes.io/name", "k8s-app"]) {
      assert.match(key, LABEL_KEY, key);
    }
    for (const key of ["", "/name", "Example.com/name", "a/b/c", `app.kubernetes.io/${"n".repeat(64)}`]) {
      assert.doesNotMatch(key, LABEL_KEY, key);
    }
  });

  it("knows the namespaces that belong to the cluster", () => {
    for (const namespace of ["default", "kube-system", "kube-public", "kube-node-lease", "kube-anything"]) {
      assert.ok(isReservedNamespace(namespace), namespace);
    }
    for (const namespace of ["api-prod", "kubernetes-app", "defaults"]) {
      assert.ok(!isReservedNamespace(namespace), namespace);
    }
  });
});
