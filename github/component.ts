import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import {
  describeProblem,
  environmentSecrets,
  environmentSpecs,
  environmentVariables,
  githubRepositoryProblems,
  repositoryVariables,
  rulesetSpec,
  type GithubRepositoryArgs as SpecArgs,
} from "./spec";

export * from "./spec";

/** The component's args: secret values may be plain strings or Outputs; they are stored as Pulumi secrets. */
export type GithubRepositoryArgs = SpecArgs<pulumi.Input<string>>;
export type EnvironmentArgs = GithubRepositoryArgs["environments"][number];

/**
 * The GitHub side of delivery for an existing repository: per environment a deploy, a
 * post-merge preview and optionally a pull-request environment, each with its own secrets and
 * variables; the build environment; and the ruleset guarding the default branch (reviews with a
 * code owner's, checks from the GitHub Actions app only, no force push or deletion).
 */
export class GithubRepository extends pulumi.ComponentResource {
  /** `owner/repository`. */
  readonly repository: string;
  /** Every Actions environment it manages. */
  readonly environments: string[];
  /** Checks a pull request needs before it can merge, each as `context` (app id). */
  readonly requiredChecks: string[];

  constructor(name: string, args: GithubRepositoryArgs, opts?: pulumi.ComponentResourceOptions) {
    // Before super(): bad args must not register even the component.
    const problems = githubRepositoryProblems(args);
    if (problems.length > 0) {
      throw new Error(`GitHub repository settings:\n${problems.map((p) => `  - ${describeProblem(p)}`).join("\n")}`);
    }
    super("api-stack:index:GithubRepository", name, {}, opts);

    // Its own provider, so the owner and token come from these args rather than from whatever
    // GITHUB_OWNER happens to be set where `pulumi up` runs.
    const provider = new github.Provider(
      name,
      { owner: args.owner, token: args.token === undefined ? undefined : pulumi.secret(args.token) },
      { parent: this },
    );
    const child = { parent: this, provider };
    const repository = args.repository;

    const environments = new Map<string, github.RepositoryEnvironment>();
    for (const env of environmentSpecs(args)) {
      const environment = new github.RepositoryEnvironment(
        `${name}-${env.name}`,
        {
          repository,
          environment: env.name,
          waitTimer: env.waitTimer,
          reviewers: env.reviewers ? [env.reviewers] : undefined,
          preventSelfReview: env.preventSelfReview,
          canAdminsBypass: env.canAdminsBypass,
          // Named branches rather than "protected branches": a ruleset does not make a branch
          // protected in that sense, and a name leaves no doubt which refs may enter.
          deploymentBranchPolicy: env.branches ? { protectedBranches: false, customBranchPolicies: true } : undefined,
        },
        child,
      );
      environments.set(env.name, environment);
      for (const pattern of env.branches ?? []) {
        new github.RepositoryEnvironmentDeploymentPolicy(
          `${name}-${env.name}-${pattern}`,
          { repository, environment: environment.environment, branchPattern: pattern },
          child,
        );
      }
    }
    // Taking the environment name from the created environment orders each secret and variable after it.
    const environmentOf = (env: string) => environments.get(env)!.environment;

    for (const secret of environmentSecrets(args)) {
      new github.ActionsEnvironmentSecret(
        `${name}-${secret.environment}-${secret.name}`,
        {
          repository,
          environment: environmentOf(secret.environment),
          secretName: secret.name,
          value: pulumi.secret(secret.value),
        },
        child,
      );
    }
    for (const variable of environmentVariables(args)) {
      new github.ActionsEnvironmentVariable(
        `${name}-${variable.environment}-${variable.name}`,
        {
          repository,
          environment: environmentOf(variable.environment!),
          variableName: variable.name,
          value: variable.value,
        },
        child,
      );
    }
    for (const variable of repositoryVariables(args)) {
      new github.ActionsVariable(
        `${name}-${variable.name}`,
        { repository, variableName: variable.name, value: variable.value },
        child,
      );
    }

    // Every workflow's token starts read-only (each job asks for what it needs), and no workflow
    // may approve a pull request: a token that could would let a workflow run on a pull request
    // count as the review the ruleset requires.
    new github.WorkflowRepositoryPermissions(
      `${name}-workflow-permissions`,
      { repository, defaultWorkflowPermissions: "read", canApprovePullRequestReviews: false },
      child,
    );

    const ruleset = rulesetSpec(args);
    new github.RepositoryRuleset(
      `${name}-default-branch`,
      {
        repository,
        name: ruleset.name,
        target: ruleset.target,
        enforcement: ruleset.enforcement,
        conditions: { refName: { includes: ruleset.includes, excludes: [] } },
        bypassActors: ruleset.bypassActors,
        rules: ruleset.rules,
      },
      child,
    );

    this.repository = `${args.owner}/${repository}`;
    this.environments = [...environments.keys()];
    this.requiredChecks = ruleset.rules.requiredStatusChecks.requiredChecks.map(
      (c) => `${c.context} (app ${c.integrationId})`,
    );
    this.registerOutputs({
      repository: this.repository,
      environments: this.environments,
      requiredChecks: this.requiredChecks,
    });
  }
}
