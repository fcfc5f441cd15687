import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Naming } from "../names";
import {
  settingsChecksum,
  settingsData,
  settingsId,
  settingsObjectNames,
  type AppSecrets,
  type AppSettings,
} from "./spec";

/** What every pod of the app's image reads its environment from: the objects Settings creates. */
export interface PodEnvironment {
  configMapName: pulumi.Input<string>;
  secretName: pulumi.Input<string>;
  /** Changes whenever a setting or secret changes, so the pods roll to pick it up (an HMAC: it reveals nothing). */
  settingsChecksum: string;
  /** The short form of the checksum that names the settings objects and the release Jobs. */
  settingsId: string;
}

export interface SettingsArgs {
  naming: Naming;
  namespace: pulumi.Input<string>;
  settings: AppSettings;
  secrets: AppSecrets;
}

/**
 * The app's environment: an immutable ConfigMap for settings and an immutable Secret for secrets,
 * both named by the checksum of their content, and that checksum. New settings are new objects:
 * a pod of the previous release that restarts (after a failed migration, say) still reads the
 * settings it was released with, and the release Jobs' names change with them.
 */
export class Settings extends pulumi.ComponentResource {
  readonly configMap: k8s.core.v1.ConfigMap;
  readonly secret: k8s.core.v1.Secret;
  /** What a pod template needs to read these settings and to roll when they change. */
  readonly env: PodEnvironment;

  constructor(name: string, args: SettingsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("api-stack:index:Settings", name, {}, opts);
    const { naming, namespace } = args;
    const data = settingsData(args.settings, args.secrets);
    const checksum = settingsChecksum(data);
    const id = settingsId(checksum);
    const names = settingsObjectNames(naming, id);
    // A new name is a replacement. Pulumi creates the new objects first and leaves the old ones
    // in the cluster: pods of the release before may outlive this update (a failed migration, a
    // blue-green release waiting in preview, a canary's stable pods) and must still start if they
    // restart. They go with the namespace, or are pruned once no pod reads them (docs/hardening.md).
    const replaced = { parent: this, retainOnDelete: true };

    this.configMap = new k8s.core.v1.ConfigMap(
      `${name}-settings`,
      {
        metadata: { name: names.configMap, namespace, labels: naming.labels("api") },
        immutable: true,
        data: data.plain,
      },
      replaced,
    );
    this.secret = new k8s.core.v1.Secret(
      `${name}-secrets`,
      {
        metadata: { name: names.secret, namespace, labels: naming.labels("api") },
        type: "Opaque",
        immutable: true,
        stringData: Object.fromEntries(
          Object.entries(data.secret).map(([key, value]) => [key, pulumi.secret(value.reveal())]),
        ),
      },
      replaced,
    );
    this.env = {
      configMapName: this.configMap.metadata.name,
      secretName: this.secret.metadata.name,
      settingsChecksum: checksum,
      settingsId: id,
    };
    this.registerOutputs({ configMap: this.configMap, secret: this.secret, env: this.env });
  }
}
