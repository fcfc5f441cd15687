// Pure builders for the GitHub side of delivery: which Actions environments exist, what each
// holds (secrets, variables), who must approve a deployment, and what guards the default branch.
// The workflows in .github/workflows read exactly these names; tests/unit/workflows.test.ts
// checks both sides against each other, so renaming one without the other fails the suite.
//
// No stack config, no Pulumi runtime. Secret values are passed through as they come (a string or
// an Output); the component marks them secret. Image references are the program's own
// definitions (components/image/reference.ts): a base image is pinned by digest, and the
// repository names its registry.
import { DIGEST_REF_PATTERN, IMAGE_REPOSITORY } from "../components/image/reference";

/** The GitHub Actions app: required checks must come from it, not from any status a writer can post. */
export const GITHUB_ACTIONS_APP_ID = 15368;

// GitHub's own naming limits.
export const GITHUB_OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
export const GITHUB_REPOSITORY = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$/;
// eslint-disable-next-line no-control-regex -- git refuses control characters in a branch name
export const GIT_BRANCH = /^(?!\/|.*(?:\/\/|\.\.|@\{|\/$|\.lock$|\.$))[^\s~^:?*[\\\x00-\x1f\x7f]+$/;
/** A branch name pattern as GitHub's deployment branch policies take it (fnmatch). */
// eslint-disable-next-line no-control-regex -- and so does a pattern that matches branches
export const BRANCH_PATTERN = /^[^\s~^:\\\x00-\x1f\x7f]{1,255}$/;
export const MAX_REVIEWERS = 6;
export const MAX_WAIT_MINUTES = 43200;
export const PULUMI_SERVICE_URL = /^https:\/\/[^\s/]+(?:\/\S*)?$/;
export const PULUMI_STACK_NAME = /^(?:[A-Za-z0-9_.-]+\/){0,2}[A-Za-z0-9_.-]+$/;
/** Pulumi organization and team names. */
export const PULUMI_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
/** An environment name: lower case, and free of the suffixes the derived environments use. */
export const ENVIRONMENT_NAME = /^(?!.*-(?:preview|pr)$)(?!build$)[a-z][a-z0-9-]{0,30}$/;
/** A directory under apps/ holding a Dockerfile. */
export const APP_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const AWS_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
export const AWS_REGION = /^[a-z]{2}(?:-[a-z]+)+-\d$/;
export const HTTPS_URL = /^https:\/\/[^\s/]+(?:\/\S*)?$/;
export const COSIGN_PUBLIC_KEY = /^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+\n-----END PUBLIC KEY-----\n?$/;

/** Environment that builds, signs and pushes the image (deploy.yml's `build` job). */
export const BUILD_ENVIRONMENT = "build";
/** Environment a stack deploys from (release.yml's deploy job): gated by the environment's reviewers. */
export const deployEnvironment = (environment: string) => environment;
/**
 * Environment the same stack is previewed from after merge, before the approval gate: open to
 * the deploy branches only (reviewed code), without reviewers so the reviewer sees the preview
 * before approving.
 */
export const previewEnvironment = (environment: string) => `${environment}-preview`;
/** Environment of a pull-request preview (preview.yml): reachable by unreviewed code. */
export const pullRequestEnvironment = (environment: string) => `${environment}-pr`;

/** Check names a pull request needs before it can merge. */
export const CI_CHECK = "ci";
export const pullRequestCheck = (environment: string) => `preview (${environment})`;

/** Secrets the workflows read, per environment. */
export const SECRET_NAMES = {
  /** Kubeconfig file content; the job writes it to a private temp file. */
  kubeconfig: "KUBE_CONFIG",
  /** Decrypts the stack's `secure:` config when its secrets provider is the passphrase (local/dev only). */
  configPassphrase: "PULUMI_CONFIG_PASSPHRASE",
  /** Password or token to push to the image registry (build environment only). */
  registryPassword: "REGISTRY_PASSWORD",
  /** Password or token to read the image registry, to verify signatures before a preview or deploy. */
  registryReadPassword: "REGISTRY_READ_PASSWORD",
  /** Slack-compatible incoming webhook that hears of every deploy and promotion. */
  notifyWebhookUrl: "NOTIFY_WEBHOOK_URL",
  /** A cosign private key and its password, where images are signed with a key pair (build environment only). */
  signingKey: "COSIGN_PRIVATE_KEY",
  signingKeyPassword: "COSIGN_PASSWORD",
} as const;

/** Variables the workflows read, per environment. */
export const VARIABLE_NAMES = {
  /** Stack name as the backend knows it: `prod`, or `my-org/api-stack/prod`. */
  stack: "PULUMI_STACK",
  /** Pulumi Cloud token scope the job's OIDC token is exchanged for: `team:<name>`. */
  tokenScope: "PULUMI_TOKEN_SCOPE",
  /** passphrase, service or awskms: which cloud login (if any) the job needs before Pulumi can decrypt. */
  secretsProvider: "SECRETS_PROVIDER",
  /** Role the job assumes through OIDC to use the stack's KMS key (awskms). */
  awsRoleArn: "AWS_ROLE_ARN",
  awsRegion: "AWS_REGION",
  /** Public URL of the environment, shown on its deployments. */
  environmentUrl: "ENVIRONMENT_URL",
  /** User for REGISTRY_READ_PASSWORD. */
  registryReadUsername: "REGISTRY_READ_USERNAME",
  // The build environment's.
  imageRepository: "IMAGE_REPOSITORY",
  app: "APP",
  registryUsername: "REGISTRY_USERNAME",
} as const;

/** Variables of the repository, readable by every workflow (nothing secret). */
export const REPOSITORY_VARIABLE_NAMES = {
  /** JSON list of the environments in promotion order: deploy.yml releases to each in turn. */
  deployEnvironments: "DEPLOY_ENVIRONMENTS",
  /** JSON list of the environments previewed for every pull request. */
  pullRequestPreviews: "PULL_REQUEST_PREVIEWS",
  /** Pulumi Cloud organization the OIDC token exchange asks. */
  pulumiOrganization: "PULUMI_ORGANIZATION",
  /** Self-hosted Pulumi service; unset, Pulumi Cloud. */
  backendUrl: "PULUMI_BACKEND_URL",
  /** Base image of every build, pinned by digest: the release build's and each pull request's (ci.yml). */
  baseImage: "BASE_IMAGE",
  /** The public key (PEM) images are verified against where they are signed with a key pair; unset: keyless. */
  signerPublicKey: "COSIGN_PUBLIC_KEY",
} as const;

export type SecretsProvider =
  /** The stack's key is kept by Pulumi Cloud (or ESC), per stack: the OIDC token is all a job needs. */
  | { kind: "service" }
  /** An AWS KMS key: the job assumes `roleArn` through GitHub's OIDC token. */
  | { kind: "awskms"; roleArn: string; region: string }
  /** A passphrase: only for environments without reviewers, whose secrets are disposable (local, dev). */
  | { kind: "passphrase" };

export interface ReviewersArgs {
  /** Numeric team ids (`gh api orgs/ORG/teams/SLUG --jq .id`). */
  teams?: number[];
  /** Numeric user ids (`gh api users/NAME --jq .id`). */
  users?: number[];
}

/**
 * One deployment environment (dev, staging, prod, ...). Each has its own identities: a deploy
 * one, a post-merge preview one and, only if asked for, a pull-request one. None falls back to
 * another environment's or to another purpose's.
 */
export interface EnvironmentArgs<S> {
  /** Environment name; also the default stack name. Lower case; not ending in -preview or -pr; not `build`. */
  name: string;
  /** Stack name as the backend knows it (`my-org/api-stack/prod`). Default: `name`. */
  stack?: string;
  /** Public URL of what the environment serves, shown on each deployment. */
  url?: string;
  /**
   * Who must approve each deployment (1 to 6 in all). None: the environment deploys as soon as the
   * one before it succeeded.
   */
  reviewers?: ReviewersArgs;
  /** Minutes a deployment waits after approval before it starts (0 to 43200). Default: 0. */
  waitTimerMinutes?: number;
  /** Branch name patterns that may deploy here (and preview after merge). Default: the default branch only. */
  deployBranches?: string[];
  /**
   * Pulumi Cloud teams whose short-lived tokens (OIDC) each purpose receives. Defaults:
   * `<repository>-<name>`, `<repository>-<name>-preview`, `<repository>-<name>-pr`.
   */
  pulumiTeams?: { deploy?: string; preview?: string; pullRequest?: string };
  secretsProvider: SecretsProvider;
  /** Kubeconfig of the deploy job. */
  kubeconfig: S;
  /**
   * Kubeconfig of the post-merge preview. Kubernetes authorizes a dry run like the write it
   * simulates, so this identity can change what it can preview: scope it to the namespace.
   */
  previewKubeconfig: S;
  /** Passphrase of the stack's secrets; only with the passphrase provider. */
  configPassphrase?: S;
  /**
   * Preview every pull request against this environment, with its own identity. Only for an
   * environment without reviewers whose secrets are disposable (passphrase provider): the
   * pull request's own code runs with it.
   */
  pullRequestPreview?: { kubeconfig: S };
}

export interface GithubRepositoryArgs<S> {
  /** User or organization that owns the repository. */
  owner: string;
  /** Repository name, without the owner. */
  repository: string;
  /** Branch deploys run from and that the ruleset guards. Default: main. */
  defaultBranch?: string;
  /** Token of the GitHub provider. Unset: the provider reads GITHUB_TOKEN. */
  token?: S;
  /** Approving reviews a pull request needs (1 to 6), one of them a code owner's. Default: 1. */
  requiredApprovals?: number;
  /** Hold administrators to the ruleset too. Default: true. */
  enforceAdmins?: boolean;
  /** Pulumi Cloud organization the workflows get OIDC tokens from, and a self-hosted service's URL. */
  pulumi: { organization: string; backendUrl?: string };
  /** What deploy.yml builds once and every environment then deploys by digest. */
  build: {
    /** Repository the image is pushed to, e.g. registry.example.com/team/api. */
    imageRepository: string;
    /** Base image pinned by digest. */
    baseImage: string;
    /** Directory under apps/ that is built. Default: fastapi. */
    app?: string;
    registryUsername?: string;
    registryPassword?: S;
    /**
     * Sign with a cosign key pair instead of keyless (GitHub's OIDC token, Fulcio and Rekor): for
     * registries or networks without the public transparency log. Default: keyless.
     */
    signingKey?: { publicKey: string; privateKey: S; password: S };
  };
  /** Read-only registry login for verifying signatures, when the registry is private. */
  registryRead?: { username: string; password: S };
  /** Slack-compatible webhook told of every deploy and promotion (each deploy environment). */
  notifyWebhookUrl?: S;
  /** Environments in promotion order. */
  environments: EnvironmentArgs<S>[];
}

export interface Problem {
  /** Where, as a path into the args: `environments[2].reviewers`. */
  path: string;
  /** The offending value (never a secret's), or undefined when it is missing. */
  value?: unknown;
  /** What is allowed instead. */
  allowed: string;
}

export const describeProblem = (p: Problem, name: (path: string) => string = (path) => path) =>
  `${name(p.path)}: ${p.value === undefined ? "missing" : JSON.stringify(p.value)} is not allowed; ` +
  `expected ${p.allowed}.`;

/** Every problem at once; empty when the args are usable. Secret values are only checked for presence. */
export function githubRepositoryProblems<S>(args: GithubRepositoryArgs<S>): Problem[] {
  const problems: Problem[] = [];
  const check = (ok: boolean, path: string, value: unknown, allowed: string) => {
    if (!ok) {
      problems.push({ path, value, allowed });
    }
  };
  const matches = (pattern: RegExp, value: unknown) => typeof value === "string" && pattern.test(value);
  const intIn = (value: unknown, min: number, max: number) =>
    Number.isInteger(value) && (value as number) >= min && (value as number) <= max;

  check(matches(GITHUB_OWNER, args.owner), "owner", args.owner, "a GitHub user or organization login");
  check(
    matches(GITHUB_REPOSITORY, args.repository),
    "repository",
    args.repository,
    "a repository name without the owner",
  );
  const branch = args.defaultBranch ?? "main";
  check(matches(GIT_BRANCH, branch), "defaultBranch", branch, "a valid branch name");
  check(
    intIn(args.requiredApprovals ?? 1, 1, 6),
    "requiredApprovals",
    args.requiredApprovals,
    "an integer from 1 to 6",
  );
  check(
    matches(PULUMI_NAME, args.pulumi?.organization),
    "pulumi.organization",
    args.pulumi?.organization,
    "a Pulumi organization name",
  );
  if (args.pulumi?.backendUrl !== undefined) {
    // The OIDC exchange is a Pulumi service's: s3://, gs://, azblob:// or file:// state would need
    // other credentials in every job (and file:// does not outlive a runner).
    check(
      matches(PULUMI_SERVICE_URL, args.pulumi.backendUrl),
      "pulumi.backendUrl",
      args.pulumi.backendUrl,
      "the https:// URL of a self-hosted Pulumi service",
    );
  }
  check(
    matches(IMAGE_REPOSITORY, args.build?.imageRepository),
    "build.imageRepository",
    args.build?.imageRepository,
    "an image repository without tag or digest, such as registry.example.com/team/api",
  );
  check(
    matches(DIGEST_REF_PATTERN, args.build?.baseImage),
    "build.baseImage",
    args.build?.baseImage,
    "a base image pinned by digest, repository@sha256:<64 hex digits> (a tag can change under the build)",
  );
  check(
    matches(APP_NAME, args.build?.app ?? "fastapi"),
    "build.app",
    args.build?.app,
    "the name of a directory under apps/",
  );
  check(
    (args.build?.registryUsername === undefined) === (args.build?.registryPassword === undefined),
    "build.registryPassword",
    args.build?.registryPassword === undefined ? undefined : "[secret]",
    "registryUsername and registryPassword set together, or neither",
  );
  if (args.build?.signingKey !== undefined) {
    check(
      matches(COSIGN_PUBLIC_KEY, args.build.signingKey.publicKey),
      "build.signingKey.publicKey",
      args.build.signingKey.publicKey,
      "a PEM public key (-----BEGIN PUBLIC KEY----- ... -----END PUBLIC KEY-----), " +
        "as `cosign generate-key-pair` writes it",
    );
    check(args.build.signingKey.privateKey !== undefined, "build.signingKey.privateKey", undefined, "its private key");
    check(args.build.signingKey.password !== undefined, "build.signingKey.password", undefined, "its password");
  }

  const environments = args.environments ?? [];
  check(environments.length > 0, "environments", undefined, "at least one environment, in promotion order");
  const seen = new Set<string>();
  environments.forEach((env, i) => {
    const at = (field: string) => `environments[${i}].${field}`;
    check(
      matches(ENVIRONMENT_NAME, env.name),
      at("name"),
      env.name,
      "a lower-case name (letters, digits, '-'), not ending in -preview or -pr, not build",
    );
    check(!seen.has(env.name), at("name"), env.name, "a name no other environment has");
    seen.add(env.name);
    if (env.stack !== undefined) {
      check(
        matches(PULUMI_STACK_NAME, env.stack),
        at("stack"),
        env.stack,
        `a stack name such as ${env.name} or my-org/api-stack/${env.name}`,
      );
    }
    if (env.url !== undefined) {
      check(matches(HTTPS_URL, env.url), at("url"), env.url, "an https:// URL");
    }
    const teams = env.reviewers?.teams ?? [];
    const users = env.reviewers?.users ?? [];
    for (const [kind, ids] of [
      ["teams", teams],
      ["users", users],
    ] as const) {
      check(
        ids.every((id) => intIn(id, 1, Number.MAX_SAFE_INTEGER)),
        at(`reviewers.${kind}`),
        ids,
        "positive integer ids (not names)",
      );
      check(new Set(ids).size === ids.length, at(`reviewers.${kind}`), ids, "each id once");
    }
    const reviewers = teams.length + users.length;
    check(
      reviewers <= MAX_REVIEWERS,
      at("reviewers"),
      env.reviewers,
      `at most ${MAX_REVIEWERS} reviewers in all (GitHub's limit)`,
    );
    check(
      intIn(env.waitTimerMinutes ?? 0, 0, MAX_WAIT_MINUTES),
      at("waitTimerMinutes"),
      env.waitTimerMinutes,
      `an integer from 0 to ${MAX_WAIT_MINUTES}`,
    );
    const deployBranches = env.deployBranches ?? [branch];
    check(
      deployBranches.length > 0 && deployBranches.every((p) => matches(BRANCH_PATTERN, p)),
      at("deployBranches"),
      env.deployBranches,
      "a non-empty list of branch name patterns",
    );
    for (const [purpose, team] of Object.entries(env.pulumiTeams ?? {})) {
      check(matches(PULUMI_NAME, team), at(`pulumiTeams.${purpose}`), team, "a Pulumi Cloud team name");
    }
    check(
      ["service", "awskms", "passphrase"].includes(env.secretsProvider?.kind),
      at("secretsProvider.kind"),
      env.secretsProvider?.kind,
      "service, awskms or passphrase",
    );
    if (env.secretsProvider?.kind === "awskms") {
      check(
        matches(AWS_ROLE_ARN, env.secretsProvider.roleArn),
        at("secretsProvider.roleArn"),
        env.secretsProvider.roleArn,
        "an IAM role ARN, arn:aws:iam::<account>:role/<name>",
      );
      check(
        matches(AWS_REGION, env.secretsProvider.region),
        at("secretsProvider.region"),
        env.secretsProvider.region,
        "an AWS region such as eu-west-1",
      );
    }
    const passphrase = env.secretsProvider?.kind === "passphrase";
    // A passphrase is one shared key that decrypts every secret of the stack, offline and forever:
    // acceptable for throwaway secrets only, never where a deployment needs approval.
    check(
      !(passphrase && reviewers > 0),
      at("secretsProvider.kind"),
      "passphrase",
      "service or awskms for an environment with reviewers (a passphrase is for local and dev stacks only)",
    );
    check(
      passphrase === (env.configPassphrase !== undefined),
      at("configPassphrase"),
      env.configPassphrase === undefined ? undefined : "[secret]",
      "a passphrase exactly when secretsProvider.kind is passphrase",
    );
    check(env.kubeconfig !== undefined, at("kubeconfig"), undefined, "the deploy job's kubeconfig");
    check(
      env.previewKubeconfig !== undefined,
      at("previewKubeconfig"),
      undefined,
      "the post-merge preview's own kubeconfig (no fallback to the deploy one)",
    );
    if (env.pullRequestPreview !== undefined) {
      check(
        env.pullRequestPreview.kubeconfig !== undefined,
        at("pullRequestPreview.kubeconfig"),
        undefined,
        "the pull-request preview's own kubeconfig (no fallback)",
      );
      // The pull request's own code runs with this identity before anyone reviewed it.
      check(
        reviewers === 0,
        at("pullRequestPreview"),
        "enabled",
        "no pull-request preview of an environment with reviewers: " +
          "it would run unreviewed code with that environment's identity",
      );
      check(
        passphrase,
        at("pullRequestPreview"),
        "enabled",
        "a pull-request preview only with the passphrase provider, whose secrets are disposable " +
          "(a Pulumi Cloud read token can decrypt service-provider secrets)",
      );
    }
  });
  if (args.registryRead !== undefined) {
    check(
      typeof args.registryRead.username === "string" && args.registryRead.username !== "",
      "registryRead.username",
      args.registryRead.username,
      "a user name",
    );
    check(args.registryRead.password !== undefined, "registryRead.password", undefined, "the read token");
  }
  return problems;
}

export interface EnvironmentSpec {
  name: string;
  /** The configured environment this one belongs to; undefined for the build environment. */
  of?: string;
  purpose: "build" | "deploy" | "preview" | "pull-request";
  waitTimer: number;
  reviewers?: { teams: number[]; users: number[] };
  /** Approvers may not approve a run they triggered themselves. */
  preventSelfReview: boolean;
  /** Administrators may skip the reviewers: never where there are reviewers. */
  canAdminsBypass: boolean;
  /** Branch patterns that may run jobs here; undefined: any ref, pull requests included. */
  branches?: string[];
}

const teamOf = (
  args: GithubRepositoryArgs<unknown>,
  env: EnvironmentArgs<unknown>,
  purpose: "deploy" | "preview" | "pullRequest",
) =>
  env.pulumiTeams?.[purpose] ??
  `${args.repository}-${env.name}${purpose === "deploy" ? "" : purpose === "preview" ? "-preview" : "-pr"}`;

/**
 * The build environment, then per configured environment: deploy, post-merge preview, and the
 * pull-request one if asked for.
 */
export function environmentSpecs<S>(args: GithubRepositoryArgs<S>): EnvironmentSpec[] {
  const main = [args.defaultBranch ?? "main"];
  const specs: EnvironmentSpec[] = [
    {
      name: BUILD_ENVIRONMENT,
      purpose: "build",
      waitTimer: 0,
      preventSelfReview: false,
      canAdminsBypass: true,
      branches: main,
    },
  ];
  for (const env of args.environments) {
    const teams = [...(env.reviewers?.teams ?? [])];
    const users = [...(env.reviewers?.users ?? [])];
    const gated = teams.length + users.length > 0;
    const branches = [...(env.deployBranches ?? main)];
    specs.push({
      name: deployEnvironment(env.name),
      of: env.name,
      purpose: "deploy",
      waitTimer: env.waitTimerMinutes ?? 0,
      reviewers: gated ? { teams, users } : undefined,
      preventSelfReview: gated,
      canAdminsBypass: !gated,
      branches,
    });
    specs.push({
      name: previewEnvironment(env.name),
      of: env.name,
      purpose: "preview",
      waitTimer: 0,
      preventSelfReview: false,
      canAdminsBypass: true,
      branches,
    });
    if (env.pullRequestPreview) {
      // Pull-request runs use refs/pull/N/merge, which no branch policy matches.
      specs.push({
        name: pullRequestEnvironment(env.name),
        of: env.name,
        purpose: "pull-request",
        waitTimer: 0,
        preventSelfReview: false,
        canAdminsBypass: true,
      });
    }
  }
  return specs;
}

export interface SecretSpec<S> {
  environment: string;
  name: string;
  value: S;
}

/** Every environment's secrets: each purpose its own kubeconfig, never another's. */
export function environmentSecrets<S>(args: GithubRepositoryArgs<S>): SecretSpec<S>[] {
  const secrets: SecretSpec<S>[] = [];
  const add = (environment: string, name: string, value: S | undefined) => {
    if (value !== undefined) {
      secrets.push({ environment, name, value });
    }
  };
  add(BUILD_ENVIRONMENT, SECRET_NAMES.registryPassword, args.build.registryPassword);
  add(BUILD_ENVIRONMENT, SECRET_NAMES.signingKey, args.build.signingKey?.privateKey);
  add(BUILD_ENVIRONMENT, SECRET_NAMES.signingKeyPassword, args.build.signingKey?.password);
  const byName = new Map(args.environments.map((env) => [env.name, env]));
  for (const spec of environmentSpecs(args).filter((s) => s.of !== undefined)) {
    const env = byName.get(spec.of!)!;
    const kubeconfig = {
      deploy: env.kubeconfig,
      preview: env.previewKubeconfig,
      "pull-request": env.pullRequestPreview?.kubeconfig,
    }[spec.purpose as "deploy" | "preview" | "pull-request"];
    add(spec.name, SECRET_NAMES.kubeconfig, kubeconfig);
    add(spec.name, SECRET_NAMES.configPassphrase, env.configPassphrase);
    if (spec.purpose !== "pull-request") {
      add(spec.name, SECRET_NAMES.registryReadPassword, args.registryRead?.password);
    }
    if (spec.purpose === "deploy") {
      add(spec.name, SECRET_NAMES.notifyWebhookUrl, args.notifyWebhookUrl);
    }
  }
  return secrets;
}

export interface VariableSpec {
  /** Undefined for a repository variable. */
  environment?: string;
  name: string;
  value: string;
}

export function environmentVariables<S>(args: GithubRepositoryArgs<S>): VariableSpec[] {
  const variables: VariableSpec[] = [];
  const add = (environment: string, name: string, value: string | undefined) => {
    if (value !== undefined) {
      variables.push({ environment, name, value });
    }
  };
  add(BUILD_ENVIRONMENT, VARIABLE_NAMES.imageRepository, args.build.imageRepository);
  add(BUILD_ENVIRONMENT, VARIABLE_NAMES.app, args.build.app ?? "fastapi");
  add(BUILD_ENVIRONMENT, VARIABLE_NAMES.registryUsername, args.build.registryUsername);
  const byName = new Map(args.environments.map((env) => [env.name, env]));
  for (const spec of environmentSpecs(args).filter((s) => s.of !== undefined)) {
    const env = byName.get(spec.of!)!;
    const purpose = ({ deploy: "deploy", preview: "preview", "pull-request": "pullRequest" } as const)[
      spec.purpose as "deploy" | "preview" | "pull-request"
    ];
    add(spec.name, VARIABLE_NAMES.stack, env.stack ?? env.name);
    add(spec.name, VARIABLE_NAMES.tokenScope, `team:${teamOf(args, env, purpose)}`);
    add(spec.name, VARIABLE_NAMES.secretsProvider, env.secretsProvider.kind);
    if (env.secretsProvider.kind === "awskms" && spec.purpose !== "pull-request") {
      add(spec.name, VARIABLE_NAMES.awsRoleArn, env.secretsProvider.roleArn);
      add(spec.name, VARIABLE_NAMES.awsRegion, env.secretsProvider.region);
    }
    if (spec.purpose !== "pull-request") {
      add(spec.name, VARIABLE_NAMES.registryReadUsername, args.registryRead?.username);
    }
    if (spec.purpose === "deploy") {
      add(spec.name, VARIABLE_NAMES.environmentUrl, env.url);
    }
  }
  return variables;
}

export function repositoryVariables<S>(args: GithubRepositoryArgs<S>): VariableSpec[] {
  const variables: VariableSpec[] = [
    {
      name: REPOSITORY_VARIABLE_NAMES.deployEnvironments,
      value: JSON.stringify(args.environments.map((env) => env.name)),
    },
    {
      name: REPOSITORY_VARIABLE_NAMES.pullRequestPreviews,
      value: JSON.stringify(args.environments.filter((env) => env.pullRequestPreview).map((env) => env.name)),
    },
    { name: REPOSITORY_VARIABLE_NAMES.pulumiOrganization, value: args.pulumi.organization },
    { name: REPOSITORY_VARIABLE_NAMES.baseImage, value: args.build.baseImage },
  ];
  if (args.build.signingKey !== undefined) {
    variables.push({ name: REPOSITORY_VARIABLE_NAMES.signerPublicKey, value: args.build.signingKey.publicKey });
  }
  if (args.pulumi.backendUrl !== undefined) {
    variables.push({ name: REPOSITORY_VARIABLE_NAMES.backendUrl, value: args.pulumi.backendUrl });
  }
  return variables;
}

export interface RequiredCheck {
  context: string;
  /** The app that must report it: a status any writer posts under the same name does not count. */
  integrationId: number;
}

/** ci.yml's gate job and one pull-request preview per environment that has them. */
export function requiredChecks<S>(args: GithubRepositoryArgs<S>): RequiredCheck[] {
  return [
    CI_CHECK,
    ...args.environments.filter((env) => env.pullRequestPreview).map((env) => pullRequestCheck(env.name)),
  ].map((context) => ({ context, integrationId: GITHUB_ACTIONS_APP_ID }));
}

export interface RulesetSpec {
  name: string;
  target: "branch";
  enforcement: "active";
  includes: string[];
  /** Who may skip the rules: nobody, unless administrators are exempted on purpose. */
  bypassActors: { actorType: "RepositoryRole"; actorId: number; bypassMode: "always" }[];
  rules: {
    deletion: boolean;
    nonFastForward: boolean;
    pullRequest: {
      requiredApprovingReviewCount: number;
      dismissStaleReviewsOnPush: boolean;
      requireCodeOwnerReview: boolean;
      requireLastPushApproval: boolean;
      requiredReviewThreadResolution: boolean;
    };
    requiredStatusChecks: { strictRequiredStatusChecksPolicy: boolean; requiredChecks: RequiredCheck[] };
  };
}

/** GitHub's id of the built-in repository admin role, as a ruleset bypass actor. */
const REPOSITORY_ADMIN_ROLE = 5;

/**
 * The branches the ruleset guards: the default branch and every pattern an environment deploys
 * from. An environment's deployment branch policy admits any push to a branch it names, so a
 * deploy branch left out of the ruleset would let a direct push run unreviewed code in that
 * environment's preview (and, after approval, its deploy).
 */
export function protectedBranches<S>(args: GithubRepositoryArgs<S>): string[] {
  const main = args.defaultBranch ?? "main";
  return [...new Set([main, ...args.environments.flatMap((env) => env.deployBranches ?? [main])])];
}

export function rulesetSpec<S>(args: GithubRepositoryArgs<S>): RulesetSpec {
  const branches = protectedBranches(args);
  return {
    name: `protect ${branches.join(", ")}`,
    target: "branch",
    enforcement: "active",
    includes: branches.map((branch) => `refs/heads/${branch}`),
    bypassActors:
      (args.enforceAdmins ?? true)
        ? []
        : [{ actorType: "RepositoryRole", actorId: REPOSITORY_ADMIN_ROLE, bypassMode: "always" }],
    rules: {
      deletion: true,
      nonFastForward: true,
      pullRequest: {
        requiredApprovingReviewCount: args.requiredApprovals ?? 1,
        // A push after approval (new code) needs a fresh approval, from someone other than its author.
        dismissStaleReviewsOnPush: true,
        requireLastPushApproval: true,
        // .github/CODEOWNERS: the workflows, the policy pack, stack files and this project need their owners.
        requireCodeOwnerReview: true,
        requiredReviewThreadResolution: true,
      },
      requiredStatusChecks: {
        // Up to date with the branch: the merged tree is the one CI tested.
        strictRequiredStatusChecksPolicy: true,
        requiredChecks: requiredChecks(args),
      },
    },
  };
}
