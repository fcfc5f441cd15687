// The prod stack's shape on the real node: signed images only, blue-green releases, TLS from
// cert-manager's local CA served by Traefik, a rate limit per client, external Postgres and Redis
// (stand-ins the test runs in the cluster, reached through the NetworkPolicy's egress), a backup
// before every migration that really restores; plus the policy pack on a real preview, render
// mode and invalid config.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { localEnvironment, localShape, setConfig, type ConfigValues } from "../../tools/automation";
import { PROJECT_DIR } from "../../tools/program";
import {
  destroyStack,
  eventually,
  exists,
  KUBECONFIG,
  kubectl,
  kubectlJson,
  LOCAL_CA,
  newStack,
  podExec,
  progress,
  releaseId,
  viaIngress,
} from "./env";
import { externalDatabaseUrls, startExternalDatabases } from "../../tools/databases";
import { explain, startLoadInThread, tally } from "../support/load";
import { buildReleases, signed } from "../support/releases";

const NAMESPACE = "api-e2eprod";
const HOST = "api.e2eprod.localhost";
const DATABASES = "e2e-databases";
const DB_PASSWORD = "e2e-external-db-password";
/** Prod refuses a key or token estimated below 128 bits: random ones, made once per run. */
const random = () => randomBytes(32).toString("hex");
const SECRET_KEY = random();
/** The bearer token every notes request sends (API_TOKENS). */
const TOKEN = random();
const SECRETS = { secretKey: SECRET_KEY, apiTokens: TOKEN, ...externalDatabaseUrls(DATABASES, DB_PASSWORD) };
const RATE_LIMIT_PER_MINUTE = 30;
/** Bursts sent before giving up on one that no configuration reload of Traefik cut in two. */
const MAX_BURSTS = 10;

const prodConfig = (image: string, extra: ConfigValues = {}): ConfigValues => ({
  ...localShape("prod", image, SECRETS),
  namespace: NAMESPACE,
  ingressHost: HOST,
  rateLimitPerMinute: RATE_LIMIT_PER_MINUTE,
  ...extra,
});

/** A client in a network namespace of its own, attached to the node's bridge with its own address. */
class BridgeClient {
  private readonly ns: string;
  constructor(name: string, address: string) {
    this.ns = `e2e-client-${name}`;
    execFileSync("ip", ["netns", "add", this.ns]);
    execFileSync("ip", ["link", "add", `e2e-${name}`, "type", "veth", "peer", "name", "eth0", "netns", this.ns]);
    execFileSync("ip", ["link", "set", `e2e-${name}`, "master", "apistack0", "up"]);
    this.exec("ip", "addr", "add", `${address}/24`, "dev", "eth0");
    this.exec("ip", "link", "set", "eth0", "up");
  }
  exec(...command: string[]): string {
    return execFileSync("ip", ["netns", "exec", this.ns, ...command], { encoding: "utf8" });
  }
  /**
   * HTTP statuses of `count` HTTPS requests to the ingress controller pod, one after another from
   * one curl, verified against the local CA.
   */
  statuses(ingressIp: string, requestPath: string, count = 1): number[] {
    const url = `https://${HOST}:8443${requestPath}`;
    return this.exec(
      "curl",
      "-s",
      "-w",
      "%{http_code}\\n",
      "--max-time",
      "5",
      "--cacert",
      LOCAL_CA,
      "--resolve",
      `${HOST}:8443:${ingressIp}`,
      // Each URL's body discarded by its own -o.
      ...Array.from({ length: count }, () => ["-o", "/dev/null", url]).flat(),
    )
      .trim()
      .split("\n")
      .map(Number);
  }
  close(): void {
    execFileSync("ip", ["netns", "delete", this.ns]);
  }
}

/** Traefik's configuration reloads so far, from its metrics port (9100) on the pod's address. */
async function configReloads(ingressIp: string): Promise<number> {
  const metrics = await (await fetch(`http://${ingressIp}:9100/metrics`)).text();
  const line = /^traefik_config_reloads_total (\S+)$/m.exec(metrics);
  assert.ok(line, "Traefik's metrics have traefik_config_reloads_total");
  return Number(line[1]);
}

describe("the prod stack on the real node", function () {
  this.timeout(30 * 60_000);
  let stack: Stack;
  let v1: string, v2: string;

  before(async () => {
    [v1, v2] = signed(buildReleases(2));
    startExternalDatabases(KUBECONFIG, DATABASES, DB_PASSWORD);
    stack = await newStack("e2eprod", prodConfig(v1), Object.keys(SECRETS));
  });

  after(async () => {
    await destroyStack(stack);
    // Waited for, so that the next run can make it again.
    kubectl("delete", "namespace", DATABASES, "--wait=true");
  });

  it("`up` of a signed image: backup, migration, then the blue-green release serving", async () => {
    progress("prod: pulumi up");
    const result = await stack.up({ onOutput: () => undefined });
    assert.equal(result.summary.result, "succeeded");
    assert.equal((result.outputs.release.value as { active: string }).active, v1);
    const rollout = kubectlJson("get", "rollout", "api", "-n", NAMESPACE);
    assert.equal(rollout.status.phase, "Healthy");
    // Created with the HPA's minimum, all of which `up` waited for (docs/hardening.md).
    const hpa = kubectlJson("get", "hpa", "api", "-n", NAMESPACE);
    assert.equal(rollout.status.availableReplicas, hpa.spec.minReplicas);
    const backups = kubectlJson("get", "jobs", "-n", NAMESPACE, "-l", "app.kubernetes.io/component=backup").items;
    assert.equal(backups.length, 1);
    assert.equal(backups[0].status.succeeded, 1, "the backup Job ran before the migration");
  });

  it("serves HTTPS with a certificate from the local CA that a client verifies, and redirects plain HTTP", async () => {
    // cert-manager issues the Ingress' certificate after the Ingress exists: `up` does not wait for it.
    await eventually("cert-manager to issue api-tls", 120, () => {
      const ready = kubectlJson("get", "certificate", "api-tls", "-n", NAMESPACE).status?.conditions?.find(
        (c: any) => c.type === "Ready",
      );
      return ready?.status === "True" ? true : undefined;
    });
    // ... and Traefik picks the certificate's Secret up from its watch shortly after.
    const secure = await eventually("Traefik to serve the issued certificate", 60, async () => {
      const answer = await viaIngress(HOST, "/health/live", { tls: true });
      return answer.status === 200 ? answer : undefined;
    });
    assert.equal(secure.status, 200, secure.body);
    const plain = await viaIngress(HOST, "/health/live");
    assert.ok([301, 302, 307, 308].includes(plain.status), `plain HTTP answered ${plain.status}`);
    assert.equal(plain.headers.location, `https://${HOST}/health/live`);
    const certificate = kubectlJson("get", "certificate", "api-tls", "-n", NAMESPACE);
    assert.equal(certificate.spec.issuerRef.name, "local-ca");
  });

  it("limits requests per client address: a client above the rate gets 429, one below never does", async () => {
    const ingressIp = kubectlJson("get", "pods", "-n", "ingress", "-l", "app.kubernetes.io/name=traefik").items[0]
      .status.podIP;
    const fast = new BridgeClient("fast", "10.244.0.250");
    const slow = new BridgeClient("slow", "10.244.0.251");
    try {
      // Above the rate: more than its burst (twice the per-minute rate) at once. Traefik keeps the
      // buckets in the middleware it rebuilds on every configuration reload, which any change of
      // an Ingress or endpoints in the cluster makes (docs/traffic.md): a burst a reload cut in
      // two says nothing, so it is sent again, until one ran between two reloads.
      const bursts: number[][] = [];
      let limitedBurst: number[] | undefined;
      let reloads = await configReloads(ingressIp);
      while (!limitedBurst && bursts.length < MAX_BURSTS) {
        bursts.push(fast.statuses(ingressIp, "/health/live", RATE_LIMIT_PER_MINUTE * 3));
        const before = reloads;
        reloads = await configReloads(ingressIp);
        if (reloads === before) {
          limitedBurst = bursts[bursts.length - 1];
        }
      }
      assert.ok(limitedBurst, `Traefik reloaded its configuration during each of ${MAX_BURSTS} bursts`);
      // Below the rate: one request every 3 s is 20 a minute, under 30.
      const slowStatuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        slowStatuses.push(...slow.statuses(ingressIp, "/health/live"));
        execFileSync("sleep", ["3"]);
      }
      const limited = (statuses: number[]) => `${statuses.filter((s) => s === 429).length}/${statuses.length}`;
      progress(
        `prod: fast client ${limited(limitedBurst)} limited (bursts cut by a Traefik reload before it: ` +
          `${bursts.length - 1}); slow client ${limited(slowStatuses)}`,
      );
      assert.ok(limitedBurst.includes(429), `the fast client was never limited: ${limitedBurst.join(",")}`);
      // Its bucket was full when it began, reloads or not.
      assert.ok(
        bursts[0].slice(0, RATE_LIMIT_PER_MINUTE).every((s) => s === 200),
        `its first requests were served: ${bursts[0].join(",")}`,
      );
      assert.ok(
        slowStatuses.every((s) => s === 200),
        `the slow client was limited: ${slowStatuses.join(",")}`,
      );
    } finally {
      fast.close();
      slow.close();
    }
  });

  it("the next release backs the database up first, and the dump really restores into a scratch database", async () => {
    const created = await viaIngress(HOST, "/notes", {
      tls: true,
      json: { title: "before the next release" },
      token: TOKEN,
    });
    assert.equal(created.status, 201, created.body);
    progress("prod: the next release (backup, migration, preview)");
    await setConfig(stack, { imageRef: v2 });
    const next = await stack.up({ onOutput: () => undefined });
    assert.equal((next.outputs.release.value as { preview?: string }).preview, v2, "the release waits in preview");
    // A release's backup Job replaces the previous release's; the dumps stay on the volume.
    const jobs = kubectlJson("get", "jobs", "-n", NAMESPACE, "-l", "app.kubernetes.io/component=backup").items;
    assert.equal(jobs.length, 1);
    assert.ok(jobs[0].metadata.name.includes(releaseId(v2)), "the backup ran for the new release");
    assert.equal(jobs[0].status.succeeded, 1);
    const file = `${jobs[0].metadata.name}.dump`;
    const local = localEnvironment();
    const admin = `postgresql://app:${DB_PASSWORD}@postgres.${DATABASES}.svc.cluster.local:5432`;
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "restore-check",
        namespace: NAMESPACE,
        // The backup Job's labels: the NetworkPolicy lets these pods reach the database.
        labels: {
          "app.kubernetes.io/name": "api",
          "app.kubernetes.io/instance": "api-prod",
          "app.kubernetes.io/component": "backup",
        },
      },
      spec: {
        restartPolicy: "Never",
        securityContext: {
          runAsNonRoot: true,
          runAsUser: 10001,
          runAsGroup: 10001,
          seccompProfile: { type: "RuntimeDefault" },
        },
        containers: [
          {
            name: "restore",
            image: local.postgresImage,
            command: [
              "sh",
              "-ec",
              `psql "${admin}/app" -c "CREATE DATABASE restore_check" && ` +
                `pg_restore --no-owner --exit-on-error --dbname="${admin}/restore_check" /backups/${file} && ` +
                `psql "${admin}/restore_check" -tAc ` +
                `"SELECT count(*) FROM notes WHERE title = 'before the next release'"`,
            ],
            securityContext: {
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              capabilities: { drop: ["ALL"] },
            },
            volumeMounts: [
              { name: "backups", mountPath: "/backups", readOnly: true },
              { name: "tmp", mountPath: "/tmp" },
            ],
          },
        ],
        volumes: [
          { name: "backups", persistentVolumeClaim: { claimName: "api-backup" } },
          { name: "tmp", emptyDir: {} },
        ],
      },
    };
    execFileSync("kubectl", ["--kubeconfig", KUBECONFIG, "apply", "-f", "-"], {
      input: JSON.stringify(pod),
      stdio: ["pipe", "ignore", "inherit"],
    });
    try {
      const phase = await eventually("the restore pod to finish", 180, () => {
        const status = kubectlJson("get", "pod", "restore-check", "-n", NAMESPACE).status.phase;
        return status === "Succeeded" || status === "Failed" ? status : undefined;
      });
      const log = kubectl("logs", "-n", NAMESPACE, "restore-check");
      assert.equal(phase, "Succeeded", log);
      assert.match(log, /^1$/m, "the restored database holds the note written before the release");
    } finally {
      kubectl("delete", "pod", "restore-check", "-n", NAMESPACE, "--wait=false");
      podExec(
        DATABASES,
        "postgres",
        "env",
        `PGPASSWORD=${DB_PASSWORD}`,
        "psql",
        "-U",
        "app",
        "-d",
        "app",
        "-c",
        "DROP DATABASE IF EXISTS restore_check",
      );
    }
  });

  it("rotates the secret key, the API tokens and the database password under load: no request fails", async () => {
    // The load below comes from one client address: lift the rate limit the earlier test set low.
    // (Also the stack's first `up` when this test runs alone.)
    await setConfig(stack, { rateLimitPerMinute: 100_000 });
    await stack.up({ onOutput: () => undefined });
    progress("prod: key, token and database-password rotation under load");
    // The note's share link is signed with the current key; it must keep working.
    const created = await viaIngress(HOST, "/notes", {
      tls: true,
      json: { title: "shared before the rotation" },
      token: TOKEN,
    });
    assert.equal(created.status, 201, created.body);
    const note = JSON.parse(created.body);
    const shareLink = await viaIngress(HOST, `/notes/${note.id}/share`, { tls: true, method: "POST", token: TOKEN });
    const link = new URL(JSON.parse(shareLink.body).url);
    // The second login role, a member of the role that owns the schema; the same server, over TLS.
    const psql = (sql: string) =>
      podExec(DATABASES, "postgres", "env", `PGPASSWORD=${DB_PASSWORD}`, "psql", "-U", "app", "-d", "app", "-tAc", sql);
    psql(`CREATE ROLE app_green LOGIN PASSWORD 'e2e-green-password' IN ROLE app`);
    const green = new URL(SECRETS.databaseUrl);
    green.username = "app_green";
    green.password = "e2e-green-password";
    // Users reading a note: every request goes through the database with the credentials that
    // rotate, and carries the token that stays valid throughout. The client runs on a thread of
    // its own, so that the program each `up` runs in this process cannot hold it (load.ts).
    const load = await startLoadInThread({
      url: `https://127.0.0.1/notes/${note.id}`,
      host: HOST,
      token: TOKEN,
      ca: fs.readFileSync(LOCAL_CA),
      ratePerSecond: 10,
      maxRequests: 6000,
      maxSeconds: 600,
    });
    const nextToken = random();
    const rotated = {
      secretKey: random(),
      secretKeyFallbacks: SECRET_KEY,
      // A token rotation's first release (docs/apps.md): the old token and the next one, both accepted.
      apiTokens: `${TOKEN},${nextToken}`,
      databaseUrl: green.href,
    };
    // On the release the earlier test left in preview. Alone, this test's stack still runs v1,
    // and new settings on the active image would be promoted at once instead of waiting.
    await setConfig(stack, { imageRef: v2 });
    await setConfig(stack, rotated, Object.keys(rotated));
    const waiting = await stack.up({ onOutput: () => undefined });
    const preview = (waiting.outputs.release.value as { preview?: string }).preview;
    assert.ok(preview, "the new settings wait in preview like any release");
    await setConfig(stack, { promote: releaseId(preview) });
    await stack.up({ onOutput: () => undefined });
    const traffic = await load.stop();
    progress(`prod: across the rotation, ${tally(traffic)}`);
    // Zero, on a starved machine too: the 500s once seen there were the apps' connections giving up
    // after 3 s, the timeout since the client's own after 5 s (docs/hardening.md). A failure prints
    // the ingress log and the error lines of each pod that answered 5xx (hooks.ts).
    assert.equal(traffic.failed, 0, explain(traffic));
    const shared = await viaIngress(HOST, `${link.pathname}${link.search}`, { tls: true });
    assert.equal(shared.status, 200, "a link signed with the previous key still opens during the rotation");
    const withNext = await viaIngress(HOST, `/notes/${note.id}`, { tls: true, token: nextToken });
    assert.equal(withNext.status, 200, "the next token is accepted once the release is active");
    assert.match(
      psql("SELECT string_agg(DISTINCT usename, ',') FROM pg_stat_activity WHERE datname = 'app'"),
      /app_green/,
      "the pods connect as the new role",
    );
  });

  it("passes the policy pack on a real preview", async () => {
    // The pack runs as an analyzer plugin through policy/run-pack (see docs/policy.md).
    const preview = await stack.preview({
      policyPacks: [path.join(PROJECT_DIR, "policy/run-pack")],
      onOutput: () => undefined,
    });
    assert.ok(Object.keys(preview.changeSummary).length > 0);
  });

  it("an unsigned image is refused before anything changes", async () => {
    const unsigned = buildReleases(3)[2]; // never signed
    const probe = await newStack(
      "e2eprodunsigned",
      prodConfig(unsigned, { namespace: "api-e2eunsigned" }),
      Object.keys(SECRETS),
    );
    await assert.rejects(probe.up({ onOutput: () => undefined }), /sign/i);
    assert.equal(exists("namespace", "api-e2eunsigned"), false);
  });

  it("invalid config fails before anything is created on the cluster", async () => {
    const probe = await newStack(
      "e2einvalid",
      prodConfig(v1, { namespace: "api-e2einvalid", cpuLimit: "1m" }),
      Object.keys(SECRETS),
    );
    await assert.rejects(probe.up({ onOutput: () => undefined }), (error: Error) => {
      assert.match(error.message, /api-stack:cpuLimit/);
      return true;
    });
    assert.equal(exists("namespace", "api-e2einvalid"), false);
  });

  it("render mode writes manifests the API server accepts", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "api-stack-rendered-"));
    const render = await newStack(
      "e2erender",
      prodConfig(v1, { namespace: "api-e2erender", renderYamlTo: dir }),
      Object.keys(SECRETS),
    );
    const result = await render.up({ onOutput: () => undefined });
    assert.equal(result.summary.result, "succeeded");
    assert.equal(exists("namespace", "api-e2erender"), false, "render mode must not touch the cluster");
    const manifests = path.join(dir, "1-manifest");
    const namespaceFile = fs.readdirSync(manifests).find((f) => f.startsWith("v1-namespace-"))!;
    kubectl("apply", "--server-side", "-f", path.join(manifests, namespaceFile));
    try {
      const out = kubectl("apply", "--server-side", "--dry-run=server", "--validate=strict", "-R", "-f", manifests);
      assert.match(out, /rollout\.argoproj\.io\/api serverside-applied \(server dry run\)/);
    } finally {
      kubectl("delete", "-f", path.join(manifests, namespaceFile), "--wait=true");
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
