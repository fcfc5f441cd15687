import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_DENY, networkPolicies, type NetworkPolicyInput, type NetworkPolicyObject } from "./spec";

export interface NetworkPolicyArgs extends NetworkPolicyInput {
  namespace: pulumi.Input<string>;
}

/**
 * The namespace's NetworkPolicies: default deny in and out, then the ingress controller to the
 * API's port, the metrics scraper to the metrics port, the app to DNS, to the dev services and to
 * the external endpoints of config. Enforced only where the cluster's network plugin enforces
 * NetworkPolicy (docs/hardening.md).
 */
export class NetworkPolicies extends pulumi.ComponentResource {
  readonly policies: k8s.networking.v1.NetworkPolicy[];

  constructor(name: string, args: NetworkPolicyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("api-stack:index:NetworkPolicies", name, {}, opts);
    const { naming, namespace } = args;
    const create = (policy: NetworkPolicyObject, dependsOn: pulumi.Resource[] = []) =>
      new k8s.networking.v1.NetworkPolicy(
        `${name}-${policy.role}`,
        {
          metadata: {
            name: policy.name,
            namespace,
            labels: naming.labels(policy.component),
            ...(policy.annotations ? { annotations: policy.annotations } : {}),
          },
          spec: policy.spec,
        },
        { parent: this, dependsOn },
      );
    const policies = networkPolicies(args);
    // The allows exist before the deny, so the pods of a running stack never lose DNS or their
    // database while the policies are first applied.
    const allows = policies.filter((policy) => policy.role !== DEFAULT_DENY).map((policy) => create(policy));
    const deny = policies.filter((policy) => policy.role === DEFAULT_DENY).map((policy) => create(policy, allows));
    this.policies = [...deny, ...allows];
    this.registerOutputs({ policies: this.policies });
  }
}
