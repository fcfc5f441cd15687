import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { explained } from "../checkers";
import type { Naming } from "../names";
import { Network } from "../network";
import type { IngressConfig } from "../network/spec";
import { Scaling, type ScaledWorkload } from "../scaling";
import type { AutoscalingConfig } from "../scaling/spec";
import type { PodEnvironment } from "../settings";
import { deploymentSpec, podTemplate, type PodInput, type Resources } from "../workload/spec";
import { clusterReleaseReader, type ReleaseReader, type ReleaseTarget } from "./cluster-reader";
import { rolloutNames, SMOKE_URL_ARG, type DeliveryConfig } from "./delivery";
import { capitalize, releaseState, type ReleaseState } from "./release-state";
import { settledState, type ReleaseOutcome } from "./release-wait";
import { apiRollout } from "./rollout";

export interface ApiArgs {
  naming: Naming;
  /** Literal, because the smoke test and the in-cluster URL name Services by their DNS names in it. */
  namespace: string;
  /** Stack name, for the release commands in the outputs (`--stack <stack>`). */
  stack: string;
  /** Digest-pinned image reference this update deploys. */
  image: pulumi.Input<string>;
  /** The image is an earlier release the operator rolls back to: promoted at once. Default: false. */
  rollback?: boolean;
  /** The Settings component's ConfigMap, Secret and checksum. */
  env: PodEnvironment;
  serviceAccountName: pulumi.Input<string>;
  /** The registry login the kubelet pulls the image with (Workload's pull Secret). Unset: none. */
  imagePullSecret?: pulumi.Input<string>;
  resources: Resources;
  /** UID and GID of the API pods. Default: the pod builder's RUN_AS_USER. */
  runAsUser?: number;
  /**
   * Port of /metrics in the pod (METRICS_PORT), which PodMonitors and the scrape annotations name,
   * and whether the pods carry those annotations.
   */
  metrics: { port: number; annotate: boolean };
  /** Time a pod gets to drain after SIGTERM. */
  terminationGracePeriodSeconds: number;
  /** Pause before SIGTERM so endpoints stop routing to the pod first. */
  preStopSleepSeconds: number;
  /** API pods, without `autoscaling`. Leave it unset with `autoscaling`: the HPA owns the count. */
  replicas?: number;
  /** Unset: no HPA, and `replicas` pods. Set: the API starts with `minReplicas`, then the HPA owns the count. */
  autoscaling?: AutoscalingConfig;
  /** Pods a voluntary disruption may take down at once. Default: 1. */
  maxUnavailable?: number;
  delivery: DeliveryConfig;
  /**
   * Install Argo Rollouts from this manifest (https URL or absolute path) before the Rollout.
   * Unset: already installed.
   */
  argoRolloutsManifest?: string;
  /**
   * How users reach the API from outside: an Ingress or a route on the platform's Gateway. Unset:
   * inside the cluster only.
   */
  ingress?: IngressConfig;
  /** What new API pods wait for (the migration Job and what it waits for). Default: nothing. */
  gates?: pulumi.Resource[];
  /**
   * Reads what the cluster runs for this API before the update, for the release state, and
   * (when it can) waits after the update until a Rollout's release settles.
   * Default: `clusterReleaseReader()`, the cluster of $KUBECONFIG or ~/.kube/config.
   */
  readRelease?: ReleaseReader;
}

/**
 * The API and every Kubernetes object that serves it: the pod template; a Deployment
 * (`rolling`) or an Argo Rollout (`blueGreen`, `canary`) with the Service for the new release,
 * its AnalysisTemplates and, when asked, Argo Rollouts itself; the Service and Ingress
 * (Network); the HPA and PodDisruptionBudget (Scaling). Which release is live is read from the
 * cluster per API, so several Apis in one program promote and roll back independently. After a
 * Rollout's update, the update waits until its release is active (or ready in preview, waiting
 * for promotion) and fails when Argo aborts it; `release` then says what really serves.
 */
export class Api extends pulumi.ComponentResource {
  /** The Deployment or Rollout that runs the API pods. */
  readonly workload: ScaledWorkload;
  readonly network: Network;
  /** The release as it settled (or, in a preview and where no cluster is read, as planned). */
  readonly release: pulumi.Output<ReleaseState>;

  constructor(name: string, args: ApiArgs, opts?: pulumi.ComponentResourceOptions) {
    // This component was `Delivery` before it took over the API's Service, HPA and PDB.
    super(
      "api-stack:index:Api",
      name,
      {},
      { ...opts, aliases: [...(opts?.aliases ?? []), { type: "api-stack:index:Delivery" }] },
    );
    const { naming, namespace, delivery } = args;
    if (delivery.strategy === "canary" && args.ingress?.kind !== "ingress") {
      throw new Error(
        `Api ${name}: canary needs ingress of kind "ingress" ` +
          `(got ${args.ingress ? `"${args.ingress.kind}"` : "none"}): ` +
          "Argo Rollouts shifts canary traffic with its NGINX router, on the API's Ingress",
      );
    }
    if ((args.replicas === undefined) === (args.autoscaling === undefined)) {
      throw new Error(
        `Api ${name}: set either replicas or autoscaling (got ${args.replicas === undefined ? "neither" : "both"}); ` +
          "with an HPA the count is the HPA's, without one it is replicas",
      );
    }
    const apiName = naming.name("api");
    const metadata = { name: apiName, namespace, labels: naming.labels("api") };
    // With the HPA, the API is created with its minReplicas, so that `up` waits for them all
    // (with the API server's default of 1, the release was waited for with one pod, and the HPA
    // added the rest afterwards). Every later update keeps the count out (ignoreChanges): the
    // HPA's count is never reset (docs/hardening.md).
    const replicas = args.replicas ?? args.autoscaling!.minReplicas;
    const replicaOwner = args.autoscaling ? { ignoreChanges: ["spec.replicas"] } : {};
    // Network and Scaling were children of the ApiStack before this component grouped them.
    const formerParent: pulumi.Alias = { parent: opts?.parent ?? pulumi.rootStackResource };

    // The API's pods, and the smoke test's: the same image, settings, secrets and identity.
    const pod = (component: "api" | "smoke", extra: Partial<PodInput>) =>
      podTemplate({
        naming,
        component,
        image: args.image,
        resources: args.resources,
        configMapName: args.env.configMapName,
        secretName: args.env.secretName,
        serviceAccountName: args.serviceAccountName,
        imagePullSecret: args.imagePullSecret,
        terminationGracePeriodSeconds: args.terminationGracePeriodSeconds,
        runAsUser: args.runAsUser,
        ...extra,
      });
    const template = pod("api", {
      settingsChecksum: args.env.settingsChecksum,
      http: { preStopSleepSeconds: args.preStopSleepSeconds },
      metrics: args.metrics,
      spread: (args.autoscaling?.maxReplicas ?? replicas) > 1,
    });

    const readRelease = args.readRelease ?? clusterReleaseReader();
    const target: ReleaseTarget = {
      kind: delivery.strategy === "rolling" ? "Deployment" : "Rollout",
      namespace,
      name: apiName,
      container: "api",
    };
    const live = pulumi.output(readRelease(target));
    const planned = pulumi
      .all([args.image, live])
      .apply(([candidate, live]) =>
        releaseState({ delivery, stack: args.stack, candidate, live, rollback: args.rollback ?? false }),
      );

    this.network = new Network(
      name,
      {
        naming,
        namespace,
        ingress: args.ingress,
        previewServiceName: delivery.strategy === "blueGreen" ? rolloutNames(naming, delivery).candidate : undefined,
        rolloutManaged: delivery.strategy !== "rolling",
      },
      { parent: this, aliases: [formerParent] },
    );
    const gates = args.gates ?? [];

    // The provider waits for a Deployment itself; a Rollout's release is waited for by apiRollout.
    let outcome: pulumi.Output<ReleaseOutcome> | undefined;
    if (delivery.strategy === "rolling") {
      this.workload = new k8s.apps.v1.Deployment(
        name,
        {
          metadata: { ...metadata, ...(args.autoscaling ? { annotations: explained("hpaReplicas") } : {}) },
          spec: deploymentSpec({ naming, component: "api", replicas, template }),
        },
        { parent: this, dependsOn: gates, ...replicaOwner },
      );
    } else {
      const rollout = apiRollout(this, name, {
        naming,
        namespace,
        delivery,
        metadata,
        template,
        smokePod: (command) => pod("smoke", { command: [...command, SMOKE_URL_ARG], restartPolicy: "Never" }),
        image: args.image,
        env: args.env,
        replicas,
        planned,
        target,
        readRelease,
        argoRolloutsManifest: args.argoRolloutsManifest,
        gates,
        resourceOptions: replicaOwner,
      });
      this.workload = rollout.rollout;
      outcome = rollout.outcome;
    }
    this.release = outcome
      ? pulumi.all([planned, outcome]).apply(([plan, settled]) => settledState(plan, settled, args.stack))
      : planned;

    new Scaling(
      name,
      {
        naming,
        namespace,
        target: this.workload,
        selector: naming.selector("api"),
        autoscaling: args.autoscaling,
        maxUnavailable: args.maxUnavailable,
      },
      { parent: this, aliases: [formerParent] },
    );
    // A failed release fails the update: the rejection reaches the runtime unhandled, which
    // reports its message and fails the update, while `release` still says what serves.
    outcome?.apply((settled) => {
      if (settled.kind === "failed") {
        throw new pulumi.RunError(`${capitalize(settled.reason)}.`);
      }
    });
    this.registerOutputs({ workload: this.workload, network: this.network, release: this.release });
  }
}
