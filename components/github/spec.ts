// Pure builders for the GitHub side of delivery: which Actions environments exist, what each
// holds (secrets, variables), who must approve prod, and what protects the default branch.
// The workflows in .github/workflows read exactly these names; tests/unit/workflows.test.ts
// checks both sides against each other, so renaming one without the other fails the suite.
import type { SecretValue } from "../../config/secret";
import type { GithubConfig } from "../../config/types";
import {
  GIT_BRANCH,
  GITHUB_OWNER,
  GITHUB_REPOSITORY,
  MAX_REVIEWERS,
  MAX_WAIT_MINUTES,
  PULUMI_SERVICE_URL,
  PULUMI_STACK_NAME,
} from "../../config/github-patterns";

/** The stacks the workflows preview and deploy, in deploy order. */
export const STACKS = ["dev", "prod"] as const;
export type StackName = (typeof STACKS)[number];

/** Secrets the workflows read, per environment. */
export const SECRET_NAMES = {
  /** Login to Pulumi Cloud or a self-hosted Pulumi service. */
  pulumiAccessToken: "PULUMI_ACCESS_TOKEN",
  /** Decrypts the stack's `secure:` config (the passphrase secrets provider). */
  configPassphrase: "PULUMI_CONFIG_PASSPHRASE",
  /** Kubeconfig file content; the job writes it to a private temp file. */
  kubeconfig: "KUBE_CONFIG",
} as const;

/** Variables the workflows read, per environment. */
export const VARIABLE_NAMES = {
  /** Stack name as the backend knows it: `prod`, or `my-org/api-stack/prod` outside the token's default organization. */
  stack: "PULUMI_STACK",
  /** URL of a self-hosted Pulumi service; unset means Pulumi Cloud. */
  backendUrl: "PULUMI_BACKEND_URL",
} as const;

/**
 * Job names (check-run contexts) that must pass before a pull request merges: the CI gate job
 * of ci.yml and one preview per stack from preview.yml's matrix.
 */
export const CI_CHECK = "ci";
export const previewCheck = (stack: StackName) => `preview (${stack})`;
export const REQUIRED_CHECKS: readonly string[] = [CI_CHECK, ...STACKS.map(previewCheck)];

/** Environment a stack deploys from (deploy.yml, promote.yml). */
export const deployEnvironment = (stack: StackName) => stack;
/**
 * Environment a pull request previews a stack from (preview.yml). Separate from the deploy
 * environment so prod's required reviewers gate deployments, not every preview.
 */
export const previewEnvironment = (stack: StackName) => `${stack}-preview`;

export type { GithubConfig, GithubStackCredentials as StackCredentials } from "../../config/types";



/** Throws one sentence naming the first problem; returns normally when the config is usable. */
export function validateGithubConfig(config: GithubConfig): void {
  const fail = (problem: string): never => {
    throw new Error(`GitHub repository settings: ${problem}`);
  };
  if (!GITHUB_OWNER.test(config.owner ?? "")) {
    fail(`owner "${config.owner}" is not a GitHub user or organization name.`);
  }
  if (!GITHUB_REPOSITORY.test(config.repository ?? "")) {
    fail(`repository "${config.repository}" is not a repository name (letters, digits, '.', '_', '-'; no owner).`);
  }
  const branch = config.defaultBranch ?? "main";
  if (!GIT_BRANCH.test(branch)) {
    fail(`defaultBranch "${branch}" is not a valid branch name.`);
  }
  const teams = config.prodReviewers?.teams ?? [];
  const users = config.prodReviewers?.users ?? [];
  for (const id of [...teams, ...users]) {
    if (!Number.isSafeInteger(id) || id <= 0) {
      fail(`prod reviewer id ${id} is not a positive integer (use the numeric team or user id, not a name).`);
    }
  }
  if (teams.length + users.length === 0) {
    fail("prod needs at least one required reviewer (a team or user id); without one nothing gates a prod deployment.");
  }
  if (teams.length + users.length > MAX_REVIEWERS) {
    fail(`prod has ${teams.length + users.length} required reviewers; GitHub allows at most ${MAX_REVIEWERS}.`);
  }
  if (new Set(teams).size !== teams.length || new Set(users).size !== users.length) {
    fail("prod reviewers list the same id twice.");
  }
  const wait = config.prodWaitTimerMinutes ?? 0;
  if (!Number.isInteger(wait) || wait < 0 || wait > MAX_WAIT_MINUTES) {
    fail(`prodWaitTimerMinutes ${wait} is not an integer from 0 to ${MAX_WAIT_MINUTES}.`);
  }
  const approvals = config.requiredApprovals ?? 1;
  if (!Number.isInteger(approvals) || approvals < 1 || approvals > 6) {
    fail(`requiredApprovals ${approvals} is not an integer from 1 to 6.`);
  }
  if (config.pulumiBackendUrl !== undefined && !PULUMI_SERVICE_URL.test(config.pulumiBackendUrl)) {
    // s3://, gs://, azblob:// state would also need that cloud's credentials in every job,
    // which the workflows do not carry; file:// state does not outlive a runner.
    fail(
      `pulumiBackendUrl "${config.pulumiBackendUrl}" is not the https:// URL of a Pulumi service; ` +
        "the workflows log in with a Pulumi access token, to Pulumi Cloud or a self-hosted Pulumi service.",
    );
  }
  if (config.pulumiAccessToken === undefined || config.pulumiAccessToken.reveal().trim() === "") {
    fail("the Pulumi access token is missing or empty; the workflows log in to the backend with it.");
  }
  for (const stack of STACKS) {
    const credentials = config.stacks?.[stack];
    if (!credentials) {
      fail(`stack ${stack} has no credentials (kubeconfig, passphrase); the workflows deploy both dev and prod.`);
    }
    if (credentials.stackName !== undefined && !PULUMI_STACK_NAME.test(credentials.stackName)) {
      fail(`stack ${stack}: stackName "${credentials.stackName}" is not a stack name such as ${stack} or my-org/api-stack/${stack}.`);
    }
    for (const [field, value] of [
      ["kubeconfig", credentials.kubeconfig],
      ["previewKubeconfig", credentials.previewKubeconfig],
      ["configPassphrase", credentials.configPassphrase],
    ] as const) {
      if (value !== undefined && value.reveal().trim() === "") {
        fail(`stack ${stack}: ${field} is empty.`);
      }
    }
    if (credentials.kubeconfig === undefined) {
      fail(`stack ${stack} has no kubeconfig; its jobs could not reach the cluster.`);
    }
  }
  const extra = Object.keys(config.stacks).filter((stack) => !(STACKS as readonly string[]).includes(stack));
  if (extra.length > 0) {
    fail(`unknown stack ${extra.join(", ")}; the workflows know only ${STACKS.join(" and ")}.`);
  }
}

export interface EnvironmentSpec {
  name: string;
  stack: StackName;
  purpose: "deploy" | "preview";
  waitTimer: number;
  reviewers?: { teams: number[]; users: number[] };
  /** Approvers may not approve a run they triggered themselves. */
  preventSelfReview: boolean;
  /** Administrators may skip the reviewers: never for prod. */
  canAdminsBypass: boolean;
  /** Only protected branches (the default branch) may deploy here. */
  protectedBranchesOnly: boolean;
}

/** Deploy and preview environments of every stack; only prod's deploy environment is gated. */
export function environmentSpecs(config: GithubConfig): EnvironmentSpec[] {
  const specs: EnvironmentSpec[] = [];
  for (const stack of STACKS) {
    const gated = stack === "prod";
    specs.push({
      name: deployEnvironment(stack),
      stack,
      purpose: "deploy",
      waitTimer: gated ? (config.prodWaitTimerMinutes ?? 0) : 0,
      reviewers: gated
        ? { teams: [...(config.prodReviewers.teams ?? [])], users: [...(config.prodReviewers.users ?? [])] }
        : undefined,
      preventSelfReview: gated,
      canAdminsBypass: !gated,
      // A workflow started from any other branch cannot deploy, nor read the deploy secrets.
      protectedBranchesOnly: true,
    });
    specs.push({
      name: previewEnvironment(stack),
      stack,
      purpose: "preview",
      waitTimer: 0,
      preventSelfReview: false,
      canAdminsBypass: true,
      // Pull-request runs use refs/pull/N/merge, which no branch policy matches.
      protectedBranchesOnly: false,
    });
  }
  return specs;
}

export interface SecretSpec {
  environment: string;
  name: string;
  value: SecretValue;
}

/** Every environment's secrets; the preview environment gets the preview kubeconfig when there is one. */
export function environmentSecrets(config: GithubConfig): SecretSpec[] {
  const secrets: SecretSpec[] = [];
  for (const env of environmentSpecs(config)) {
    const credentials = config.stacks[env.stack];
    const kubeconfig = env.purpose === "preview" ? (credentials.previewKubeconfig ?? credentials.kubeconfig) : credentials.kubeconfig;
    secrets.push({ environment: env.name, name: SECRET_NAMES.kubeconfig, value: kubeconfig });
    if (credentials.configPassphrase) {
      secrets.push({ environment: env.name, name: SECRET_NAMES.configPassphrase, value: credentials.configPassphrase });
    }
    secrets.push({ environment: env.name, name: SECRET_NAMES.pulumiAccessToken, value: config.pulumiAccessToken });
  }
  return secrets;
}

export interface VariableSpec {
  environment: string;
  name: string;
  value: string;
}

export function environmentVariables(config: GithubConfig): VariableSpec[] {
  const variables: VariableSpec[] = [];
  for (const env of environmentSpecs(config)) {
    variables.push({ environment: env.name, name: VARIABLE_NAMES.stack, value: config.stacks[env.stack].stackName ?? env.stack });
    if (config.pulumiBackendUrl) {
      variables.push({ environment: env.name, name: VARIABLE_NAMES.backendUrl, value: config.pulumiBackendUrl });
    }
  }
  return variables;
}

export interface BranchProtectionSpec {
  pattern: string;
  enforceAdmins: boolean;
  allowsForcePushes: boolean;
  allowsDeletions: boolean;
  requireConversationResolution: boolean;
  requiredStatusChecks: { strict: boolean; contexts: string[] };
  requiredPullRequestReviews: {
    requiredApprovingReviewCount: number;
    dismissStaleReviews: boolean;
    requireLastPushApproval: boolean;
  };
}

export function branchProtectionSpec(config: GithubConfig): BranchProtectionSpec {
  return {
    pattern: config.defaultBranch ?? "main",
    enforceAdmins: config.enforceAdmins ?? true,
    allowsForcePushes: false,
    allowsDeletions: false,
    requireConversationResolution: true,
    requiredStatusChecks: {
      // Up to date with the branch before merging: the merge result is the tree CI and the
      // previews ran on, so deploy.yml does not test again after the merge.
      strict: true,
      contexts: [...REQUIRED_CHECKS],
    },
    requiredPullRequestReviews: {
      requiredApprovingReviewCount: config.requiredApprovals ?? 1,
      // A push after approval (new code) needs a fresh approval, from someone other than its author.
      dismissStaleReviews: true,
      requireLastPushApproval: true,
    },
  };
}
