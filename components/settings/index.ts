import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Naming } from "../names";
import { settingsChecksum, type SettingsData } from "./spec";

export interface SettingsArgs {
  naming: Naming;
  namespace: pulumi.Input<string>;
  data: SettingsData;
}

/** The app's environment: a ConfigMap for settings, a Secret for secrets, and their checksum. */
export class Settings extends pulumi.ComponentResource {
  readonly configMapName: string;
  readonly secretName: string;
  /** Goes on pod templates so that any change to a setting or secret rolls the pods. */
  readonly checksum: string;

  constructor(name: string, args: SettingsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("api-stack:index:Settings", name, {}, opts);
    const { naming, namespace, data } = args;
    this.configMapName = naming.name("api", "settings");
    this.secretName = naming.name("api", "secrets");
    this.checksum = settingsChecksum(data);

    new k8s.core.v1.ConfigMap(
      `${name}-settings`,
      { metadata: { name: this.configMapName, namespace, labels: naming.labels("api") }, data: data.plain },
      { parent: this },
    );
    new k8s.core.v1.Secret(
      `${name}-secrets`,
      {
        metadata: { name: this.secretName, namespace, labels: naming.labels("api") },
        type: "Opaque",
        stringData: Object.fromEntries(
          Object.entries(data.secret).map(([key, value]) => [key, pulumi.secret(value.reveal())]),
        ),
      },
      { parent: this },
    );
    this.registerOutputs({ configMapName: this.configMapName, secretName: this.secretName });
  }
}
