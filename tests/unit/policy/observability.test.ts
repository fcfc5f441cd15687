// recommended-labels and prometheus-scrape (advisory): objects can be found by their labels and API
// pods are scraped.
import { strict as assert } from "node:assert";
import { prometheusScrape, recommendedLabels } from "../../../policy/rules/observability";
import { deployment, service, T, workerDeployment } from "./fixtures";

describe("policy rules: observability (advisory)", () => {
  it("recommended-labels: passes the program's labels, names the missing ones", () => {
    assert.deepEqual(recommendedLabels(T.service, service()), []);
    const object = service();
    object.metadata = {
      name: "api",
      labels: {
        "app.kubernetes.io/name": "api",
        "app.kubernetes.io/instance": "api-prod",
        "app.kubernetes.io/component": "api",
      },
    };
    // A Service is not asked for a version: a release must not touch it.
    assert.deepEqual(recommendedLabels(T.service, object), [
      "Service lacks the recommended labels app.kubernetes.io/part-of, app.kubernetes.io/managed-by: " +
        "label it as the program's naming does (from api-stack:appName, " +
        "api-stack:environment and api-stack:appVersion), so dashboards, selectors and kubectl can find it",
    ]);
    const workload = deployment();
    delete workload.metadata.labels["app.kubernetes.io/version"];
    assert.deepEqual(recommendedLabels(T.deployment, workload), [
      "Deployment lacks the recommended label app.kubernetes.io/version: label it as the program's naming does " +
        "(from api-stack:appName, api-stack:environment and api-stack:appVersion), so dashboards, " +
        "selectors and kubectl can find it",
    ]);
    // Providers and the components that render third-party manifests are not objects.
    assert.deepEqual(recommendedLabels("kubernetes:yaml/v2:ConfigFile", { file: "install.yaml" }), []);
  });

  it("prometheus-scrape: API pods only, naming the missing annotations", () => {
    assert.deepEqual(prometheusScrape(T.deployment, deployment()), []);
    assert.deepEqual(prometheusScrape(T.deployment, workerDeployment()), []);
    const object = deployment();
    object.spec.template.metadata.annotations = { "prometheus.io/scrape": "false", "prometheus.io/port": "8000" };
    assert.deepEqual(prometheusScrape(T.deployment, object), [
      'API pods lack the Prometheus annotations prometheus.io/scrape: "true", prometheus.io/path on the pod ' +
        "template: add them so /metrics is scraped (the program adds them to every API pod)",
    ]);
  });
});
