// The GithubRepository component and the GitHub project (github/) under Pulumi's mocks: what
// they would ask the GitHub API for, that every credential reaches the provider as a Pulumi
// secret, and that a bad config creates nothing and names each bad key.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { load } from "js-yaml";
import { GithubRepository, type GithubRepositoryArgs } from "../../github/component";
import { parseGithubConfig } from "../../github/config";
import {
  githubProgram,
  GITHUB_PROJECT,
  GITHUB_PROJECT_DIR,
  isSecret,
  plainStrings,
  reveal,
  runMocked,
  type MockedRun,
} from "./github-mocks";

const T = {
  component: "api-stack:index:GithubRepository",
  provider: "pulumi:providers:github",
  environment: "github:index/repositoryEnvironment:RepositoryEnvironment",
  policy: "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy",
  secret: "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret",
  variable: "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable",
  repositoryVariable: "github:index/actionsVariable:ActionsVariable",
  ruleset: "github:index/repositoryRuleset:RepositoryRuleset",
  workflowPermissions: "github:index/workflowRepositoryPermissions:WorkflowRepositoryPermissions",
};

const CREDENTIALS = {
  githubToken: "github_pat_unit_test_0123456789",
  devKubeconfig: "apiVersion: v1\nkind: Config\n# dev deploy\n",
  devPreviewKubeconfig: "apiVersion: v1\nkind: Config\n# dev preview\n",
  devPullRequestKubeconfig: "apiVersion: v1\nkind: Config\n# dev pull requests\n",
  prodKubeconfig: "apiVersion: v1\nkind: Config\n# prod deploy\n",
  prodPreviewKubeconfig: "apiVersion: v1\nkind: Config\n# prod preview\n",
  devPassphrase: "dev-passphrase-unit-test",
  webhook: "https://hooks.example.com/services/unit-test-webhook",
  registryPassword: "registry-push-token-unit-test",
};
const DIGEST = "b".repeat(64);

const byType = (r: MockedRun, type: string) => r.resources.filter((x) => x.type === type);
const environmentNames = (r: MockedRun) =>
  byType(r, T.environment)
    .map((e) => e.inputs.environment)
    .sort();

function componentArgs(): GithubRepositoryArgs {
  return {
    owner: "example-org",
    repository: "api-stack",
    token: CREDENTIALS.githubToken,
    requiredApprovals: 2,
    pulumi: { organization: "example-org" },
    build: {
      imageRepository: "registry.example.com/platform/api",
      baseImage: `python@sha256:${DIGEST}`,
      registryUsername: "ci",
      registryPassword: CREDENTIALS.registryPassword,
    },
    notifyWebhookUrl: CREDENTIALS.webhook,
    environments: [
      {
        name: "dev",
        secretsProvider: { kind: "passphrase" },
        configPassphrase: CREDENTIALS.devPassphrase,
        kubeconfig: CREDENTIALS.devKubeconfig,
        previewKubeconfig: CREDENTIALS.devPreviewKubeconfig,
        pullRequestPreview: { kubeconfig: CREDENTIALS.devPullRequestKubeconfig },
      },
      {
        name: "prod",
        stack: "example-org/api-stack/prod",
        url: "https://api.example.com",
        reviewers: { teams: [4321], users: [1234567] },
        waitTimerMinutes: 15,
        secretsProvider: { kind: "service" },
        kubeconfig: CREDENTIALS.prodKubeconfig,
        previewKubeconfig: CREDENTIALS.prodPreviewKubeconfig,
      },
    ],
  };
}

/** The component's public outputs, as the GitHub project exports them. */
const outputsOf = ({ repository, environments, requiredChecks }: GithubRepository) => ({
  repository,
  environments,
  requiredChecks,
});

describe("GithubRepository (mocks)", () => {
  let r: MockedRun;
  before(async () => {
    r = await runMocked(() => ({ github: outputsOf(new GithubRepository("repo", componentArgs())) }));
    if (r.error) {
      throw r.error;
    }
  });

  it("creates the build environment, then per environment a deploy, a post-merge and if asked a PR preview", () => {
    assert.deepEqual(environmentNames(r), ["build", "dev", "dev-pr", "dev-preview", "prod", "prod-preview"]);
    assert.deepEqual(r.outputs!.github, {
      repository: "example-org/api-stack",
      environments: ["build", "dev", "dev-preview", "dev-pr", "prod", "prod-preview"],
      requiredChecks: ["ci (app 15368)", "preview (dev) (app 15368)"],
    });
  });

  it("gates prod behind reviewers and a wait timer, opens every environment but the pull-request one to main", () => {
    const env = (name: string) => byType(r, T.environment).find((e) => e.inputs.environment === name)!.inputs;
    assert.deepEqual(env("prod").reviewers, [{ teams: [4321], users: [1234567] }]);
    assert.equal(env("prod").waitTimer, 15);
    assert.equal(env("prod").preventSelfReview, true);
    assert.equal(env("prod").canAdminsBypass, false);
    for (const name of ["build", "dev", "dev-preview", "prod", "prod-preview"]) {
      assert.deepEqual(
        env(name).deploymentBranchPolicy,
        { protectedBranches: false, customBranchPolicies: true },
        name,
      );
    }
    assert.equal(env("dev-pr").deploymentBranchPolicy, undefined);
    const policies = byType(r, T.policy)
      .map((p) => `${p.inputs.environment}:${p.inputs.branchPattern}`)
      .sort();
    assert.deepEqual(policies, ["build:main", "dev-preview:main", "dev:main", "prod-preview:main", "prod:main"]);
  });

  it("stores every secret as a Pulumi secret, each kubeconfig in its own environment only", () => {
    const secrets = byType(r, T.secret);
    for (const s of secrets) {
      assert.ok(isSecret(s.inputs.value), `${s.name} is not marked secret`);
      assert.equal(s.inputs.plaintextValue, undefined);
    }
    const where = (value: string) =>
      secrets
        .filter((s) => reveal(s.inputs.value) === value)
        .map((s) => `${s.inputs.environment}/${s.inputs.secretName}`)
        .sort();
    assert.deepEqual(where(CREDENTIALS.prodKubeconfig), ["prod/KUBE_CONFIG"]);
    assert.deepEqual(where(CREDENTIALS.prodPreviewKubeconfig), ["prod-preview/KUBE_CONFIG"]);
    assert.deepEqual(where(CREDENTIALS.devPullRequestKubeconfig), ["dev-pr/KUBE_CONFIG"]);
    assert.deepEqual(where(CREDENTIALS.registryPassword), ["build/REGISTRY_PASSWORD"]);
    assert.deepEqual(where(CREDENTIALS.webhook), ["dev/NOTIFY_WEBHOOK_URL", "prod/NOTIFY_WEBHOOK_URL"]);
    assert.deepEqual(where(CREDENTIALS.devPassphrase), [
      "dev-pr/PULUMI_CONFIG_PASSPHRASE",
      "dev-preview/PULUMI_CONFIG_PASSPHRASE",
      "dev/PULUMI_CONFIG_PASSPHRASE",
    ]);
  });

  it("keeps every credential out of plain inputs", () => {
    const visible = r.resources.flatMap((x) => plainStrings(x.inputs)).join("\n");
    for (const [name, value] of Object.entries(CREDENTIALS)) {
      assert.ok(!visible.includes(value), `${name} appears unencrypted in some resource's inputs`);
    }
  });

  it("sets each environment's variables and the repository's environment lists", () => {
    const variables = byType(r, T.variable).map(
      (v) => `${v.inputs.environment}/${v.inputs.variableName}=${v.inputs.value}`,
    );
    for (const expected of [
      "prod/PULUMI_STACK=example-org/api-stack/prod",
      "prod/PULUMI_TOKEN_SCOPE=team:api-stack-prod",
      "prod-preview/PULUMI_TOKEN_SCOPE=team:api-stack-prod-preview",
      "dev-pr/PULUMI_TOKEN_SCOPE=team:api-stack-dev-pr",
      "prod/SECRETS_PROVIDER=service",
      "prod/ENVIRONMENT_URL=https://api.example.com",
    ]) {
      assert.ok(variables.includes(expected), `missing ${expected}`);
    }
    const repository = byType(r, T.repositoryVariable)
      .map((v) => [v.inputs.variableName, v.inputs.value])
      .sort();
    assert.deepEqual(repository, [
      ["BASE_IMAGE", `python@sha256:${DIGEST}`],
      ["DEPLOY_ENVIRONMENTS", '["dev","prod"]'],
      ["PULL_REQUEST_PREVIEWS", '["dev"]'],
      ["PULUMI_ORGANIZATION", "example-org"],
    ]);
  });

  it("starts every workflow token read-only and forbids workflows to approve pull requests", () => {
    assert.deepEqual(
      byType(r, T.workflowPermissions).map((p) => p.inputs),
      [{ repository: "api-stack", defaultWorkflowPermissions: "read", canApprovePullRequestReviews: false }],
    );
  });

  it("guards main with a ruleset: code-owner review, checks pinned to the GitHub Actions app, no force push", () => {
    const [ruleset] = byType(r, T.ruleset);
    assert.equal(byType(r, T.ruleset).length, 1);
    const { rules, conditions, bypassActors, enforcement } = ruleset.inputs;
    assert.equal(enforcement, "active");
    assert.deepEqual(conditions.refName.includes, ["refs/heads/main"]);
    assert.deepEqual(bypassActors, []);
    assert.deepEqual(rules.requiredStatusChecks.requiredChecks, [
      { context: "ci", integrationId: 15368 },
      { context: "preview (dev)", integrationId: 15368 },
    ]);
    assert.equal(rules.requiredStatusChecks.strictRequiredStatusChecksPolicy, true);
    assert.equal(rules.pullRequest.requireCodeOwnerReview, true);
    assert.equal(rules.pullRequest.requiredApprovingReviewCount, 2);
    assert.equal(rules.nonFastForward, true);
    assert.equal(rules.deletion, true);
  });

  it("talks to GitHub through its own provider, with a secret token, parenting everything under the component", () => {
    const [provider] = byType(r, T.provider);
    assert.equal(provider.inputs.owner, "example-org");
    assert.ok(isSecret(provider.inputs.token));
    assert.equal(reveal(provider.inputs.token), CREDENTIALS.githubToken);
    for (const resource of r.resources.filter((x) => x.type.startsWith("github:"))) {
      assert.equal(resource.provider, "repo", `${resource.key} does not use the component's provider`);
      assert.equal(resource.parent, `${T.component}::repo`, `${resource.key} is not parented to the component`);
    }
  });

  it("creates nothing at all when its args are invalid, and lists every problem", async () => {
    const args = componentArgs();
    args.environments[1].secretsProvider = { kind: "passphrase" };
    args.build.baseImage = "python:3.12-slim";
    const bad = await runMocked(() => ({ github: outputsOf(new GithubRepository("repo", args)) }));
    assert.match(bad.error!.message, /build\.baseImage: "python:3\.12-slim" is not allowed/);
    assert.match(bad.error!.message, /environments\[1\]\.secretsProvider\.kind: "passphrase" is not allowed/);
    assert.deepEqual(
      bad.resources.filter((x) => x.type !== "pulumi:pulumi:Stack"),
      [],
    );
  });
});

// The example stack file, with stand-ins for the secrets an operator sets with `pulumi config set --secret`.
function exampleConfig(): { config: Record<string, unknown>; secret: string[] } {
  const file = load(fs.readFileSync(path.join(GITHUB_PROJECT_DIR, "Pulumi.example.yaml"), "utf8")) as {
    config: Record<string, unknown>;
  };
  const config = Object.fromEntries(
    Object.entries(file.config).map(([key, value]) => [key.replace(/^api-stack-github:/, ""), value]),
  );
  const secrets: Record<string, string> = {
    token: CREDENTIALS.githubToken,
    registryPassword: CREDENTIALS.registryPassword,
    notifyWebhookUrl: CREDENTIALS.webhook,
    "configPassphrase-dev": CREDENTIALS.devPassphrase,
    "pullRequestKubeconfig-dev": CREDENTIALS.devPullRequestKubeconfig,
  };
  for (const env of ["dev", "staging", "prod"]) {
    secrets[`kubeconfig-${env}`] = `apiVersion: v1\nkind: Config\n# ${env} deploy\n`;
    secrets[`previewKubeconfig-${env}`] = `apiVersion: v1\nkind: Config\n# ${env} preview\n`;
  }
  return { config: { ...config, ...secrets }, secret: Object.keys(secrets) };
}

describe("GitHub project github/ (mocks)", () => {
  it("declares its own project, apart from the app's", () => {
    const project = load(fs.readFileSync(path.join(GITHUB_PROJECT_DIR, "Pulumi.yaml"), "utf8")) as {
      name: string;
      runtime: { name: string };
    };
    assert.equal(project.name, "api-stack-github");
    assert.equal(project.runtime.name, "nodejs");
  });

  it("hands every secret key, and only those, to the secret wrapper (pure, no mocks)", () => {
    const { config, secret } = exampleConfig();
    const values = Object.fromEntries(
      Object.entries(config).map(([key, value]) => [
        `${GITHUB_PROJECT}:${key}`,
        typeof value === "string" ? value : JSON.stringify(value),
      ]),
    );
    const wrapped: string[] = [];
    const result = parseGithubConfig(
      { values, secretKeys: new Set(secret.map((k) => `${GITHUB_PROJECT}:${k}`)), project: GITHUB_PROJECT },
      (value) => {
        wrapped.push(value);
        return `wrapped(${value})`;
      },
    );
    assert.ok(result.ok, JSON.stringify(!result.ok && result.errors));
    assert.deepEqual(wrapped.sort(), secret.map((key) => String(config[key])).sort());
    assert.equal(result.args.environments[2].kubeconfig, `wrapped(${String(config["kubeconfig-prod"])})`);
    assert.equal(
      result.args.environments[0].pullRequestPreview?.kubeconfig,
      `wrapped(${CREDENTIALS.devPullRequestKubeconfig})`,
    );
    assert.deepEqual(result.args.environments[2].secretsProvider, {
      kind: "awskms",
      roleArn: "arn:aws:iam::123456789012:role/api-stack-prod-kms",
      region: "eu-west-1",
    });
  });

  it("runs the example stack: three environments in order, each with its own identities", async () => {
    const { config, secret } = exampleConfig();
    const r = await runMocked(githubProgram, config, secret);
    assert.equal(r.error, undefined, r.error?.message);
    assert.deepEqual(environmentNames(r), [
      "build",
      "dev",
      "dev-pr",
      "dev-preview",
      "prod",
      "prod-preview",
      "staging",
      "staging-preview",
    ]);
    const variable = (env: string, name: string) =>
      byType(r, T.variable).find((v) => v.inputs.environment === env && v.inputs.variableName === name)?.inputs.value;
    assert.equal(variable("prod", "SECRETS_PROVIDER"), "awskms");
    assert.equal(variable("prod", "AWS_ROLE_ARN"), "arn:aws:iam::123456789012:role/api-stack-prod-kms");
    assert.equal(variable("staging", "SECRETS_PROVIDER"), "service");
    const prod = byType(r, T.environment).find((e) => e.inputs.environment === "prod")!.inputs;
    assert.deepEqual(prod.reviewers, [{ teams: [4321], users: [1234567] }]);
    assert.equal(prod.waitTimer, 10);
    const staging = byType(r, T.environment).find((e) => e.inputs.environment === "staging")!.inputs;
    assert.deepEqual(staging.reviewers, [{ teams: [4321], users: [] }]);
    assert.equal(
      byType(r, T.repositoryVariable).find((v) => v.inputs.variableName === "DEPLOY_ENVIRONMENTS")!.inputs.value,
      '["dev","staging","prod"]',
    );
    const visible = r.resources.flatMap((x) => plainStrings(x.inputs)).join("\n");
    for (const key of secret) {
      assert.ok(!visible.includes(String(config[key])), `${key} appears unencrypted`);
    }
  });

  const invalid: [string, (c: Record<string, unknown>, secret: string[]) => void, RegExp][] = [
    [
      "a kubeconfig stored in plaintext",
      (_c, s) => s.splice(s.indexOf("kubeconfig-prod"), 1),
      /api-stack-github:kubeconfig-prod: the value is stored in plaintext; it must be a secret/,
    ],
    [
      "a missing preview kubeconfig",
      (c) => delete c["previewKubeconfig-prod"],
      new RegExp(
        "api-stack-github:previewKubeconfig-prod: missing is not allowed; " +
          "expected the post-merge preview's own kubeconfig",
      ),
    ],
    [
      "a secret for an environment that does not exist",
      (c, s) => ((c["kubeconfig-qa"] = "k"), s.push("kubeconfig-qa")),
      /api-stack-github:kubeconfig-qa is not a known key; expected there is no environment named "qa"/,
    ],
    ["a misspelt key", (c) => (c.requiredApproval = 2), /api-stack-github:requiredApproval is not a known key/],
    [
      "a base image by tag",
      (c) => (c.baseImage = "python:3.12-slim"),
      /api-stack-github:baseImage: "python:3\.12-slim" is not allowed; expected a base image pinned by digest/,
    ],
    [
      "approvals that are not a number",
      (c) => (c.requiredApprovals = "two"),
      /api-stack-github:requiredApprovals: "two" is not allowed; expected an integer from 1 to 6/,
    ],
    [
      "an environment field of the wrong type",
      (c) => ((c.environments as Record<string, unknown>[])[2].waitTimerMinutes = "ten"),
      /api-stack-github:environments\[2\]\.waitTimerMinutes: "ten" is not allowed; expected number/,
    ],
    [
      "an unknown environment field",
      (c) => ((c.environments as Record<string, unknown>[])[0].reviewer = [1]),
      /api-stack-github:environments\[0\]\.reviewer: \[1\] is not allowed; expected only the fields name, stack/,
    ],
    [
      "a passphrase on a gated environment",
      (c) =>
        ((c.environments as Record<string, unknown>[])[2] = {
          ...(c.environments as Record<string, unknown>[])[2],
          secretsProvider: "passphrase",
          awsRoleArn: undefined,
          awsRegion: undefined,
        }),
      new RegExp(
        'api-stack-github:environments\\[2\\]\\.secretsProvider: "passphrase" is not allowed; ' +
          "expected service or awskms for an environment with reviewers",
      ),
    ],
    [
      "a KMS role on a service-provider environment",
      (c) => ((c.environments as Record<string, unknown>[])[1].awsRoleArn = "arn:aws:iam::123456789012:role/x"),
      /api-stack-github:environments\[1\]\.awsRoleArn: .* expected it only with secretsProvider awskms/,
    ],
    [
      "an http webhook",
      (c) => (c.notifyWebhookUrl = "http://hooks.example.com/x"),
      /api-stack-github:notifyWebhookUrl: \[secret\] is not allowed; expected an https:\/\/ webhook URL/,
    ],
    [
      "no environments",
      (c) => delete c.environments,
      /api-stack-github:environments: missing is not allowed; expected a list of environments/,
    ],
  ];
  for (const [what, change, message] of invalid) {
    it(`refuses ${what}, naming the key, and creates nothing`, async () => {
      const { config, secret } = exampleConfig();
      change(config, secret);
      const r = await runMocked(githubProgram, JSON.parse(JSON.stringify(config)), secret);
      assert.ok(r.error, "the program accepted it");
      assert.match(r.error.message, /^Invalid stack configuration \(\d+ problems?\); nothing was created or changed:/);
      assert.match(r.error.message, message);
      for (const value of Object.values(CREDENTIALS)) {
        assert.ok(!r.error.message.includes(value), "the error prints a secret");
      }
      assert.deepEqual(
        r.resources.filter((x) => x.type !== "pulumi:pulumi:Stack"),
        [],
      );
    });
  }
});
