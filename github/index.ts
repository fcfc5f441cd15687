// api-stack-github: the repository's delivery settings (Actions environments with their
// identities, the build environment, the ruleset of the default branch) as one small stack,
// apart from the app's stacks. The whole config is validated before any resource exists.
import * as pulumi from "@pulumi/pulumi";
import { GithubRepository } from "../components/github";
import { parseGithubConfig } from "./config";

// `isConfigSecret` is exported at run time but hidden from the SDK's typings.
const runtime = pulumi.runtime as typeof pulumi.runtime & { isConfigSecret(key: string): boolean };

export = async () => {
  const values = pulumi.runtime.allConfig();
  const result = parseGithubConfig(
    {
      values,
      secretKeys: new Set(Object.keys(values).filter((key) => runtime.isConfigSecret(key))),
      project: pulumi.getProject(),
    },
    (value) => pulumi.secret(value),
  );
  if (!result.ok) {
    // A RunError prints without a stack trace.
    throw new pulumi.RunError(
      `Invalid stack configuration (${result.errors.length} problem${result.errors.length === 1 ? "" : "s"}); ` +
        `nothing was created or changed:\n${result.errors.map((e) => `  - ${e}`).join("\n")}`,
    );
  }
  const repository = new GithubRepository("github", result.args);
  return { github: repository.outputs };
};
