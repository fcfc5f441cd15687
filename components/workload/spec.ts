// Pure builders for everything that runs the app's image: the pod template shared by the API
// Deployment (and, through it, an Argo Rollout), the Celery worker and the migration Job.
// Plain data in, Kubernetes objects out; `image` may be an Output in a component and a plain
// string in tests, which is why it is typed as an Input.
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { explained } from "../checkers";
import { SETTINGS_CHECKSUM_ANNOTATION, type Component, type Naming } from "../names";
import { releaseId } from "../release";
import { SECRETS_DIR } from "../settings/spec";

type PodTemplateSpec = k8s.types.input.core.v1.PodTemplateSpec;
type Container = k8s.types.input.core.v1.Container;
type EnvVar = k8s.types.input.core.v1.EnvVar;
type Volume = k8s.types.input.core.v1.Volume;

export const HTTP_PORT = 8000;
/** The app containers' port names, which probes, Services, PodMonitors and NetworkPolicies refer to. */
export const PORT_NAMES = { http: "http", metrics: "metrics" } as const;
/** The apps' default METRICS_PORT: /metrics is served there only, by the gunicorn master or the worker. */
export const METRICS_PORT = 9000;
/**
 * The UID/GID app pods run as unless the stack says otherwise: above 10000, so it never
 * coincides with a user of the node (whose UIDs start at 1000) should a container escape.
 */
export const RUN_AS_USER = 10001;
export const HEALTH = { live: "/health/live", ready: "/health/ready", metrics: "/metrics" } as const;
/**
 * The longest the apps' /health/ready waits for Postgres (READINESS_TIMEOUT_SECONDS in
 * apps/fastapi/app/health.py and apps/django/core/health.py); the probe must wait longer, or a
 * slow but passing check counts as a failed probe.
 */
export const APP_READINESS_TIMEOUT_SECONDS = 1;
export const PROBE_TIMEOUT_SECONDS = APP_READINESS_TIMEOUT_SECONDS + 1;
/**
 * Seconds a Celery worker gets after SIGTERM beyond its task time limit: the warm shutdown waits
 * for running tasks, which the hard limit bounds, then the worker acknowledges and exits.
 */
export const WORKER_SHUTDOWN_MARGIN_SECONDS = 30;

/** Requests and limits of one container, as Kubernetes quantities. */
export interface Resources {
  requests: { cpu: string; memory: string; "ephemeral-storage"?: string };
  limits: { cpu: string; memory: string; "ephemeral-storage"?: string };
}

/**
 * The exec checks of a container that serves no HTTP (the Celery worker): `liveness` passes while
 * it makes progress (a failure restarts it), `readiness` while it can take work.
 */
export interface ExecCheck {
  liveness: string[];
  readiness: string[];
}

/**
 * The Secret as files, read-only: owned by root and readable by the pod's group (`fsGroup`, the
 * app's GID) only, 0440, so the non-root app reads them and nothing else in the node's users can.
 */
export const SECRET_FILE_MODE = 0o440;
const SECRETS_VOLUME = "secrets";

function secretsVolume(secretName: pulumi.Input<string>, keys?: string[]): Volume {
  return {
    name: SECRETS_VOLUME,
    secret: {
      secretName,
      defaultMode: SECRET_FILE_MODE,
      ...(keys ? { items: keys.map((key) => ({ key, path: key })) } : {}),
    },
  };
}
const secretsMount = { name: SECRETS_VOLUME, mountPath: SECRETS_DIR, readOnly: true };

export interface PodInput {
  naming: Naming;
  component: Extract<Component, "api" | "worker" | "migration" | "smoke">;
  image: pulumi.Input<string>;
  /** Overrides the image's CMD (worker, migrations); the API runs the image's own CMD. */
  command?: string[];
  resources: Resources;
  configMapName: pulumi.Input<string>;
  secretName: pulumi.Input<string>;
  serviceAccountName: pulumi.Input<string>;
  /** Changes whenever a setting or secret changes, so the pods roll to pick it up. */
  settingsChecksum?: string;
  terminationGracePeriodSeconds: number;
  /** API only: serve HTTP with probes and a drain pause before SIGTERM. */
  http?: { preStopSleepSeconds: number };
  /**
   * API and worker: /metrics on its own port (the app's METRICS_PORT), a container port named
   * `metrics` that PodMonitors name and no Service exposes; `annotate` adds the prometheus.io/*
   * annotations a Prometheus that scrapes by annotation reads.
   */
  metrics?: { port: number; annotate: boolean };
  /** Worker only: the commands whose exit status says the process still works, and can take work. */
  check?: ExecCheck;
  /** Variables for this pod alone, beside the shared settings (the migration Job's PGOPTIONS). */
  env?: EnvVar[];
  /** UID and GID the pod runs as. Default: RUN_AS_USER. */
  runAsUser?: number;
  restartPolicy?: "Always" | "Never";
  /** The kubernetes.io/dockerconfigjson Secret the kubelet logs in to the image's registry with. Unset: none. */
  imagePullSecret?: pulumi.Input<string>;
  /** Spread replicas across zones and nodes (worth it only for more than one replica). */
  spread?: boolean;
}

/** Every pod this program runs from the app's image (and the backup) runs as one non-root UID/GID only. */
function podSecurityContext(uid: number) {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    fsGroup: uid,
    seccompProfile: { type: "RuntimeDefault" },
  };
}

function containerSecurityContext(uid: number) {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/**
 * Images are referenced by digest, so a node's cached copy is exactly the one asked for: pulling
 * again would only add a registry round trip (and a registry outage) to every pod start.
 */
export const IMAGE_PULL_POLICY = "IfNotPresent";

/** A pod's imagePullSecrets: the Secret named here, or none. */
const pullSecrets = (name: pulumi.Input<string> | undefined) =>
  name === undefined ? {} : { imagePullSecrets: [{ name }] };

export function podTemplate(input: PodInput): PodTemplateSpec {
  const { naming, component, http, metrics } = input;
  const uid = input.runAsUser ?? RUN_AS_USER;
  const annotations: Record<string, string> = { ...explained("pullPolicy") };
  if (input.settingsChecksum !== undefined) {
    annotations[SETTINGS_CHECKSUM_ANNOTATION] = input.settingsChecksum;
  }
  if (metrics?.annotate) {
    annotations["prometheus.io/scrape"] = "true";
    annotations["prometheus.io/port"] = String(metrics.port);
    annotations["prometheus.io/path"] = HEALTH.metrics;
  }
  const ports = [
    ...(http ? [{ name: PORT_NAMES.http, containerPort: HTTP_PORT, protocol: "TCP" }] : []),
    ...(metrics ? [{ name: PORT_NAMES.metrics, containerPort: metrics.port, protocol: "TCP" }] : []),
  ];

  const container: Container = {
    name: component,
    image: input.image,
    imagePullPolicy: IMAGE_PULL_POLICY,
    ...(input.command ? { command: input.command } : {}),
    // Settings as variables; secrets as files (SECRETS_DIR), which no child process inherits and no
    // crash report or /proc/<pid>/environ dump shows (docs/hardening.md).
    envFrom: [{ configMapRef: { name: input.configMapName } }],
    ...(input.env ? { env: input.env } : {}),
    resources: input.resources,
    securityContext: containerSecurityContext(uid),
    // The root filesystem is read-only; Python, gunicorn and Celery still need scratch space.
    volumeMounts: [{ name: "tmp", mountPath: "/tmp" }, secretsMount],
    ...(ports.length > 0 ? { ports } : {}),
  };
  if (http) {
    Object.assign(container, {
      startupProbe: probe(HEALTH.live, { periodSeconds: 2, failureThreshold: 30 }),
      livenessProbe: probe(HEALTH.live, { periodSeconds: 10, failureThreshold: 3 }),
      readinessProbe: probe(HEALTH.ready, { periodSeconds: 5, failureThreshold: 3 }),
      // Endpoints are removed asynchronously after a pod starts terminating; the pause keeps
      // it serving until load balancers have stopped sending, then gunicorn drains on SIGTERM.
      lifecycle: { preStop: { sleep: { seconds: http.preStopSleepSeconds } } },
    } satisfies Partial<Container>);
  }
  if (input.check) {
    const exec = (command: string[]) => ({ exec: { command }, timeoutSeconds: 10 });
    Object.assign(container, {
      // Liveness holds off until the worker has started (imports, first heartbeat): a minute.
      startupProbe: { ...exec(input.check.liveness), periodSeconds: 2, failureThreshold: 30 },
      livenessProbe: { ...exec(input.check.liveness), periodSeconds: 30, failureThreshold: 3 },
      readinessProbe: { ...exec(input.check.readiness), periodSeconds: 10, failureThreshold: 1 },
    } satisfies Partial<Container>);
  }

  const selector = naming.selector(component);
  return {
    metadata: { labels: naming.labels(component), annotations },
    spec: {
      serviceAccountName: input.serviceAccountName,
      automountServiceAccountToken: false,
      ...pullSecrets(input.imagePullSecret),
      enableServiceLinks: false,
      securityContext: podSecurityContext(uid),
      terminationGracePeriodSeconds: input.terminationGracePeriodSeconds,
      restartPolicy: input.restartPolicy ?? "Always",
      ...(input.spread
        ? {
            topologySpreadConstraints: ["topology.kubernetes.io/zone", "kubernetes.io/hostname"].map((topologyKey) => ({
              maxSkew: 1,
              topologyKey,
              // A soft constraint: a single-zone or single-node cluster still schedules.
              whenUnsatisfiable: "ScheduleAnyway",
              labelSelector: { matchLabels: selector },
            })),
          }
        : {}),
      containers: [container],
      volumes: [{ name: "tmp", emptyDir: { sizeLimit: "256Mi" } }, secretsVolume(input.secretName)],
    },
  };
}

function probe(path: string, timing: { periodSeconds: number; failureThreshold: number }) {
  return { httpGet: { path, port: PORT_NAMES.http }, timeoutSeconds: PROBE_TIMEOUT_SECONDS, ...timing };
}

export interface DeploymentInput {
  naming: Naming;
  component: "api" | "worker";
  /**
   * The count the Deployment is created with. Under an HPA, its minReplicas: the component keeps
   * it out of every later update (ignoreChanges), so the HPA's count is never reset.
   */
  replicas: number;
  template: PodTemplateSpec;
}

export function deploymentSpec(input: DeploymentInput): k8s.types.input.apps.v1.DeploymentSpec {
  return {
    replicas: input.replicas,
    revisionHistoryLimit: 5,
    selector: { matchLabels: input.naming.selector(input.component) },
    // Never dip below the desired count during a release: new pods must be Ready first.
    strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
    progressDeadlineSeconds: 600,
    template: input.template,
  };
}

export interface MigrationJobInput {
  template: PodTemplateSpec;
  timeoutSeconds: number;
}

export function migrationJobSpec(input: MigrationJobInput): k8s.types.input.batch.v1.JobSpec {
  return {
    // A failed migration is not retried blindly: the release stops and the logs stay.
    backoffLimit: 0,
    activeDeadlineSeconds: input.timeoutSeconds,
    template: input.template,
  };
}

/** How long a migration may wait for a lock, and run one statement, before Postgres cancels it. */
export interface MigrationTimeouts {
  lockTimeoutSeconds: number;
  statementTimeoutSeconds: number;
}

/**
 * libpq reads PGOPTIONS at connect time, so Alembic, Django and psql alike run the migration's
 * statements under these limits. A lock wait behind a long transaction otherwise blocks every
 * query that queues behind the migration's own lock request, which is an outage.
 */
export function pgOptions(timeouts: MigrationTimeouts): EnvVar {
  return {
    name: "PGOPTIONS",
    value: `-c lock_timeout=${timeouts.lockTimeoutSeconds}s -c statement_timeout=${timeouts.statementTimeoutSeconds}s`,
  };
}

/**
 * A release Job's name: the release (image digest) and the settings it runs with, so a new image
 * or new settings (a new DATABASE_URL) run it again, and an unchanged release never does.
 */
export function releaseJobName(naming: Naming, component: "migration" | "backup", ref: string, settingsId: string) {
  return naming.name(component, `${releaseId(ref)}-${settingsId}`);
}

/** Where the backup Job writes, and how a dump is named there: `<Job name>.dump`. */
export const BACKUP_DIR = "/backups";
export const BACKUP_SUFFIX = ".dump";

export interface BackupJobInput {
  naming: Naming;
  /** Image with pg_dump (not the app's). */
  image: string;
  secretName: pulumi.Input<string>;
  claimName: pulumi.Input<string>;
  /** File name of this release's dump on the volume. */
  fileName: pulumi.Input<string>;
  timeoutSeconds: number;
  /** Completed dumps kept on the volume, this one included; older ones are deleted after it succeeds. */
  retention: number;
  runAsUser?: number;
  /** As PodInput's: the backup's image may come from the app's private registry. */
  imagePullSecret?: pulumi.Input<string>;
}

/**
 * pg_dump of DATABASE_URL to the backup volume, written under a temporary name until complete;
 * then only the newest `retention` dumps are kept. Of the Secret, the pod gets the DATABASE_URL
 * file alone: the backup image is not the app's and needs nothing else.
 */
export function backupJobSpec(input: BackupJobInput): k8s.types.input.batch.v1.JobSpec {
  const { naming } = input;
  const uid = input.runAsUser ?? RUN_AS_USER;
  const dumps = `${BACKUP_DIR}/*${BACKUP_SUFFIX}`;
  return {
    backoffLimit: 0,
    activeDeadlineSeconds: input.timeoutSeconds,
    template: {
      metadata: { labels: naming.labels("backup"), annotations: explained("pullPolicy") },
      spec: {
        restartPolicy: "Never",
        automountServiceAccountToken: false,
        ...pullSecrets(input.imagePullSecret),
        enableServiceLinks: false,
        securityContext: podSecurityContext(uid),
        containers: [
          {
            name: "backup",
            image: input.image,
            imagePullPolicy: IMAGE_PULL_POLICY,
            command: [
              "sh",
              "-ec",
              // Leftovers of an earlier failed run are incomplete by definition.
              `rm -f ${BACKUP_DIR}/*.partial\n` +
                `pg_dump --format=custom --no-owner --file="${BACKUP_DIR}/$BACKUP_FILE.partial" ` +
                `--dbname="$(cat ${SECRETS_DIR}/DATABASE_URL)"\n` +
                `mv "${BACKUP_DIR}/$BACKUP_FILE.partial" "${BACKUP_DIR}/$BACKUP_FILE"\n` +
                `ls -1t ${dumps} | tail -n +$((BACKUP_RETENTION + 1)) | while read -r old; do rm -f -- "$old"; done`,
            ],
            env: [
              { name: "BACKUP_FILE", value: input.fileName },
              { name: "BACKUP_RETENTION", value: String(input.retention) },
            ],
            resources: {
              requests: { cpu: "100m", memory: "128Mi", "ephemeral-storage": "64Mi" },
              limits: { cpu: "1", memory: "512Mi", "ephemeral-storage": "256Mi" },
            },
            securityContext: containerSecurityContext(uid),
            volumeMounts: [
              { name: "backups", mountPath: BACKUP_DIR },
              { name: "tmp", mountPath: "/tmp" },
              secretsMount,
            ],
          },
        ],
        volumes: [
          { name: "backups", persistentVolumeClaim: { claimName: input.claimName } },
          { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
          secretsVolume(input.secretName, ["DATABASE_URL"]),
        ],
      },
    },
  };
}
