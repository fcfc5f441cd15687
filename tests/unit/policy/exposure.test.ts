// no-external-service, ingress-tls, explicit-hosts and gateway-tls: the API is reached through its
// Ingress or Gateway routes, over TLS, for the hosts it names.
import { strict as assert } from "node:assert";
import { explicitHosts, ingressTls, noExternalService } from "../../../policy/rules/exposure";
import { gatewayTls } from "../../../policy/rules/gateway";
import { certificate, gateway, httpRoute, ingress, patchOf, res, service, T } from "./fixtures";

describe("policy rules: exposure", () => {
  describe("no-external-service", () => {
    it("passes ClusterIP Services", () => {
      assert.deepEqual(noExternalService(T.service, service()), []);
    });

    it("refuses LoadBalancer and NodePort Services", () => {
      for (const type of ["LoadBalancer", "NodePort"]) {
        assert.deepEqual(noExternalService(T.service, service(type)), [
          `Service of type ${type} exposes the API around the Ingress (its TLS, rate limit and host rules): ` +
            "use type ClusterIP and publish the API through the Ingress (api-stack:ingressEnabled, " +
            "api-stack:ingressHost)",
        ]);
      }
    });

    it("refuses external IPs, and a ServicePatch that sets an external type or IPs", () => {
      const externalIPs =
        "Service claims the external IPs 203.0.113.7, so every node forwards their traffic to it, " +
        "around the Ingress (its TLS, rate limit and host rules) and over whoever else owns those addresses: " +
        "remove spec.externalIPs and publish the API through the Ingress (api-stack:ingressEnabled, " +
        "api-stack:ingressHost)";
      const object = service();
      object.spec.externalIPs = ["203.0.113.7"];
      assert.deepEqual(noExternalService(T.service, object), [externalIPs]);
      const patch = patchOf(T.service);
      assert.deepEqual(
        noExternalService(patch, {
          metadata: { name: "api" },
          spec: { type: "LoadBalancer", externalIPs: ["203.0.113.7"] },
        }),
        [
          "Service of type LoadBalancer exposes the API around the Ingress (its TLS, rate limit and host rules): " +
            "use type ClusterIP and publish the API through the Ingress (api-stack:ingressEnabled, " +
            "api-stack:ingressHost)",
          externalIPs,
        ],
      );
      assert.deepEqual(noExternalService(patch, { metadata: { name: "api", annotations: { team: "platform" } } }), []);
      assert.deepEqual(noExternalService(patch, { metadata: { name: "api" }, spec: { externalIPs: [] } }), []);
    });
  });

  describe("ingress-tls", () => {
    it("passes an Ingress whose hosts all have TLS", () => {
      assert.deepEqual(ingressTls(T.ingress, ingress([{ hosts: ["api.example.com"], secretName: "api-tls" }])), []);
    });

    it("refuses plain HTTP and hosts left out of spec.tls", () => {
      const message = (what: string) =>
        `Ingress serves ${what} over plain HTTP: set api-stack:ingressTls to true so cert-manager ` +
        "(api-stack:clusterIssuer) issues a certificate and spec.tls lists the host";
      assert.deepEqual(ingressTls(T.ingress, ingress()), [message("api.example.com")]);
      assert.deepEqual(ingressTls(T.ingress, ingress([{ hosts: ["www.example.com"], secretName: "www-tls" }])), [
        message("api.example.com"),
      ]);
      const catchAll = ingress();
      delete catchAll.spec.rules[0].host;
      assert.deepEqual(ingressTls(T.ingress, catchAll), [message("every host")]);
    });

    it("checks an IngressPatch's hosts against its own spec.tls, and refuses one that empties it", () => {
      const patch = patchOf(T.ingress);
      const { rules } = ingress().spec;
      assert.deepEqual(
        ingressTls(patch, {
          metadata: { name: "api" },
          spec: { rules, tls: [{ hosts: ["api.example.com"], secretName: "api-tls" }] },
        }),
        [],
      );
      assert.deepEqual(
        ingressTls(patch, {
          metadata: { name: "api", annotations: { "nginx.ingress.kubernetes.io/proxy-body-size": "8m" } },
        }),
        [],
      );
      assert.deepEqual(
        ingressTls(patch, {
          metadata: { name: "api" },
          spec: { tls: [{ hosts: ["api.example.com"], secretName: "api-tls" }] },
        }),
        [],
      );
      assert.deepEqual(ingressTls(patch, { metadata: { name: "api" }, spec: { rules } }), [
        "IngressPatch serves api.example.com over plain HTTP: set api-stack:ingressTls to true so cert-manager " +
          "(api-stack:clusterIssuer) issues a certificate and spec.tls lists the host",
      ]);
      for (const tls of [[], null]) {
        assert.deepEqual(ingressTls(patch, { metadata: { name: "api" }, spec: { tls } }), [
          "IngressPatch empties spec.tls, so the Ingress it patches serves every host over plain HTTP: " +
            "keep api-stack:ingressTls true so spec.tls lists each host with its certificate",
        ]);
      }
      assert.equal(ingressTls("kubernetes:extensions/v1beta1:Ingress", ingress()).length, 1);
    });
  });

  describe("explicit-hosts", () => {
    it("passes the program's Ingress and a route that names its host", () => {
      assert.deepEqual(explicitHosts(T.ingress, ingress([{ hosts: ["api.example.com"], secretName: "api-tls" }])), []);
      assert.deepEqual(
        explicitHosts(T.httpRoute, httpRoute([{ name: "public", namespace: "gateways", sectionName: "https" }])),
        [],
      );
    });

    it("refuses an Ingress rule without host, a wildcard host and a default backend", () => {
      const object = ingress();
      object.spec.rules.push(
        { http: object.spec.rules[0].http },
        { host: "*.example.com", http: object.spec.rules[0].http },
      );
      object.spec.defaultBackend = { service: { name: "api", port: { name: "http" } } };
      assert.deepEqual(explicitHosts(T.ingress, object), [
        "Ingress has a rule without host, which answers for every host: give every rule the API's host " +
          "(api-stack:ingressHost)",
        "Ingress answers for the wildcard host *.example.com: give every rule the API's host (api-stack:ingressHost)",
        "Ingress has a default backend, which answers for every host: remove it and give every rule the API's host " +
          "(api-stack:ingressHost)",
      ]);
    });

    it("refuses a route without hostnames or with a wildcard, and patches that set them so", () => {
      const parents = [{ name: "public", namespace: "gateways", sectionName: "https" }];
      const every =
        "HTTPRoute has no spec.hostnames, so it answers for every host its Gateway listener accepts: " +
        "list each host the API serves in spec.hostnames";
      assert.deepEqual(explicitHosts(T.httpRoute, httpRoute(parents, null)), [every]);
      assert.deepEqual(explicitHosts(T.httpRoute, httpRoute(parents, ["api.example.com", "*.example.com"])), [
        "HTTPRoute answers for the wildcard host *.example.com: list each host the API serves in spec.hostnames",
      ]);
      const patch = patchOf(T.httpRoute);
      assert.deepEqual(explicitHosts(patch, { metadata: { name: "api" }, spec: { parentRefs: parents } }), []);
      assert.deepEqual(explicitHosts(patch, { metadata: { name: "api" }, spec: { hostnames: [] } }), [
        every.replace("HTTPRoute", "HTTPRoutePatch"),
      ]);
      assert.deepEqual(
        explicitHosts(patchOf(T.ingress), { metadata: { name: "api" }, spec: { rules: [{ host: "*.example.com" }] } }),
        [
          "IngressPatch answers for the wildcard host *.example.com: give every rule the API's host " +
            "(api-stack:ingressHost)",
        ],
      );
      assert.deepEqual(
        explicitHosts(patchOf(T.ingress), { metadata: { name: "api", labels: { team: "platform" } } }),
        [],
      );
    });
  });

  describe("gateway-tls (stack)", () => {
    const ROUTE_URN = `urn:pulumi:prod::api-stack::${T.httpRoute}::api`;
    const platform = { name: "public", namespace: "gateways", sectionName: "https" };
    const configured = { httpsListeners: ["gateways/public/https"] };

    it("passes a route on an HTTPS listener of the platform's Gateway that the policy config names", () => {
      assert.deepEqual(gatewayTls([res(T.httpRoute, httpRoute([platform]))], configured), []);
      // A Service parent is a mesh route between workloads, which no Gateway exposes.
      assert.deepEqual(
        gatewayTls([res(T.httpRoute, httpRoute([{ group: "", kind: "Service", name: "api" }]))], {
          httpsListeners: [],
        }),
        [],
      );
    });

    it("refuses a route on a listener it cannot see, or on every listener of a Gateway it cannot see", () => {
      assert.deepEqual(
        gatewayTls([res(T.httpRoute, httpRoute([platform]))], { httpsListeners: ["gateways/public/http"] }),
        [
          {
            urn: ROUTE_URN,
            message:
              'HTTPRoute serves api.example.com through listener "https" of Gateway gateways/public, ' +
              "which this stack does not create, so the pack cannot see that it serves TLS: " +
              'once it is an HTTPS listener with a certificate, list "gateways/public/https" in the gateway-tls ' +
              "policy config's httpsListeners",
          },
        ],
      );
      assert.deepEqual(
        gatewayTls([res(T.httpRoute, httpRoute([{ name: "public", namespace: "gateways" }]))], configured),
        [
          {
            urn: ROUTE_URN,
            message:
              "HTTPRoute attaches to every listener of Gateway gateways/public, which this stack does not create, " +
              "so the pack cannot tell that they all serve TLS: " +
              'name the HTTPS listener in spec.parentRefs[].sectionName and list "gateways/public/<listener>" in ' +
              "the gateway-tls policy config's httpsListeners",
          },
        ],
      );
    });

    it("reads the listeners of a Gateway the stack creates, and refuses plain HTTP ones", () => {
      const listeners = [
        { name: "http", protocol: "HTTP", port: 80, hostname: "api.example.com" },
        { name: "https", protocol: "HTTPS", port: 443, hostname: "api.example.com", tls: certificate },
      ];
      const own = res(T.gateway, gateway(listeners));
      const plain = {
        urn: ROUTE_URN,
        message:
          'HTTPRoute serves api.example.com over plain HTTP through listener "http" (HTTP) of Gateway ' +
          "api-prod/public: attach it to an HTTPS listener only (spec.parentRefs[].sectionName), " +
          "or make it only redirect to https",
      };
      const none = { httpsListeners: [] };
      assert.deepEqual(
        gatewayTls([own, res(T.httpRoute, httpRoute([{ name: "public", sectionName: "https" }]))], none),
        [],
      );
      assert.deepEqual(gatewayTls([own, res(T.httpRoute, httpRoute([{ name: "public", port: 443 }]))], none), []);
      assert.deepEqual(gatewayTls([own, res(T.httpRoute, httpRoute([{ name: "public" }]))], none), [plain]);
      assert.deepEqual(
        gatewayTls([own, res(T.httpRoute, httpRoute([{ name: "public", sectionName: "http" }]))], none),
        [plain],
      );
      // The usual companion of an HTTPS listener: a route on the HTTP one that only redirects.
      const redirect = httpRoute([{ name: "public", sectionName: "http" }]);
      redirect.spec.rules = [
        { filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] },
      ];
      assert.deepEqual(gatewayTls([own, res(T.httpRoute, redirect)], none), []);
      // The stack's Gateway is found in the stack, even when out of the rule's scope.
      assert.deepEqual(
        gatewayTls([res(T.httpRoute, httpRoute([{ name: "public", sectionName: "http" }]))], {
          ...none,
          registered: [own],
        }),
        [plain],
      );
    });

    it("refuses an HTTPS listener without a certificate on a Gateway the stack creates", () => {
      const own = res(
        T.gateway,
        gateway([
          { name: "https", protocol: "HTTPS", port: 443, hostname: "api.example.com", tls: { mode: "Terminate" } },
        ]),
      );
      assert.deepEqual(gatewayTls([own], { httpsListeners: [] }), [
        {
          urn: `urn:pulumi:prod::api-stack::${T.gateway}::public`,
          message:
            'Gateway listener "https" is HTTPS without tls.certificateRefs, so it has no certificate to serve: ' +
            "list the Secret that cert-manager issues for its hostname in tls.certificateRefs (with the Gateway " +
            "annotated cert-manager.io/cluster-issuer)",
        },
      ]);
    });

    it("checks an HTTPRoutePatch that sets parentRefs", () => {
      const patch = patchOf(T.httpRoute);
      assert.deepEqual(
        gatewayTls([res(patch, { metadata: { name: "api" }, spec: { hostnames: ["api.example.com"] } })], {
          httpsListeners: [],
        }),
        [],
      );
      assert.equal(
        gatewayTls([res(patch, { metadata: { name: "api" }, spec: { parentRefs: [platform] } })], {
          httpsListeners: [],
        }).length,
        1,
      );
      assert.deepEqual(
        gatewayTls([res(patch, { metadata: { name: "api" }, spec: { parentRefs: [platform] } })], configured),
        [],
      );
    });
  });
});
