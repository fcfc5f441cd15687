import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Naming } from "../names";
import { apiUrl, ingressAnnotations, ingressSpec, serviceSpec, type IngressConfig } from "./spec";

export interface NetworkArgs {
  naming: Naming;
  /** Literal, because the in-cluster URL is built from it. */
  namespace: string;
  /** Unset: no Ingress; the API is reached inside the cluster only. */
  ingress?: IngressConfig;
}

/** How the API is reached: its ClusterIP Service, and an Ingress when the stack has a host. */
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

    this.service = new k8s.core.v1.Service(
      name,
      {
        metadata: { name: this.serviceName, namespace, labels: naming.labels("api") },
        spec: serviceSpec(naming),
      },
      { parent: this },
    );
    if (ingress) {
      new k8s.networking.v1.Ingress(
        name,
        {
          metadata: { name: naming.name("api"), namespace, labels: naming.labels("api"), annotations: ingressAnnotations(ingress) },
          spec: ingressSpec({ ingress, serviceName: this.service.metadata.name }),
        },
        { parent: this },
      );
    }
    this.registerOutputs({ serviceName: this.serviceName, url: this.url });
  }
}
