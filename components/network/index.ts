import * as k8s from "@pulumi/kubernetes";
import { explained } from "../checkers";
import * as pulumi from "@pulumi/pulumi";
import type { Naming } from "../names";
import {
  apiUrl,
  GATEWAY_API_VERSION,
  httpRouteSpec,
  ingressAnnotations,
  ingressSpec,
  publicHosts,
  redirectRouteSpec,
  ROLLOUT_SERVICE_IGNORE_CHANGES,
  routeAnnotations,
  serviceSpec,
  type GatewayExposure,
  type HostBackend,
  type IngressConfig,
  type IngressExposure,
} from "./spec";

export interface NetworkArgs {
  naming: Naming;
  /** Literal, because the in-cluster URL is built from it. */
  namespace: string;
  /** Unset: the API is reached inside the cluster only. */
  ingress?: IngressConfig;
  /**
   * blueGreen: the preview Service (named literally: it is the Rollout's), which
   * `ingress.previewHost` reaches. Unset: no preview host.
   */
  previewServiceName?: string;
  /** The API's Service is switched by an Argo Rollout: created, then never changed. Default: false. */
  rolloutManaged?: boolean;
}

/**
 * How the API is reached: its ClusterIP Service and, when the stack has a host, an Ingress or
 * HTTPRoutes on the platform's Gateway (and the same for the blue-green preview's host).
 */
export class Network extends pulumi.ComponentResource {
  readonly service: k8s.core.v1.Service;
  /**
   * The Service's name as a literal, for the Rollout: naming it through the Service's output
   * would make the Rollout wait for the Service, which waits for the Rollout's pods.
   */
  readonly serviceName: string;
  readonly url: string;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("api-stack:index:Network", name, {}, opts);
    const { naming, namespace, ingress } = args;
    this.serviceName = naming.name("api");
    this.url = apiUrl(ingress, this.serviceName, namespace);
    if (ingress?.previewHost !== undefined && args.previewServiceName === undefined) {
      throw new Error(
        `Network ${name}: ingress.previewHost "${ingress.previewHost}" ` +
          "needs previewServiceName (a blue-green preview Service)",
      );
    }

    this.service = new k8s.core.v1.Service(
      name,
      {
        metadata: {
          name: this.serviceName,
          namespace,
          labels: naming.stableLabels("api"),
          ...(args.rolloutManaged ? { annotations: explained("serviceTargets") } : {}),
        },
        spec: serviceSpec(naming),
      },
      { parent: this, ...(args.rolloutManaged ? { ignoreChanges: ROLLOUT_SERVICE_IGNORE_CHANGES } : {}) },
    );
    const metadata = (suffix: string | undefined, annotations: Record<string, string>) => ({
      name: naming.name("api", suffix),
      namespace,
      labels: naming.labels("api"),
      annotations,
    });
    const newIngress = (
      exposure: IngressExposure,
      suffix: string | undefined,
      backend: HostBackend,
      tlsSecretName?: string,
    ) =>
      new k8s.networking.v1.Ingress(
        suffix ? `${name}-${suffix}` : name,
        {
          metadata: metadata(suffix, ingressAnnotations(exposure)),
          spec: ingressSpec(exposure, backend, tlsSecretName),
        },
        { parent: this },
      );
    const newRoute = (gateway: GatewayExposure, suffix: string | undefined, spec: Record<string, unknown>) =>
      new k8s.apiextensions.CustomResource(
        suffix ? `${name}-${suffix}` : name,
        {
          apiVersion: GATEWAY_API_VERSION,
          kind: "HTTPRoute",
          metadata: metadata(suffix, routeAnnotations(gateway)),
          spec,
        },
        { parent: this },
      );

    if (ingress) {
      const main: HostBackend = { host: ingress.host, serviceName: this.service.metadata.name };
      const preview: HostBackend | undefined =
        ingress.previewHost !== undefined
          ? { host: ingress.previewHost, serviceName: args.previewServiceName! }
          : undefined;
      if (ingress.kind === "ingress") {
        newIngress(ingress, undefined, main, ingress.tls?.secretName);
        if (preview) {
          newIngress(ingress, "preview", preview, ingress.tls?.previewSecretName);
        }
      } else {
        newRoute(ingress, undefined, httpRouteSpec(ingress, main));
        if (preview) {
          newRoute(ingress, "preview", httpRouteSpec(ingress, preview));
        }
        if (ingress.httpsListener) {
          newRoute(ingress, "redirect", redirectRouteSpec(ingress, publicHosts(ingress)));
        }
      }
    }
    this.registerOutputs({ service: this.service, serviceName: this.serviceName, url: this.url });
  }
}
