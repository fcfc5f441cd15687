// The GithubRepository component under Pulumi's mocks: what it would ask the GitHub API for,
// that every credential reaches the provider as a Pulumi secret, and that a bad config or an
// unused component creates nothing.
import * as pulumi from "@pulumi/pulumi";
import { strict as assert } from "node:assert";
import { GithubRepository, type GithubConfig } from "../../components/github";
import { SecretValue } from "../../config/secret";
import { devInput, execute, isSecretValue, prodInput, runProgram, type Registered } from "./harness";

const T = {
  component: "api-stack:index:GithubRepository",
  provider: "pulumi:providers:github",
  environment: "github:index/repositoryEnvironment:RepositoryEnvironment",
  secret: "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret",
  variable: "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable",
  protection: "github:index/branchProtection:BranchProtection",
};

const CREDENTIALS = {
  githubToken: "github_pat_unit_test_0123456789",
  pulumiToken: "pul-unit-test-0123456789",
  devKubeconfig: "apiVersion: v1\nkind: Config\n# dev\n",
  prodKubeconfig: "apiVersion: v1\nkind: Config\n# prod\n",
  prodPreviewKubeconfig: "apiVersion: v1\nkind: Config\n# prod, read and dry-run only\n",
  devPassphrase: "dev-passphrase-unit-test",
  prodPassphrase: "prod-passphrase-unit-test",
};

function githubConfig(overrides: Partial<GithubConfig> = {}): GithubConfig {
  return {
    owner: "example-org",
    repository: "api-stack",
    token: new SecretValue(CREDENTIALS.githubToken),
    pulumiAccessToken: new SecretValue(CREDENTIALS.pulumiToken),
    prodReviewers: { teams: [4321], users: [1234567] },
    prodWaitTimerMinutes: 15,
    requiredApprovals: 2,
    stacks: {
      dev: {
        kubeconfig: new SecretValue(CREDENTIALS.devKubeconfig),
        configPassphrase: new SecretValue(CREDENTIALS.devPassphrase),
      },
      prod: {
        stackName: "example-org/api-stack/prod",
        kubeconfig: new SecretValue(CREDENTIALS.prodKubeconfig),
        previewKubeconfig: new SecretValue(CREDENTIALS.prodPreviewKubeconfig),
        configPassphrase: new SecretValue(CREDENTIALS.prodPassphrase),
      },
    },
    ...overrides,
  };
}

interface Run {
  resources: Registered[];
  outputs?: Record<string, unknown>;
  error?: Error;
  /** The provider each resource was given, by `type::name` (resource options never reach the mocks). */
  providerOf: Map<string, string | undefined>;
}

async function run(config: GithubConfig): Promise<Run> {
  const providerOf = new Map<string, string | undefined>();
  const result = await execute(
    { values: {}, secretKeys: [] },
    {
      program: async () => {
        pulumi.runtime.registerStackTransformation((args) => {
          const provider = args.opts.provider as (pulumi.ProviderResource & { __name?: string }) | undefined;
          providerOf.set(`${args.type}::${args.name}`, provider && (provider as unknown as { __name: string }).__name);
          if (args.type.startsWith("pulumi:providers:")) {
            (args.resource as unknown as { __name: string }).__name = args.name;
          }
          return undefined;
        });
        const repo = new GithubRepository("repo", { config });
        return { github: repo.outputs };
      },
    },
  );
  return { ...result, providerOf };
}

const byType = (r: Run, type: string) => r.resources.filter((x) => x.type === type);
const unwrap = (value: unknown) => (isSecretValue(value) ? (value as { value: unknown }).value : value);

describe("GithubRepository (mocks)", () => {
  let r: Run;
  before(async () => {
    r = await run(githubConfig());
    if (r.error) {
      throw r.error;
    }
  });

  it("creates a deploy and a preview environment per stack", () => {
    const names = byType(r, T.environment).map((e) => e.inputs.environment).sort();
    assert.deepEqual(names, ["dev", "dev-preview", "prod", "prod-preview"]);
    for (const env of byType(r, T.environment)) {
      assert.equal(env.inputs.repository, "api-stack");
    }
    assert.deepEqual(r.outputs!.github, {
      repository: "example-org/api-stack",
      environments: ["dev", "dev-preview", "prod", "prod-preview"],
      requiredChecks: ["ci", "preview (dev)", "preview (prod)"],
    });
  });

  it("gates prod behind the configured reviewers and wait timer, from protected branches only", () => {
    const prod = byType(r, T.environment).find((e) => e.inputs.environment === "prod")!.inputs;
    assert.deepEqual(prod.reviewers, [{ teams: [4321], users: [1234567] }]);
    assert.equal(prod.waitTimer, 15);
    assert.equal(prod.preventSelfReview, true);
    assert.equal(prod.canAdminsBypass, false);
    assert.deepEqual(prod.deploymentBranchPolicy, { protectedBranches: true, customBranchPolicies: false });
    for (const name of ["dev", "dev-preview", "prod-preview"]) {
      const env = byType(r, T.environment).find((e) => e.inputs.environment === name)!.inputs;
      assert.equal(env.reviewers, undefined, name);
      assert.equal(env.waitTimer, 0, name);
    }
    const preview = byType(r, T.environment).find((e) => e.inputs.environment === "prod-preview")!.inputs;
    assert.equal(preview.deploymentBranchPolicy, undefined);
  });

  it("stores every environment secret as a Pulumi secret, with the right value in the right place", () => {
    const secrets = byType(r, T.secret);
    assert.equal(secrets.length, 12);
    const valueOf = (env: string, name: string) => {
      const found = secrets.find((s) => s.inputs.environment === env && s.inputs.secretName === name);
      assert.ok(found, `no ${name} in ${env}`);
      assert.ok(isSecretValue(found.inputs.value), `${env}/${name} is not marked secret`);
      return unwrap(found.inputs.value);
    };
    for (const s of secrets) {
      assert.ok(isSecretValue(s.inputs.value), `${s.name} is not marked secret`);
      assert.equal(s.inputs.plaintextValue, undefined);
    }
    assert.equal(valueOf("dev", "KUBE_CONFIG"), CREDENTIALS.devKubeconfig);
    assert.equal(valueOf("prod", "KUBE_CONFIG"), CREDENTIALS.prodKubeconfig);
    assert.equal(valueOf("prod-preview", "KUBE_CONFIG"), CREDENTIALS.prodPreviewKubeconfig);
    assert.equal(valueOf("dev-preview", "PULUMI_CONFIG_PASSPHRASE"), CREDENTIALS.devPassphrase);
    assert.equal(valueOf("prod", "PULUMI_CONFIG_PASSPHRASE"), CREDENTIALS.prodPassphrase);
    assert.equal(valueOf("prod", "PULUMI_ACCESS_TOKEN"), CREDENTIALS.pulumiToken);
  });

  it("keeps every credential out of plain inputs", () => {
    const plain = (value: unknown): string[] => {
      if (isSecretValue(value)) {
        return [];
      }
      if (typeof value === "string") {
        return [value];
      }
      if (value !== null && typeof value === "object") {
        return Object.values(value).flatMap(plain);
      }
      return [];
    };
    const visible = r.resources.flatMap((x) => plain(x.inputs)).join("\n");
    for (const [name, value] of Object.entries(CREDENTIALS)) {
      assert.ok(!visible.includes(value), `${name} appears unencrypted in some resource's inputs`);
    }
  });

  it("sets each environment's stack name as a variable", () => {
    const variables = byType(r, T.variable).map((v) => [v.inputs.environment, v.inputs.variableName, v.inputs.value]);
    assert.deepEqual(variables.sort(), [
      ["dev", "PULUMI_STACK", "dev"],
      ["dev-preview", "PULUMI_STACK", "dev"],
      ["prod", "PULUMI_STACK", "example-org/api-stack/prod"],
      ["prod-preview", "PULUMI_STACK", "example-org/api-stack/prod"],
    ]);
  });

  it("protects main: CI and both previews green and up to date, reviewed, no force push", () => {
    const [protection] = byType(r, T.protection);
    assert.equal(byType(r, T.protection).length, 1);
    const p = protection.inputs;
    assert.equal(p.repositoryId, "api-stack");
    assert.equal(p.pattern, "main");
    assert.deepEqual(p.requiredStatusChecks, [{ strict: true, contexts: ["ci", "preview (dev)", "preview (prod)"] }]);
    assert.deepEqual(p.requiredPullRequestReviews, [
      { requiredApprovingReviewCount: 2, dismissStaleReviews: true, requireLastPushApproval: true },
    ]);
    assert.equal(p.enforceAdmins, true);
    assert.equal(p.allowsForcePushes, false);
    assert.equal(p.allowsDeletions, false);
    assert.equal(p.requireConversationResolution, true);
  });

  it("talks to GitHub through its own provider, for the configured owner with a secret token", () => {
    const [provider] = byType(r, T.provider);
    assert.equal(byType(r, T.provider).length, 1);
    assert.equal(provider.inputs.owner, "example-org");
    assert.ok(isSecretValue(provider.inputs.token), "the GitHub token is not marked secret");
    assert.equal(unwrap(provider.inputs.token), CREDENTIALS.githubToken);
    for (const resource of r.resources.filter((x) => x.type.startsWith("github:"))) {
      assert.equal(r.providerOf.get(resource.key), "repo", `${resource.key} does not use the component's provider`);
    }
  });

  it("parents everything under the component", () => {
    const roots = r.resources.filter((x) => x.type !== "pulumi:pulumi:Stack" && x.parent === undefined);
    assert.deepEqual(roots.map((x) => x.key), [`${T.component}::repo`]);
    const children = r.resources.filter((x) => x.parent === `${T.component}::repo`);
    assert.equal(children.length, r.resources.length - 2);
  });

  it("without a token, leaves the provider to read GITHUB_TOKEN", async () => {
    const noToken = await run(githubConfig({ token: undefined }));
    assert.equal(noToken.error, undefined);
    assert.equal(byType(noToken, T.provider)[0].inputs.token, undefined);
  });

  it("with a self-hosted Pulumi service, sets its URL in every environment", async () => {
    const selfHosted = await run(githubConfig({ pulumiBackendUrl: "https://pulumi.example.com" }));
    assert.equal(selfHosted.error, undefined);
    const urls = byType(selfHosted, T.variable).filter((v) => v.inputs.variableName === "PULUMI_BACKEND_URL");
    assert.deepEqual(urls.map((v) => v.inputs.environment).sort(), ["dev", "dev-preview", "prod", "prod-preview"]);
    assert.ok(urls.every((v) => v.inputs.value === "https://pulumi.example.com"));
    assert.equal(byType(selfHosted, T.secret).filter((s) => s.inputs.secretName === "PULUMI_ACCESS_TOKEN").length, 4);
  });

  it("creates nothing at all when its config is invalid", async () => {
    const bad = await run(githubConfig({ prodReviewers: {} }));
    assert.match(bad.error!.message, /prod needs at least one required reviewer/);
    assert.deepEqual(bad.resources.filter((x) => x.type !== "pulumi:pulumi:Stack"), []);
  });
});

describe("stacks without the GitHub component (mocks)", () => {
  for (const [stack, input] of [
    ["dev", devInput],
    ["prod", prodInput],
  ] as const) {
    it(`${stack}: registers no GitHub resource`, async () => {
      const result = await runProgram(input(), { stack });
      const github = result.resources.filter((x) => x.type.startsWith("github:") || x.type === T.provider || x.type === T.component);
      assert.ok(result.resources.length > 10);
      assert.deepEqual(github.map((x) => x.key), []);
    });
  }
});
