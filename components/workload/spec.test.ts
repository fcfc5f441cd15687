import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { explained } from "../checkers";
import { naming } from "../names";
import {
  APP_READINESS_TIMEOUT_SECONDS,
  backupJobSpec,
  deploymentSpec,
  pgOptions,
  podTemplate,
  RUN_AS_USER,
  type PodInput,
} from "./spec";

const n = naming({ appName: "api", environment: "dev", appVersion: "0.1.0", project: "api-stack" });
const ref = `127.0.0.1:5000/api@sha256:${"d".repeat(64)}`;
const base: PodInput = {
  naming: n,
  component: "worker",
  image: ref,
  resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "1Gi" } },
  configMapName: "api-settings",
  secretName: "api-secrets",
  serviceAccountName: "api",
  terminationGracePeriodSeconds: 30,
};

describe("podTemplate", () => {
  it("gives non-HTTP pods no ports, probes or scrape annotations", () => {
    const pod = podTemplate({ ...base, command: ["celery", "worker"] });
    const container = (pod.spec as any).containers[0];
    assert.equal(container.ports, undefined);
    assert.equal(container.livenessProbe, undefined);
    assert.deepEqual(container.command, ["celery", "worker"]);
    assert.deepEqual((pod.metadata as any).annotations, explained("pullPolicy"));
  });

  it("locks down every pod the same way", () => {
    for (const component of ["api", "worker", "migration"] as const) {
      const pod = podTemplate({
        ...base,
        component,
        http: component === "api" ? { preStopSleepSeconds: 3 } : undefined,
      });
      const spec = pod.spec as any;
      assert.equal(spec.automountServiceAccountToken, false);
      assert.equal(spec.securityContext.runAsNonRoot, true);
      assert.equal(spec.securityContext.seccompProfile.type, "RuntimeDefault");
      assert.deepEqual(spec.containers[0].securityContext.capabilities, { drop: ["ALL"] });
      assert.equal(spec.containers[0].securityContext.readOnlyRootFilesystem, true);
    }
  });

  it("uses a named port so probes and the Service follow a port change", () => {
    const container = (podTemplate({ ...base, component: "api", http: { preStopSleepSeconds: 5 } }).spec as any)
      .containers[0];
    assert.equal(container.readinessProbe.httpGet.port, "http");
    assert.equal(container.ports[0].name, "http");
  });

  it("spreads only when asked", () => {
    assert.equal((podTemplate(base).spec as any).topologySpreadConstraints, undefined);
    const spread = (podTemplate({ ...base, spread: true }).spec as any).topologySpreadConstraints;
    assert.equal(spread.length, 2);
    assert.ok(spread.every((c: any) => c.whenUnsatisfiable === "ScheduleAnyway"));
  });
});

describe("deploymentSpec", () => {
  it("never takes a pod down before its replacement is ready", () => {
    const spec = deploymentSpec({ naming: n, component: "api", replicas: 2, template: podTemplate(base) }) as any;
    assert.equal(spec.strategy.rollingUpdate.maxUnavailable, 0);
    assert.deepEqual(spec.selector.matchLabels, n.selector("api"));
  });
});

describe("podTemplate: runtime hardening", () => {
  const api = (extra: Partial<PodInput> = {}) =>
    podTemplate({ ...base, component: "api", http: { preStopSleepSeconds: 5 }, ...extra }) as any;

  it("waits longer for /health/ready than the apps' own readiness check does", () => {
    for (const file of ["apps/fastapi/app/health.py", "apps/django/core/health.py"]) {
      const source = fs.readFileSync(path.resolve(__dirname, "../..", file), "utf8");
      const seconds = Number(/^READINESS_TIMEOUT_SECONDS = ([\d.]+)$/m.exec(source)?.[1]);
      assert.ok(seconds > 0, `${file} names READINESS_TIMEOUT_SECONDS`);
      assert.ok(
        seconds <= APP_READINESS_TIMEOUT_SECONDS,
        `${file}: ${seconds} s, the program assumes at most ${APP_READINESS_TIMEOUT_SECONDS} s`,
      );
    }
    const container = api().spec.containers[0];
    assert.ok(container.readinessProbe.timeoutSeconds > APP_READINESS_TIMEOUT_SECONDS);
  });

  it("serves /metrics on its own named port, which the scrape annotations name when asked", () => {
    const pod = api({ metrics: { port: 9100, annotate: true } });
    assert.deepEqual(pod.spec.containers[0].ports[1], { name: "metrics", containerPort: 9100, protocol: "TCP" });
    assert.equal(pod.metadata.annotations["prometheus.io/port"], "9100");
    const unannotated = api({ metrics: { port: 9000, annotate: false } });
    assert.equal(unannotated.spec.containers[0].ports[1].containerPort, 9000);
    assert.equal(unannotated.metadata.annotations["prometheus.io/scrape"], undefined);
  });

  it("gives the worker the metrics port alone: it serves no HTTP", () => {
    const worker = podTemplate({ ...base, component: "worker", metrics: { port: 9000, annotate: true } }) as any;
    assert.deepEqual(worker.spec.containers[0].ports, [{ name: "metrics", containerPort: 9000, protocol: "TCP" }]);
    assert.equal(worker.spec.containers[0].readinessProbe, undefined);
    assert.equal(worker.metadata.annotations["prometheus.io/path"], "/metrics");
  });

  it("runs as a UID above the node's users unless told otherwise, pod and container alike", () => {
    assert.ok(RUN_AS_USER >= 10000);
    const pod = api().spec;
    assert.equal(pod.securityContext.runAsUser, RUN_AS_USER);
    assert.equal(pod.securityContext.fsGroup, RUN_AS_USER);
    const chosen = api({ runAsUser: 20000 }).spec;
    assert.deepEqual(
      [
        chosen.securityContext.runAsUser,
        chosen.securityContext.runAsGroup,
        chosen.containers[0].securityContext.runAsUser,
      ],
      [20000, 20000, 20000],
    );
  });

  it("says how images are pulled, since they are named by digest", () => {
    for (const component of ["api", "worker", "migration"] as const) {
      assert.equal((podTemplate({ ...base, component }).spec as any).containers[0].imagePullPolicy, "IfNotPresent");
    }
  });

  it("checks a worker's liveness (and startup) and its readiness with their own commands", () => {
    const check = {
      liveness: ["python", "-m", "app.worker_liveness"],
      readiness: ["python", "-m", "app.worker_readiness"],
    };
    const container = (podTemplate({ ...base, check }).spec as any).containers[0];
    assert.deepEqual(container.startupProbe.exec.command, check.liveness);
    assert.deepEqual(container.livenessProbe.exec.command, check.liveness);
    assert.deepEqual(container.readinessProbe.exec.command, check.readiness);
    assert.equal(container.ports, undefined);
  });
});

describe("podTemplate: secrets as files", () => {
  for (const component of ["api", "worker", "migration"] as const) {
    it(`${component}: settings from the ConfigMap's variables, secrets from the Secret's read-only files`, () => {
      const spec = podTemplate({ ...base, component }).spec as any;
      const container = spec.containers[0];
      assert.deepEqual(container.envFrom, [{ configMapRef: { name: "api-settings" } }]);
      assert.ok(!JSON.stringify(container.env ?? []).includes("secretKeyRef"));
      assert.deepEqual(
        container.volumeMounts.find((m: any) => m.name === "secrets"),
        { name: "secrets", mountPath: "/run/secrets/app", readOnly: true },
      );
      assert.deepEqual(
        spec.volumes.find((v: any) => v.name === "secrets"),
        { name: "secrets", secret: { secretName: "api-secrets", defaultMode: 0o440 } },
      );
      // 0440 is readable by the file's group only: the pod's fsGroup, the app's own GID.
      assert.equal(spec.securityContext.fsGroup, spec.securityContext.runAsGroup);
    });
  }
});

describe("release Jobs", () => {
  it("sets the migration's lock and statement timeouts through libpq's PGOPTIONS", () => {
    assert.deepEqual(pgOptions({ lockTimeoutSeconds: 5, statementTimeoutSeconds: 300 }), {
      name: "PGOPTIONS",
      value: "-c lock_timeout=5s -c statement_timeout=300s",
    });
  });

  it("keeps the newest dumps only after one succeeded, with bounded scratch disk", () => {
    const spec = backupJobSpec({
      naming: n,
      image: `postgres@sha256:${"e".repeat(64)}`,
      secretName: "api-secrets-01234567",
      claimName: "api-backup",
      fileName: "api-backup-dddddddddddd-01234567.dump",
      timeoutSeconds: 600,
      retention: 7,
    }) as any;
    const container = spec.template.spec.containers[0];
    const script: string = container.command[2];
    assert.ok(
      script.indexOf("mv ") < script.indexOf("tail -n +$((BACKUP_RETENTION + 1))"),
      "prunes only after the new dump is in place",
    );
    assert.deepEqual(
      container.env.find((e: any) => e.name === "BACKUP_RETENTION"),
      { name: "BACKUP_RETENTION", value: "7" },
    );
    assert.equal(container.imagePullPolicy, "IfNotPresent");
    assert.ok(container.resources.requests["ephemeral-storage"] && container.resources.limits["ephemeral-storage"]);
    assert.equal(spec.template.spec.securityContext.runAsUser, RUN_AS_USER);
  });

  it("reads DATABASE_URL from its file, and of the Secret gets that file alone", () => {
    const pod = backupJobSpec({
      naming: n,
      image: `postgres@sha256:${"e".repeat(64)}`,
      secretName: "api-secrets-01234567",
      claimName: "api-backup",
      fileName: "api-backup.dump",
      timeoutSeconds: 600,
      retention: 7,
    }).template as any;
    const container = pod.spec.containers[0];
    assert.ok(
      !container.env.some((e: any) => e.name === "DATABASE_URL" || e.valueFrom),
      "no secret in the environment",
    );
    assert.match(container.command[2], /--dbname="\$\(cat \/run\/secrets\/app\/DATABASE_URL\)"/);
    assert.deepEqual(
      container.volumeMounts.find((m: any) => m.name === "secrets"),
      { name: "secrets", mountPath: "/run/secrets/app", readOnly: true },
    );
    assert.deepEqual(pod.spec.volumes.find((v: any) => v.name === "secrets").secret, {
      secretName: "api-secrets-01234567",
      defaultMode: 0o440,
      items: [{ key: "DATABASE_URL", path: "DATABASE_URL" }],
    });
  });
});
