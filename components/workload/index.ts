import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../../config";
import type { Naming } from "../names";
import { deploymentSpec, migrationJobName, migrationJobSpec, podTemplate, type PodInput } from "./spec";

export interface WorkloadArgs {
  config: StackConfig;
  naming: Naming;
  namespace: pulumi.Input<string>;
  /** Digest-pinned image reference. */
  image: pulumi.Input<string>;
  configMapName: string;
  secretName: string;
  settingsChecksum: string;
}

/**
 * Everything that runs the image: a ServiceAccount without a token, the migration Job (once
 * per image digest, before any new pod), the API Deployment and the Celery worker.
 */
export class Workload extends pulumi.ComponentResource {
  readonly deploymentName: string;
  readonly serviceAccountName: string;
  readonly migrationJobName?: pulumi.Output<string>;

  constructor(name: string, args: WorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
    super("api-stack:index:Workload", name, {}, opts);
    const { config, naming, namespace } = args;
    this.deploymentName = naming.name("api");
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

    // The provider waits for a Job to complete, so the API rolls out only after migrations
    // succeeded; a failed migration fails the update before any new API pod exists.
    let migration: k8s.batch.v1.Job | undefined;
    if (config.migration) {
      const jobName = pulumi.output(args.image).apply((ref) => migrationJobName(naming, ref));
      migration = new k8s.batch.v1.Job(
        `${name}-migration`,
        {
          metadata: { name: jobName, namespace, labels: naming.labels("migration") },
          spec: migrationJobSpec({
            template: pod("migration", { command: config.migration.command, restartPolicy: "Never" }),
            timeoutSeconds: config.migration.timeoutSeconds,
          }),
        },
        { parent: this, dependsOn: [serviceAccount] },
      );
      this.migrationJobName = migration.metadata.name;
    }
    const afterMigration = { parent: this, dependsOn: migration ? [migration, serviceAccount] : [serviceAccount] };

    new k8s.apps.v1.Deployment(
      name,
      {
        metadata: { name: this.deploymentName, namespace, labels: naming.labels("api") },
        spec: deploymentSpec({
          naming,
          component: "api",
          replicas: config.api.replicas,
          template: pod("api", {
            settingsChecksum: args.settingsChecksum,
            http: { preStopSleepSeconds: config.api.preStopSleepSeconds },
            spread: config.api.replicas > 1 || (config.autoscaling?.maxReplicas ?? 1) > 1,
          }),
        }),
      },
      // The HPA owns the replica count once it exists; the config value only seeds it.
      config.autoscaling ? { ...afterMigration, ignoreChanges: ["spec.replicas"] } : afterMigration,
    );

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
        afterMigration,
      );
    }

    this.registerOutputs({ deploymentName: this.deploymentName, migrationJobName: this.migrationJobName });
  }
}
