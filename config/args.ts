// From validated stack config to what the program builds: the ApiStack's own args (each
// component's args are declared by the component), the render directory and the cluster the
// live release is read from. This is the one mapping from flat config keys to components.
import * as path from "node:path";
import type { ClusterAccess } from "../components/api/cluster-reader";
import type { DeliveryConfig } from "../components/api/delivery";
import type { ApiStackArgs } from "../components/api-stack";
import { SecretValue } from "../components/secret";
import type { AppEnvironment } from "../components/settings/spec";
import type { Values } from "./keys";

export interface ProgramConfig {
  /** Name of the ApiStack (the app name). */
  name: string;
  args: ApiStackArgs;
  /** Absolute directory manifests are rendered to instead of a cluster. */
  renderYamlTo?: string;
  /** The Kubernetes provider's own settings (`kubernetes:kubeconfig`, `kubernetes:context`), for reading the live release. */
  cluster: ClusterAccess;
}

/** The stack's `environment` as the apps spell ENVIRONMENT (they refuse anything else). */
export const APP_ENVIRONMENT: Record<Values["environment"], AppEnvironment> = {
  dev: "development",
  staging: "staging",
  prod: "production",
};

export interface ConfigSource {
  values: Record<string, string>;
  project: string;
  stack: string;
  projectDir: string;
}

export function programConfig(v: Values, source: ConfigSource): ProgramConfig {
  const secret = (text: string | undefined) => (text === undefined ? undefined : new SecretValue(text));
  const resolve = (p: string) => path.resolve(source.projectDir, p);
  const context = resolve(v.imageContext);
  const args: ApiStackArgs = {
    app: { appName: v.appName, environment: v.environment, appVersion: v.appVersion, project: source.project },
    namespace: v.namespace ?? `${v.appName}-${v.environment}`,
    stack: source.stack,
    image: v.imageRef
      ? { kind: "prebuilt", ref: v.imageRef }
      : {
          kind: "build",
          context,
          dockerfile: path.resolve(context, v.imageDockerfile),
          target: v.imageTarget,
          platform: v.imagePlatform,
          buildArgs: v.imageBuildArgs,
          repository: v.imageRepository!,
          registry:
            v.registryUsername && v.registryPassword
              ? { server: v.imageRepository!.split("/")[0], username: v.registryUsername, password: new SecretValue(v.registryPassword) }
              : undefined,
        },
    rollbackTo: v.rollbackTo,
    settings: {
      environment: APP_ENVIRONMENT[v.environment],
      appName: v.appName,
      appVersion: v.appVersion,
      debug: v.debug,
      corsOrigins: v.corsOrigins,
      dbPoolSize: v.dbPoolSize,
      dbMaxOverflow: v.dbMaxOverflow,
      accessTokenExpireMinutes: v.accessTokenExpireMinutes,
      refreshTokenExpireDays: v.refreshTokenExpireDays,
      otelExporterOtlpEndpoint: v.otelExporterOtlpEndpoint,
    },
    secrets: {
      secretKey: new SecretValue(v.secretKey),
      databaseUrl: secret(v.databaseUrl),
      redisUrl: secret(v.redisUrl),
      sentryDsn: secret(v.sentryDsn),
    },
    devServices: v.devServicesEnabled
      ? {
          postgres: { image: v.postgresImage, storage: v.postgresStorage, password: new SecretValue(v.devPostgresPassword!) },
          redis: { image: v.redisImage },
        }
      : undefined,
    api: {
      replicas: v.replicas,
      resources: {
        requests: { cpu: v.cpuRequest, memory: v.memoryRequest },
        limits: { cpu: v.cpuLimit, memory: v.memoryLimit },
      },
      terminationGracePeriodSeconds: v.terminationGracePeriodSeconds,
      preStopSleepSeconds: v.preStopSleepSeconds,
      maxUnavailable: v.pdbMaxUnavailable,
    },
    autoscaling: v.hpaEnabled
      ? {
          minReplicas: v.hpaMinReplicas,
          maxReplicas: v.hpaMaxReplicas,
          cpuUtilization: v.hpaCpuUtilization,
          memoryUtilization: v.hpaMemoryUtilization,
        }
      : undefined,
    delivery: delivery(v),
    argoRolloutsManifest:
      v.argoRolloutsManifest === undefined || v.argoRolloutsManifest.startsWith("https://")
        ? v.argoRolloutsManifest
        : resolve(v.argoRolloutsManifest),
    ingress: v.ingressEnabled
      ? {
          host: v.ingressHost!,
          className: v.ingressClassName,
          tls: v.ingressTls ? { clusterIssuer: v.clusterIssuer, secretName: `${v.appName}-tls` } : undefined,
          rateLimitPerMinute: v.rateLimitPerMinute,
          waitForAddress: v.ingressWaitForAddress,
        }
      : undefined,
    backup: v.backupEnabled
      ? { image: v.backupImage, storage: v.backupStorage, timeoutSeconds: v.migrationTimeoutSeconds }
      : undefined,
    migration: v.migrationsEnabled ? { command: v.migrationCommand, timeoutSeconds: v.migrationTimeoutSeconds } : undefined,
    worker: v.workerEnabled ? { command: v.workerCommand, replicas: v.workerReplicas } : undefined,
  };
  return {
    name: v.appName,
    args,
    renderYamlTo: v.renderYamlTo === undefined ? undefined : resolve(v.renderYamlTo),
    cluster: { kubeconfig: secret(source.values["kubernetes:kubeconfig"]), context: source.values["kubernetes:context"] },
  };
}

function delivery(v: Values): DeliveryConfig {
  const analysis = () => ({ prometheusAddress: v.prometheusAddress!, maxErrorRatio: v.maxErrorRatePercent / 100 });
  switch (v.strategy) {
    case "rolling":
      return { strategy: "rolling" };
    case "blueGreen":
      return {
        strategy: "blueGreen",
        promote: v.promote,
        autoPromote: v.autoPromote,
        scaleDownDelaySeconds: v.scaleDownDelaySeconds,
        prePromotionAnalysis: v.prePromotionAnalysis,
        postPromotionAnalysis: v.postPromotionAnalysis ? analysis() : undefined,
      };
    case "canary":
      return { strategy: "canary", steps: v.canarySteps, analysis: analysis() };
  }
}
