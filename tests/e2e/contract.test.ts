// The contract between the program and the images: each app image, run by dockerd exactly as
// the pod runs it (the same user, a read-only root, /tmp writable, the Secret as read-only files
// of mode 0440 in the pod's group at the path the pod mounts it), with exactly the settings the
// dev, staging and prod stacks render (the ConfigMap, the Secret and the container's own env,
// taken from the program's objects under mocks: nothing hand-written), migrates its database and
// becomes ready. Postgres and Redis are the local service images under the hostnames the settings
// name; staging's and prod's Postgres speaks TLS (a certificate the test makes), as they require.
// The notes API then answers only the bearer tokens of the rendered API_TOKENS.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { SECRET_FILE_MODE } from "../../components/workload/spec";
import { SECRETS_DIR } from "../../components/settings/spec";
import { localEnvironment } from "../../tools/automation";
import { buildAndPush, docker } from "../../tools/images";
import { SIGNED } from "../support/cosign";
import {
  asManifest,
  devInput,
  prodInput,
  runProgram,
  withConfig,
  type RunResult,
  type StackInput,
} from "../support/harness";
import { PROJECT_DIR } from "../../tools/program";
import { eventually, progress } from "./env";
import { baseRelease } from "../support/releases";

const NETWORK = "api-stack-contract";

interface Rendered {
  /** The environment of a container: its ConfigMap and own env, as the kubelet builds it. */
  env(container: "api" | "migration" | "worker"): Record<string, string>;
  /** The Secret's keys and values, which the pods read as files. */
  secret: Record<string, string>;
  command(container: "migration" | "worker"): string[];
  user: number;
}

function rendered(run: RunResult): Rendered {
  const manifests = run.resources.filter((r) => r.type.startsWith("kubernetes:")).map(asManifest);
  const byName = (kind: string, prefix: string) =>
    manifests.find((m) => m.kind === kind && m.metadata?.name?.startsWith(prefix)) ??
    assert.fail(`no ${kind} ${prefix}* among the rendered objects`);
  const configMap = byName("ConfigMap", "api-settings-").data as Record<string, string>;
  const secret = byName("Secret", "api-secrets-").stringData as Record<string, string>;
  const pod = (container: string) => {
    const owner =
      container === "api"
        ? manifests.find((m) => (m.kind === "Deployment" || m.kind === "Rollout") && m.metadata.name === "api")
        : container === "worker"
          ? manifests.find((m) => m.kind === "Deployment" && m.metadata.name === "api-worker")
          : manifests.find((m) => m.kind === "Job" && m.metadata.name.startsWith("api-migration-"));
    return (owner ?? assert.fail(`no pod template for ${container}`)).spec.template.spec;
  };
  return {
    env: (container) => {
      const own = Object.fromEntries(
        (pod(container).containers[0].env ?? [])
          .filter((e: any) => e.value !== undefined)
          .map((e: any) => [e.name, e.value]),
      );
      return { ...configMap, ...own };
    },
    secret,
    command: (container) => pod(container).containers[0].command,
    user: pod("api").securityContext.runAsUser,
  };
}

/** Host and password of a postgresql:// URL. */
function database(url: string) {
  const parsed = new URL(url);
  return { host: parsed.hostname, password: decodeURIComponent(parsed.password) };
}

/** Status of a GET to the published port (0 without an answer); `host` as Host, `token` as a bearer token. */
function get(port: number, requestPath: string, options: { host?: string; token?: string } = {}): Promise<number> {
  const headers = {
    ...(options.host ? { host: options.host } : {}),
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
  };
  return new Promise((resolve) => {
    http
      .get({ host: "127.0.0.1", port, path: requestPath, headers, timeout: 3000 }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      })
      .on("error", () => resolve(0))
      .on("timeout", function (this: http.ClientRequest) {
        this.destroy();
      });
  });
}

/** The Secret as the kubelet writes its volume: a file per key, root's, readable by the pod's group. */
function secretFiles(secret: Record<string, string>, user: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "api-stack-contract-secrets-"));
  for (const [key, value] of Object.entries(secret)) {
    fs.writeFileSync(path.join(dir, key), value, { mode: SECRET_FILE_MODE });
    fs.chownSync(path.join(dir, key), 0, user);
  }
  fs.chmodSync(dir, 0o755);
  return dir;
}

/** Runs one app container as the pod would, the Secret's files mounted read-only; returns its id. */
function runAs(
  image: string,
  user: number,
  env: Record<string, string>,
  secrets: string,
  hosts: string[],
  args: string[] = [],
  publish = false,
): string {
  const flags = [
    "run",
    "-d",
    "--network",
    NETWORK,
    "--read-only",
    "--tmpfs",
    "/tmp:rw,nosuid,nodev,size=256m",
    "--user",
    `${user}:${user}`,
    "--volume",
    `${secrets}:${SECRETS_DIR}:ro`,
  ];
  for (const [name, value] of Object.entries(env)) {
    flags.push("-e", `${name}=${value}`);
  }
  for (const host of hosts) {
    flags.push("--add-host", host);
  }
  if (publish) {
    flags.push("-p", "127.0.0.1::8000");
  }
  return docker(...flags, image, ...args);
}

const APPS = {
  fastapi: () => baseRelease(),
  django: () => {
    progress("contract: building the Django image");
    // On the local environment's base image, as the dev stack's FastAPI image (baseRelease) is.
    return buildAndPush({
      context: path.join(PROJECT_DIR, "apps/django"),
      tag: "127.0.0.1:5000/api-stack/django:contract",
      buildArgs: { BASE_IMAGE: localEnvironment().baseImage },
    });
  },
};

// Every environment the program accepts. The local Postgres serves TLS without a certificate the
// images trust, so staging and prod connect with sslmode=require here (prod refuses less).
const encryptedOnly = (input: StackInput) =>
  withConfig(
    input,
    { databaseUrl: "postgresql://app:contract-db-password@contract-postgres:5432/app?sslmode=require" },
    ["databaseUrl"],
  );
const STACKS: Record<string, () => StackInput> = {
  dev: devInput,
  staging: () => encryptedOnly(withConfig(prodInput(), { environment: "staging" })),
  prod: () => encryptedOnly(prodInput()),
};

/** A key and a self-signed certificate for the local Postgres, owned by its uid (70), as it requires. */
function postgresTls(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "api-stack-contract-tls-"));
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=contract-postgres",
      "-keyout",
      path.join(dir, "tls.key"),
      "-out",
      path.join(dir, "tls.crt"),
    ],
    { stdio: "ignore" },
  );
  for (const file of ["tls.key", "tls.crt"]) {
    fs.chownSync(path.join(dir, file), 70, 70);
    fs.chmodSync(path.join(dir, file), 0o600);
  }
  fs.chmodSync(dir, 0o755);
  return dir;
}

for (const [app, image] of Object.entries(APPS)) {
  for (const [stack, input] of Object.entries(STACKS)) {
    describe(`the ${app} image with what the ${stack} stack renders`, function () {
      this.timeout(10 * 60_000);
      const containers: string[] = [];
      let network = false;

      after(() => {
        for (const id of containers) {
          docker("rm", "-f", id);
        }
        if (network) {
          docker("network", "rm", NETWORK);
        }
      });

      it("migrates, becomes ready through its probe's path, and runs its worker", async () => {
        const ref = image();
        const previous = process.env.COSIGN_BINARY;
        process.env.COSIGN_BINARY = SIGNED(); // mocks: prod verifies its image with a stand-in
        const django =
          app === "django"
            ? { migrationCommand: ["python", "manage.py", "migrate", "--noinput"], workerEnabled: false }
            : {};
        const run = await runProgram(withConfig(input(), django), { stack });
        process.env.COSIGN_BINARY = previous;
        const objects = rendered(run);
        const apiEnv = objects.env("api");
        const secrets = secretFiles(objects.secret, objects.user);
        const tls = postgresTls();

        // The settings' own hostnames, pointing at the local Postgres and Redis.
        docker("network", "create", NETWORK);
        network = true;
        const local = localEnvironment();
        const db = database(objects.secret.DATABASE_URL);
        containers.push(
          docker(
            "run",
            "-d",
            "--network",
            NETWORK,
            "--network-alias",
            "contract-postgres",
            "-e",
            "POSTGRES_USER=app",
            "-e",
            "POSTGRES_DB=app",
            "-e",
            `POSTGRES_PASSWORD=${db.password}`,
            "-e",
            "PGDATA=/tmp/pgdata",
            "--user",
            "70:70",
            "--tmpfs",
            "/tmp:rw,uid=70,gid=70",
            "--tmpfs",
            "/var/run/postgresql:rw,uid=70,gid=70,mode=0770",
            "--volume",
            `${tls}:/tls:ro`,
            local.postgresImage,
            ...["-c", "ssl=on", "-c", "ssl_cert_file=/tls/tls.crt", "-c", "ssl_key_file=/tls/tls.key"],
          ),
          docker(
            "run",
            "-d",
            "--network",
            NETWORK,
            "--network-alias",
            "contract-redis",
            "--user",
            "999:999",
            local.redisImage,
          ),
        );
        const address = (alias: string) =>
          docker(
            "inspect",
            "-f",
            `{{(index .NetworkSettings.Networks "${NETWORK}").IPAddress}}`,
            containers[alias === "contract-postgres" ? 0 : 1],
          );
        const hosts = [
          `${db.host}:${address("contract-postgres")}`,
          `${new URL(apiEnv.REDIS_URL ?? objects.secret.REDIS_URL).hostname}:${address("contract-redis")}`,
        ];
        await eventually("Postgres accepting connections", 60, () =>
          docker("exec", containers[0], "pg_isready", "-h", "127.0.0.1", "-U", "app").includes("accepting")
            ? true
            : undefined,
        );

        progress(`contract: ${app} / ${stack}: migration, as the Job runs it`);
        const migration = runAs(
          ref,
          objects.user,
          objects.env("migration"),
          secrets,
          hosts,
          objects.command("migration"),
        );
        containers.push(migration);
        const exit = docker("wait", migration);
        assert.equal(exit, "0", `the migration exited ${exit}: ${docker("logs", migration)}`);

        progress(`contract: ${app} / ${stack}: the API`);
        const api = runAs(ref, objects.user, apiEnv, secrets, hosts, [], true);
        containers.push(api);
        const port = Number(docker("port", api, "8000/tcp").split(":").pop());
        await eventually(`${app} ready with the ${stack} settings`, 90, async () => {
          if (docker("inspect", "-f", "{{.State.Running}}", api) !== "true") {
            throw new Error(`the API exited: ${docker("logs", api)}`);
          }
          return (await get(port, "/health/ready")) === 200 ? true : undefined;
        });

        // The notes API takes exactly the tokens the Secret holds, under a host the settings allow.
        const host = (apiEnv.ALLOWED_HOSTS ?? assert.fail("no ALLOWED_HOSTS rendered")).split(",")[0];
        const token = objects.secret.API_TOKENS.split(",")[0];
        assert.equal(await get(port, "/notes", { host }), 401, "/notes without a token");
        assert.equal(await get(port, "/notes", { host, token: `${token}x` }), 401, "with another token");
        assert.equal(await get(port, "/notes", { host, token }), 200, "/notes with the Secret's API_TOKENS");

        // The worker needs a Redis it can reach with the rendered URL: dev's in-cluster one (prod's
        // is a TLS endpoint the local Redis does not serve).
        if (app === "fastapi" && stack === "dev") {
          const worker = runAs(ref, objects.user, objects.env("worker"), secrets, hosts, objects.command("worker"));
          containers.push(worker);
          await eventually("the worker's liveness check", 90, () => {
            docker("exec", worker, "python", "-m", "app.worker_liveness");
            return true;
          });
        }
      });
    });
  }
}
