import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { SecretValue, type StackConfig } from "../../config";
import { Delivery } from "../delivery";
import type { ReleaseState } from "../delivery/spec";
import { DevServices } from "../dev-services";
import { devServiceUrls } from "../dev-services/spec";
import { Image } from "../image";
import { naming as makeNaming } from "../names";
import { Network } from "../network";
import { Scaling } from "../scaling";
import { Settings } from "../settings";
import { settingsData, type DevServiceUrls } from "../settings/spec";
import { Workload } from "../workload";

export interface ApiStackOutputs {
  namespace: string;
  /** The image this update deploys, `repository@sha256:...`. */
  image: pulumi.Output<string>;
  serviceName: string;
  url: string;
  migrationJob?: pulumi.Output<string>;
  /** Which release is active, which waits in preview, and the commands for the next step. */
  release: pulumi.Output<ReleaseState>;
}

/**
 * One API, production-shaped: namespace, image, settings, release gates, workload, delivery,
 * networking, autoscaling and, for dev, its own Postgres and Redis.
 */
export class ApiStack extends pulumi.ComponentResource {
  readonly outputs: ApiStackOutputs;

  constructor(name: string, config: StackConfig, opts?: pulumi.ComponentResourceOptions) {
    super("api-stack:index:ApiStack", name, {}, opts);
    const naming = makeNaming(config);
    const child = { parent: this };

    const namespace = new k8s.core.v1.Namespace(
      name,
      {
        metadata: {
          name: config.namespace,
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

    let devServices: DevServices | undefined;
    let devUrls: DevServiceUrls | undefined;
    if (config.devServices) {
      devServices = new DevServices(`${name}-dev`, { naming, namespace: ns, config: config.devServices }, child);
      const urls = devServiceUrls(naming, config.namespace, config.devServices.postgres.password.reveal());
      devUrls = { databaseUrl: new SecretValue(urls.databaseUrl), redisUrl: urls.redisUrl };
    }

    // A rollback deploys an image that was built before; nothing is built this time.
    const candidate = config.rollbackTo
      ? pulumi.output(config.rollbackTo)
      : new Image(name, { image: config.image, cacheTag: config.stack }, child).ref;
    const settings = new Settings(name, { naming, namespace: ns, data: settingsData(config, devUrls) }, child);
    const workload = new Workload(
      name,
      {
        config,
        naming,
        namespace: ns,
        image: candidate,
        configMapName: settings.configMapName,
        secretName: settings.secretName,
        settingsChecksum: settings.checksum,
        rollback: config.rollbackTo !== undefined,
      },
      { parent: this, dependsOn: devServices ? [settings, devServices] : [settings] },
    );

    // The stack's own last outputs say which release is active now: that is what a new
    // blue-green release is previewed beside, and what a rollback returns to.
    const self = new pulumi.StackReference(
      `${name}-previous`,
      { name: `${pulumi.getOrganization()}/${config.project}/${config.stack}` },
      child,
    );
    const previousActive = self
      .getOutput("release")
      .apply((release) => (release as ReleaseState | undefined)?.active);

    const delivery = new Delivery(
      name,
      {
        config,
        naming,
        namespace: config.namespace,
        template: workload.apiTemplate,
        candidate,
        previousActive,
        gates: workload.gates,
      },
      { parent: this, dependsOn: [namespace] },
    );
    const network = new Network(name, { naming, namespace: config.namespace, ingress: config.ingress }, {
      parent: this,
      dependsOn: [namespace],
    });
    new Scaling(
      name,
      {
        naming,
        namespace: ns,
        target: delivery.scaleTarget,
        autoscaling: config.autoscaling,
        maxUnavailable: config.pdb.maxUnavailable,
      },
      child,
    );

    this.outputs = {
      namespace: config.namespace,
      image: candidate,
      serviceName: network.serviceName,
      url: network.url,
      migrationJob: workload.migrationJobName,
      release: delivery.release,
    };
    this.registerOutputs(this.outputs);
  }
}
