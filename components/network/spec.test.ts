import { strict as assert } from "node:assert";
import {
  apiUrl,
  httpRouteSpec,
  ingressAnnotations,
  ingressSpec,
  publicHosts,
  redirectRouteSpec,
  routeAnnotations,
  type GatewayExposure,
  type IngressExposure,
} from "./spec";

const ingress: IngressExposure = {
  kind: "ingress",
  host: "api.example.com",
  className: "nginx",
  rateLimitPerMinute: 60,
  waitForAddress: true,
};
const backend = { host: "api.example.com", serviceName: "api" };

describe("ingress", () => {
  it("asks cert-manager for a certificate only with TLS", () => {
    assert.equal(ingressAnnotations(ingress)["cert-manager.io/cluster-issuer"], undefined);
    const tls = {
      ...ingress,
      tls: { clusterIssuer: "letsencrypt-prod", secretName: "api-tls", previewSecretName: "api-preview-tls" },
    };
    assert.equal(ingressAnnotations(tls)["cert-manager.io/cluster-issuer"], "letsencrypt-prod");
    assert.deepEqual((ingressSpec(tls, backend, "api-tls") as any).tls, [
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

  it("serves the API's host and, when set, the preview's; nothing without an exposure", () => {
    assert.deepEqual(publicHosts(ingress), ["api.example.com"]);
    assert.deepEqual(publicHosts({ ...ingress, previewHost: "api-preview.example.com" }), [
      "api.example.com",
      "api-preview.example.com",
    ]);
    assert.deepEqual(publicHosts(undefined), []);
  });

  it("reports the public URL with an Ingress and the cluster one without", () => {
    assert.equal(apiUrl(ingress, "api", "api-dev"), "http://api.example.com");
    assert.equal(apiUrl(undefined, "api", "api-dev"), "http://api.api-dev.svc.cluster.local");
  });
});

describe("gateway routes", () => {
  const gateway: GatewayExposure = {
    kind: "gateway",
    host: "api.example.com",
    gateway: { name: "platform", namespace: "ingress" },
    httpListener: "http",
    httpsListener: "https",
    waitForAddress: true,
  };
  const plain: GatewayExposure = { ...gateway, httpsListener: undefined };
  const parent = (sectionName: string) => ({
    group: "gateway.networking.k8s.io",
    kind: "Gateway",
    name: "platform",
    namespace: "ingress",
    sectionName,
  });

  it("sends the host to the Service through the Gateway's HTTPS listener, with HSTS, when it has TLS", () => {
    const spec = httpRouteSpec(gateway, backend) as any;
    assert.deepEqual(spec.parentRefs, [parent("https")]);
    assert.deepEqual(spec.hostnames, ["api.example.com"]);
    assert.deepEqual(spec.rules[0].backendRefs, [{ name: "api", port: 80 }]);
    assert.deepEqual(spec.rules[0].filters, [
      {
        type: "ResponseHeaderModifier",
        responseHeaderModifier: { set: [{ name: "Strict-Transport-Security", value: "max-age=31536000" }] },
      },
    ]);
    assert.equal(apiUrl(gateway, "api", "api-prod"), "https://api.example.com");
  });

  it("serves plain HTTP on the HTTP listener without TLS, and no HSTS", () => {
    const spec = httpRouteSpec(plain, backend) as any;
    assert.deepEqual(spec.parentRefs, [parent("http")]);
    assert.equal(spec.rules[0].filters, undefined);
    assert.equal(apiUrl(plain, "api", "api-dev"), "http://api.example.com");
  });

  it("only redirects to https on the HTTP listener when it has TLS", () => {
    const spec = redirectRouteSpec(gateway, ["api.example.com", "preview.example.com"]) as any;
    assert.deepEqual(spec.parentRefs, [parent("http")]);
    assert.deepEqual(spec.hostnames, ["api.example.com", "preview.example.com"]);
    assert.deepEqual(spec.rules, [
      { filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] },
    ]);
  });

  it("attaches to a Gateway in its own namespace when none is named", () => {
    const local = { ...gateway, gateway: { name: "platform" } };
    assert.equal((httpRouteSpec(local, backend) as any).parentRefs[0].namespace, undefined);
  });

  it("waits until the Gateway accepts the route, unless told not to", () => {
    assert.match(
      routeAnnotations(gateway)["pulumi.com/waitFor"],
      /^jsonpath=\{\.status\.parents\[0\]\.conditions\[\?\(@\.type=="Accepted"\)\]\.status\}=True$/,
    );
    assert.deepEqual(routeAnnotations({ ...gateway, waitForAddress: false }), {});
  });
});
