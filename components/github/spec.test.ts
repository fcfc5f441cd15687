import { strict as assert } from "node:assert";
import { SecretValue } from "../../config/secret";
import {
  branchProtectionSpec,
  environmentSecrets,
  environmentSpecs,
  environmentVariables,
  REQUIRED_CHECKS,
  validateGithubConfig,
  type GithubConfig,
} from "./spec";

const secret = (value: string) => new SecretValue(value);

function config(overrides: Partial<GithubConfig> = {}): GithubConfig {
  return {
    owner: "example-org",
    repository: "api-stack",
    pulumiAccessToken: secret("pul-0123456789abcdef"),
    prodReviewers: { teams: [4321], users: [1234567] },
    prodWaitTimerMinutes: 10,
    stacks: {
      dev: { kubeconfig: secret("dev-kubeconfig"), configPassphrase: secret("dev-passphrase") },
      prod: {
        stackName: "example-org/api-stack/prod",
        kubeconfig: secret("prod-kubeconfig"),
        previewKubeconfig: secret("prod-preview-kubeconfig"),
        configPassphrase: secret("prod-passphrase"),
      },
    },
    ...overrides,
  };
}

const SECRET_VALUES = [
  "pul-0123456789abcdef",
  "dev-kubeconfig",
  "dev-passphrase",
  "prod-kubeconfig",
  "prod-preview-kubeconfig",
  "prod-passphrase",
];

describe("validateGithubConfig", () => {
  it("accepts a complete config", () => {
    assert.doesNotThrow(() => validateGithubConfig(config()));
    assert.doesNotThrow(() =>
      validateGithubConfig(config({ pulumiBackendUrl: "https://api.pulumi.internal.example.com" })),
    );
  });

  const invalid: [string, Partial<GithubConfig> | ((c: GithubConfig) => void), RegExp][] = [
    ["an owner with a slash", { owner: "example-org/api-stack" }, /owner "example-org\/api-stack"/],
    ["an owner with a leading hyphen", { owner: "-org" }, /owner/],
    ["a repository with the owner in it", { repository: "example-org/api-stack" }, /repository "example-org\/api-stack"/],
    ["a branch with '..'", { defaultBranch: "main..dev" }, /defaultBranch "main\.\.dev"/],
    ["no prod reviewer", { prodReviewers: {} }, /at least one required reviewer/],
    ["a reviewer given by name", { prodReviewers: { users: ["octocat" as unknown as number] } }, /reviewer id octocat is not a positive integer/],
    ["seven reviewers", { prodReviewers: { users: [1, 2, 3, 4, 5, 6, 7] } }, /7 required reviewers; GitHub allows at most 6/],
    ["a duplicate reviewer", { prodReviewers: { users: [5, 5] } }, /same id twice/],
    ["a negative wait timer", { prodWaitTimerMinutes: -1 }, /prodWaitTimerMinutes -1/],
    ["a wait timer over 30 days", { prodWaitTimerMinutes: 43201 }, /prodWaitTimerMinutes 43201/],
    ["zero approvals", { requiredApprovals: 0 }, /requiredApprovals 0/],
    ["no access token", { pulumiAccessToken: undefined as unknown as SecretValue }, /access token is missing or empty/],
    ["an empty access token", { pulumiAccessToken: secret(" ") }, /access token is missing or empty/],
    ["a backend URL without a scheme", { pulumiBackendUrl: "state-bucket" }, /pulumiBackendUrl "state-bucket"/],
    ["a cloud-storage backend", { pulumiBackendUrl: "s3://state-bucket/api-stack" }, /not the https:\/\/ URL of a Pulumi service/],
    ["a file backend", { pulumiBackendUrl: "file:///var/pulumi" }, /pulumiBackendUrl "file:\/\/\/var\/pulumi"/],
    ["a missing stack", (c) => delete (c.stacks as Partial<GithubConfig["stacks"]>).prod, /stack prod has no credentials/],
    ["an extra stack", (c) => ((c.stacks as Record<string, unknown>).staging = c.stacks.dev), /unknown stack staging/],
    ["an empty kubeconfig", (c) => (c.stacks.dev.kubeconfig = secret("  ")), /stack dev: kubeconfig is empty/],
    ["a missing kubeconfig", (c) => delete (c.stacks.prod as Partial<GithubConfig["stacks"]["prod"]>).kubeconfig, /stack prod has no kubeconfig/],
    ["a malformed stack name", (c) => (c.stacks.prod.stackName = "org/api stack/prod"), /stackName "org\/api stack\/prod"/],
  ];
  for (const [what, change, message] of invalid) {
    it(`refuses ${what} with a sentence naming it, and no secret`, () => {
      const bad = config(typeof change === "function" ? {} : change);
      if (typeof change === "function") {
        change(bad);
      }
      assert.throws(() => validateGithubConfig(bad), (e: Error) => {
        assert.match(e.message, /^GitHub repository settings: /);
        assert.match(e.message, message);
        for (const value of SECRET_VALUES) {
          assert.ok(!e.message.includes(value), `the error prints the secret ${value}`);
        }
        return true;
      });
    });
  }
});

describe("environmentSpecs", () => {
  it("has a deploy and a preview environment per stack, and gates only prod's deploy", () => {
    const specs = environmentSpecs(config());
    assert.deepEqual(
      specs.map((s) => s.name),
      ["dev", "dev-preview", "prod", "prod-preview"],
    );
    const prod = specs.find((s) => s.name === "prod")!;
    assert.deepEqual(prod.reviewers, { teams: [4321], users: [1234567] });
    assert.equal(prod.waitTimer, 10);
    assert.equal(prod.preventSelfReview, true);
    assert.equal(prod.canAdminsBypass, false);
    assert.equal(prod.protectedBranchesOnly, true);
    for (const ungated of specs.filter((s) => s.name !== "prod")) {
      assert.equal(ungated.reviewers, undefined, ungated.name);
      assert.equal(ungated.waitTimer, 0, ungated.name);
    }
    // Pull-request refs match no branch policy, so a restricted preview environment would refuse every preview.
    for (const preview of specs.filter((s) => s.purpose === "preview")) {
      assert.equal(preview.protectedBranchesOnly, false);
    }
    assert.equal(specs.find((s) => s.name === "dev")!.protectedBranchesOnly, true);
  });

  it("defaults the prod wait timer to none", () => {
    assert.equal(environmentSpecs(config({ prodWaitTimerMinutes: undefined })).find((s) => s.name === "prod")!.waitTimer, 0);
  });
});

describe("environmentSecrets", () => {
  it("gives every environment its stack's kubeconfig, passphrase and the access token", () => {
    const secrets = environmentSecrets(config());
    const value = (env: string, name: string) => secrets.find((s) => s.environment === env && s.name === name)?.value.reveal();
    assert.equal(secrets.length, 12);
    assert.equal(value("dev", "KUBE_CONFIG"), "dev-kubeconfig");
    assert.equal(value("dev-preview", "KUBE_CONFIG"), "dev-kubeconfig");
    assert.equal(value("prod", "KUBE_CONFIG"), "prod-kubeconfig");
    assert.equal(value("prod-preview", "KUBE_CONFIG"), "prod-preview-kubeconfig");
    assert.equal(value("prod-preview", "PULUMI_CONFIG_PASSPHRASE"), "prod-passphrase");
    assert.equal(value("dev", "PULUMI_ACCESS_TOKEN"), "pul-0123456789abcdef");
    for (const s of secrets) {
      assert.ok(s.value instanceof SecretValue, `${s.environment}/${s.name} is not held as a SecretValue`);
    }
  });

  it("leaves out what is not configured", () => {
    const c = config();
    delete c.stacks.dev.configPassphrase;
    const names = environmentSecrets(c).map((s) => `${s.environment}/${s.name}`);
    assert.equal(names.length, 10);
    assert.ok(!names.includes("dev/PULUMI_CONFIG_PASSPHRASE"));
    assert.ok(!names.includes("dev-preview/PULUMI_CONFIG_PASSPHRASE"));
    assert.ok(names.includes("prod/PULUMI_CONFIG_PASSPHRASE"));
  });
});

describe("environmentVariables", () => {
  it("names each environment's stack, and the backend when self-hosted", () => {
    assert.deepEqual(environmentVariables(config()), [
      { environment: "dev", name: "PULUMI_STACK", value: "dev" },
      { environment: "dev-preview", name: "PULUMI_STACK", value: "dev" },
      { environment: "prod", name: "PULUMI_STACK", value: "example-org/api-stack/prod" },
      { environment: "prod-preview", name: "PULUMI_STACK", value: "example-org/api-stack/prod" },
    ]);
    const selfHosted = environmentVariables(config({ pulumiBackendUrl: "https://pulumi.example.com" }));
    assert.equal(selfHosted.filter((v) => v.name === "PULUMI_BACKEND_URL" && v.value === "https://pulumi.example.com").length, 4);
  });
});

describe("branchProtectionSpec", () => {
  it("requires the ci and per-stack preview checks, up to date, and a fresh review", () => {
    const spec = branchProtectionSpec(config());
    assert.equal(spec.pattern, "main");
    assert.deepEqual(spec.requiredStatusChecks, { strict: true, contexts: ["ci", "preview (dev)", "preview (prod)"] });
    assert.deepEqual(spec.requiredStatusChecks.contexts, [...REQUIRED_CHECKS]);
    assert.equal(spec.requiredPullRequestReviews.requiredApprovingReviewCount, 1);
    assert.equal(spec.requiredPullRequestReviews.dismissStaleReviews, true);
    assert.equal(spec.enforceAdmins, true);
    assert.equal(spec.allowsForcePushes, false);
    assert.equal(spec.allowsDeletions, false);
  });

  it("follows the configured branch, approvals and admin enforcement", () => {
    const spec = branchProtectionSpec(config({ defaultBranch: "trunk", requiredApprovals: 2, enforceAdmins: false }));
    assert.equal(spec.pattern, "trunk");
    assert.equal(spec.requiredPullRequestReviews.requiredApprovingReviewCount, 2);
    assert.equal(spec.enforceAdmins, false);
  });
});
