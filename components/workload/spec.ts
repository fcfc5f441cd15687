// Pure builders for everything that runs the app's image: the pod template shared by the API
// Deployment (and, through it, an Argo Rollout), the Celery worker and the migration Job.
// Plain data in, Kubernetes objects out; `image` may be an Output in a component and a plain
// string in tests, which is why it is typed as an Input.
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { SETTINGS_CHECKSUM_ANNOTATION, type Component, type Naming } from "../names";

type PodTemplateSpec = k8s.types.input.core.v1.PodTemplateSpec;
type Container = k8s.types.input.core.v1.Container;

export const HTTP_PORT = 8000;
export const RUN_AS_USER = 1000;
export const HEALTH = { live: "/health/live", ready: "/health/ready", metrics: "/metrics" } as const;

/** Requests and limits of one container, as Kubernetes quantities. */
export interface Resources {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

export interface PodInput {
  naming: Naming;
  component: Extract<Component, "api" | "worker" | "migration">;
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
  /** API only: serve HTTP with probes, metrics and a drain pause before SIGTERM. */
  http?: { preStopSleepSeconds: number };
  restartPolicy?: "Always" | "Never";
  /** Spread replicas across zones and nodes (worth it only for more than one replica). */
  spread?: boolean;
}

/** Every pod this program runs from the app's image (and the backup) runs as uid 1000 only. */
const podSecurityContext = {
  runAsNonRoot: true,
  runAsUser: RUN_AS_USER,
  runAsGroup: RUN_AS_USER,
  fsGroup: RUN_AS_USER,
  seccompProfile: { type: "RuntimeDefault" },
};

const containerSecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  runAsUser: RUN_AS_USER,
  runAsGroup: RUN_AS_USER,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

export function podTemplate(input: PodInput): PodTemplateSpec {
  const { naming, component, http } = input;
  const annotations: Record<string, string> = {};
  if (input.settingsChecksum !== undefined) {
    annotations[SETTINGS_CHECKSUM_ANNOTATION] = input.settingsChecksum;
  }
  if (http) {
    annotations["prometheus.io/scrape"] = "true";
    annotations["prometheus.io/port"] = String(HTTP_PORT);
    annotations["prometheus.io/path"] = HEALTH.metrics;
  }

  const container: Container = {
    name: component,
    image: input.image,
    imagePullPolicy: "IfNotPresent",
    ...(input.command ? { command: input.command } : {}),
    envFrom: [{ configMapRef: { name: input.configMapName } }, { secretRef: { name: input.secretName } }],
    resources: input.resources,
    securityContext: containerSecurityContext,
    // The root filesystem is read-only; Python, gunicorn and Celery still need scratch space.
    volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
  };
  if (http) {
    Object.assign(container, {
      ports: [{ name: "http", containerPort: HTTP_PORT, protocol: "TCP" }],
      startupProbe: probe(HEALTH.live, { periodSeconds: 2, failureThreshold: 30 }),
      livenessProbe: probe(HEALTH.live, { periodSeconds: 10, failureThreshold: 3 }),
      readinessProbe: probe(HEALTH.ready, { periodSeconds: 5, failureThreshold: 3 }),
      // Endpoints are removed asynchronously after a pod starts terminating; the pause keeps
      // it serving until load balancers have stopped sending, then gunicorn drains on SIGTERM.
      lifecycle: { preStop: { sleep: { seconds: http.preStopSleepSeconds } } },
    } satisfies Partial<Container>);
  }

  const selector = naming.selector(component);
  return {
    metadata: { labels: naming.labels(component), annotations },
    spec: {
      serviceAccountName: input.serviceAccountName,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: podSecurityContext,
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
      volumes: [{ name: "tmp", emptyDir: { sizeLimit: "256Mi" } }],
    },
  };
}

function probe(path: string, timing: { periodSeconds: number; failureThreshold: number }) {
  return { httpGet: { path, port: "http" }, timeoutSeconds: 2, ...timing };
}

export interface DeploymentInput {
  naming: Naming;
  component: "api" | "worker";
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

export interface BackupJobInput {
  naming: Naming;
  /** Image with pg_dump (not the app's). */
  image: string;
  secretName: pulumi.Input<string>;
  claimName: pulumi.Input<string>;
  /** File name of this release's dump on the volume. */
  fileName: pulumi.Input<string>;
  timeoutSeconds: number;
}

/** pg_dump of DATABASE_URL to the backup volume, written under a temporary name until complete. */
export function backupJobSpec(input: BackupJobInput): k8s.types.input.batch.v1.JobSpec {
  const { naming } = input;
  return {
    backoffLimit: 0,
    activeDeadlineSeconds: input.timeoutSeconds,
    template: {
      metadata: { labels: naming.labels("backup") },
      spec: {
        restartPolicy: "Never",
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        securityContext: podSecurityContext,
        containers: [
          {
            name: "backup",
            image: input.image,
            command: [
              "sh",
              "-ec",
              'pg_dump --format=custom --no-owner --file="/backups/$BACKUP_FILE.partial" "$DATABASE_URL"\n' +
                'mv "/backups/$BACKUP_FILE.partial" "/backups/$BACKUP_FILE"',
            ],
            env: [
              { name: "BACKUP_FILE", value: input.fileName },
              { name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: input.secretName, key: "DATABASE_URL" } } },
            ],
            resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } },
            securityContext: containerSecurityContext,
            volumeMounts: [
              { name: "backups", mountPath: "/backups" },
              { name: "tmp", mountPath: "/tmp" },
            ],
          },
        ],
        volumes: [
          { name: "backups", persistentVolumeClaim: { claimName: input.claimName } },
          { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
        ],
      },
    },
  };
}
