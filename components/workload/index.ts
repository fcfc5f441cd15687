import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../../config";
import type { Naming } from "../names";
import {
  backupJobSpec,
  deploymentSpec,
  migrationJobSpec,
  podTemplate,
  releaseJobName,
  type PodInput,
} from "./spec";

type PodTemplateSpec = k8s.types.input.core.v1.PodTemplateSpec;

export interface WorkloadArgs {
  config: StackConfig;
  naming: Naming;
  namespace: pulumi.Input<string>;
  /** Digest-pinned image reference. */
  image: pulumi.Input<string>;
  configMapName: string;
  secretName: string;
  settingsChecksum: string;
  /** A rollback returns to an image whose migrations already ran: no backup, no migration. */
  rollback: boolean;
}

/**
 * What runs the image besides the API controller: a ServiceAccount without a token, the
 * release gates (database backup, then migrations, once per image digest) and the Celery
 * worker. The API's pod template is built here too, for Delivery to run.
 */
export class Workload extends pulumi.ComponentResource {
  readonly serviceAccountName: string;
  /** The API pod template, shared by a Deployment and an Argo Rollout. */
  readonly apiTemplate: PodTemplateSpec;
  /** Everything the API must wait for: new pods start only after these succeeded. */
  readonly gates: pulumi.Resource[];
  readonly migrationJobName?: pulumi.Output<string>;

  constructor(name: string, args: WorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
    super("api-stack:index:Workload", name, {}, opts);
    const { config, naming, namespace } = args;
    this.serviceAccountName = naming.name("api");

    const serviceAccount = new k8s.core.v1.ServiceAccount(
      name,
      {
        metadata: { name: this.serviceAccountName, namespace, labels: naming.labels("api") },
        // The app never calls the Kubernetes API; a mounted token would only be a liability.
        automountServiceAccountToken: false,
      },
      { parent: this },
    );
    this.gates = [serviceAccount];

    const pod = (component: PodInput["component"], extra: Partial<PodInput> = {}) =>
      podTemplate({
        naming,
        component,
        image: args.image,
        resources: config.api.resources,
        configMapName: args.configMapName,
        secretName: args.secretName,
        serviceAccountName: this.serviceAccountName,
        terminationGracePeriodSeconds: config.api.terminationGracePeriodSeconds,
        ...extra,
      });
    const jobName = (component: "migration" | "backup") =>
      pulumi.output(args.image).apply((ref) => releaseJobName(naming, component, ref));

    // The deployment checklist as dependencies: backup, then migrate, then roll. The provider
    // waits for each Job to complete, so a failed one stops the update before any new API pod.
    if (config.backup && !args.rollback) {
      const claim = new k8s.core.v1.PersistentVolumeClaim(
        `${name}-backups`,
        {
          metadata: { name: naming.name("backup"), namespace, labels: naming.labels("backup") },
          spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: config.backup.storage } } },
        },
        // Backups outlive the stack's other objects: `pulumi destroy` must not delete them.
        { parent: this, retainOnDelete: true },
      );
      const backupName = jobName("backup");
      const backup = new k8s.batch.v1.Job(
        `${name}-backup`,
        {
          metadata: { name: backupName, namespace, labels: naming.labels("backup") },
          spec: backupJobSpec({
            naming,
            image: config.backup.image,
            secretName: args.secretName,
            claimName: naming.name("backup"),
            fileName: pulumi.interpolate`${backupName}.dump`,
            timeoutSeconds: config.migration?.timeoutSeconds ?? 600,
          }),
        },
        { parent: this, dependsOn: [claim] },
      );
      this.gates = [...this.gates, backup];
    }
    if (config.migration && !args.rollback) {
      const migration = new k8s.batch.v1.Job(
        `${name}-migration`,
        {
          metadata: { name: jobName("migration"), namespace, labels: naming.labels("migration") },
          spec: migrationJobSpec({
            template: pod("migration", { command: config.migration.command, restartPolicy: "Never" }),
            timeoutSeconds: config.migration.timeoutSeconds,
          }),
        },
        { parent: this, dependsOn: this.gates },
      );
      this.migrationJobName = migration.metadata.name;
      this.gates = [...this.gates, migration];
    }

    this.apiTemplate = pod("api", {
      settingsChecksum: args.settingsChecksum,
      http: { preStopSleepSeconds: config.api.preStopSleepSeconds },
      spread: config.api.replicas > 1 || (config.autoscaling?.maxReplicas ?? 1) > 1,
    });

    if (config.worker) {
      new k8s.apps.v1.Deployment(
        `${name}-worker`,
        {
          metadata: { name: naming.name("worker"), namespace, labels: naming.labels("worker") },
          spec: deploymentSpec({
            naming,
            component: "worker",
            replicas: config.worker.replicas,
            template: pod("worker", { command: config.worker.command, settingsChecksum: args.settingsChecksum }),
          }),
        },
        { parent: this, dependsOn: this.gates },
      );
    }

    this.registerOutputs({ migrationJobName: this.migrationJobName });
  }
}
