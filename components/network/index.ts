import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { IngressConfig } from "../../config";
import type { Naming } from "../names";
import { apiUrl, ingressAnnotations, ingressSpec, serviceSpec } from "./spec";

export interface NetworkArgs {
  naming: Naming;
  namespace: string;
  ingress?: IngressConfig;
}

/** How the API is reached: a ClusterIP Service, and an Ingress when the stack has a host. */
export class Network extends pulumi.ComponentResource {
  readonly serviceName: string;
  readonly url: string;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("api-stack:index:Network", name, {}, opts);
    const { naming, namespace, ingress } = args;
    this.serviceName = naming.name("api");
    this.url = apiUrl(ingress, this.serviceName, namespace);

    const service = new k8s.core.v1.Service(
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
          metadata: {
            name: this.serviceName,
            namespace,
            labels: naming.labels("api"),
            annotations: ingressAnnotations(ingress),
          },
          spec: ingressSpec({ ingress, serviceName: this.serviceName }),
        },
        { parent: this, dependsOn: [service] },
      );
    }
    this.registerOutputs({ serviceName: this.serviceName, url: this.url });
  }
}
