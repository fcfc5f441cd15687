// Pure builders for how the API is reached: a ClusterIP Service and, optionally, an Ingress.
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { Naming } from "../names";

export const SERVICE_PORT = 80;

/** How the API is reached from outside the cluster through an ingress controller. */
export interface IngressConfig {
  host: string;
  /** spec.ingressClassName. */
  className: string;
  /** cert-manager ClusterIssuer and the Secret it writes the certificate to. Unset: plain HTTP. */
  tls?: { clusterIssuer: string; secretName: string };
  /** Requests per minute per client IP, enforced by ingress-nginx. */
  rateLimitPerMinute: number;
  /** Wait for the controller to publish an address (the provider's default for an Ingress). */
  waitForAddress: boolean;
}

export function serviceSpec(naming: Naming): k8s.types.input.core.v1.ServiceSpec {
  return {
    type: "ClusterIP",
    selector: naming.selector("api"),
    ports: [{ name: "http", port: SERVICE_PORT, targetPort: "http", protocol: "TCP" }],
  };
}

export interface IngressInput {
  ingress: IngressConfig;
  // The Service object's name, so the Ingress follows the Service it routes to.
  serviceName: pulumi.Input<string>;
}

export function ingressAnnotations(ingress: IngressConfig): Record<string, string> {
  return {
    ...(ingress.waitForAddress ? {} : { "pulumi.com/skipAwait": "true" }),
    // ingress-nginx limits per client IP; the burst multiplier absorbs short spikes.
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

export function ingressSpec({ ingress, serviceName }: IngressInput): k8s.types.input.networking.v1.IngressSpec {
  return {
    ingressClassName: ingress.className,
    ...(ingress.tls ? { tls: [{ hosts: [ingress.host], secretName: ingress.tls.secretName }] } : {}),
    rules: [
      {
        host: ingress.host,
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

/** Where users reach the API: the public URL with an Ingress, the in-cluster one without. */
export function apiUrl(ingress: IngressConfig | undefined, serviceName: string, namespace: string): string {
  return ingress
    ? `${ingress.tls ? "https" : "http"}://${ingress.host}`
    : `http://${serviceName}.${namespace}.svc.cluster.local`;
}
