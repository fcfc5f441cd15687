import { strict as assert } from "node:assert";
import { naming } from "../names";
import { networkPolicies, type NetworkPolicyConfig } from "./spec";

const n = naming({ appName: "api", environment: "dev", appVersion: "0.1.0", project: "api-stack" });
const config: NetworkPolicyConfig = {
  ingressController: { namespace: "ingress", podLabels: { "app.kubernetes.io/name": "traefik" } },
  metricsScraper: { namespace: "monitoring", podLabels: { "app.kubernetes.io/name": "prometheus" } },
  egress: [{ cidr: "10.0.0.0/8", ports: [5432, 6379] }],
};
const ports = { http: "http", metrics: "metrics" };
const byRole = (policies: ReturnType<typeof networkPolicies>) =>
  Object.fromEntries(policies.map((p) => [p.role, p.spec as any]));

describe("networkPolicies", () => {
  it("denies everything in and out for every pod of the namespace", () => {
    const deny = byRole(networkPolicies({ naming: n, config, ports }))["default-deny"];
    assert.deepEqual(deny, { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
  });

  it("lets only the ingress controller reach the API's port, and only the scraper its metrics port", () => {
    const ingress = byRole(networkPolicies({ naming: n, config, ports }))["allow-ingress"];
    assert.deepEqual(ingress.podSelector.matchLabels, n.selector("api"));
    assert.deepEqual(ingress.ingress, [
      {
        from: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress" } },
            podSelector: { matchLabels: { "app.kubernetes.io/name": "traefik" } },
          },
        ],
        ports: [{ protocol: "TCP", port: "http" }],
      },
      {
        from: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
            podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
          },
        ],
        ports: [{ protocol: "TCP", port: "metrics" }],
      },
    ]);
  });

  it("adds the release analysis as a peer of the API's port when there is one", () => {
    const analysis = { namespace: "argo-rollouts", podLabels: { "app.kubernetes.io/name": "argo-rollouts" } };
    const ingress = byRole(networkPolicies({ naming: n, config: { ...config, releaseAnalysis: analysis }, ports }))[
      "allow-ingress"
    ];
    assert.equal(ingress.ingress[0].from.length, 2);
    assert.deepEqual(ingress.ingress[0].from[1].namespaceSelector.matchLabels, {
      "kubernetes.io/metadata.name": "argo-rollouts",
    });
  });

  it("lets the scraper reach the worker's metrics port, when there is a worker", () => {
    assert.equal(byRole(networkPolicies({ naming: n, config, ports }))["worker-allow-ingress"], undefined);
    const worker = byRole(networkPolicies({ naming: n, config, ports, worker: true }))["worker-allow-ingress"];
    assert.deepEqual(worker.podSelector.matchLabels, n.selector("worker"));
    assert.deepEqual(worker.ingress, [
      {
        from: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
            podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
          },
        ],
        ports: [{ protocol: "TCP", port: "metrics" }],
      },
    ]);
  });

  it("lets the smoke test's pods reach the API's port and DNS, and nothing else", () => {
    const policies = byRole(networkPolicies({ naming: n, config, ports, smokeTest: true }));
    assert.deepEqual(policies["allow-ingress"].ingress[0].from[1], {
      podSelector: { matchLabels: n.selector("smoke") },
    });
    const egress = policies["smoke-allow-egress"];
    assert.deepEqual(egress.podSelector.matchLabels, n.selector("smoke"));
    assert.deepEqual(egress.egress[0].to[0].podSelector.matchLabels, { "k8s-app": "kube-dns" });
    assert.deepEqual(egress.egress[1], {
      to: [{ podSelector: { matchLabels: n.selector("api") } }],
      ports: [{ protocol: "TCP", port: "http" }],
    });
    assert.equal(egress.egress.length, 2);
    assert.equal(byRole(networkPolicies({ naming: n, config, ports }))["smoke-allow-egress"], undefined);
  });

  it("lets every app pod resolve names through cluster DNS by the DNS pods' port names and 53", () => {
    const egress = byRole(networkPolicies({ naming: n, config, ports }))["allow-egress"];
    assert.deepEqual(egress.podSelector.matchExpressions, [
      { key: "app.kubernetes.io/component", operator: "In", values: ["api", "worker", "migration", "backup"] },
    ]);
    assert.equal(egress.podSelector.matchLabels["app.kubernetes.io/component"], undefined);
    const dns = egress.egress[0];
    assert.deepEqual(dns.to[0].podSelector.matchLabels, { "k8s-app": "kube-dns" });
    assert.deepEqual(
      dns.ports.map((p: any) => `${p.protocol}/${p.port}`),
      ["UDP/dns", "TCP/dns-tcp", "UDP/53", "TCP/53"],
    );
    assert.deepEqual(egress.egress[1], {
      to: [{ ipBlock: { cidr: "10.0.0.0/8" } }],
      ports: [
        { protocol: "TCP", port: 5432 },
        { protocol: "TCP", port: 6379 },
      ],
    });
    assert.equal(egress.egress.length, 2, "nothing else: not the API server, not the internet");
  });

  it("opens the dev services to the app's pods alone, on their ports", () => {
    const policies = byRole(
      networkPolicies({
        naming: n,
        config: { ...config, egress: [] },
        ports,
        devServices: { postgres: 5432, redis: 6379 },
      }),
    );
    const egress = policies["allow-egress"].egress;
    assert.deepEqual(egress[1], {
      to: [{ podSelector: { matchLabels: n.selector("postgres") } }],
      ports: [{ protocol: "TCP", port: 5432 }],
    });
    assert.deepEqual(egress[2], {
      to: [{ podSelector: { matchLabels: n.selector("redis") } }],
      ports: [{ protocol: "TCP", port: 6379 }],
    });
    assert.deepEqual(policies["postgres-allow-ingress"].ingress[0].ports, [{ protocol: "TCP", port: 5432 }]);
    assert.deepEqual(policies["redis-allow-ingress"].ingress[0].from[0].podSelector.matchExpressions[0].values, [
      "api",
      "worker",
    ]);
  });
});
