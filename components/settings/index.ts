import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Naming } from "../names";
import type { PodEnvironment } from "../workload";
import { settingsChecksum, settingsData, type AppSecrets, type AppSettings } from "./spec";

export interface SettingsArgs {
  naming: Naming;
  namespace: pulumi.Input<string>;
  settings: AppSettings;
  secrets: AppSecrets;
}

/** The app's environment: a ConfigMap for settings, a Secret for secrets, and their checksum. */
export class Settings extends pulumi.ComponentResource {
  readonly configMap: k8s.core.v1.ConfigMap;
  readonly secret: k8s.core.v1.Secret;
  /** What a pod template needs to read these settings and to roll when they change. */
  readonly env: PodEnvironment;

  constructor(name: string, args: SettingsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("api-stack:index:Settings", name, {}, opts);
    const { naming, namespace } = args;
    const data = settingsData(args.settings, args.secrets);

    this.configMap = new k8s.core.v1.ConfigMap(
      `${name}-settings`,
      { metadata: { name: naming.name("api", "settings"), namespace, labels: naming.labels("api") }, data: data.plain },
      { parent: this },
    );
    this.secret = new k8s.core.v1.Secret(
      `${name}-secrets`,
      {
        metadata: { name: naming.name("api", "secrets"), namespace, labels: naming.labels("api") },
        type: "Opaque",
        stringData: Object.fromEntries(
          Object.entries(data.secret).map(([key, value]) => [key, pulumi.secret(value.reveal())]),
        ),
      },
      { parent: this },
    );
    this.env = {
      configMapName: this.configMap.metadata.name,
      secretName: this.secret.metadata.name,
      settingsChecksum: settingsChecksum(data),
    };
    this.registerOutputs({ configMapName: this.env.configMapName, secretName: this.env.secretName });
  }
}
