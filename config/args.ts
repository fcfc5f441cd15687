// From validated stack config to what the program builds: the ApiStack's own args (each
// component's args are declared by the component), the render directory and the cluster the
// live release is read from. This is the one mapping from flat config keys to components.
import * as path from "node:path";
import type { ClusterAccess } from "../components/api/cluster-reader";
import type { DeliveryConfig } from "../components/api/delivery";
import { imageLocation, registryOf } from "../components/image/reference";
import type { ApiStackArgs } from "../components/api-stack";
import type { IngressConfig } from "../components/network/spec";
import { SecretValue } from "../components/secret";
import type { AppEnvironment } from "../components/settings/spec";
import type { Signer } from "../components/image/signature";
import { backupsOn } from "./hardening-rules";
import { DEFAULT_BASE_IMAGE, type Values } from "./keys";
import { appImage, postPromotionOn, scaleDownDelayOf } from "./rules";
import { manifestForm, verifiedManifestFile, type ManifestForm } from "./manifest";

export interface ProgramConfig {
  /** Name of the ApiStack (the app name). */
  name: string;
  args: ApiStackArgs;
  /** Absolute directory manifests are rendered to instead of a cluster. */
  renderYamlTo?: string;
  /**
   * The Kubernetes provider's own settings (`kubernetes:kubeconfig`, `kubernetes:context`), for
   * reading the live release.
   */
  cluster: ClusterAccess;
  /**
   * Images to verify as signed by `signer` before any resource is registered: the prebuilt ones
   * (imageRef, rollbackTo) and the backup's, which reads DATABASE_URL. Unset: no signer.
   */
  signatures?: { signer: Signer; images: { key: SignedImageKey; ref: string }[] };
  /**
   * argoRolloutsManifest pinned by digest: fetched from `url` and verified against `sha256` into
   * `file` (what the stack installs) before any resource is registered.
   */
  pinnedManifest?: { url: string; sha256: string; file: string };
}

export type SignedImageKey = "imageRef" | "rollbackTo" | "backupImage";

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
  const manifest = v.argoRolloutsManifest === undefined ? undefined : manifestForm(v.argoRolloutsManifest);
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
          // The program, not the Dockerfile, says what the image is built on, and pins it.
          buildArgs: { BASE_IMAGE: DEFAULT_BASE_IMAGE, ...v.imageBuildArgs },
          repository: v.imageRepository!,
          registry:
            v.registryUsername && v.registryPassword
              ? {
                  server: registryOf(v.imageRepository!),
                  username: v.registryUsername,
                  password: new SecretValue(v.registryPassword),
                }
              : undefined,
        },
    rollbackTo: v.rollbackTo,
    imagePull: imagePull(v),
    settings: {
      environment: APP_ENVIRONMENT[v.environment],
      debug: v.debug,
      corsOrigins: v.corsOrigins,
      dbPoolSize: v.dbPoolSize,
      dbMaxOverflow: v.dbMaxOverflow,
      accessTokenExpireMinutes: v.accessTokenExpireMinutes,
      refreshTokenExpireDays: v.refreshTokenExpireDays,
      otelExporterOtlpEndpoint: v.otelExporterOtlpEndpoint,
      metricsPort: v.metricsPort,
      forwardedAllowIps: v.forwardedAllowIps,
      celery: {
        taskTimeLimitSeconds: v.celeryTaskTimeLimitSeconds,
        taskSoftTimeLimitSeconds: v.celeryTaskSoftTimeLimitSeconds,
        visibilityTimeoutSeconds: v.celeryVisibilityTimeoutSeconds,
      },
    },
    secrets: {
      secretKey: new SecretValue(v.secretKey),
      secretKeyFallbacks: secret(v.secretKeyFallbacks),
      apiTokens: new SecretValue(v.apiTokens),
      databaseUrl: secret(v.databaseUrl),
      redisUrl: secret(v.redisUrl),
      sentryDsn: secret(v.sentryDsn),
    },
    devServices: v.devServicesEnabled
      ? {
          postgres: {
            image: v.postgresImage,
            storage: v.postgresStorage,
            password: new SecretValue(v.devPostgresPassword!),
          },
          redis: { image: v.redisImage },
        }
      : undefined,
    api: {
      // The HPA owns the count when it is on; `replicas` is then refused (config/rules.ts).
      replicas: v.hpaEnabled ? undefined : v.replicas,
      resources: {
        requests: { cpu: v.cpuRequest, memory: v.memoryRequest },
        limits: { cpu: v.cpuLimit, memory: v.memoryLimit },
      },
      terminationGracePeriodSeconds: v.terminationGracePeriodSeconds,
      preStopSleepSeconds: v.preStopSleepSeconds,
      maxUnavailable: v.pdbMaxUnavailable,
    },
    pods: {
      runAsUser: v.runAsUser,
      ephemeralStorage: { request: v.ephemeralStorageRequest, limit: v.ephemeralStorageLimit },
    },
    networkPolicy: v.networkPolicyEnabled
      ? {
          ingressController: v.ingressControllerPeer,
          metricsScraper: v.metricsScraperPeer,
          releaseAnalysis: v.strategy === "rolling" ? undefined : v.releaseAnalysisPeer,
          egress: v.networkEgress,
        }
      : undefined,
    autoscaling: v.hpaEnabled
      ? {
          minReplicas: v.hpaMinReplicas,
          maxReplicas: v.hpaMaxReplicas,
          cpuUtilization: v.hpaCpuUtilization,
          ...(v.hpaMemoryUtilization === undefined ? {} : { memoryUtilization: v.hpaMemoryUtilization }),
          stabilizationSeconds: {
            scaleUp: v.hpaScaleUpStabilizationSeconds,
            scaleDown: v.hpaScaleDownStabilizationSeconds,
          },
        }
      : undefined,
    delivery: delivery(v),
    monitoring:
      v.monitoring === "prometheusOperator"
        ? { kind: v.monitoring, selectorLabels: v.monitoringLabels, alerts: thresholds(v) }
        : { kind: v.monitoring },
    argoRolloutsManifest: manifestSource(manifest, resolve),
    ingress: v.ingressEnabled ? exposure(v) : undefined,
    backup: backupsOn(v)
      ? {
          image: v.backupImage,
          storage: v.backupStorage,
          timeoutSeconds: v.migrationTimeoutSeconds,
          retention: v.backupRetention,
        }
      : undefined,
    migration: v.migrationsEnabled
      ? {
          command: v.migrationCommand,
          timeoutSeconds: v.migrationTimeoutSeconds,
          lockTimeoutSeconds: v.migrationLockTimeoutSeconds,
          statementTimeoutSeconds: v.migrationStatementTimeoutSeconds,
        }
      : undefined,
    worker: v.workerEnabled
      ? {
          command: v.workerCommand,
          replicas: v.workerReplicas,
          check: { liveness: v.workerLivenessCommand, readiness: v.workerReadinessCommand },
          taskTimeLimitSeconds: v.celeryTaskTimeLimitSeconds,
        }
      : undefined,
  };
  const signer: Signer | undefined = v.imageSignerKey
    ? { publicKey: resolve(v.imageSignerKey) }
    : v.imageSignerIdentity
      ? { identity: v.imageSignerIdentity, issuer: v.imageSignerIssuer }
      : undefined;
  const signed = (["imageRef", "rollbackTo", "backupImage"] as const).flatMap((key) =>
    v[key] === undefined || (key === "backupImage" && !backupsOn(v)) ? [] : [{ key, ref: v[key] }],
  );
  return {
    name: v.appName,
    args,
    renderYamlTo: v.renderYamlTo === undefined ? undefined : resolve(v.renderYamlTo),
    cluster: {
      kubeconfig: secret(source.values["kubernetes:kubeconfig"]),
      context: source.values["kubernetes:context"],
    },
    signatures: signer ? { signer, images: signed } : undefined,
    pinnedManifest:
      manifest?.kind === "digest" ? { ...manifest, file: verifiedManifestFile(manifest.sha256) } : undefined,
  };
}

/** What the stack installs Argo Rollouts from: a release's URL, the project's file, or a digest's verified copy. */
function manifestSource(form: ManifestForm | undefined, resolve: (p: string) => string): string | undefined {
  switch (form?.kind) {
    case undefined:
      return undefined;
    case "path":
      return resolve(form.file);
    case "release":
      return form.url;
    case "digest":
      return verifiedManifestFile(form.sha256);
  }
}

/** The kubelet's login to the registry of the app's image (config/rules.ts checks imagePullRegistry serves it). */
function imagePull(v: Values): ApiStackArgs["imagePull"] {
  if (v.imagePullUsername === undefined || v.imagePullPassword === undefined) {
    return undefined;
  }
  return {
    registry: v.imagePullRegistry ?? imageLocation(appImage(v)!).host,
    username: v.imagePullUsername,
    password: new SecretValue(v.imagePullPassword),
  };
}

function exposure(v: Values): IngressConfig {
  const common = { host: v.ingressHost!, previewHost: v.previewHost, waitForAddress: v.ingressWaitForAddress };
  return v.exposure === "gateway"
    ? {
        kind: "gateway",
        ...common,
        gateway: { name: v.gatewayName!, namespace: v.gatewayNamespace },
        httpListener: v.gatewayHttpListener,
        httpsListener: v.ingressTls ? v.gatewayHttpsListener : undefined,
      }
    : {
        kind: "ingress",
        ...common,
        className: v.ingressClassName,
        tls: v.ingressTls
          ? {
              clusterIssuer: v.clusterIssuer,
              secretName: `${v.appName}-tls`,
              previewSecretName: `${v.appName}-preview-tls`,
            }
          : undefined,
        rateLimitPerMinute: v.rateLimitPerMinute,
      };
}

/** What fails a release analysis, and what the API alerts above. */
function thresholds(v: Values) {
  return { maxErrorRatio: v.maxErrorRatePercent / 100, maxLatencyP99Seconds: v.maxLatencyP99Milliseconds / 1000 };
}

function delivery(v: Values): DeliveryConfig {
  const analysis = () => ({ prometheusAddress: v.prometheusAddress!, ...thresholds(v) });
  switch (v.strategy) {
    case "rolling":
      return { strategy: "rolling" };
    case "blueGreen":
      return {
        strategy: "blueGreen",
        promote: v.promote,
        autoPromote: v.autoPromote,
        scaleDownDelaySeconds: scaleDownDelayOf(v),
        prePromotionAnalysis: v.prePromotionAnalysis ? { command: v.smokeCommand } : undefined,
        postPromotionAnalysis: postPromotionOn(v) ? analysis() : undefined,
        releaseTimeoutSeconds: v.releaseTimeoutSeconds,
      };
    case "canary":
      return {
        strategy: "canary",
        steps: v.canarySteps,
        analysis: analysis(),
        releaseTimeoutSeconds: v.releaseTimeoutSeconds,
      };
  }
}
