// Runtime hardening of whole stacks under Pulumi's mocks (unit tests: no engine, no cluster):
// NetworkPolicies, the apps' environment contract, immutable settings, release Jobs, the worker,
// what every container declares, backups, and image signatures before anything is registered.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  asManifest,
  devInput,
  execute,
  prodInput,
  runProgram,
  TEST_SECRETS,
  withConfig,
  type RunResult,
} from "../support/harness";
import { signatureProblems } from "../../config";
import { UNSIGNED, withCosign } from "../support/cosign";

const T = {
  deployment: "kubernetes:apps/v1:Deployment",
  statefulSet: "kubernetes:apps/v1:StatefulSet",
  job: "kubernetes:batch/v1:Job",
  configMap: "kubernetes:core/v1:ConfigMap",
  secret: "kubernetes:core/v1:Secret",
  policy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  rollout: "kubernetes:argoproj.io/v1alpha1:Rollout",
  service: "kubernetes:core/v1:Service",
};
const DIGEST_REF = `registry.example.com/platform/api@sha256:${"c".repeat(64)}`;
/** Prod releasing a given signed image (prodInput's is the workflow's stand-in). */
const prebuilt = () => withConfig(prodInput(), { imageRef: DIGEST_REF });
const settingsOf = (run: RunResult) => asManifest(run.one(T.configMap)).data;
const appPods = (run: RunResult) => [...run.all(T.deployment), ...run.all(T.rollout), ...run.all(T.job)];
const podBearing = (run: RunResult) => [...appPods(run), ...run.all(T.statefulSet)];
const policiesOf = (run: RunResult) =>
  Object.fromEntries(run.all(T.policy).map((r) => [asManifest(r).metadata.name, asManifest(r).spec]));

describe("network isolation (mocks)", () => {
  // Prod (and a staging stack with prod's signer) verifies its prebuilt image before registering anything.
  withCosign();
  it("dev: denies by default, then lets ingress-nginx reach the API, the app DNS and its dev services", async () => {
    const run = await runProgram(devInput(), { stack: "dev" });
    const policies = policiesOf(run);
    assert.deepEqual(Object.keys(policies).sort(), [
      "api-allow-egress",
      "api-allow-ingress",
      "api-default-deny",
      "api-postgres-allow-ingress",
      "api-redis-allow-ingress",
      "api-worker-allow-ingress",
    ]);
    assert.deepEqual(policies["api-allow-ingress"].ingress[0].from[0], {
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } },
      podSelector: { matchLabels: { "app.kubernetes.io/name": "ingress-nginx" } },
    });
    // The deny comes last, so a running stack never loses DNS or its database on the way.
    const deny = run.one(T.policy, "api-default-deny");
    assert.equal(deny.dependsOn.length, 5);
    assert.ok(deny.dependsOn.every((key) => key.startsWith(`${T.policy}::`)));
    assert.equal(settingsOf(run).FORWARDED_ALLOW_IPS, undefined, "trusts no proxy until told which");
  });

  it("prod: the app reaches only DNS and the networks of config, on their ports", async () => {
    const run = await runProgram(prodInput(), { stack: "prod" });
    const egress = policiesOf(run)["api-allow-egress"].egress;
    assert.deepEqual(egress.slice(1), [
      {
        to: [{ ipBlock: { cidr: "10.0.0.0/8" } }],
        ports: [5432, 6379, 6380].map((port) => ({ protocol: "TCP", port })),
      },
    ]);
    assert.deepEqual(policiesOf(run)["api-allow-ingress"].ingress[0].from[0].namespaceSelector.matchLabels, {
      "kubernetes.io/metadata.name": "ingress-nginx",
    });
    assert.equal(settingsOf(run).FORWARDED_ALLOW_IPS, undefined, "trusts no proxy until told which");
  });

  it("can be turned off outside prod", async () => {
    const run = await runProgram(withConfig(prodInput(), { environment: "staging", networkPolicyEnabled: false }));
    assert.deepEqual(run.all(T.policy), []);
  });
});

describe("the apps' environment contract (mocks)", () => {
  withCosign();
  it("serves metrics on their own port, allows only the stack's host names, and bounds Celery", async () => {
    const run = await runProgram(prodInput(), { stack: "prod" });
    const settings = settingsOf(run);
    assert.equal(settings.METRICS_PORT, "9000");
    const hosts = settings.ALLOWED_HOSTS.split(",");
    assert.equal(hosts[0], "api.example.com");
    const services = run.all(T.service).map((r) => asManifest(r).metadata.name);
    assert.ok(services.includes("api"));
    assert.deepEqual(
      hosts.slice(1).sort(),
      services
        .flatMap((name) => [name, `${name}.api-prod`, `${name}.api-prod.svc`, `${name}.api-prod.svc.cluster.local`])
        .sort(),
    );
    assert.deepEqual(
      [settings.CELERY_TASK_SOFT_TIME_LIMIT, settings.CELERY_TASK_TIME_LIMIT, settings.CELERY_VISIBILITY_TIMEOUT],
      ["50", "60", "300"],
    );
  });

  it("passes earlier secret keys as a secret during a rotation", async () => {
    const fallback = `${TEST_SECRETS.secretKey}-previous`;
    const run = await runProgram(withConfig(prodInput(), { secretKeyFallbacks: fallback }, ["secretKeyFallbacks"]), {
      stack: "prod",
    });
    assert.equal(asManifest(run.one(T.secret, "api-secrets")).stringData.SECRET_KEY_FALLBACKS, fallback);
    assert.equal(settingsOf(run).SECRET_KEY_FALLBACKS, undefined);
  });
});

describe("immutable settings and release Jobs (mocks)", () => {
  withCosign();
  const objects = async (overrides: Record<string, unknown> = {}, secret: string[] = []) => {
    const run = await runProgram(withConfig(prebuilt(), overrides as Record<string, string | number>, secret), {
      stack: "prod",
    });
    return {
      configMap: asManifest(run.one(T.configMap)),
      secret: asManifest(run.one(T.secret, "api-secrets")),
      migration: asManifest(run.one(T.job, "api-migration")),
      backup: asManifest(run.one(T.job, "api-backup")),
    };
  };

  it("makes the ConfigMap and Secret immutable and names them by their content", async () => {
    const { configMap, secret } = await objects();
    assert.equal(configMap.immutable, true);
    assert.equal(secret.immutable, true);
    const id = configMap.metadata.name.slice("api-settings-".length);
    assert.match(id, /^[a-f0-9]{8}$/);
    assert.equal(secret.metadata.name, `api-secrets-${id}`);
  });

  it("migrates again when settings change under one image (a new DATABASE_URL), never when nothing did", async () => {
    const before = await objects();
    const same = await objects();
    const moved = await objects(
      { databaseUrl: "postgresql://app:unit-test-db-password@db2.internal:5432/app?sslmode=verify-full" },
      ["databaseUrl"],
    );
    assert.equal(same.migration.metadata.name, before.migration.metadata.name);
    assert.notEqual(moved.migration.metadata.name, before.migration.metadata.name);
    assert.notEqual(moved.backup.metadata.name, before.backup.metadata.name);
    assert.notEqual(moved.secret.metadata.name, before.secret.metadata.name);
    assert.match(moved.migration.metadata.name, /^api-migration-cccccccccccc-[a-f0-9]{8}$/);
  });

  it("bounds the migration's locks and statements, and re-runs a failed Job on the next update", async () => {
    const { migration, backup } = await objects({
      migrationLockTimeoutSeconds: 3,
      migrationStatementTimeoutSeconds: 120,
    });
    assert.deepEqual(migration.spec.template.spec.containers[0].env, [
      { name: "PGOPTIONS", value: "-c lock_timeout=3s -c statement_timeout=120s" },
    ]);
    for (const job of [migration, backup]) {
      assert.equal(job.metadata.annotations["pulumi.com/replaceUnready"], "true", job.metadata.name);
    }
  });

  it("backs up in prod by default, keeping the newest dumps, and not when turned off", async () => {
    const { backup } = await objects({ backupRetention: 14 });
    const container = backup.spec.template.spec.containers[0];
    assert.match(container.image, /@sha256:[a-f0-9]{64}$/);
    assert.equal(container.env.find((e: { name: string }) => e.name === "BACKUP_RETENTION").value, "14");
    const off = await runProgram(withConfig(prebuilt(), { backupEnabled: false }), { stack: "prod" });
    assert.deepEqual(
      off.all(T.job).map((job) => job.name),
      ["api-migration"],
    );
    const dev = await runProgram(devInput(), { stack: "dev" });
    assert.deepEqual(
      dev.all(T.job).map((job) => job.name),
      ["api-migration"],
    );
  });
});

describe("pods and containers (mocks)", () => {
  withCosign();
  it("checks the worker's liveness and readiness apart, and lets it finish its tasks on shutdown", async () => {
    const run = await runProgram(
      withConfig(prodInput(), {
        celeryTaskTimeLimitSeconds: 300,
        celeryTaskSoftTimeLimitSeconds: 240,
        celeryVisibilityTimeoutSeconds: 900,
      }),
      {
        stack: "prod",
      },
    );
    const pod = asManifest(run.one(T.deployment, "api-worker")).spec.template.spec;
    assert.deepEqual(pod.containers[0].livenessProbe.exec.command, ["python", "-m", "app.worker_liveness"]);
    assert.deepEqual(pod.containers[0].readinessProbe.exec.command, ["python", "-m", "app.worker_readiness"]);
    assert.ok(
      pod.terminationGracePeriodSeconds > 300,
      `grace ${pod.terminationGracePeriodSeconds} s covers the 300 s task limit`,
    );
  });

  for (const [stack, input] of [
    ["dev", devInput],
    ["prod", prodInput],
  ] as const) {
    it(`${stack}: every container bounds its scratch disk and says how its image is pulled`, async () => {
      const run = await runProgram(input(), { stack });
      const containers = podBearing(run).flatMap((r) =>
        asManifest(r).spec.template.spec.containers.map((c: any) => [r.key, c] as const),
      );
      assert.ok(containers.length >= 4);
      for (const [key, container] of containers) {
        assert.ok(container.resources.requests["ephemeral-storage"], `${key}: ephemeral-storage request`);
        assert.ok(container.resources.limits["ephemeral-storage"], `${key}: ephemeral-storage limit`);
        assert.equal(container.imagePullPolicy, "IfNotPresent", key);
      }
    });
  }

  it("runs every app pod as the configured UID", async () => {
    const run = await runProgram(withConfig(prodInput(), { runAsUser: 20001 }), { stack: "prod" });
    for (const resource of appPods(run)) {
      const pod = asManifest(resource).spec.template.spec;
      assert.equal(pod.securityContext.runAsUser, 20001, resource.key);
      assert.equal(pod.securityContext.runAsGroup, 20001, resource.key);
    }
  });
});

describe("image signatures before anything is registered (mocks)", () => {
  describe("an unsigned image", () => {
    withCosign(UNSIGNED);
    it("is refused in prod with the image, the signer and cosign's reason, and nothing is registered", async () => {
      const run = await execute(prebuilt(), { stack: "prod" });
      assert.ok(run.error);
      assert.match(run.error.message, /Invalid stack configuration/);
      assert.ok(
        run.error.message.includes(
          `api-stack:imageRef: image ${DIGEST_REF} is not verified as signed by ` +
            "https://github.com/example-org/api-stack/.github/workflows/deploy.yml@refs/heads/main (issuer " +
            "https://token.actions.githubusercontent.com): no signatures found",
        ),
        run.error.message,
      );
      assert.deepEqual(
        run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack"),
        [],
      );
    });

    it("is refused as a rollback target too", async () => {
      const run = await execute(withConfig(prodInput(), { rollbackTo: DIGEST_REF }), { stack: "prod" });
      assert.match(String(run.error?.message), /api-stack:rollbackTo: image .* is not verified as signed/);
      assert.deepEqual(
        run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack"),
        [],
      );
    });
  });

  describe("a backup image the signer did not sign", () => {
    // cosign as it answers when every image but the backup's is signed.
    withCosign(() => {
      const bin = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "cosign-")), "cosign");
      const script = `case "$*" in *postgres*) echo "Error: no signatures found" >&2; exit 1;; esac\necho '[{}]'`;
      fs.writeFileSync(bin, `#!/usr/bin/env bash\n${script}\n`, { mode: 0o755 });
      return bin;
    });
    it("is refused before anything is registered: it reads DATABASE_URL", async () => {
      const run = await execute(prebuilt(), { stack: "prod" });
      assert.match(
        String(run.error?.message),
        /api-stack:backupImage: image postgres:16-alpine@sha256:[a-f0-9]{64} is not verified/,
      );
      assert.doesNotMatch(String(run.error?.message), /api-stack:imageRef/);
      assert.deepEqual(
        run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack"),
        [],
      );
    });
  });

  describe("a signed image", () => {
    withCosign();
    it("deploys", async () => {
      const run = await runProgram(prebuilt(), { stack: "prod" });
      assert.equal(run.outputs.image, DIGEST_REF);
    });
  });

  it("asks the injected verifier about each prebuilt image, naming its key", () => {
    const asked: string[] = [];
    const problems = signatureProblems(
      {
        signatures: {
          signer: { publicKey: "/keys/cosign.pub" },
          images: [
            { key: "imageRef", ref: "r@sha256:1" },
            { key: "rollbackTo", ref: "r@sha256:2" },
          ],
        },
      },
      "api-stack",
      ({ image }) => {
        asked.push(image);
        if (image.endsWith("2")) {
          throw new Error(`image ${image} is not verified as signed by the key /keys/cosign.pub: no signatures found`);
        }
      },
    );
    assert.deepEqual(asked, ["r@sha256:1", "r@sha256:2"]);
    assert.deepEqual(problems, [
      "api-stack:rollbackTo: image r@sha256:2 is not verified as signed by the key /keys/cosign.pub: " +
        "no signatures found",
    ]);
  });
});

describe("a stack named like prod (mocks)", () => {
  withCosign();
  it("must be prod", async () => {
    const run = await execute(withConfig(prodInput(), { environment: "staging" }), { stack: "prod-eu" });
    assert.match(
      String(run.error?.message),
      /api-stack:environment: "staging" in the stack "prod-eu", whose name says prod/,
    );
    const fine = await execute(withConfig(prodInput(), { environment: "staging" }), { stack: "staging" });
    assert.equal(fine.error, undefined);
  });
});
