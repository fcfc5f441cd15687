// Pure builders for how the API is reached: a ClusterIP Service and, optionally, an Ingress.
import type * as k8s from "@pulumi/kubernetes";
import type { IngressConfig } from "../../config";
import type { Naming } from "../names";

export const SERVICE_PORT = 80;

export function serviceSpec(naming: Naming): k8s.types.input.core.v1.ServiceSpec {
  return {
    type: "ClusterIP",
    selector: naming.selector("api"),
    ports: [{ name: "http", port: SERVICE_PORT, targetPort: "http", protocol: "TCP" }],
  };
}

export interface IngressInput {
  ingress: IngressConfig;
  serviceName: string;
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
