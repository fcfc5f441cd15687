import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Naming } from "../names";
import { registryServes } from "../image/reference";
import type { PodEnvironment } from "../settings";
import { dockerConfigJson, PULL_SECRET_KEY, PULL_SECRET_TYPE, type RegistryLogin } from "./registry-login";
import {
  BACKUP_SUFFIX,
  backupJobSpec,
  deploymentSpec,
  migrationJobSpec,
  pgOptions,
  podTemplate,
  releaseJobName,
  WORKER_SHUTDOWN_MARGIN_SECONDS,
  type ExecCheck,
  type MigrationTimeouts,
  type PodInput,
  type Resources,
} from "./spec";

/**
 * The provider replaces a Job that did not complete instead of reporting it failed on every later
 * update: a failed migration stops its own release, never the next attempt.
 */
const RERUN_FAILED_JOB = { "pulumi.com/replaceUnready": "true" };

export interface WorkloadArgs {
  naming: Naming;
  namespace: pulumi.Input<string>;
  /** Digest-pinned image reference (`repository@sha256:...`) of this update, which the Jobs run. */
  image: pulumi.Input<string>;
  env: PodEnvironment;
  /** Requests and limits of the migration Job and the worker (the API's too: one size for the app). */
  resources: Resources;
  /** UID and GID of every pod. Default: RUN_AS_USER. */
  runAsUser?: number;
  terminationGracePeriodSeconds: number;
  /**
   * pg_dump of DATABASE_URL to a retained volume before migrations, once per release and
   * settings; the newest `retention` dumps are kept. Unset: no backup.
   */
  backup?: { image: string; storage: string; timeoutSeconds: number; retention: number };
  /**
   * The login the kubelet pulls the app's image with: a Secret every pod of that image names, and
   * the backup Job when its image comes from the same registry. Unset: pulls need no login.
   */
  imagePull?: RegistryLogin;
  /** Runs once per release and settings before the API and the worker roll. Unset: no migration Job. */
  migration?: { command: string[]; timeoutSeconds: number } & MigrationTimeouts;
  /**
   * The Celery worker: `image` is the release that serves users, which may not be this update's
   * (components/api-stack/worker-image.ts); `check` is its liveness command; its grace period
   * covers the task time limit, so a warm shutdown lets running tasks finish. Unset: none.
   */
  worker?: WorkerArgs & { image: pulumi.Input<string> };
  /** The worker's /metrics port (the app's METRICS_PORT) and whether its pods carry the scrape annotations. */
  workerMetrics?: PodInput["metrics"];
}

/** The Celery worker as config describes it; which image it runs is the ApiStack's to say. */
export interface WorkerArgs {
  command: string[];
  replicas: number;
  check: ExecCheck;
  taskTimeLimitSeconds: number;
}

/**
 * What runs the app's image beside the API: the ServiceAccount every app pod uses (without a
 * token), the release gates (database backup, then migrations, once per image digest and
 * settings) and the Celery worker. A rollback passes neither backup nor migration: its schema
 * already exists.
 */
export class Workload extends pulumi.ComponentResource {
  readonly serviceAccount: k8s.core.v1.ServiceAccount;
  /** The registry login (imagePull) the API's pods name too. */
  readonly pullSecret?: k8s.core.v1.Secret;
  /** Everything the API must wait for: new pods start only after these succeeded. */
  readonly gates: pulumi.Resource[];
  readonly migrationJob?: k8s.batch.v1.Job;

  constructor(name: string, args: WorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
    super("api-stack:index:Workload", name, {}, opts);
    const { naming, namespace } = args;

    this.serviceAccount = new k8s.core.v1.ServiceAccount(
      name,
      {
        metadata: { name: naming.name("api"), namespace, labels: naming.labels("api") },
        // The app never calls the Kubernetes API; a mounted token would only be a liability.
        automountServiceAccountToken: false,
      },
      { parent: this },
    );
    this.gates = [this.serviceAccount];
    if (args.imagePull) {
      // Named in each pod's spec rather than on the ServiceAccount (docs/design.md). Not immutable:
      // new credentials apply to the next pull of every pod, and no pod restarts for them.
      this.pullSecret = new k8s.core.v1.Secret(
        `${name}-registry`,
        {
          metadata: { name: naming.name("api", "registry"), namespace, labels: naming.labels("api") },
          type: PULL_SECRET_TYPE,
          stringData: { [PULL_SECRET_KEY]: pulumi.secret(dockerConfigJson(args.imagePull)) },
        },
        { parent: this },
      );
    }
    const imagePullSecret = this.pullSecret?.metadata.name;

    const pod = (component: PodInput["component"], extra: Partial<PodInput>) =>
      podTemplate({
        naming,
        component,
        image: args.image,
        resources: args.resources,
        configMapName: args.env.configMapName,
        secretName: args.env.secretName,
        serviceAccountName: this.serviceAccount.metadata.name,
        terminationGracePeriodSeconds: args.terminationGracePeriodSeconds,
        runAsUser: args.runAsUser,
        imagePullSecret,
        ...extra,
      });
    const jobName = (component: "migration" | "backup") =>
      pulumi.output(args.image).apply((ref) => releaseJobName(naming, component, ref, args.env.settingsId));

    // The deployment checklist as dependencies: backup, then migrate, then roll. The provider
    // waits for each Job to complete, so a failed one stops the update before any new API pod.
    if (args.backup) {
      const claim = new k8s.core.v1.PersistentVolumeClaim(
        `${name}-backups`,
        {
          metadata: { name: naming.name("backup"), namespace, labels: naming.labels("backup") },
          spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: args.backup.storage } } },
        },
        // Backups outlive the stack's other objects: `pulumi destroy` must not delete them.
        { parent: this, retainOnDelete: true },
      );
      const backupName = jobName("backup");
      const backup = new k8s.batch.v1.Job(
        `${name}-backup`,
        {
          metadata: { name: backupName, namespace, labels: naming.labels("backup"), annotations: RERUN_FAILED_JOB },
          spec: backupJobSpec({
            naming,
            image: args.backup.image,
            secretName: args.env.secretName,
            claimName: claim.metadata.name,
            fileName: pulumi.interpolate`${backupName}${BACKUP_SUFFIX}`,
            timeoutSeconds: args.backup.timeoutSeconds,
            retention: args.backup.retention,
            runAsUser: args.runAsUser,
            imagePullSecret:
              args.imagePull && registryServes(args.imagePull.registry, args.backup.image)
                ? imagePullSecret
                : undefined,
          }),
        },
        { parent: this, dependsOn: [claim] },
      );
      this.gates = [...this.gates, backup];
    }
    if (args.migration) {
      this.migrationJob = new k8s.batch.v1.Job(
        `${name}-migration`,
        {
          metadata: {
            name: jobName("migration"),
            namespace,
            labels: naming.labels("migration"),
            annotations: RERUN_FAILED_JOB,
          },
          spec: migrationJobSpec({
            template: pod("migration", {
              command: args.migration.command,
              env: [pgOptions(args.migration)],
              restartPolicy: "Never",
            }),
            timeoutSeconds: args.migration.timeoutSeconds,
          }),
        },
        { parent: this, dependsOn: this.gates },
      );
      this.gates = [...this.gates, this.migrationJob];
    }

    if (args.worker) {
      new k8s.apps.v1.Deployment(
        `${name}-worker`,
        {
          metadata: { name: naming.name("worker"), namespace, labels: naming.labels("worker") },
          spec: deploymentSpec({
            naming,
            component: "worker",
            replicas: args.worker.replicas,
            template: pod("worker", {
              image: args.worker.image,
              command: args.worker.command,
              check: args.worker.check,
              metrics: args.workerMetrics,
              settingsChecksum: args.env.settingsChecksum,
              terminationGracePeriodSeconds: args.worker.taskTimeLimitSeconds + WORKER_SHUTDOWN_MARGIN_SECONDS,
            }),
          }),
        },
        { parent: this, dependsOn: this.gates },
      );
    }

    this.registerOutputs({
      serviceAccount: this.serviceAccount,
      pullSecret: this.pullSecret,
      gates: this.gates,
      migrationJob: this.migrationJob,
    });
  }
}
