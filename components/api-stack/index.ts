import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Api } from "../api";
import { clusterReleaseReader, type ReleaseReader, type ReleaseTarget } from "../api/cluster-reader";
import { rolloutNames, type DeliveryConfig } from "../api/delivery";
import type { ReleaseState } from "../api/release-state";
import { DevServices } from "../dev-services";
import { devServiceUrls, POSTGRES, REDIS, type DevServicesConfig } from "../dev-services/spec";
import { Image, type ImageBuild, type ImagePrebuilt } from "../image";
import { Monitoring } from "../monitoring";
import type { MonitoringConfig } from "../monitoring/spec";
import { naming as makeNaming, type NamingInput } from "../names";
import { NetworkPolicies } from "../network-policy";
import type { NetworkPolicyConfig } from "../network-policy/spec";
import { publicHosts, type IngressConfig } from "../network/spec";
import type { AutoscalingConfig } from "../scaling/spec";
import { SecretValue } from "../secret";
import { Settings } from "../settings";
import { allowedHosts, type AppSecrets, type AppSettings } from "../settings/spec";
import { Workload, type WorkerArgs, type WorkloadArgs } from "../workload";
import type { RegistryLogin } from "../workload/registry-login";
import { PORT_NAMES, type Resources } from "../workload/spec";
import { workerImage } from "./worker-image";

/** One API, as plain data (no Outputs): what `config/` assembles from stack config. */
export interface ApiStackArgs {
  /** Names and labels every object: app name, environment (in the instance label), version, project. */
  app: NamingInput;
  /** Namespace to create and deploy into (Pod Security `restricted`). */
  namespace: string;
  /** Stack name: the image's cache tag and the `--stack` of the release commands. */
  stack: string;
  image: ImageBuild | ImagePrebuilt;
  /** An earlier digest-pinned image to return to: deployed instead of `image`, promoted at once, no migrations. */
  rollbackTo?: string;
  /** The login the cluster pulls the app's image with, when its registry requires one. */
  imagePull?: RegistryLogin;
  /**
   * The app's settings. APP_NAME and APP_VERSION come from `app`; ALLOWED_HOSTS from the exposure's
   * hosts (the preview's too) and the Services.
   */
  settings: Omit<AppSettings, "allowedHosts" | "appName" | "appVersion">;
  /** External database and Redis; leave the URLs out when `devServices` provides them. */
  secrets: {
    secretKey: SecretValue;
    secretKeyFallbacks?: SecretValue;
    /** The bearer tokens clients of the API send (API_TOKENS), comma-separated. */
    apiTokens: SecretValue;
    sentryDsn?: SecretValue;
    databaseUrl?: SecretValue;
    redisUrl?: SecretValue;
  };
  /** In-cluster Postgres and Redis (dev). Unset: none. */
  devServices?: DevServicesConfig;
  api: {
    /** API pods without `autoscaling`; unset with it, since the HPA owns the count. */
    replicas?: number;
    resources: Resources;
    terminationGracePeriodSeconds: number;
    preStopSleepSeconds: number;
    /** Pods a voluntary disruption may take down at once. Default: 1. */
    maxUnavailable?: number;
  };
  /** What every app pod (API, worker, Jobs) gets besides its CPU and memory: its UID/GID and scratch disk. */
  pods: { runAsUser: number; ephemeralStorage: { request: string; limit: string } };
  /** Default deny for the namespace and the allows the app needs. Unset: no NetworkPolicy. */
  networkPolicy?: NetworkPolicyConfig;
  /** Unset: no HPA. */
  autoscaling?: AutoscalingConfig;
  delivery: DeliveryConfig;
  /** How Prometheus finds the app's metrics (PodMonitors, annotations or neither), and the alerts. */
  monitoring: MonitoringConfig;
  argoRolloutsManifest?: string;
  ingress?: IngressConfig;
  backup?: WorkloadArgs["backup"];
  migration?: WorkloadArgs["migration"];
  /** The Celery worker, which runs the image of the release that serves users. Unset: none. */
  worker?: WorkerArgs;
  /**
   * Reads the live release of the API. Default: the cluster of $KUBECONFIG or ~/.kube/config;
   * with an explicit Kubernetes provider, pass `clusterReleaseReader({ kubeconfig })` of its cluster.
   */
  readRelease?: ReleaseReader;
}

/**
 * One API, production-shaped: namespace, image, settings, release gates and worker
 * (Workload), the API itself with its delivery, networking and scaling (Api) and, for dev, its
 * own Postgres and Redis.
 */
export class ApiStack extends pulumi.ComponentResource {
  /** The namespace everything of this API lives in. */
  readonly namespace: string;
  /** The image this update deploys, `repository@sha256:...`. */
  readonly image: pulumi.Output<string>;
  /** The Service in-cluster clients reach the API by. */
  readonly serviceName: string;
  /** Where users reach the API: its public URL, or the Service's in-cluster one. */
  readonly url: string;
  /** The name of this release's migration Job, when migrations run. */
  readonly migrationJob?: pulumi.Output<string>;
  /** Which release is active, which waits in preview, and the commands for the next step. */
  readonly release: pulumi.Output<ReleaseState>;

  constructor(name: string, args: ApiStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("api-stack:index:ApiStack", name, {}, opts);
    const naming = makeNaming(args.app);
    const child = { parent: this };

    const namespace = new k8s.core.v1.Namespace(
      name,
      {
        metadata: {
          name: args.namespace,
          labels: {
            ...naming.labels("api"),
            // Admission refuses any pod in this namespace that is not fully locked down.
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest",
          },
        },
      },
      child,
    );
    const ns = namespace.metadata.name;
    // One size for every app container; scratch disk bounded too, so a runaway log or temp file
    // evicts this pod, not its neighbours on the node.
    const resources: Resources = {
      requests: { ...args.api.resources.requests, "ephemeral-storage": args.pods.ephemeralStorage.request },
      limits: { ...args.api.resources.limits, "ephemeral-storage": args.pods.ephemeralStorage.limit },
    };

    let devServices: DevServices | undefined;
    let connections: Pick<AppSecrets, "databaseUrl" | "redisUrl">;
    if (args.devServices) {
      devServices = new DevServices(`${name}-dev`, { naming, namespace: ns, config: args.devServices }, child);
      const urls = devServiceUrls(naming, args.namespace, args.devServices.postgres.password.reveal());
      // The in-cluster Redis has no password, so its URL is an ordinary setting.
      connections = { databaseUrl: new SecretValue(urls.databaseUrl), redisUrl: urls.redisUrl };
    } else {
      if (!args.secrets.databaseUrl || !args.secrets.redisUrl) {
        throw new Error(`ApiStack ${name}: secrets.databaseUrl and secrets.redisUrl are required without devServices`);
      }
      connections = { databaseUrl: args.secrets.databaseUrl, redisUrl: args.secrets.redisUrl };
    }

    // A rollback deploys an image that was built before; nothing is built this time.
    const rollback = args.rollbackTo !== undefined;
    const image = args.rollbackTo
      ? pulumi.output(args.rollbackTo)
      : new Image(name, { source: args.image, cacheTag: args.stack }, child).ref;
    // The Services in-cluster clients (and the release analysis) address the API by.
    const services = [
      naming.name("api"),
      ...(args.delivery.strategy === "rolling" ? [] : [rolloutNames(naming, args.delivery).candidate]),
    ];
    const settings = new Settings(
      name,
      {
        naming,
        namespace: ns,
        settings: {
          ...args.settings,
          appName: args.app.appName,
          appVersion: args.app.appVersion,
          allowedHosts: allowedHosts(publicHosts(args.ingress), services, args.namespace),
        },
        secrets: { ...args.secrets, ...connections },
      },
      child,
    );
    if (args.networkPolicy) {
      new NetworkPolicies(
        name,
        {
          naming,
          namespace: ns,
          config: args.networkPolicy,
          ports: PORT_NAMES,
          devServices: args.devServices ? { postgres: POSTGRES.port, redis: REDIS.port } : undefined,
          worker: args.worker !== undefined,
          smokeTest: args.delivery.strategy === "blueGreen" && args.delivery.prePromotionAnalysis !== undefined,
        },
        child,
      );
    }
    // Every mode but none describes the scrape on the pods too: an operator-run Prometheus ignores the
    // annotations, and they keep the pods scrapeable by one that reads them.
    const metrics = { port: args.settings.metricsPort, annotate: args.monitoring.kind !== "none" };
    // The worker runs the release that serves users, which only the Api knows once its release
    // has settled: its image is resolved after the Api below.
    const serving = args.worker ? pulumi.deferredOutput<string>() : undefined;
    const workload = new Workload(
      name,
      {
        naming,
        namespace: ns,
        image,
        env: settings.env,
        resources,
        runAsUser: args.pods.runAsUser,
        terminationGracePeriodSeconds: args.api.terminationGracePeriodSeconds,
        // A rollback returns to an image whose migrations already ran.
        backup: rollback ? undefined : args.backup,
        migration: rollback ? undefined : args.migration,
        imagePull: args.imagePull,
        worker: args.worker && serving ? { ...args.worker, image: serving[0] } : undefined,
        workerMetrics: metrics,
      },
      { parent: this, dependsOn: devServices ? [settings, devServices] : [settings] },
    );
    // Before the API, so the analysis of the first release after the monitors appear has its series.
    const monitoring =
      args.monitoring.kind === "prometheusOperator"
        ? [
            new Monitoring(
              name,
              {
                naming,
                namespace: args.namespace,
                selectorLabels: args.monitoring.selectorLabels,
                alerts: args.monitoring.alerts,
                worker: args.worker !== undefined,
              },
              { parent: this, dependsOn: [namespace] },
            ),
          ]
        : [];

    const readRelease = args.readRelease ?? clusterReleaseReader();
    const api = new Api(
      name,
      {
        naming,
        namespace: args.namespace,
        stack: args.stack,
        image,
        rollback,
        env: settings.env,
        serviceAccountName: workload.serviceAccount.metadata.name,
        imagePullSecret: workload.pullSecret?.metadata.name,
        resources,
        runAsUser: args.pods.runAsUser,
        metrics,
        terminationGracePeriodSeconds: args.api.terminationGracePeriodSeconds,
        preStopSleepSeconds: args.api.preStopSleepSeconds,
        replicas: args.api.replicas,
        autoscaling: args.autoscaling,
        maxUnavailable: args.api.maxUnavailable,
        delivery: args.delivery,
        argoRolloutsManifest: args.argoRolloutsManifest,
        ingress: args.ingress,
        gates: workload.gates,
        readRelease,
      },
      { parent: this, dependsOn: [namespace, ...monitoring] },
    );
    if (serving) {
      const worker: ReleaseTarget = {
        kind: "Deployment",
        namespace: args.namespace,
        name: naming.name("worker"),
        container: "worker",
      };
      serving[1](servingWorkerImage(this, worker, image, api.release, readRelease));
    }

    this.namespace = args.namespace;
    this.image = image;
    this.serviceName = api.network.serviceName;
    this.url = api.network.url;
    this.migrationJob = workload.migrationJob?.metadata.name;
    this.release = api.release;
    this.registerOutputs({
      namespace: this.namespace,
      image: this.image,
      serviceName: this.serviceName,
      url: this.url,
      migrationJob: this.migrationJob,
      release: this.release,
    });
  }
}

/**
 * The image the worker runs (worker-image.ts): the active release's once the Api's release has
 * settled, else the worker's own live image, read then; when neither is known the update fails.
 */
function servingWorkerImage(
  parent: pulumi.Resource,
  worker: ReleaseTarget,
  candidate: pulumi.Input<string>,
  release: pulumi.Output<ReleaseState>,
  readRelease: ReleaseReader,
): pulumi.Output<string> {
  return pulumi.all([release, candidate]).apply(async ([settled, image]) => {
    const live = settled.active === undefined ? await readRelease(worker) : undefined;
    const chosen = workerImage({
      release: settled,
      candidate: image,
      worker: live,
      rendersOnly: !readRelease.awaitRelease,
    });
    if ("refused" in chosen) {
      throw new pulumi.RunError(chosen.refused);
    }
    if (chosen.warning) {
      void pulumi.log.warn(chosen.warning, parent);
    }
    return chosen.image;
  });
}
