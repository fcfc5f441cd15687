import { strict as assert } from "node:assert";
import { apiUrl, ingressAnnotations, ingressSpec } from "./spec";

const ingress = { host: "api.example.com", className: "nginx", rateLimitPerMinute: 60, waitForAddress: true };

describe("ingress", () => {
  it("asks cert-manager for a certificate only with TLS", () => {
    assert.equal(ingressAnnotations(ingress)["cert-manager.io/cluster-issuer"], undefined);
    const tls = { ...ingress, tls: { clusterIssuer: "letsencrypt-prod", secretName: "api-tls" } };
    assert.equal(ingressAnnotations(tls)["cert-manager.io/cluster-issuer"], "letsencrypt-prod");
    assert.deepEqual((ingressSpec({ ingress: tls, serviceName: "api" }) as any).tls, [
      { hosts: ["api.example.com"], secretName: "api-tls" },
    ]);
  });

  it("waits for the controller's address unless told not to", () => {
    assert.equal(ingressAnnotations(ingress)["pulumi.com/skipAwait"], undefined);
    assert.equal(ingressAnnotations({ ...ingress, waitForAddress: false })["pulumi.com/skipAwait"], "true");
  });

  it("passes the rate limit to ingress-nginx as a string", () => {
    assert.equal(ingressAnnotations(ingress)["nginx.ingress.kubernetes.io/limit-rpm"], "60");
  });

  it("reports the public URL with an Ingress and the cluster one without", () => {
    assert.equal(apiUrl(ingress, "api", "api-dev"), "http://api.example.com");
    assert.equal(apiUrl(undefined, "api", "api-dev"), "http://api.api-dev.svc.cluster.local");
  });
});
