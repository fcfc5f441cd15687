import { strict as assert } from "node:assert";
import {
  environmentSecrets,
  environmentSpecs,
  environmentVariables,
  GITHUB_ACTIONS_APP_ID,
  githubRepositoryProblems,
  repositoryVariables,
  requiredChecks,
  rulesetSpec,
  type EnvironmentArgs,
  type GithubRepositoryArgs,
} from "./spec";

// Secrets are opaque to the specs; tagged strings show where each one ends up.
type Args = GithubRepositoryArgs<string>;
const DIGEST = "a".repeat(64);

function environment(name: string, overrides: Partial<EnvironmentArgs<string>> = {}): EnvironmentArgs<string> {
  return {
    name,
    secretsProvider: { kind: "service" },
    kubeconfig: `${name}-deploy-kubeconfig`,
    previewKubeconfig: `${name}-preview-kubeconfig`,
    ...overrides,
  };
}

function args(overrides: Partial<Args> = {}): Args {
  return {
    owner: "example-org",
    repository: "api-stack",
    token: "github-token",
    pulumi: { organization: "example-org" },
    build: { imageRepository: "registry.example.com/platform/api", baseImage: `python@sha256:${DIGEST}` },
    environments: [
      environment("dev", {
        secretsProvider: { kind: "passphrase" },
        configPassphrase: "dev-passphrase",
        pullRequestPreview: { kubeconfig: "dev-pr-kubeconfig" },
      }),
      environment("staging", { stack: "example-org/api-stack/staging", reviewers: { teams: [11] } }),
      environment("prod", {
        stack: "example-org/api-stack/prod",
        url: "https://api.example.com",
        reviewers: { teams: [4321], users: [1234567] },
        waitTimerMinutes: 10,
        secretsProvider: {
          kind: "awskms",
          roleArn: "arn:aws:iam::123456789012:role/api-prod-kms",
          region: "eu-west-1",
        },
      }),
    ],
    ...overrides,
  };
}

const withEnvironment = (index: number, change: Partial<EnvironmentArgs<string>>) => (a: Args) => {
  a.environments[index] = { ...a.environments[index], ...change };
};

describe("githubRepositoryProblems", () => {
  it("accepts a complete config with any number of environments", () => {
    assert.deepEqual(githubRepositoryProblems(args()), []);
    assert.deepEqual(
      githubRepositoryProblems(args({ environments: [environment("prod", { reviewers: { users: [1] } })] })),
      [],
    );
    const five = ["dev", "qa", "staging", "prod-eu", "prod-us"].map((name) => environment(name));
    assert.deepEqual(githubRepositoryProblems(args({ environments: five })), []);
  });

  const invalid: [string, Partial<Args> | ((a: Args) => void), string, RegExp][] = [
    [
      "an owner with a slash",
      { owner: "example-org/api-stack" },
      "owner",
      /"example-org\/api-stack" is not allowed; expected a GitHub user/,
    ],
    ["a repository with the owner in it", { repository: "example-org/api-stack" }, "repository", /without the owner/],
    ["a branch with '..'", { defaultBranch: "main..dev" }, "defaultBranch", /"main\.\.dev"/],
    [
      "zero approvals",
      { requiredApprovals: 0 },
      "requiredApprovals",
      /0 is not allowed; expected an integer from 1 to 6/,
    ],
    [
      "a file backend",
      { pulumi: { organization: "example-org", backendUrl: "file:///var/pulumi" } },
      "pulumi.backendUrl",
      /https:\/\/ URL of a self-hosted Pulumi service/,
    ],
    [
      "a base image by tag",
      (a) => (a.build.baseImage = "python:3.12-slim"),
      "build.baseImage",
      /"python:3\.12-slim" is not allowed; expected a base image pinned by digest/,
    ],
    [
      "an image repository with a tag",
      (a) => (a.build.imageRepository = "registry.example.com/api:latest"),
      "build.imageRepository",
      /without tag or digest/,
    ],
    [
      "a registry user without a password",
      (a) => (a.build.registryUsername = "ci"),
      "build.registryPassword",
      /set together/,
    ],
    [
      "no environment",
      { environments: [] },
      "environments",
      /undefined is not allowed; expected at least one environment/,
    ],
    [
      "a duplicate environment",
      (a) => a.environments.push(environment("dev")),
      "environments[3].name",
      /"dev" is not allowed; expected a name no other environment has/,
    ],
    [
      "an environment named like a preview one",
      withEnvironment(1, { name: "staging-preview" }),
      "environments[1].name",
      /not ending in -preview or -pr/,
    ],
    ["an environment named build", withEnvironment(1, { name: "build" }), "environments[1].name", /not build/],
    [
      "a reviewer given by name",
      withEnvironment(2, { reviewers: { users: ["octocat" as unknown as number] } }),
      "environments[2].reviewers.users",
      /positive integer ids/,
    ],
    [
      "seven reviewers",
      withEnvironment(2, { reviewers: { users: [1, 2, 3, 4, 5, 6, 7] } }),
      "environments[2].reviewers",
      /at most 6 reviewers/,
    ],
    [
      "a duplicate reviewer",
      withEnvironment(2, { reviewers: { users: [5, 5] } }),
      "environments[2].reviewers.users",
      /each id once/,
    ],
    [
      "a wait timer over 30 days",
      withEnvironment(2, { waitTimerMinutes: 43201 }),
      "environments[2].waitTimerMinutes",
      /43201 is not allowed/,
    ],
    [
      "no deploy branch",
      withEnvironment(2, { deployBranches: [] }),
      "environments[2].deployBranches",
      /non-empty list/,
    ],
    [
      "a malformed stack name",
      withEnvironment(2, { stack: "org/api stack/prod" }),
      "environments[2].stack",
      /"org\/api stack\/prod"/,
    ],
    ["an http URL", withEnvironment(2, { url: "http://api.example.com" }), "environments[2].url", /https:\/\/ URL/],
    [
      "an unknown secrets provider",
      withEnvironment(1, { secretsProvider: { kind: "gcpkms" } as never }),
      "environments[1].secretsProvider.kind",
      /service, awskms or passphrase/,
    ],
    [
      "a KMS role that is not an ARN",
      withEnvironment(2, { secretsProvider: { kind: "awskms", roleArn: "api-prod-kms", region: "eu-west-1" } }),
      "environments[2].secretsProvider.roleArn",
      /IAM role ARN/,
    ],
    [
      "a passphrase where deployments need approval",
      withEnvironment(2, { secretsProvider: { kind: "passphrase" }, configPassphrase: "prod-passphrase" }),
      "environments[2].secretsProvider.kind",
      /a passphrase is for local and dev stacks only/,
    ],
    [
      "a passphrase without the passphrase provider",
      withEnvironment(1, { configPassphrase: "x" }),
      "environments[1].configPassphrase",
      /exactly when secretsProvider.kind is passphrase/,
    ],
    [
      "the passphrase provider without a passphrase",
      withEnvironment(0, { configPassphrase: undefined }),
      "environments[0].configPassphrase",
      /exactly when/,
    ],
    [
      "no preview kubeconfig",
      withEnvironment(2, { previewKubeconfig: undefined }),
      "environments[2].previewKubeconfig",
      /no fallback to the deploy one/,
    ],
    [
      "no deploy kubeconfig",
      withEnvironment(2, { kubeconfig: undefined }),
      "environments[2].kubeconfig",
      /deploy job's kubeconfig/,
    ],
    [
      "a pull-request preview of an environment with reviewers",
      withEnvironment(1, {
        secretsProvider: { kind: "passphrase" },
        configPassphrase: "p",
        pullRequestPreview: { kubeconfig: "k" },
      }),
      "environments[1].pullRequestPreview",
      /unreviewed code with that environment's identity/,
    ],
    [
      "a pull-request preview of a stack whose secrets a read token decrypts",
      withEnvironment(1, { reviewers: undefined, pullRequestPreview: { kubeconfig: "k" } }),
      "environments[1].pullRequestPreview",
      /only with the passphrase provider/,
    ],
    [
      "a pull-request preview without its kubeconfig",
      withEnvironment(0, { pullRequestPreview: { kubeconfig: undefined as never } }),
      "environments[0].pullRequestPreview.kubeconfig",
      /no fallback/,
    ],
  ];
  for (const [what, change, path, message] of invalid) {
    it(`refuses ${what}, naming ${path} and what is allowed`, () => {
      const bad = args(typeof change === "function" ? {} : change);
      if (typeof change === "function") {
        change(bad);
      }
      const problems = githubRepositoryProblems(bad);
      const problem = problems.find((p) => p.path === path);
      assert.ok(problem, `no problem at ${path}: ${JSON.stringify(problems)}`);
      assert.match(`${JSON.stringify(problem.value)} is not allowed; expected ${problem.allowed}`, message);
      for (const secret of [
        "github-token",
        "dev-passphrase",
        "prod-passphrase",
        "-deploy-kubeconfig",
        "-preview-kubeconfig",
        "dev-pr-kubeconfig",
      ]) {
        assert.ok(!JSON.stringify(problems).includes(secret), `a problem prints the secret ${secret}`);
      }
    });
  }
});

describe("environmentSpecs", () => {
  const specs = environmentSpecs(args());
  const spec = (name: string) => specs.find((s) => s.name === name)!;

  it("has build, then per environment a deploy, a post-merge preview and, if asked for, a pull-request one", () => {
    assert.deepEqual(
      specs.map((s) => `${s.name}:${s.purpose}`),
      [
        "build:build",
        "dev:deploy",
        "dev-preview:preview",
        "dev-pr:pull-request",
        "staging:deploy",
        "staging-preview:preview",
        "prod:deploy",
        "prod-preview:preview",
      ],
    );
  });

  it("gates each environment with its own reviewers and wait timer; administrators cannot skip them", () => {
    assert.deepEqual(spec("prod").reviewers, { teams: [4321], users: [1234567] });
    assert.equal(spec("prod").waitTimer, 10);
    assert.deepEqual(spec("staging").reviewers, { teams: [11], users: [] });
    for (const gated of ["staging", "prod"]) {
      assert.equal(spec(gated).preventSelfReview, true);
      assert.equal(spec(gated).canAdminsBypass, false);
    }
    for (const ungated of ["dev", "dev-preview", "dev-pr", "staging-preview", "prod-preview", "build"]) {
      assert.equal(spec(ungated).reviewers, undefined, ungated);
      assert.equal(spec(ungated).waitTimer, 0, ungated);
    }
  });

  it("opens every environment but the pull-request one to the deploy branches only, that one to pull requests", () => {
    for (const s of specs.filter((s) => s.purpose !== "pull-request")) {
      assert.deepEqual(s.branches, ["main"], s.name);
    }
    assert.equal(spec("dev-pr").branches, undefined);
    const custom = environmentSpecs(
      args({ defaultBranch: "trunk", environments: [environment("prod", { deployBranches: ["release/*"] })] }),
    );
    assert.deepEqual(
      custom.map((s) => [s.name, s.branches]),
      [
        ["build", ["trunk"]],
        ["prod", ["release/*"]],
        ["prod-preview", ["release/*"]],
      ],
    );
  });
});

describe("environmentSecrets", () => {
  const secrets = environmentSecrets(
    args({ notifyWebhookUrl: "webhook", registryRead: { username: "reader", password: "read-token" } }),
  );
  const value = (env: string, name: string) => secrets.find((s) => s.environment === env && s.name === name)?.value;
  const names = (env: string) =>
    secrets
      .filter((s) => s.environment === env)
      .map((s) => s.name)
      .sort();

  it("gives each environment and purpose its own kubeconfig, never another's", () => {
    for (const env of ["dev", "staging", "prod"]) {
      assert.equal(value(env, "KUBE_CONFIG"), `${env}-deploy-kubeconfig`);
      assert.equal(value(`${env}-preview`, "KUBE_CONFIG"), `${env}-preview-kubeconfig`);
    }
    assert.equal(value("dev-pr", "KUBE_CONFIG"), "dev-pr-kubeconfig");
  });

  it("puts a passphrase only where the passphrase provider is used, and no Pulumi token anywhere (OIDC)", () => {
    assert.equal(value("dev", "PULUMI_CONFIG_PASSPHRASE"), "dev-passphrase");
    assert.equal(value("dev-pr", "PULUMI_CONFIG_PASSPHRASE"), "dev-passphrase");
    for (const env of ["staging", "staging-preview", "prod", "prod-preview"]) {
      assert.equal(value(env, "PULUMI_CONFIG_PASSPHRASE"), undefined, env);
    }
    assert.ok(!secrets.some((s) => s.name === "PULUMI_ACCESS_TOKEN"));
  });

  it("keeps the push token in the build environment, the webhook in deploy ones, both away from pull requests", () => {
    assert.deepEqual(names("build"), []);
    assert.deepEqual(names("dev-pr"), ["KUBE_CONFIG", "PULUMI_CONFIG_PASSPHRASE"]);
    assert.deepEqual(names("prod"), ["KUBE_CONFIG", "NOTIFY_WEBHOOK_URL", "REGISTRY_READ_PASSWORD"]);
    assert.deepEqual(names("prod-preview"), ["KUBE_CONFIG", "REGISTRY_READ_PASSWORD"]);
    const pushing = environmentSecrets(
      args({ build: { ...args().build, registryUsername: "ci", registryPassword: "push-token" } }),
    );
    assert.deepEqual(
      pushing.filter((s) => s.value === "push-token").map((s) => s.environment),
      ["build"],
    );
  });
});

describe("environmentVariables and repositoryVariables", () => {
  const variables = environmentVariables(args({ registryRead: { username: "reader", password: "read-token" } }));
  const value = (env: string, name: string) => variables.find((v) => v.environment === env && v.name === name)?.value;

  it("names each environment's stack and the Pulumi team its OIDC token is scoped to, per purpose", () => {
    assert.equal(value("dev", "PULUMI_STACK"), "dev");
    assert.equal(value("prod", "PULUMI_STACK"), "example-org/api-stack/prod");
    assert.equal(value("prod-preview", "PULUMI_STACK"), "example-org/api-stack/prod");
    assert.equal(value("prod", "PULUMI_TOKEN_SCOPE"), "team:api-stack-prod");
    assert.equal(value("prod-preview", "PULUMI_TOKEN_SCOPE"), "team:api-stack-prod-preview");
    assert.equal(value("dev-pr", "PULUMI_TOKEN_SCOPE"), "team:api-stack-dev-pr");
    const named = environmentVariables(
      args({ environments: [environment("prod", { pulumiTeams: { deploy: "deployers" } })] }),
    );
    assert.equal(
      named.find((v) => v.environment === "prod" && v.name === "PULUMI_TOKEN_SCOPE")!.value,
      "team:deployers",
    );
    assert.equal(
      named.find((v) => v.environment === "prod-preview" && v.name === "PULUMI_TOKEN_SCOPE")!.value,
      "team:api-stack-prod-preview",
    );
  });

  it("tells the jobs which secrets provider to log in for, with the KMS role only where it is used", () => {
    assert.equal(value("dev", "SECRETS_PROVIDER"), "passphrase");
    assert.equal(value("staging", "SECRETS_PROVIDER"), "service");
    assert.equal(value("prod", "SECRETS_PROVIDER"), "awskms");
    assert.equal(value("prod", "AWS_ROLE_ARN"), "arn:aws:iam::123456789012:role/api-prod-kms");
    assert.equal(value("prod-preview", "AWS_REGION"), "eu-west-1");
    assert.equal(value("staging", "AWS_ROLE_ARN"), undefined);
    assert.equal(value("prod", "ENVIRONMENT_URL"), "https://api.example.com");
    assert.equal(value("prod-preview", "ENVIRONMENT_URL"), undefined);
    assert.equal(value("prod", "REGISTRY_READ_USERNAME"), "reader");
    assert.equal(value("dev-pr", "REGISTRY_READ_USERNAME"), undefined);
  });

  it("gives the build environment the repository and the app", () => {
    assert.equal(value("build", "IMAGE_REPOSITORY"), "registry.example.com/platform/api");
    assert.equal(value("build", "APP"), "fastapi");
    assert.equal(value("build", "BASE_IMAGE"), undefined);
  });

  it("has as repository variables the environments in order, those previewed for pull requests, the base image", () => {
    assert.deepEqual(repositoryVariables(args()), [
      { name: "DEPLOY_ENVIRONMENTS", value: '["dev","staging","prod"]' },
      { name: "PULL_REQUEST_PREVIEWS", value: '["dev"]' },
      { name: "PULUMI_ORGANIZATION", value: "example-org" },
      // Every pull request's image build (ci.yml) needs it, and it is no secret.
      { name: "BASE_IMAGE", value: `python@sha256:${DIGEST}` },
    ]);
    const selfHosted = repositoryVariables(
      args({ pulumi: { organization: "o", backendUrl: "https://pulumi.example.com" } }),
    );
    assert.deepEqual(selfHosted.at(-1), { name: "PULUMI_BACKEND_URL", value: "https://pulumi.example.com" });
  });
});

describe("rulesetSpec", () => {
  it("requires ci and each pull-request preview, from the GitHub Actions app only, up to date", () => {
    const spec = rulesetSpec(args());
    assert.deepEqual(spec.rules.requiredStatusChecks, {
      strictRequiredStatusChecksPolicy: true,
      requiredChecks: [
        { context: "ci", integrationId: GITHUB_ACTIONS_APP_ID },
        { context: "preview (dev)", integrationId: GITHUB_ACTIONS_APP_ID },
      ],
    });
    assert.equal(GITHUB_ACTIONS_APP_ID, 15368);
    assert.deepEqual(requiredChecks(args({ environments: [environment("prod")] })), [
      { context: "ci", integrationId: 15368 },
    ]);
  });

  it("requires a fresh code-owner review, resolved threads, no force push or deletion, for administrators too", () => {
    const spec = rulesetSpec(args({ requiredApprovals: 2 }));
    assert.deepEqual(spec.includes, ["refs/heads/main"]);
    assert.deepEqual(spec.rules.pullRequest, {
      requiredApprovingReviewCount: 2,
      dismissStaleReviewsOnPush: true,
      requireCodeOwnerReview: true,
      requireLastPushApproval: true,
      requiredReviewThreadResolution: true,
    });
    assert.equal(spec.rules.nonFastForward, true);
    assert.equal(spec.rules.deletion, true);
    assert.deepEqual(spec.bypassActors, []);
    assert.equal(rulesetSpec(args({ enforceAdmins: false })).bypassActors.length, 1);
    assert.deepEqual(rulesetSpec(args({ defaultBranch: "trunk" })).includes, ["refs/heads/trunk"]);
  });
});

describe("deploy branches", () => {
  it("are guarded by the ruleset as well: a deploy branch the ruleset left open would take direct pushes", () => {
    const releases = args();
    releases.environments[2] = { ...releases.environments[2], deployBranches: ["main", "release/*"] };
    assert.deepEqual(rulesetSpec(releases).includes, ["refs/heads/main", "refs/heads/release/*"]);
    assert.equal(rulesetSpec(releases).name, "protect main, release/*");
    const prodPreview = environmentSpecs(releases).find((spec) => spec.name === "prod-preview")!;
    assert.deepEqual(prodPreview.branches, ["main", "release/*"]);
  });
});

describe("signing with a key pair instead of keyless", () => {
  const PUBLIC_KEY = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n";
  const keyed = () =>
    args({
      build: {
        imageRepository: "registry.example.com/platform/api",
        baseImage: `python@sha256:${DIGEST}`,
        signingKey: { publicKey: PUBLIC_KEY, privateKey: "signing-private-key", password: "signing-password" },
      },
    });

  it("gives the build environment the private key and its password, and every workflow the public key", () => {
    const build = environmentSecrets(keyed()).filter((s) => s.environment === "build");
    assert.deepEqual(
      build.map((s) => [s.name, s.value]),
      [
        ["COSIGN_PRIVATE_KEY", "signing-private-key"],
        ["COSIGN_PASSWORD", "signing-password"],
      ],
    );
    assert.ok(environmentSecrets(keyed()).every((s) => s.environment === "build" || !s.name.startsWith("COSIGN")));
    assert.deepEqual(repositoryVariables(keyed()).at(-1), { name: "COSIGN_PUBLIC_KEY", value: PUBLIC_KEY });
    assert.ok(!repositoryVariables(args()).some((v) => v.name === "COSIGN_PUBLIC_KEY"));
  });

  it("refuses a public key that is not PEM, and a key pair without its private half or password", () => {
    const broken = keyed();
    broken.build.signingKey = { publicKey: "ssh-ed25519 AAAA", privateKey: undefined!, password: undefined! };
    assert.deepEqual(
      githubRepositoryProblems(broken).map((p) => p.path),
      ["build.signingKey.publicKey", "build.signingKey.privateKey", "build.signingKey.password"],
    );
    assert.deepEqual(githubRepositoryProblems(keyed()), []);
  });
});
