// This project's delivery path on the local environment: a LocalGithub whose repository is this
// checkout, with two environments in promotion order (dev, previewed on pull requests; prod,
// blue-green with signed images only), each deploying to a namespace of its own in the local
// cluster, with prod's external databases as stand-ins. Used by the end-to-end tests of the path
// and by `npm run ci:local`.
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { localEnvironment, localShape } from "../automation";
import { startExternalDatabases } from "../databases";
import { docker, push } from "../images";
import { PROJECT_DIR } from "../program";
import { LocalGithub } from ".";

export const NAMESPACES = { dev: "cd-dev", prod: "cd-prod" } as const;
export type Environment = keyof typeof NAMESPACES;
export const IMAGE_REPOSITORY = "127.0.0.1:5000/delivery/api";
const DATABASES = "cd-databases";

/** A secret as the stacks require in prod: 256 random bits, in characters every consumer takes. */
const strong = () => randomBytes(32).toString("hex");

const required = (name: string) => {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run this through scripts/use-local-env (scripts/test-e2e, npm run ci:local)`);
  }
  return value;
};

/** The base image the test bed builds, pushed to the loopback registry and pinned by digest. */
function baseImage(): string {
  const remote = "127.0.0.1:5000/delivery/python-base:bookworm";
  docker("tag", required("API_STACK_BASE_IMAGE"), remote);
  return push(remote);
}

/**
 * An offline OSV database: PyPI holds the fixture advisory that matches nothing of the apps, and
 * Debian (the image's system packages, which the SBOM lists) holds none: a stand-in for osv.dev.
 */
function osvDatabase(dir: string): string {
  fs.mkdirSync(path.join(dir, "osv-scalibr/PyPI"), { recursive: true });
  execFileSync("zip", ["-q", "-X", path.join(dir, "osv-scalibr/PyPI/all.zip"), "API-STACK-TEST-0002.json"], {
    cwd: path.join(PROJECT_DIR, "tests/fixtures/osv/PyPI"),
  });
  fs.mkdirSync(path.join(dir, "osv-scalibr/Debian"), { recursive: true });
  // An empty zip archive: its end-of-central-directory record alone.
  fs.writeFileSync(
    path.join(dir, "osv-scalibr/Debian/all.zip"),
    Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array<number>(18).fill(0)]),
  );
  return dir;
}

export interface ProjectGithub {
  github: LocalGithub;
  /** The stack of an environment, as a maintainer's checkout of main sees it. */
  stack(environment: Environment): Promise<Awaited<ReturnType<typeof LocalWorkspace.selectStack>>>;
  /** The stack output `release` of an environment. */
  release(environment: Environment): Promise<Record<string, string | undefined>>;
  /** How many updates and previews an environment's stack recorded. */
  history(environment: Environment): Promise<number>;
  close(): Promise<void>;
}

/**
 * A local GitHub for this project in `dir`, its main branch holding `source`: the working tree
 * (what the tests test), or HEAD (so that `npm run ci:local` can propose the uncommitted changes
 * as a pull request).
 */
export async function projectGithub(
  dir: string,
  kubeconfig: string,
  source: "working-tree" | "head",
): Promise<ProjectGithub> {
  const local = localEnvironment();
  const databases = startExternalDatabases(kubeconfig, DATABASES, "cd-external-db-password");
  const shape = (environment: Environment, extra: Record<string, unknown>) => {
    const { imageRef: _prebuilt, ...values } = localShape(environment, "", {});
    return {
      ...values,
      namespace: NAMESPACES[environment],
      ingressHost: `api.${NAMESPACES[environment]}.localhost`,
      // Half the local shapes' request: the path's two environments run beside another test
      // file on the 2-core node, where at 100m a preview's smoke-test pod stayed Pending
      // (Insufficient cpu) until its Job's deadline.
      cpuRequest: "50m",
      ...extra,
    };
  };
  const github = await LocalGithub.create({
    dir,
    source,
    adminKubeconfig: kubeconfig,
    repository: "local/api-stack",
    environments: [
      {
        name: "dev",
        namespace: NAMESPACES.dev,
        pullRequestPreview: true,
        config: shape("dev", {}),
        secrets: { secretKey: strong(), devPostgresPassword: strong(), apiTokens: strong() },
      },
      {
        name: "prod",
        namespace: NAMESPACES.prod,
        // The repository's own public key, committed beside the stack files; two pods fit the node.
        config: shape("prod", { imageSignerKey: "cosign.pub", hpaMinReplicas: 2, hpaMaxReplicas: 2 }),
        secrets: { secretKey: strong(), apiTokens: strong(), ...databases },
      },
    ],
    build: {
      imageRepository: IMAGE_REPOSITORY,
      baseImage: baseImage(),
      app: "fastapi",
      signer: {
        publicKey: fs.readFileSync(local.signer.publicKey, "utf8"),
        privateKey: fs.readFileSync(local.signer.privateKey, "utf8"),
        password: local.signer.password,
      },
    },
    tools: {
      act: required("ACT_BINARY"),
      nodeBin: path.dirname(process.execPath),
      // The control plane's kubectl, the docker CLI that drives the daemon's own BuildKit
      // (scripts/use-local-env puts it first) and the machine's CPython, where the jobs find them.
      path: [
        path.dirname(execFileSync("which", ["kubectl"], { encoding: "utf8" }).trim()),
        path.dirname(execFileSync("which", ["docker"], { encoding: "utf8" }).trim()),
        path.dirname(execFileSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).trim()),
      ],
      pulumiHome: required("PULUMI_HOME"),
      cosign: required("COSIGN_BINARY"),
      syft: required("SYFT_BINARY"),
      osvScanner: required("OSV_SCANNER_BINARY"),
      osvDatabase: osvDatabase(path.join(dir, "osv")),
    },
  });
  const stack = (environment: Environment) =>
    LocalWorkspace.selectStack(
      { stackName: environment, workDir: path.join(dir, "work") },
      { envVars: github.pulumiEnv(environment) },
    );
  return {
    github,
    stack,
    release: async (environment) =>
      ((await (await stack(environment)).outputs()).release?.value ?? {}) as Record<string, string | undefined>,
    history: async (environment) => (await (await stack(environment)).history()).length,
    close: async () => {
      await github.close();
      execFileSync("kubectl", [
        "--kubeconfig",
        kubeconfig,
        "delete",
        "namespace",
        DATABASES,
        "--ignore-not-found",
        "--wait=false",
      ]);
    },
  };
}

/** A change to the app's code, so the next build is a new image. */
export const appChange = (release: string) => ({
  "apps/fastapi/app/__init__.py": `"""Notes API, release ${release}."""\n`,
});
