// api-stack-github: the repository's delivery settings (Actions environments with their
// identities, the build environment, the ruleset of the default branch) as one small stack,
// apart from the app's stacks. The whole config is validated before any resource exists.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, readStackConfig } from "../config/load";
import { GithubRepository } from "./component";
import { parseGithubConfig } from "./config";

export = () => {
  const result = parseGithubConfig(readStackConfig(), (value) => pulumi.secret(value));
  if (!result.ok) {
    throw new ConfigError(result.errors);
  }
  const repository = new GithubRepository("github", result.args);
  return {
    github: {
      repository: repository.repository,
      environments: repository.environments,
      requiredChecks: repository.requiredChecks,
    },
  };
};
