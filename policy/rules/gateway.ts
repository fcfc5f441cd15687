// gateway-tls (stack): Gateway API routes in prod are served over TLS, like an Ingress, which
// takes the Gateways they attach to: a route has no TLS of its own.
import { groupKind, isPatch, kindOf, namespaceOf } from "../kube";
import { at, objects, show, text, texts, type Fields } from "../read";
import { GATEWAY_GROUP, ROUTE_KINDS } from "./exposure";
import type { StackContext, StackResource, StackViolation } from "./rule";

/** A route whose every rule redirects to https serves nothing over plain HTTP. */
function redirectsToHttps(spec: unknown): boolean {
  const rules = objects(at(spec, "rules"));
  return (
    rules.length > 0 &&
    rules.every(
      (rule) =>
        objects(rule.backendRefs).length === 0 &&
        objects(rule.filters).some(
          (filter) => filter.type === "RequestRedirect" && at(filter, "requestRedirect", "scheme") === "https",
        ),
    )
  );
}

const GATEWAY = `${GATEWAY_GROUP}/Gateway`;

/**
 * Gateway API routes in prod are served over TLS, like an Ingress. A route has no TLS of its
 * own: its Gateway's listeners terminate it. So a route (HTTPRoute, GRPCRoute) passes when every
 * Gateway listener it attaches to is HTTPS:
 * - a Gateway this stack registers is read directly (the listeners its parentRef selects by
 *   sectionName and port);
 * - a Gateway the stack does not register (the platform team's) cannot be seen, so the route
 *   must name the listener (parentRefs[].sectionName) and the policy config must list it as
 *   HTTPS in `httpsListeners`, as `<namespace>/<gateway>/<listener>`.
 * A route that only redirects to https passes anywhere. Each HTTPS listener of a Gateway the
 * stack registers must name its certificate (tls.certificateRefs, which cert-manager fills).
 */
export function gatewayTls(
  resources: StackResource[],
  { httpsListeners, registered = resources }: Pick<StackContext, "httpsListeners" | "registered">,
): StackViolation[] {
  const violations: StackViolation[] = [];
  const gateways = registered.filter((r) => groupKind(r.type) === GATEWAY && !isPatch(r.type));
  const listenersOf = (gateway: StackResource): Fields[] => objects(at(gateway.props, "spec", "listeners"));

  for (const gateway of resources.filter((r) => groupKind(r.type) === GATEWAY)) {
    for (const listener of listenersOf(gateway)) {
      if (listener.protocol === "HTTPS" && objects(at(listener, "tls", "certificateRefs")).length === 0) {
        violations.push({
          urn: gateway.urn,
          message:
            `${kindOf(gateway.type)} listener "${show(listener.name)}" is HTTPS without tls.certificateRefs, ` +
            "so it has no certificate to serve: list the Secret that cert-manager issues for its hostname in " +
            "tls.certificateRefs (with the Gateway annotated cert-manager.io/cluster-issuer)",
        });
      }
    }
  }

  for (const route of resources.filter((r) => ROUTE_KINDS.has(groupKind(r.type) ?? ""))) {
    const spec = at(route.props, "spec");
    const parentRefs = at(spec, "parentRefs");
    if ((isPatch(route.type) && parentRefs === undefined) || redirectsToHttps(spec)) {
      continue;
    }
    const who = kindOf(route.type);
    const hostnames = texts(at(spec, "hostnames"));
    const hosts = hostnames.length > 0 ? hostnames.join(", ") : "every host";
    const report = (message: string) => violations.push({ urn: route.urn, message });
    for (const ref of objects(parentRefs)) {
      const refKind = text(ref.kind) ?? "Gateway";
      // A Service parent is a mesh route between workloads, not exposed by a Gateway.
      if (refKind === "Service") {
        continue;
      }
      const id = `${text(ref.namespace) ?? namespaceOf(route.props)}/${show(ref.name)}`;
      const gateway =
        refKind === "Gateway" && (text(ref.group) ?? GATEWAY_GROUP) === GATEWAY_GROUP
          ? gateways.find((g) => `${namespaceOf(g.props)}/${show(at(g.props, "metadata", "name"))}` === id)
          : undefined;
      const section = text(ref.sectionName);
      if (gateway) {
        const attached = listenersOf(gateway).filter(
          (listener) =>
            (section === undefined || listener.name === section) &&
            (ref.port === undefined || listener.port === ref.port),
        );
        for (const listener of attached.filter((listener) => listener.protocol !== "HTTPS")) {
          report(
            `${who} serves ${hosts} over plain HTTP through listener "${show(listener.name)}" ` +
              `(${show(listener.protocol)}) of Gateway ${id}: attach it to an HTTPS listener only ` +
              "(spec.parentRefs[].sectionName), or make it only redirect to https",
          );
        }
      } else if (section === undefined) {
        report(
          `${who} attaches to every listener of ${refKind} ${id}, which this stack does not create, ` +
            "so the pack cannot tell that they all serve TLS: " +
            `name the HTTPS listener in spec.parentRefs[].sectionName and list "${id}/<listener>" in the ` +
            "gateway-tls policy config's httpsListeners",
        );
      } else if (!httpsListeners.includes(`${id}/${section}`)) {
        report(
          `${who} serves ${hosts} through listener "${section}" of ${refKind} ${id}, ` +
            "which this stack does not create, so the pack cannot see that it serves TLS: " +
            `once it is an HTTPS listener with a certificate, list "${id}/${section}" in the gateway-tls policy ` +
            "config's httpsListeners",
        );
      }
    }
  }
  return violations;
}
