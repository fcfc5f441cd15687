// api-stack: one containerized Python API on Kubernetes, one stack per environment.
// 1. read and validate the whole stack config (nothing is created when it is wrong),
// 2. build the ApiStack from the args config assembled, 3. export what users and CI need to know.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { clusterReleaseReader, noClusterReader, type ReleaseReader } from "./components/api/cluster-reader";
import { ApiStack } from "./components/api-stack";
import { loadStackConfig } from "./config";

/** `readRelease` stands in for the cluster's API server (unit tests pass a fake cluster). */
export = async (readRelease?: ReleaseReader) => {
  const { name, args, renderYamlTo, cluster } = await loadStackConfig();

  const opts: pulumi.ComponentResourceOptions = {};
  let reader = readRelease ?? clusterReleaseReader(cluster);
  if (renderYamlTo) {
    // Render mode applies nothing, so there is no live release to read either: releases wait.
    reader = noClusterReader("render mode writes manifests and reads no cluster");
    void pulumi.log.warn(
      `renderYamlTo: manifests go to ${renderYamlTo} instead of a cluster. ` +
        "Kubernetes Secrets are written there in PLAINTEXT: keep that directory out of version control.",
    );
    // An empty kubeconfig, because the SDK would otherwise fill it from $KUBECONFIG and the
    // provider refuses any cluster setting beside renderYamlToDirectory.
    const render = new k8s.Provider("render", { renderYamlToDirectory: renderYamlTo, kubeconfig: "" });
    opts.providers = { kubernetes: render };
  }

  const { namespace, image, serviceName, url, migrationJob, release } = new ApiStack(
    name,
    { ...args, readRelease: reader },
    opts,
  );
  return { namespace, image, serviceName, url, ...(migrationJob ? { migrationJob } : {}), release };
};
