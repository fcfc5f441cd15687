// Pure builders for the dev stack's in-cluster Postgres and Redis: one StatefulSet with a
// volume and one Service each. They run under the namespace's "restricted" Pod Security
// level like the app, as the images' own unprivileged users.
import type * as k8s from "@pulumi/kubernetes";
import type { Naming } from "../names";
import type { SecretValue } from "../secret";

/** The in-cluster Postgres and Redis of a dev stack. */
export interface DevServicesConfig {
  postgres: { image: string; storage: string; password: SecretValue };
  redis: { image: string };
}

export const POSTGRES = { port: 5432, user: "app", database: "app", uid: 70 } as const;
export const REDIS = { port: 6379, uid: 999 } as const;

type Service = "postgres" | "redis";

const securityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

export function devServiceSpec(naming: Naming, service: Service): k8s.types.input.core.v1.ServiceSpec {
  const port = service === "postgres" ? POSTGRES.port : REDIS.port;
  return {
    type: "ClusterIP",
    selector: naming.selector(service),
    ports: [{ name: service, port, targetPort: service, protocol: "TCP" }],
  };
}

export interface StatefulSetInput {
  naming: Naming;
  config: DevServicesConfig;
  /** Secret holding POSTGRES_PASSWORD. */
  passwordSecretName: string;
}

export function postgresStatefulSetSpec(input: StatefulSetInput): k8s.types.input.apps.v1.StatefulSetSpec {
  const { naming, config } = input;
  const volumes = { data: "/var/lib/postgresql/data", scratch: ["/var/run/postgresql", "/tmp"] };
  return statefulSet(naming, "postgres", POSTGRES.uid, config.postgres.storage, volumes, {
    image: config.postgres.image,
    ports: [{ name: "postgres", containerPort: POSTGRES.port }],
    env: [
      { name: "POSTGRES_USER", value: POSTGRES.user },
      { name: "POSTGRES_DB", value: POSTGRES.database },
      {
        name: "POSTGRES_PASSWORD",
        valueFrom: { secretKeyRef: { name: input.passwordSecretName, key: "POSTGRES_PASSWORD" } },
      },
      // initdb refuses a mount point that holds lost+found; use a directory below it.
      { name: "PGDATA", value: "/var/lib/postgresql/data/pgdata" },
    ],
    readinessProbe: {
      exec: { command: ["pg_isready", "-U", POSTGRES.user, "-d", POSTGRES.database, "-h", "127.0.0.1"] },
      periodSeconds: 5,
    },
    resources: {
      requests: { cpu: "100m", memory: "128Mi", "ephemeral-storage": "64Mi" },
      limits: { cpu: "500m", memory: "512Mi", "ephemeral-storage": "512Mi" },
    },
  });
}

export function redisStatefulSetSpec(
  naming: Naming,
  config: DevServicesConfig,
): k8s.types.input.apps.v1.StatefulSetSpec {
  return statefulSet(
    naming,
    "redis",
    REDIS.uid,
    "256Mi",
    { data: "/data", scratch: ["/tmp"] },
    {
      image: config.redis.image,
      args: ["--save", "60", "1", "--appendonly", "no"],
      ports: [{ name: "redis", containerPort: REDIS.port }],
      readinessProbe: { exec: { command: ["redis-cli", "ping"] }, periodSeconds: 5 },
      resources: {
        requests: { cpu: "50m", memory: "64Mi", "ephemeral-storage": "32Mi" },
        limits: { cpu: "250m", memory: "256Mi", "ephemeral-storage": "256Mi" },
      },
    },
  );
}

function statefulSet(
  naming: Naming,
  service: Service,
  uid: number,
  storage: string,
  // The root filesystem is read-only: data on the volume, everything else on emptyDirs.
  paths: { data: string; scratch: string[] },
  container: Omit<k8s.types.input.core.v1.Container, "name">,
): k8s.types.input.apps.v1.StatefulSetSpec {
  return {
    serviceName: naming.name(service),
    replicas: 1,
    // Dev data is disposable: deleting the stack deletes its volumes too.
    persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete", whenScaled: "Retain" },
    selector: { matchLabels: naming.selector(service) },
    template: {
      // No app version: a release of the app must not restart its database.
      metadata: { labels: naming.stableLabels(service) },
      spec: {
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        securityContext: {
          runAsNonRoot: true,
          runAsUser: uid,
          runAsGroup: uid,
          fsGroup: uid,
          seccompProfile: { type: "RuntimeDefault" },
        },
        containers: [
          {
            name: service,
            // Explicit, as for the app: a node's cached copy is used, so an image named by tag is
            // pulled once per node; pin postgresImage/redisImage by digest to know which one runs.
            imagePullPolicy: "IfNotPresent",
            ...container,
            securityContext,
            volumeMounts: [
              { name: "data", mountPath: paths.data },
              ...paths.scratch.map((mountPath, i) => ({ name: `scratch-${i}`, mountPath })),
            ],
          },
        ],
        volumes: paths.scratch.map((_, i) => ({ name: `scratch-${i}`, emptyDir: { sizeLimit: "256Mi" } })),
      },
    },
    volumeClaimTemplates: [
      {
        metadata: { name: "data", labels: naming.stableLabels(service) },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage } } },
      },
    ],
  };
}

export function devServiceUrls(naming: Naming, namespace: string, password: string) {
  const host = (service: Service) => `${naming.name(service)}.${namespace}.svc.cluster.local`;
  return {
    databaseUrl: `postgresql://${POSTGRES.user}:${password}@${host("postgres")}:${POSTGRES.port}/${POSTGRES.database}`,
    redisUrl: `redis://${host("redis")}:${REDIS.port}/0`,
  };
}
