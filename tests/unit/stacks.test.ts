// The full dev and prod stacks under Pulumi's mocks (unit tests: no engine, no cluster):
// what each would send to the Kubernetes API, and in which order.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { BlockList, isIPv4 } from "node:net";
import * as path from "node:path";
import { ApiStack } from "../../components/api-stack";
import { explained } from "../../components/checkers";
import { validateConfig } from "../../config";
import {
  asManifest,
  DEV_IMAGE_REPOSITORY,
  devInput,
  execute,
  isKubernetes,
  isSecretValue,
  PROJECT,
  PROD_IMAGE,
  PROJECT_DIR,
  prodInput,
  readStackFile,
  runProgram,
  TEST_SECRETS,
  withConfig,
  type RunResult,
} from "../support/harness";
import { releaseId } from "../../components/release";
import { DEFAULT_BASE_IMAGE } from "../../config/keys";
import { validateManifest } from "../support/k8s-schema";
import { withCosign } from "../support/cosign";

const T = {
  namespace: "kubernetes:core/v1:Namespace",
  deployment: "kubernetes:apps/v1:Deployment",
  statefulSet: "kubernetes:apps/v1:StatefulSet",
  job: "kubernetes:batch/v1:Job",
  service: "kubernetes:core/v1:Service",
  serviceAccount: "kubernetes:core/v1:ServiceAccount",
  configMap: "kubernetes:core/v1:ConfigMap",
  secret: "kubernetes:core/v1:Secret",
  ingress: "kubernetes:networking.k8s.io/v1:Ingress",
  hpa: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
  pdb: "kubernetes:policy/v1:PodDisruptionBudget",
  image: "docker:index/image:Image",
};

const RECOMMENDED_LABELS = [
  "app.kubernetes.io/name",
  "app.kubernetes.io/instance",
  "app.kubernetes.io/component",
  "app.kubernetes.io/part-of",
  "app.kubernetes.io/managed-by",
  "app.kubernetes.io/version",
];
const SECRET_LOOKING = /PASSWORD|SECRET|^TOKEN|_TOKEN$|DATABASE_URL|DSN|_KEY$/;

const containerOf = (run: RunResult, type: string, name: string) =>
  asManifest(run.one(type, name)).spec.template.spec.containers[0];
/** The migration Job (prod also runs a backup Job before it). */
const migrationJob = (run: RunResult) => run.one(T.job, "api-migration");
/** Settings objects are content-addressed: `api-settings-<8 hex>`, `api-secrets-<8 hex>`. */
const SETTINGS_NAME = /^api-(settings|secrets)-[a-f0-9]{8}$/;

// Prod releases blue-green; its Rollout is delivery.test.ts's subject. Here prod's shape runs as a
// Deployment, so both stacks' workloads compare object for object.
const prodRolling = () => withConfig(prodInput(), { strategy: "rolling" });

for (const [stack, input] of [
  ["dev", devInput],
  ["prod", prodRolling],
] as const) {
  describe(`${stack} stack (mocks)`, () => {
    // Prod verifies its prebuilt image as signed before registering anything.
    withCosign();
    let run: RunResult;
    before(async () => {
      run = await runProgram(input(), { stack });
    });

    it("emits only objects that validate against the Kubernetes OpenAPI schemas", async () => {
      const manifests = run.resources.filter(isKubernetes).map(asManifest);
      assert.ok(manifests.length >= 10);
      for (const manifest of manifests) {
        await validateManifest(manifest);
      }
    });

    it("labels every object with the recommended app.kubernetes.io labels from one place", () => {
      for (const resource of run.resources.filter(isKubernetes)) {
        const labels = asManifest(resource).metadata.labels ?? {};
        // Services carry no version: a release must not touch them (tests/unit/delivery.test.ts).
        const expected =
          resource.type === "kubernetes:core/v1:Service"
            ? RECOMMENDED_LABELS.filter((l) => l !== "app.kubernetes.io/version")
            : RECOMMENDED_LABELS;
        for (const label of expected) {
          assert.ok(labels[label], `${resource.key} lacks ${label}`);
        }
        assert.equal(labels["app.kubernetes.io/instance"], `api-${stack}`);
        assert.equal(labels["app.kubernetes.io/managed-by"], "pulumi");
      }
    });

    it("creates a restricted namespace and puts everything in it", () => {
      const ns = asManifest(run.one(T.namespace));
      assert.equal(ns.metadata.name, `api-${stack}`);
      assert.equal(ns.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
      for (const resource of run.resources.filter(isKubernetes).filter((r) => r.type !== T.namespace)) {
        assert.equal(asManifest(resource).metadata.namespace, `api-${stack}`, resource.key);
      }
    });

    it("parents every resource under the ApiStack component", () => {
      const roots = run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack" && r.parent === undefined);
      assert.deepEqual(
        roots.map((r) => r.key),
        ["api-stack:index:ApiStack::api"],
      );
    });

    it(
      stack === "dev"
        ? "builds the multi-stage image and deploys it only by digest"
        : "deploys the image CI built and signed, by digest, and builds nothing",
      () => {
        const ref = run.outputs.image as string;
        if (stack === "dev") {
          const image = run.one(T.image).inputs;
          const repository = DEV_IMAGE_REPOSITORY;
          assert.equal(image.imageName, `${repository}:${stack}`);
          assert.equal(image.build.context, path.join(PROJECT_DIR, "apps/fastapi"));
          assert.equal(image.build.dockerfile, path.join(PROJECT_DIR, "apps/fastapi/Dockerfile"));
          assert.equal(image.build.target, "runtime");
          assert.equal(image.build.platform, "linux/amd64");
          assert.equal(image.build.builderVersion, "BuilderBuildKit");
          assert.deepEqual(image.build.cacheFrom, { images: [`${repository}:${stack}`] });
          assert.equal(image.build.args.BUILDKIT_INLINE_CACHE, "1");
          assert.match(ref, new RegExp(`^${repository.replace(/[./]/g, "\\$&")}@sha256:[a-f0-9]{64}$`));
        } else {
          assert.deepEqual(run.all(T.image), []);
          assert.equal(ref, PROD_IMAGE);
        }
        const pods = [...run.all(T.deployment), migrationJob(run)];
        assert.equal(pods.length, 3);
        for (const resource of pods) {
          assert.equal(asManifest(resource).spec.template.spec.containers[0].image, ref, resource.key);
        }
      },
    );

    it("splits settings into a ConfigMap and a Pulumi-secret Secret", () => {
      const settings = asManifest(run.one(T.configMap)).data;
      // The apps' own spelling, which they insist on: they refuse "dev" and "prod" at start.
      assert.equal(settings.ENVIRONMENT, stack === "dev" ? "development" : "production");
      assert.equal(settings.APP_NAME, "api");
      assert.equal(settings.APP_VERSION, "0.1.0");
      assert.equal(settings.DEBUG, stack === "dev" ? "true" : "false");
      assert.equal(settings.DB_POOL_SIZE, "5");
      assert.equal(settings.DB_MAX_OVERFLOW, "10");
      assert.equal(settings.ACCESS_TOKEN_EXPIRE_MINUTES, "30");
      assert.equal(settings.REFRESH_TOKEN_EXPIRE_DAYS, "7");
      assert.equal(settings.CORS_ORIGINS, stack === "dev" ? "http://localhost:3000" : "https://app.example.com");
      for (const key of Object.keys(settings)) {
        if (key !== "REDIS_URL") {
          assert.doesNotMatch(key, SECRET_LOOKING, `${key} looks secret but is in the ConfigMap`);
        }
      }

      const secret = run.one(T.secret, "api-secrets");
      assert.ok(isSecretValue(secret.inputs.stringData), "stringData must be a Pulumi secret");
      const data = asManifest(secret).stringData;
      assert.equal(data.SECRET_KEY, TEST_SECRETS.secretKey);
      if (stack === "prod") {
        assert.equal(data.DATABASE_URL, TEST_SECRETS.databaseUrl);
        assert.equal(data.REDIS_URL, TEST_SECRETS.redisUrl);
        assert.equal(settings.REDIS_URL, undefined);
      } else {
        assert.equal(
          data.DATABASE_URL,
          `postgresql://app:${TEST_SECRETS.devPostgresPassword}@api-postgres.api-dev.svc.cluster.local:5432/app`,
        );
        assert.equal(settings.REDIS_URL, "redis://api-redis.api-dev.svc.cluster.local:6379/0");
      }
    });

    it("runs the API as a locked-down, probed, drained Deployment", () => {
      const deployment = asManifest(run.one(T.deployment, "api"));
      const pod = deployment.spec.template.spec;
      const container = pod.containers[0];
      assert.deepEqual(deployment.spec.strategy, {
        type: "RollingUpdate",
        rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
      });
      assert.deepEqual(container.ports, [
        { name: "http", containerPort: 8000, protocol: "TCP" },
        { name: "metrics", containerPort: 9000, protocol: "TCP" },
      ]);
      // Settings as variables; the Secret as read-only files where the apps read them (below).
      const secretName = asManifest(run.one(T.secret, "api-secrets")).metadata.name;
      assert.deepEqual(container.envFrom, [{ configMapRef: { name: asManifest(run.one(T.configMap)).metadata.name } }]);
      for (const ref of [container.envFrom[0].configMapRef.name, secretName]) {
        assert.match(ref, SETTINGS_NAME);
      }
      const disk = { requests: { "ephemeral-storage": "256Mi" }, limits: { "ephemeral-storage": "1Gi" } };
      assert.deepEqual(
        container.resources,
        stack === "dev"
          ? {
              requests: { cpu: "100m", memory: "128Mi", ...disk.requests },
              limits: { cpu: "500m", memory: "512Mi", ...disk.limits },
            }
          : {
              requests: { cpu: "250m", memory: "256Mi", ...disk.requests },
              limits: { cpu: "500m", memory: "512Mi", ...disk.limits },
            },
      );
      assert.equal(container.livenessProbe.httpGet.path, "/health/live");
      assert.equal(container.readinessProbe.httpGet.path, "/health/ready");
      assert.equal(container.startupProbe.httpGet.path, "/health/live");
      assert.deepEqual(container.securityContext, {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        runAsUser: 10001,
        runAsGroup: 10001,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
      });
      assert.equal(pod.securityContext.runAsUser, 10001);
      assert.deepEqual(container.volumeMounts, [
        { name: "tmp", mountPath: "/tmp" },
        { name: "secrets", mountPath: "/run/secrets/app", readOnly: true },
      ]);
      assert.deepEqual(pod.volumes, [
        { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
        { name: "secrets", secret: { secretName, defaultMode: 0o440 } },
      ]);
      assert.equal(pod.serviceAccountName, "api");
      assert.equal(pod.automountServiceAccountToken, false);
      assert.equal(asManifest(run.one(T.serviceAccount)).automountServiceAccountToken, false);
      assert.deepEqual(container.lifecycle, { preStop: { sleep: { seconds: 5 } } });
      assert.equal(pod.terminationGracePeriodSeconds, stack === "dev" ? 30 : 45);
      assert.deepEqual(
        pod.topologySpreadConstraints.map((c: any) => c.topologyKey),
        ["topology.kubernetes.io/zone", "kubernetes.io/hostname"],
      );
      const annotations = deployment.spec.template.metadata.annotations;
      assert.equal(annotations["prometheus.io/scrape"], "true");
      assert.equal(annotations["prometheus.io/port"], "9000");
      assert.equal(annotations["prometheus.io/path"], "/metrics");
      assert.match(annotations["api-stack.io/settings-checksum"], /^[a-f0-9]{64}$/);
    });

    it("selects pods by stable labels only", () => {
      const selector = asManifest(run.one(T.deployment, "api")).spec.selector.matchLabels;
      assert.deepEqual(selector, {
        "app.kubernetes.io/name": "api",
        "app.kubernetes.io/instance": `api-${stack}`,
        "app.kubernetes.io/component": "api",
      });
      assert.deepEqual(asManifest(run.one(T.service, "api")).spec.selector, selector);
      assert.deepEqual(asManifest(run.one(T.pdb)).spec.selector.matchLabels, selector);
    });

    it("runs the Celery worker from the same image and settings", () => {
      const worker = containerOf(run, T.deployment, "api-worker");
      assert.deepEqual(worker.command, ["celery", "-A", "app.celery", "worker", "-l", "info"]);
      assert.equal(worker.image, run.outputs.image);
      assert.deepEqual(worker.envFrom, containerOf(run, T.deployment, "api").envFrom);
      // Its only port is the metrics port, which the worker's PodMonitor scrapes.
      assert.deepEqual(worker.ports, [{ name: "metrics", containerPort: 9000, protocol: "TCP" }]);
      assert.equal(worker.securityContext.readOnlyRootFilesystem, true);
    });

    it("migrates once per image digest and settings, before the API and the worker roll", () => {
      const job = asManifest(migrationJob(run));
      const settingsId = asManifest(run.one(T.configMap)).metadata.name.slice("api-settings-".length);
      assert.equal(job.metadata.name, `api-migration-${releaseId(String(run.outputs.image))}-${settingsId}`);
      assert.deepEqual(job.spec.template.spec.containers[0].command, ["alembic", "upgrade", "head"]);
      assert.equal(job.spec.template.spec.restartPolicy, "Never");
      assert.equal(job.spec.backoffLimit, 0);
      assert.equal(job.spec.activeDeadlineSeconds, 600);
      for (const name of ["api", "api-worker"]) {
        assert.ok(
          run.one(T.deployment, name).dependsOn.includes(`${T.job}::api-migration`),
          `${name} must wait for the Job`,
        );
      }
    });

    it("creates the API with the HPA's minimum, then leaves the count to the HPA", () => {
      // The count is sent when the Deployment is created; ignoreChanges keeps it out of updates.
      const hpa = asManifest(run.one(T.hpa)).spec;
      const deployment = run.one(T.deployment, "api");
      assert.equal(asManifest(deployment).spec.replicas, hpa.minReplicas);
      assert.deepEqual(deployment.ignoreChanges, ["spec.replicas"]);
      assert.deepEqual(asManifest(deployment).metadata.annotations, explained("hpaReplicas"));
      assert.deepEqual(hpa.scaleTargetRef, { apiVersion: "apps/v1", kind: "Deployment", name: "api" });
      assert.equal(hpa.minReplicas, stack === "dev" ? 1 : 3);
      assert.equal(hpa.maxReplicas, stack === "dev" ? 3 : 20);
      // CPU only: the app's pods hold about the same memory under any load (config/keys.ts).
      assert.deepEqual(
        hpa.metrics.map((m: any) => [m.resource.name, m.resource.target.averageUtilization]),
        [["cpu", 70]],
      );
      assert.deepEqual(hpa.behavior.scaleUp, {
        stabilizationWindowSeconds: 60,
        policies: [{ type: "Percent", value: 100, periodSeconds: 60 }],
      });
      assert.deepEqual(hpa.behavior.scaleDown, {
        stabilizationWindowSeconds: 300,
        policies: [{ type: "Percent", value: 10, periodSeconds: 60 }],
      });
      assert.equal(asManifest(run.one(T.pdb)).spec.maxUnavailable, 1);
    });

    it("exposes the API through a ClusterIP Service and an nginx Ingress", () => {
      const service = asManifest(run.one(T.service, "api")).spec;
      assert.equal(service.type, "ClusterIP");
      assert.deepEqual(service.ports, [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }]);
      const ingress = asManifest(run.one(T.ingress));
      assert.equal(ingress.spec.ingressClassName, "nginx");
      assert.equal(ingress.metadata.annotations["kubernetes.io/ingress.class"], undefined);
      assert.equal(ingress.metadata.annotations["nginx.ingress.kubernetes.io/limit-rpm"], "100");
      if (stack === "prod") {
        assert.equal(ingress.metadata.annotations["cert-manager.io/cluster-issuer"], "letsencrypt-prod");
        assert.deepEqual(ingress.spec.tls, [{ hosts: ["api.example.com"], secretName: "api-tls" }]);
        assert.equal(run.outputs.url, "https://api.example.com");
      } else {
        assert.equal(ingress.metadata.annotations["cert-manager.io/cluster-issuer"], undefined);
        assert.equal(ingress.spec.tls, undefined);
        assert.equal(run.outputs.url, "http://api.dev.localhost");
      }
      assert.equal(ingress.spec.rules[0].http.paths[0].backend.service.name, "api");
    });

    it("exports namespace, image, service, URL and release", () => {
      assert.equal(run.outputs.namespace, `api-${stack}`);
      assert.equal(run.outputs.serviceName, "api");
      assert.deepEqual(run.outputs.release, { strategy: "rolling", active: run.outputs.image });
      assert.match(String(run.outputs.migrationJob), /^api-migration-[a-f0-9]{12}-[a-f0-9]{8}$/);
    });

    if (stack === "dev") {
      it("runs Postgres and Redis in the namespace, each a StatefulSet with a volume and a Service", () => {
        for (const service of ["postgres", "redis"]) {
          const sts = asManifest(run.one(T.statefulSet, `api-dev-${service}`));
          assert.equal(sts.spec.volumeClaimTemplates[0].metadata.name, "data");
          assert.equal(sts.spec.template.spec.securityContext.runAsNonRoot, true);
          assert.equal(sts.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem, true);
          assert.equal(asManifest(run.one(T.service, `api-dev-${service}`)).metadata.name, `api-${service}`);
        }
        assert.equal(
          asManifest(run.one(T.statefulSet, "api-dev-postgres")).spec.volumeClaimTemplates[0].spec.resources.requests
            .storage,
          "1Gi",
        );
        assert.ok(isSecretValue(run.one(T.secret, "api-dev-postgres").inputs.stringData));
        assert.deepEqual(
          asManifest(run.one(T.statefulSet, "api-dev-postgres")).spec.persistentVolumeClaimRetentionPolicy,
          { whenDeleted: "Delete", whenScaled: "Retain" },
        );
        assert.ok(run.one("api-stack:index:Workload").dependsOn.includes("api-stack:index:DevServices::api-dev"));
      });

      it("leaves Postgres and Redis as they are when the app's version changes", async () => {
        const next = await runProgram(withConfig(input(), { appVersion: "9.9.9" }), { stack });
        for (const service of ["postgres", "redis"]) {
          const key = `api-dev-${service}`;
          const template = (r: RunResult) => asManifest(r.one(T.statefulSet, key)).spec.template;
          assert.deepEqual(template(next), template(run), `${service} would restart`);
        }
      });

      it("builds on the public base image, pinned by digest", () => {
        assert.equal(run.one(T.image).inputs.build.args.BASE_IMAGE, DEFAULT_BASE_IMAGE);
      });
    } else {
      it("runs no in-cluster databases", () => {
        assert.deepEqual(run.all(T.statefulSet), []);
      });
    }
  });
}

describe("stack variations (mocks)", () => {
  withCosign();
  const digestRef = `registry.example.com/platform/api@sha256:${"c".repeat(64)}`;
  const prebuilt = () => withConfig(prodRolling(), { imageRef: digestRef });
  const checksumOf = async (overrides: Record<string, unknown>, secret: string[] = []) => {
    const run = await runProgram(withConfig(prebuilt(), overrides as Record<string, string>, secret));
    return asManifest(run.one(T.deployment, "api")).spec.template.metadata.annotations[
      "api-stack.io/settings-checksum"
    ];
  };

  it("deploys a prebuilt image by digest without building", async () => {
    const run = await runProgram(prebuilt());
    assert.deepEqual(run.all(T.image), []);
    assert.equal(run.outputs.image, digestRef);
    assert.match(asManifest(migrationJob(run)).metadata.name, /^api-migration-cccccccccccc-[a-f0-9]{8}$/);
  });

  it("rolls the pods when a setting or a secret changes, and only then", async () => {
    const base = await checksumOf({});
    assert.equal(await checksumOf({ hpaMaxReplicas: 30 }), base);
    assert.notEqual(await checksumOf({ dbPoolSize: 20 }), base);
    assert.notEqual(await checksumOf({ secretKey: `${TEST_SECRETS.secretKey}-rotated` }, ["secretKey"]), base);
  });

  it("without the HPA, Pulumi owns the replica count", async () => {
    const run = await runProgram(withConfig(prebuilt(), { hpaEnabled: false }));
    assert.deepEqual(run.all(T.hpa), []);
    assert.equal(asManifest(run.one(T.deployment, "api")).spec.replicas, 2);
    assert.deepEqual(run.one(T.deployment, "api").ignoreChanges, []);
    assert.equal(run.all(T.pdb).length, 1);
  });

  it("refuses an API given both a replica count and an HPA, or neither", async () => {
    const validated = validateConfig({
      values: prebuilt().values,
      secretKeys: new Set(prebuilt().secretKeys),
      project: PROJECT,
      stack: "unit",
      projectDir: PROJECT_DIR,
    });
    assert.ok(validated.ok);
    const { args } = validated.config;
    for (const [change, says] of [
      [{ api: { ...args.api, replicas: 3 } }, /set either replicas or autoscaling \(got both\)/],
      [{ autoscaling: undefined }, /set either replicas or autoscaling \(got neither\)/],
    ] as const) {
      const run = await execute(prebuilt(), {
        program: (readRelease) => {
          new ApiStack("api", { ...args, ...change, readRelease });
          return Promise.resolve({});
        },
      });
      assert.match(String(run.error?.message), says);
    }
  });

  it("without an Ingress, the URL is the in-cluster one", async () => {
    const run = await runProgram(withConfig(prebuilt(), { ingressEnabled: false, ingressHost: undefined }));
    assert.deepEqual(run.all(T.ingress), []);
    assert.equal(run.outputs.url, "http://api.api-prod.svc.cluster.local");
  });

  it("without migrations or a worker, neither is created", async () => {
    const run = await runProgram(
      withConfig(prebuilt(), { migrationsEnabled: false, workerEnabled: false, backupEnabled: false }),
    );
    assert.deepEqual(run.all(T.job), []);
    assert.deepEqual(
      run.all(T.deployment).map((d) => d.name),
      ["api"],
    );
    assert.deepEqual(run.one(T.deployment, "api").dependsOn, [`${T.serviceAccount}::api`]);
  });

  it("passes registry credentials to the build as a secret", async () => {
    const run = await runProgram(
      withConfig(devInput(), { registryUsername: "ci", registryPassword: TEST_SECRETS.registryPassword }, [
        "registryPassword",
      ]),
      { stack: "dev" },
    );
    const image = run.one(T.image);
    assert.ok(isSecretValue(image.inputs.registry), "the registry block carries the password, so all of it is secret");
    assert.deepEqual(asManifest(image).registry, {
      server: "registry.example.com",
      username: "ci",
      password: TEST_SECRETS.registryPassword,
    });
  });

  it("renders manifests to a directory through its own provider", async () => {
    const run = await runProgram(withConfig(prebuilt(), { renderYamlTo: "rendered/prod" }));
    const provider = run.one("pulumi:providers:kubernetes");
    assert.equal(provider.inputs.renderYamlToDirectory, path.join(PROJECT_DIR, "rendered/prod"));
    assert.equal(provider.inputs.kubeconfig, "", "no cluster settings beside renderYamlToDirectory");
  });

  it("takes the Django migration command from config", async () => {
    const run = await runProgram(
      withConfig(prebuilt(), {
        migrationCommand: ["python", "manage.py", "migrate", "--noinput"],
        workerEnabled: false,
      }),
    );
    assert.deepEqual(containerOf(run, T.job, "api-migration").command, ["python", "manage.py", "migrate", "--noinput"]);
  });
});

/**
 * The local environment's fixed facts: the addresses and CIDRs testbed/lib.sh defines (read by
 * sourcing it, as the test bed's scripts do) and the base image testbed/base-image builds.
 */
function testBedFacts(): { addresses: string[]; cidrs: string[]; images: string[] } {
  const script =
    'before=$(compgen -v); source testbed/lib.sh; for name in $(compgen -v); do grep -qx "$name" <<<"$before" || ' +
    'printf "%s\\n" "${!name}"; done';
  const values = execFileSync("bash", ["-c", script], { cwd: PROJECT_DIR, encoding: "utf8" }).split("\n");
  const host = (value: string) => value.replace(/:\d+$/, "");
  const baseImage = /^IMAGE=\$\{BASE_IMAGE_TAG:-([^}]+)\}$/m.exec(
    fs.readFileSync(path.join(PROJECT_DIR, "testbed/base-image"), "utf8"),
  );
  return {
    addresses: values.filter((value) => isIPv4(host(value))),
    cidrs: values.filter((value) => /^[\d.]+\/\d+$/.test(value) && isIPv4(value.split("/")[0])),
    images: baseImage ? [baseImage[1]] : [],
  };
}

/**
 * What of the test bed a text names: its addresses (with or without port), its images, and any
 * address or range inside (or around) its CIDRs.
 */
function testBedMentions(text: string, facts: ReturnType<typeof testBedFacts>): string[] {
  const ranges = new BlockList();
  for (const cidr of facts.cidrs) {
    const [network, prefix] = cidr.split("/");
    ranges.addSubnet(network, Number(prefix));
  }
  const named = [...facts.addresses, ...facts.addresses.map((a) => a.replace(/:\d+$/, "")), ...facts.images].filter(
    (fact) => text.includes(fact),
  );
  const inRanges = [...text.matchAll(/\b(\d{1,3}(?:\.\d{1,3}){3})(?:\/(\d{1,2}))?/g)]
    .filter(([, address, prefix]) => {
      if (!isIPv4(address)) {
        return false;
      }
      if (prefix === undefined) {
        return ranges.check(address);
      }
      // A range that contains a test-bed range overlaps it as much as one inside it.
      const mine = new BlockList();
      mine.addSubnet(address, Number(prefix));
      return ranges.check(address) || facts.cidrs.some((cidr) => mine.check(cidr.split("/")[0]));
    })
    .map(([match]) => match);
  return [...new Set([...named, ...inRanges])];
}

describe("the dev stack file runs on any cluster", () => {
  const facts = testBedFacts();

  it("knows the test bed's facts, and would notice each of them", () => {
    // Without facts the next test could not fail: lib.sh must still yield the registry and the pod network.
    assert.ok(
      facts.addresses.length >= 2 && facts.cidrs.length >= 2 && facts.images.length === 1,
      JSON.stringify(facts),
    );
    for (const fact of [...facts.addresses, ...facts.cidrs, ...facts.images]) {
      assert.notDeepEqual(testBedMentions(`api-stack:somewhere: ${fact}`, facts), [], fact);
    }
    const [network] = facts.cidrs[0].split("/");
    const inside = network.replace(/\d+$/, "7");
    assert.deepEqual(testBedMentions(`forwardedAllowIps: [${inside}]`, facts), [inside]);
    assert.deepEqual(testBedMentions("forwardedAllowIps: [192.0.2.0/24]", facts), []);
  });

  it("names no test-bed address, image or CIDR", () => {
    const text = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.dev.yaml"), "utf8");
    assert.deepEqual(testBedMentions(text, facts), []);
  });

  it("asks for exactly one key, the registry, and names it", () => {
    const file = readStackFile("dev");
    const validated = validateConfig({
      values: file.values,
      secretKeys: new Set(file.secretKeys),
      project: PROJECT,
      stack: "dev",
      projectDir: PROJECT_DIR,
    });
    assert.ok(!validated.ok);
    assert.equal(validated.errors.length, 1, validated.errors.join("\n"));
    assert.match(validated.errors[0], new RegExp(`^${PROJECT}:imageRepository\\b`));
  });
});
