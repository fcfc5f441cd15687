// Pure builders for how the API is reached: a ClusterIP Service and, optionally, either an
// Ingress or Gateway API HTTPRoutes attached to the platform's Gateway (docs/traffic.md).
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { Naming } from "../names";

export const SERVICE_PORT = 80;
export const GATEWAY_API_VERSION = "gateway.networking.k8s.io/v1";

interface ExposureCommon {
  host: string;
  /** blueGreen: a second host that reaches only the preview Service. Unset: none. */
  previewHost?: string;
  /** Wait until the controller takes the object: an address on the Ingress, `Accepted` on a route. */
  waitForAddress: boolean;
}

/** Through an ingress controller that reads ingress-nginx's annotations (config exposure: ingress). */
export interface IngressExposure extends ExposureCommon {
  kind: "ingress";
  /** spec.ingressClassName. */
  className: string;
  /** cert-manager ClusterIssuer and the Secrets it writes the certificates to. Unset: plain HTTP. */
  tls?: { clusterIssuer: string; secretName: string; previewSecretName: string };
  /** Requests per minute per client address, per controller replica (limit-rpm). */
  rateLimitPerMinute: number;
}

/** Through HTTPRoutes attached to a Gateway someone else runs (config exposure: gateway). */
export interface GatewayExposure extends ExposureCommon {
  kind: "gateway";
  /** The Gateway; its namespace defaults to the route's. */
  gateway: { name: string; namespace?: string };
  /** Listener (sectionName) for plain HTTP: serves the API without TLS, with TLS only redirects to https. */
  httpListener: string;
  /** Listener that terminates TLS, with the certificate cert-manager issues for the Gateway. Unset: plain HTTP. */
  httpsListener?: string;
}

/**
 * How the API is reached from outside the cluster: an Ingress or a route on the platform's
 * Gateway. (The type keeps the name it had when an Ingress was the only way.)
 */
export type IngressConfig = IngressExposure | GatewayExposure;

/** A host and the Service it reaches. */
export interface HostBackend {
  host: string;
  // The Service object's name, so the Ingress or route follows the Service it routes to.
  serviceName: pulumi.Input<string>;
}

/**
 * What the program never changes on a Service that Argo Rollouts switches (the active, preview,
 * stable and canary Services): Argo writes its pod-template hash into the selector, an atomic
 * map, so any later apply of the Service would conflict with Argo, or, forced, would drop the
 * hash and send users to both releases at once. The program creates such a Service and then
 * leaves it to Argo; changing its ports means a release-free window (docs/traffic.md).
 */
export const ROLLOUT_SERVICE_IGNORE_CHANGES = ["metadata.labels", "metadata.annotations", "spec"];

export function serviceSpec(naming: Naming): k8s.types.input.core.v1.ServiceSpec {
  return {
    type: "ClusterIP",
    selector: naming.selector("api"),
    ports: [{ name: "http", port: SERVICE_PORT, targetPort: "http", protocol: "TCP" }],
  };
}

/**
 * The annotations Traefik's NGINX provider and ingress-nginx both honour (docs/traffic.md lists
 * what each does with them). Argo's canary Ingress copies none of them: canary traffic passes
 * the stable Ingress' rate limit and redirect.
 */
export function ingressAnnotations(ingress: IngressExposure): Record<string, string> {
  return {
    ...(ingress.waitForAddress ? {} : { "pulumi.com/skipAwait": "true" }),
    // Counted per client address by each controller replica; the burst multiplier absorbs short spikes.
    "nginx.ingress.kubernetes.io/limit-rpm": String(ingress.rateLimitPerMinute),
    "nginx.ingress.kubernetes.io/limit-burst-multiplier": "2",
    ...(ingress.tls
      ? {
          "cert-manager.io/cluster-issuer": ingress.tls.clusterIssuer,
          "nginx.ingress.kubernetes.io/ssl-redirect": "true",
        }
      : {}),
  };
}

/** One host to one Service, with TLS from the given Secret when the exposure has TLS. */
export function ingressSpec(
  ingress: IngressExposure,
  { host, serviceName }: HostBackend,
  tlsSecretName?: string,
): k8s.types.input.networking.v1.IngressSpec {
  return {
    ingressClassName: ingress.className,
    ...(tlsSecretName ? { tls: [{ hosts: [host], secretName: tlsSecretName }] } : {}),
    rules: [
      {
        host,
        http: {
          paths: [
            {
              path: "/",
              pathType: "Prefix",
              backend: { service: { name: serviceName, port: { name: "http" } } },
            },
          ],
        },
      },
    ],
  };
}

/** Browsers that reached the API over HTTPS once keep to it (ingress-nginx sends it by default). */
export const HSTS = { name: "Strict-Transport-Security", value: "max-age=31536000" } as const;

/**
 * Makes the provider wait until the Gateway accepted the route, as it waits for an Ingress
 * address; a route nobody accepted serves nothing.
 */
export const ROUTE_ACCEPTED = 'jsonpath={.status.parents[0].conditions[?(@.type=="Accepted")].status}=True';

function parentRef(gateway: GatewayExposure, sectionName: string) {
  return {
    group: "gateway.networking.k8s.io",
    kind: "Gateway",
    name: gateway.gateway.name,
    ...(gateway.gateway.namespace ? { namespace: gateway.gateway.namespace } : {}),
    sectionName,
  };
}

export function routeAnnotations(gateway: GatewayExposure): Record<string, string> {
  return gateway.waitForAddress ? { "pulumi.com/waitFor": ROUTE_ACCEPTED } : {};
}

/**
 * An HTTPRoute that sends a host to a Service: on the HTTPS listener (with HSTS) when the
 * exposure has TLS, else on the HTTP listener.
 */
export function httpRouteSpec(gateway: GatewayExposure, { host, serviceName }: HostBackend): Record<string, unknown> {
  return {
    parentRefs: [parentRef(gateway, gateway.httpsListener ?? gateway.httpListener)],
    hostnames: [host],
    rules: [
      {
        matches: [{ path: { type: "PathPrefix", value: "/" } }],
        ...(gateway.httpsListener
          ? { filters: [{ type: "ResponseHeaderModifier", responseHeaderModifier: { set: [{ ...HSTS }] } }] }
          : {}),
        backendRefs: [{ name: serviceName, port: SERVICE_PORT }],
      },
    ],
  };
}

/** With TLS: the HTTP listener only redirects the hosts to https (what ssl-redirect does for an Ingress). */
export function redirectRouteSpec(gateway: GatewayExposure, hosts: string[]): Record<string, unknown> {
  return {
    parentRefs: [parentRef(gateway, gateway.httpListener)],
    hostnames: hosts,
    rules: [{ filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] }],
  };
}

/** Every host the exposure serves: the API's, then the blue-green preview's. None without an exposure. */
export function publicHosts(exposure: IngressConfig | undefined): string[] {
  return exposure ? [exposure.host, ...(exposure.previewHost === undefined ? [] : [exposure.previewHost])] : [];
}

/** Whether users reach the exposure over HTTPS. */
export const servesTls = (exposure: IngressConfig): boolean =>
  exposure.kind === "ingress" ? exposure.tls !== undefined : exposure.httpsListener !== undefined;

/** Where users reach the API: the public URL with an exposure, the in-cluster one without. */
export function apiUrl(exposure: IngressConfig | undefined, serviceName: string, namespace: string): string {
  return exposure
    ? `${servesTls(exposure) ? "https" : "http"}://${exposure.host}`
    : `http://${serviceName}.${namespace}.svc.cluster.local`;
}
