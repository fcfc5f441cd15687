// Pulling the app's image from a registry that requires a login (imagePullUsername,
// imagePullPassword, imagePullRegistry), under Pulumi's mocks: the kubernetes.io/dockerconfigjson
// Secret, kept a Pulumi secret, and the pods that name it. tests/e2e/private-registry pulls with it
// on the real node.
import { strict as assert } from "node:assert";
import { validateConfig } from "../../config";
import {
  asManifest,
  DEV_IMAGE_REPOSITORY,
  devInput,
  isSecretValue,
  PROJECT,
  PROJECT_DIR,
  prodInput,
  runProgram,
  withConfig,
  type RunResult,
  type StackInput,
} from "../support/harness";
import { withCosign } from "../support/cosign";

const SECRET = "kubernetes:core/v1:Secret";
const LOGIN = { imagePullUsername: "puller", imagePullPassword: "read-only-token-0123" };
const withLogin = (input: StackInput, extra: Record<string, unknown> = {}) =>
  withConfig(input, { ...LOGIN, ...extra }, ["imagePullPassword"]);

/** Every pod template of the stack, by the resource's name. */
const podSpecs = (run: RunResult) =>
  Object.fromEntries(
    run.resources
      .filter((r) => asManifest(r).spec?.template?.spec?.containers)
      .map((r) => [r.name, asManifest(r).spec.template.spec]),
  );
const pullSecretsOf = (run: RunResult) =>
  Object.fromEntries(Object.entries(podSpecs(run)).map(([name, pod]) => [name, pod.imagePullSecrets]));

describe("pulling from a registry that requires a login (mocks)", () => {
  // Prod verifies its prebuilt images as signed before registering anything.
  withCosign();

  it("keeps the login a Pulumi secret, in a dockerconfigjson Secret for the image's registry", async () => {
    const run = await runProgram(withLogin(devInput()), { stack: "dev" });
    const secret = run.one(SECRET, "api-registry");
    assert.ok(isSecretValue(secret.inputs.stringData), "the login must stay a Pulumi secret");
    const manifest = asManifest(secret);
    assert.equal(manifest.metadata.name, "api-registry");
    assert.equal(manifest.type, "kubernetes.io/dockerconfigjson");
    const registry = DEV_IMAGE_REPOSITORY.split("/")[0];
    const { auths } = JSON.parse(manifest.stringData[".dockerconfigjson"]);
    assert.deepEqual(Object.keys(auths), [registry], "the registry comes from the image's reference");
    assert.equal(auths[registry].username, "puller");
    assert.equal(auths[registry].password, LOGIN.imagePullPassword);
  });

  it("every pod of the app's image names it in its spec: the API, the worker and the migration Job", async () => {
    const run = await runProgram(withLogin(devInput()), { stack: "dev" });
    const named = [{ name: "api-registry" }];
    assert.deepEqual(pullSecretsOf(run), {
      api: named,
      "api-worker": named,
      "api-migration": named,
      // The dev services run public images.
      "api-dev-postgres": undefined,
      "api-dev-redis": undefined,
    });
  });

  it("a Rollout's pods name it too", async () => {
    const run = await runProgram(withLogin(withConfig(devInput(), { strategy: "blueGreen" })), { stack: "dev" });
    assert.deepEqual(pullSecretsOf(run).api, [{ name: "api-registry" }]);
  });

  it("the backup Job names it only when its image comes from that registry", async () => {
    const publicBackup = await runProgram(withLogin(prodInput()), { stack: "prod" });
    assert.equal(pullSecretsOf(publicBackup)["api-backup"], undefined, "postgres from Docker Hub needs no login");
    const mirrored = `registry.example.com/platform/postgres@sha256:${"7".repeat(64)}`;
    const privateBackup = await runProgram(withLogin(prodInput(), { backupImage: mirrored }), { stack: "prod" });
    assert.deepEqual(pullSecretsOf(privateBackup)["api-backup"], [{ name: "api-registry" }]);
    const elsewhere = await runProgram(
      withLogin(prodInput(), { backupImage: mirrored, imagePullRegistry: "registry.example.com/platform/api" }),
      { stack: "prod" },
    );
    assert.equal(pullSecretsOf(elsewhere)["api-backup"], undefined, "outside the login's path prefix");
    assert.deepEqual(pullSecretsOf(elsewhere).api, [{ name: "api-registry" }]);
  });

  it("without a login, creates no Secret and names none", async () => {
    const run = await runProgram(devInput(), { stack: "dev" });
    assert.deepEqual(
      run.all(SECRET).filter((s) => asManifest(s).type === "kubernetes.io/dockerconfigjson"),
      [],
    );
    assert.ok(Object.values(pullSecretsOf(run)).every((secrets) => secrets === undefined));
  });

  it("refuses half a login, a registry without one, and a registry that does not serve the image", () => {
    const errors = (input: StackInput) => {
      const result = validateConfig({
        values: input.values,
        secretKeys: new Set(input.secretKeys),
        project: PROJECT,
        stack: "dev",
        projectDir: PROJECT_DIR,
      });
      return result.ok ? [] : result.errors;
    };
    const key = (name: string) => `${PROJECT}:${name}`;
    assert.deepEqual(errors(withConfig(devInput(), { imagePullUsername: "puller" })), [
      `${key("imagePullPassword")} is required together with ${key("imagePullUsername")}: expected ` +
        "a non-empty secret (set together with imagePullUsername). " +
        "Run `pulumi config set --secret imagePullPassword <value>`.",
    ]);
    assert.match(
      errors(withConfig(devInput(), { imagePullRegistry: "registry.example.com" })).join("\n"),
      new RegExp(`${key("imagePullRegistry")} must not be set without ${key("imagePullUsername")}`),
    );
    assert.deepEqual(errors(withLogin(devInput(), { imagePullRegistry: "other.example.com" })), [
      `${key("imagePullRegistry")}: "other.example.com" does not serve the app's image ${DEV_IMAGE_REPOSITORY}, ` +
        "whose pods would then pull without the login; expected registry.example.com, " +
        "or registry.example.com/ and a prefix of team/api.",
    ]);
    assert.deepEqual(errors(withLogin(devInput(), { imagePullRegistry: "registry.example.com/team" })), []);
    assert.match(
      errors(withLogin(devInput(), { imagePullRegistry: "https://registry.example.com" })).join("\n"),
      /imagePullRegistry: .* is not allowed; expected a registry host/,
    );
  });
});
