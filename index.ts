// api-stack: one containerized Python API on Kubernetes, one stack per environment.
// 1. validate the whole stack config (nothing is created when it is wrong),
// 2. build the components, 3. export what users and CI need to know.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ApiStack } from "./components/api-stack";
import { GithubRepository } from "./components/github";
import { loadStackConfig } from "./config";

export = async () => {
  const config = loadStackConfig();

  const opts: pulumi.ComponentResourceOptions = {};
  if (config.renderYamlTo) {
    pulumi.log.warn(
      `renderYamlTo: manifests go to ${config.renderYamlTo} instead of a cluster. ` +
        "Kubernetes Secrets are written there in PLAINTEXT: keep that directory out of version control.",
    );
    // An empty kubeconfig, because the SDK would otherwise fill it from $KUBECONFIG and the
    // provider refuses any cluster setting beside renderYamlToDirectory.
    const render = new k8s.Provider("render", { renderYamlToDirectory: config.renderYamlTo, kubeconfig: "" });
    opts.providers = { kubernetes: render };
  }

  const api = new ApiStack(config.appName, config, opts);
  // The repository's CI/CD settings are the project's, not the API's: a root of their own.
  const github = config.github && new GithubRepository("github", { config: config.github });
  return { ...api.outputs, ...(github ? { github: github.outputs } : {}) };
};
