import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import {
  branchProtectionSpec,
  environmentSecrets,
  environmentSpecs,
  environmentVariables,
  validateGithubConfig,
  type GithubConfig,
} from "./spec";

export type { GithubConfig, StackCredentials, StackName } from "./spec";
export { REQUIRED_CHECKS, SECRET_NAMES, STACKS, VARIABLE_NAMES } from "./spec";

export interface GithubRepositoryArgs {
  config: GithubConfig;
}

export interface GithubRepositoryOutputs {
  /** `owner/repository`. */
  repository: string;
  environments: string[];
  /** Checks a pull request needs before it can merge. */
  requiredChecks: string[];
}

/**
 * The GitHub side of delivery for an existing repository: deploy and preview environments per
 * stack (prod behind required reviewers), their Actions secrets and variables, and protection
 * of the default branch that requires the CI and preview checks and a review.
 */
export class GithubRepository extends pulumi.ComponentResource {
  readonly outputs: GithubRepositoryOutputs;

  constructor(name: string, args: GithubRepositoryArgs, opts?: pulumi.ComponentResourceOptions) {
    const { config } = args;
    // Before super(): a bad config must not register even the component.
    validateGithubConfig(config);
    super("api-stack:index:GithubRepository", name, {}, opts);

    // Its own provider, so the owner and token come from this stack's config rather than from
    // whatever GITHUB_OWNER happens to be set where `pulumi up` runs.
    const provider = new github.Provider(
      name,
      { owner: config.owner, token: config.token && pulumi.secret(config.token.reveal()) },
      { parent: this },
    );
    const child = { parent: this, provider };
    const repository = config.repository;

    const environments = new Map<string, github.RepositoryEnvironment>();
    for (const env of environmentSpecs(config)) {
      environments.set(
        env.name,
        new github.RepositoryEnvironment(
          `${name}-${env.name}`,
          {
            repository,
            environment: env.name,
            waitTimer: env.waitTimer,
            reviewers: env.reviewers ? [env.reviewers] : undefined,
            preventSelfReview: env.preventSelfReview,
            canAdminsBypass: env.canAdminsBypass,
            deploymentBranchPolicy: env.protectedBranchesOnly
              ? { protectedBranches: true, customBranchPolicies: false }
              : undefined,
          },
          child,
        ),
      );
    }
    // Taking the environment name from the created environment orders each secret and variable after it.
    const environmentOf = (env: string) => environments.get(env)!.environment;

    for (const secret of environmentSecrets(config)) {
      new github.ActionsEnvironmentSecret(
        `${name}-${secret.environment}-${secret.name}`,
        {
          repository,
          environment: environmentOf(secret.environment),
          secretName: secret.name,
          value: pulumi.secret(secret.value.reveal()),
        },
        child,
      );
    }
    for (const variable of environmentVariables(config)) {
      new github.ActionsEnvironmentVariable(
        `${name}-${variable.environment}-${variable.name}`,
        {
          repository,
          environment: environmentOf(variable.environment),
          variableName: variable.name,
          value: variable.value,
        },
        child,
      );
    }

    const protection = branchProtectionSpec(config);
    new github.BranchProtection(
      `${name}-${protection.pattern}`,
      {
        repositoryId: repository,
        pattern: protection.pattern,
        enforceAdmins: protection.enforceAdmins,
        allowsForcePushes: protection.allowsForcePushes,
        allowsDeletions: protection.allowsDeletions,
        requireConversationResolution: protection.requireConversationResolution,
        requiredStatusChecks: [protection.requiredStatusChecks],
        requiredPullRequestReviews: [protection.requiredPullRequestReviews],
      },
      child,
    );

    this.outputs = {
      repository: `${config.owner}/${repository}`,
      environments: [...environments.keys()],
      requiredChecks: protection.requiredStatusChecks.contexts,
    };
    this.registerOutputs(this.outputs);
  }
}
