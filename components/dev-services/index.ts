import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Naming } from "../names";
import { devServiceSpec, postgresStatefulSetSpec, redisStatefulSetSpec, type DevServicesConfig } from "./spec";

// Volume claim templates are immutable: a change would replace the StatefulSet and, with the
// claims it deletes (whenDeleted: Delete), the data. Claims keep the template they were made
// from; a new storage size needs the volume resized by hand (docs/hardening.md).
const VOLUME_CLAIM_TEMPLATES = ["spec.volumeClaimTemplates"];

export interface DevServicesArgs {
  naming: Naming;
  namespace: pulumi.Input<string>;
  config: DevServicesConfig;
}

/** In-cluster Postgres and Redis for dev stacks, so a dev environment needs nothing external. */
export class DevServices extends pulumi.ComponentResource {
  readonly postgres: k8s.apps.v1.StatefulSet;
  readonly redis: k8s.apps.v1.StatefulSet;

  constructor(name: string, args: DevServicesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("api-stack:index:DevServices", name, {}, opts);
    const { naming, namespace, config } = args;
    const child = { parent: this };

    const passwordSecretName = naming.name("postgres");
    const password = new k8s.core.v1.Secret(
      `${name}-postgres`,
      {
        metadata: { name: passwordSecretName, namespace, labels: naming.labels("postgres") },
        type: "Opaque",
        stringData: { POSTGRES_PASSWORD: pulumi.secret(config.postgres.password.reveal()) },
      },
      child,
    );
    for (const service of ["postgres", "redis"] as const) {
      new k8s.core.v1.Service(
        `${name}-${service}`,
        {
          metadata: { name: naming.name(service), namespace, labels: naming.stableLabels(service) },
          spec: devServiceSpec(naming, service),
        },
        child,
      );
    }
    this.postgres = new k8s.apps.v1.StatefulSet(
      `${name}-postgres`,
      {
        metadata: { name: naming.name("postgres"), namespace, labels: naming.labels("postgres") },
        spec: postgresStatefulSetSpec({ naming, config, passwordSecretName }),
      },
      { parent: this, dependsOn: [password], ignoreChanges: VOLUME_CLAIM_TEMPLATES },
    );
    this.redis = new k8s.apps.v1.StatefulSet(
      `${name}-redis`,
      {
        metadata: { name: naming.name("redis"), namespace, labels: naming.labels("redis") },
        spec: redisStatefulSetSpec(naming, config),
      },
      { parent: this, ignoreChanges: VOLUME_CLAIM_TEMPLATES },
    );
    this.registerOutputs({ postgres: this.postgres, redis: this.redis });
  }
}
