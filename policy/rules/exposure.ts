// no-external-service, ingress-tls and explicit-hosts: the API is reached through its Ingress (or
// a Gateway route, see gateway.ts), over TLS, for the hosts it names and no others.
import { groupKind, isPatch, kindOf } from "../kube";
import { at, list, objects, show, text, texts, type Props } from "../read";
import { key } from "./rule";

const AROUND_INGRESS = "around the Ingress (its TLS, rate limit and host rules)";
const THROUGH_INGRESS = `publish the API through the Ingress (${key("ingressEnabled")}, ${key("ingressHost")})`;

/**
 * Services that reach past the Ingress: LoadBalancer and NodePort, and external IPs, for which
 * every node forwards traffic to the Service, whoever else owns the address (CVE-2020-8554).
 */
export function noExternalService(type: string, props: Props): string[] {
  if (groupKind(type) !== "core/Service") {
    return [];
  }
  const violations: string[] = [];
  const serviceType = at(props, "spec", "type");
  if (serviceType === "LoadBalancer" || serviceType === "NodePort") {
    violations.push(
      `Service of type ${serviceType} exposes the API ${AROUND_INGRESS}: use type ClusterIP and ${THROUGH_INGRESS}`,
    );
  }
  const externalIPs = list(at(props, "spec", "externalIPs")).map(show);
  if (externalIPs.length > 0) {
    violations.push(
      `Service claims the external IPs ${externalIPs.join(", ")}, so every node forwards their traffic to it, ` +
        `${AROUND_INGRESS} and over whoever else owns those addresses: ` +
        `remove spec.externalIPs and ${THROUGH_INGRESS}`,
    );
  }
  return violations;
}

const INGRESS_KINDS = new Set(["networking.k8s.io/Ingress", "extensions/Ingress"]);

/**
 * Ingress hosts served without a TLS entry. An IngressPatch that sets spec.rules replaces them
 * (a list applied whole), and the pack cannot see the TLS of the Ingress it patches, so such a
 * patch must list the TLS of its hosts itself; one that empties spec.tls removes it.
 */
export function ingressTls(type: string, props: Props): string[] {
  if (!INGRESS_KINDS.has(groupKind(type) ?? "")) {
    return [];
  }
  const tlsSet = at(props, "spec", "tls");
  const rulesSet = at(props, "spec", "rules");
  if (isPatch(type) && rulesSet === undefined) {
    return tlsSet === null || (Array.isArray(tlsSet) && tlsSet.length === 0)
      ? [
          `${kindOf(type)} empties spec.tls, so the Ingress it patches serves every host over plain HTTP: ` +
            `keep ${key("ingressTls")} true so spec.tls lists each host with its certificate`,
        ]
      : [];
  }
  const tls = objects(tlsSet);
  // An entry without hosts serves the controller's certificate for every host.
  const coversAll = tls.some((entry) => texts(entry.hosts).length === 0);
  const covered = new Set(tls.flatMap((entry) => texts(entry.hosts)));
  const rules = objects(rulesSet);
  const hosts = rules.length > 0 ? rules.map((rule) => text(rule.host) ?? "*") : ["*"];
  const plain = [...new Set(hosts)].filter((host) => !coversAll && !covered.has(host));
  if (plain.length === 0) {
    return [];
  }
  const what = plain.map((host) => (host === "*" ? "every host" : host)).join(", ");
  return [
    `${kindOf(type)} serves ${what} over plain HTTP: set ${key("ingressTls")} to true so cert-manager ` +
      `(${key("clusterIssuer")}) issues a certificate and spec.tls lists ` +
      `${plain.length === 1 ? "the host" : "each host"}`,
  ];
}

export const GATEWAY_GROUP = "gateway.networking.k8s.io";
export const ROUTE_KINDS = new Set([`${GATEWAY_GROUP}/HTTPRoute`, `${GATEWAY_GROUP}/GRPCRoute`]);
const isWildcard = (host: string) => host.includes("*");

/**
 * Ingresses and Gateway API routes that answer for hosts nobody named: a rule without a host,
 * a default backend, a route without hostnames (every host its listener accepts), or a wildcard.
 */
export function explicitHosts(type: string, props: Props): string[] {
  const kind = groupKind(type) ?? "";
  const patch = isPatch(type);
  const who = kindOf(type);
  const violations: string[] = [];
  if (INGRESS_KINDS.has(kind)) {
    const fix = `give every rule the API's host (${key("ingressHost")})`;
    const rules = at(props, "spec", "rules");
    if (!patch || rules !== undefined) {
      const hosts = list(rules).map((rule) => text(at(rule, "host")));
      if (hosts.some((host) => !host)) {
        violations.push(`${who} has a rule without host, which answers for every host: ${fix}`);
      }
      for (const host of new Set(hosts.filter((host) => host !== undefined && isWildcard(host)))) {
        violations.push(`${who} answers for the wildcard host ${host}: ${fix}`);
      }
    }
    const fallback = at(props, "spec", "defaultBackend") ?? at(props, "spec", "backend");
    if (fallback) {
      violations.push(`${who} has a default backend, which answers for every host: remove it and ${fix}`);
    }
    return violations;
  }
  const hostnamesSet = at(props, "spec", "hostnames");
  if (!ROUTE_KINDS.has(kind) || (patch && hostnamesSet === undefined)) {
    return [];
  }
  const hostnames = texts(hostnamesSet);
  const fix = "list each host the API serves in spec.hostnames";
  if (hostnames.length === 0) {
    violations.push(`${who} has no spec.hostnames, so it answers for every host its Gateway listener accepts: ${fix}`);
  }
  for (const host of new Set(hostnames.filter(isWildcard))) {
    violations.push(`${who} answers for the wildcard host ${host}: ${fix}`);
  }
  return violations;
}
