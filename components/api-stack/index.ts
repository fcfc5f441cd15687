import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { SecretValue, type StackConfig } from "../../config";
import { DevServices } from "../dev-services";
import { devServiceUrls } from "../dev-services/spec";
import { Image } from "../image";
import { naming as makeNaming } from "../names";
import { Network } from "../network";
import { Scaling } from "../scaling";
import { Settings } from "../settings";
import { settingsData } from "../settings/spec";
import { Workload } from "../workload";

export interface ApiStackOutputs {
  namespace: string;
  /** The deployed image, `repository@sha256:...`. */
  image: pulumi.Output<string>;
  serviceName: string;
  url: string;
  migrationJob?: pulumi.Output<string>;
  release: {
    strategy: "rolling";
    /** The image the API pods run once this update completes. */
    active: pulumi.Output<string>;
  };
}

/**
 * One API, production-shaped: namespace, image, settings, migrations, workload, networking,
 * autoscaling and, for dev, its own Postgres and Redis. Composes the other components.
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
    let devUrls: Parameters<typeof settingsData>[1];
    if (config.devServices) {
      devServices = new DevServices(`${name}-dev`, { naming, namespace: ns, config: config.devServices }, child);
      const urls = devServiceUrls(naming, config.namespace, config.devServices.postgres.password.reveal());
      devUrls = { databaseUrl: new SecretValue(urls.databaseUrl), redisUrl: urls.redisUrl };
    }

    const image = new Image(name, { image: config.image, cacheTag: config.stack }, child);
    const settings = new Settings(name, { naming, namespace: ns, data: settingsData(config, devUrls) }, child);
    const workload = new Workload(
      name,
      {
        config,
        naming,
        namespace: ns,
        image: image.ref,
        configMapName: settings.configMapName,
        secretName: settings.secretName,
        settingsChecksum: settings.checksum,
      },
      { parent: this, dependsOn: devServices ? [settings, devServices] : [settings] },
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
        target: { apiVersion: "apps/v1", kind: "Deployment", name: workload.deploymentName },
        autoscaling: config.autoscaling,
        maxUnavailable: config.pdb.maxUnavailable,
      },
      child,
    );

    this.outputs = {
      namespace: config.namespace,
      image: image.ref,
      serviceName: network.serviceName,
      url: network.url,
      migrationJob: workload.migrationJobName,
      release: { strategy: "rolling", active: image.ref },
    };
    this.registerOutputs(this.outputs);
  }
}
