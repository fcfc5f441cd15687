// The main job for real: `up`, idempotency, invalid config, render mode and `destroy` of a
// dev-shaped and a prod-shaped stack against the local cluster.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { localShape, type ConfigValues } from "../../scripts/automation";
import { PROJECT_DIR } from "../support/program";
import { changes, eventually, exists, kubectl, kubectlJson, KUBECONFIG, newStack, progress } from "./env";
import { buildReleases } from "./images";

const SECRET_KEY = "e2e-secret-key-0123456789abcdef0123456789abcdef";
const SECRETS = {
  dev: { secretKey: SECRET_KEY, devPostgresPassword: "e2e-postgres-password" },
  prod: {
    secretKey: SECRET_KEY,
    databaseUrl: "postgresql://app:e2e-password@postgres.databases.svc:5432/app",
    redisUrl: "redis://redis.databases.svc:6379/0",
  },
};
const SECRET_KEYS = [...Object.keys(SECRETS.dev), ...Object.keys(SECRETS.prod)];
const devConfig = (image: string): ConfigValues => localShape("dev", image, SECRETS.dev);
/** Prod's shape (replicas, HPA, TLS ingress) with stand-in external services. */
const prodConfig = (image: string): ConfigValues => localShape("prod", image, SECRETS.prod);

describe("the main job on the local cluster", function () {
  this.timeout(20 * 60_000);
  let image: string;

  before(() => {
    [image] = buildReleases(1);
  });

  for (const [shape, stackConfig, namespace] of [
    ["dev", devConfig, "api-e2edev"],
    ["prod", prodConfig, "api-e2eprod"],
  ] as const) {
    describe(`${shape}-shaped stack`, () => {
      let stack: Stack;

      before(async () => {
        stack = await newStack(`e2e${shape}`, { ...stackConfig(image), namespace }, SECRET_KEYS);
      });

      it("`up` creates every object as declared and the API becomes available", async () => {
        progress(`${shape}: pulumi up`);
        const result = await stack.up({ onOutput: () => undefined });
        assert.equal(result.summary.result, "succeeded");
        assert.equal(result.outputs.image.value, image);

        const deployment = kubectlJson("get", "deployment", "api", "-n", namespace);
        assert.equal(deployment.spec.template.spec.containers[0].image, image, "pods run the digest, not a tag");
        assert.equal(deployment.spec.template.spec.securityContext.runAsNonRoot, true);
        await eventually("available API replicas", 180, () => {
          const status = kubectlJson("get", "deployment", "api", "-n", namespace).status;
          return status.availableReplicas >= (shape === "dev" ? 1 : 3) ? true : undefined;
        });
        const job = kubectlJson("get", "job", String(result.outputs.migrationJob.value), "-n", namespace);
        assert.equal(job.status.succeeded, 1, "migrations ran to completion before the API rolled");
        for (const [kind, name] of [
          ["namespace", namespace],
          ["configmap", "api-settings"],
          ["secret", "api-secrets"],
          ["serviceaccount", "api"],
          ["service", "api"],
          ["ingress", "api"],
          ["hpa", "api"],
          ["pdb", "api"],
          ["deployment", "api-worker"],
        ]) {
          assert.ok(exists(kind, name, kind === "namespace" ? undefined : namespace), `${kind}/${name} is missing`);
        }
        if (shape === "dev") {
          assert.ok(exists("statefulset", "api-postgres", namespace));
          assert.ok(exists("statefulset", "api-redis", namespace));
        }
        const settings = kubectlJson("get", "configmap", "api-settings", "-n", namespace).data;
        assert.equal(settings.ENVIRONMENT, shape);
        assert.ok(!JSON.stringify(settings).includes(SECRET_KEY));
      });

      it("a second preview shows no changes and refresh finds no drift", async () => {
        progress(`${shape}: preview and refresh`);
        const preview = await stack.preview({ expectNoChanges: true, onOutput: () => undefined });
        assert.deepEqual(changes(preview.changeSummary), [], JSON.stringify(preview.changeSummary));
        const refresh = await stack.refresh({ onOutput: () => undefined });
        // The stack's reference to its own last outputs picks up what the first `up` exported;
        // that is bookkeeping, not drift. Every deployed object must read back unchanged.
        const updated = refresh.stdout.split("\n").filter((line) => / updated \(/.test(line));
        const drifted = updated.filter((line) => !line.includes("pulumi:pulumi:StackReference"));
        assert.deepEqual(drifted, []);
        assert.deepEqual(
          changes(refresh.summary.resourceChanges).filter((op) => op !== "update"),
          [],
          JSON.stringify(refresh.summary.resourceChanges),
        );
        assert.ok((refresh.summary.resourceChanges?.update ?? 0) <= 1);
        const again = await stack.preview({ expectNoChanges: true, onOutput: () => undefined });
        assert.deepEqual(changes(again.changeSummary), []);
      });

      it("keeps secrets out of the state in plaintext", async () => {
        assert.ok((await stack.outputs()).image, "the stack has been deployed");
        const state = JSON.stringify(await stack.exportStack());
        assert.match(state, /4dabf18193072939515e22adb298388d/, "secret values are stored encrypted");
        assert.ok(!state.includes(SECRET_KEY), "the secret key appears in plaintext in the state");
      });

      it("`destroy` removes everything the stack created", async () => {
        assert.ok(exists("namespace", namespace), "the stack has been deployed");
        progress(`${shape}: pulumi destroy`);
        await stack.destroy({ onOutput: () => undefined });
        await eventually(`namespace ${namespace} to be gone`, 180, () => (exists("namespace", namespace) ? undefined : true));
      });
    });
  }

  describe("the policy pack on a real preview", () => {
    // The pack runs as an analyzer plugin through policy/run-pack (see docs/policy.md).
    const pack = path.join(PROJECT_DIR, "policy/run-pack");

    it("passes the prod-shaped stack", async () => {
      const stack = await newStack("e2epolicy", { ...prodConfig(image), namespace: "api-e2epolicy" }, SECRET_KEYS);
      const preview = await stack.preview({ policyPacks: [pack], onOutput: () => undefined });
      assert.ok(preview.changeSummary.create! > 10);
    });

    it("blocks a prod stack weakened by config, with the rule's message", async () => {
      const stack = await newStack(
        "e2epolicyweak",
        { ...prodConfig(image), namespace: "api-e2epolicyweak", ingressTls: false, hpaMinReplicas: 1, replicas: 1 },
        SECRET_KEYS,
      );
      await assert.rejects(stack.preview({ policyPacks: [pack], onOutput: () => undefined }), (error: Error) => {
        assert.match(error.message, /ingress-tls/);
        assert.match(error.message, /availability/);
        return true;
      });
      assert.equal(exists("namespace", "api-e2epolicyweak"), false);
    });
  });

  it("invalid config fails before anything is created on the cluster", async () => {
    const stack = await newStack(
      "e2einvalid",
      { ...prodConfig(image), namespace: "api-e2einvalid", replicas: 0, cpuLimit: "1m" },
      SECRET_KEYS,
    );
    await assert.rejects(stack.up({ onOutput: () => undefined }), (error: Error) => {
      assert.match(error.message, /api-stack:replicas: "0" is not allowed/);
      assert.match(error.message, /api-stack:cpuLimit/);
      return true;
    });
    assert.equal(exists("namespace", "api-e2einvalid"), false);
  });

  it("render mode writes manifests the API server accepts", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "api-stack-rendered-"));
    const stack = await newStack("e2erender", { ...prodConfig(image), namespace: "api-e2erender", renderYamlTo: dir }, SECRET_KEYS);
    const result = await stack.up({ onOutput: () => undefined });
    assert.equal(result.summary.result, "succeeded");
    assert.equal(exists("namespace", "api-e2erender"), false, "render mode must not touch the cluster");
    const manifests = path.join(dir, "1-manifest");
    assert.ok(fs.readdirSync(manifests).length >= 10);
    // The namespace first: the server dry-run of namespaced objects needs it to exist.
    const namespaceFile = fs.readdirSync(manifests).find((f) => f.startsWith("v1-namespace-"))!;
    kubectl("apply", "--server-side", "-f", path.join(manifests, namespaceFile));
    try {
      const out = execFileSync(
        "kubectl",
        ["--kubeconfig", KUBECONFIG, "apply", "--server-side", "--dry-run=server", "--validate=strict", "-R", "-f", manifests],
        { encoding: "utf8" },
      );
      assert.match(out, /deployment\.apps\/api serverside-applied \(server dry run\)/);
    } finally {
      kubectl("delete", "-f", path.join(manifests, namespaceFile), "--wait=true");
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
