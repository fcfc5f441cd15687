// Shared by scripts/local.ts (the main job on the local cluster), the end-to-end tests and the
// benchmarks: the program run in-process through the Automation API, with a stack kept in a
// directory of its own (a copy of Pulumi.yaml beside its stack file), so nothing it writes lands
// in the repo.
import { LocalWorkspace, type ConfigMap, type Stack } from "@pulumi/pulumi/automation";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { load } from "js-yaml";
import { KEYS } from "../config/keys";
import { loadProgram, PROJECT, PROJECT_DIR } from "./program";
import { buildAndPush } from "./images";

export type ConfigValues = Record<string, string | number | boolean | object>;

/** The plain (non-secret) values of a committed stack file, by short key. */
export function stackFileValues(stack: string): ConfigValues {
  const file = load(fs.readFileSync(path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`), "utf8")) as {
    config: ConfigValues;
  };
  return Object.fromEntries(
    Object.entries(file.config)
      .filter(([, value]) => !(typeof value === "object" && value !== null && "secure" in value))
      .map(([key, value]) => [key.replace(`${PROJECT}:`, ""), value]),
  );
}

/** A string the stack file sets for `key` (see stackFileValues), else `fallback`; anything else throws. */
export function stackFileString(stack: string, key: string, fallback?: string): string {
  const value = stackFileValues(stack)[key] ?? fallback;
  if (typeof value !== "string") {
    throw new Error(`Pulumi.${stack}.yaml sets no string ${key}`);
  }
  return value;
}

/**
 * Sets config by short key; `secret` names the ones stored encrypted. Lists of strings are
 * set element by element (as `pulumi config set --path key[0]`), so the CLI stores a real list
 * and its type check against Pulumi.yaml passes; other structures are stored as JSON.
 */
export async function setConfig(stack: Stack, values: ConfigValues, secret: string[] = []): Promise<void> {
  const config: ConfigMap = {};
  for (const [key, value] of Object.entries(values)) {
    const isSecret = secret.includes(key);
    if (Array.isArray(value) && value.every((item) => typeof item === "string")) {
      await stack.removeConfig(`${PROJECT}:${key}`).catch(() => undefined);
      value.forEach((item, i) => (config[`${PROJECT}:${key}[${i}]`] = { value: item, secret: isSecret }));
    } else {
      config[`${PROJECT}:${key}`] = {
        value: typeof value === "string" ? value : JSON.stringify(value),
        secret: isSecret,
      };
    }
  }
  await stack.setAllConfig(config, true);
}

/**
 * Builds the app the dev stack builds (its imageContext) with dockerd on the local environment's
 * base image, pushes it as `tag`, and returns its digest-pinned reference.
 */
export function buildDevImage(tag: string, local: LocalEnvironment = localEnvironment()): string {
  return buildAndPush({
    context: path.join(PROJECT_DIR, stackFileString("dev", "imageContext", KEYS.imageContext.default)),
    tag,
    buildArgs: { BASE_IMAGE: local.baseImage },
  });
}

/** What stacks on the local environment (testbed/local-env) need to know about it. */
export interface LocalEnvironment {
  /** The loopback registry (no password) the local images are pushed to and the node pulls from. */
  registry: string;
  /** The registry beside it that requires a password, and that password (testbed/docker-env). */
  authRegistry: { address: string; username: string; password: string };
  /** The Python base image testbed/base-image builds, the app's BASE_IMAGE here. */
  baseImage: string;
  /** The dev stack's in-cluster Postgres and Redis, built from Debian packages (testbed/service-images). */
  postgresImage: string;
  redisImage: string;
  /** The local CA's certificate: cert-manager's ClusterIssuer `local-ca` signs every certificate with it. */
  caFile: string;
  /** The cosign key pair prod-shaped stacks verify their images against (prod deploys signed images only). */
  signer: { publicKey: string; privateKey: string; password: string };
}

export const LOCAL_CLUSTER_ISSUER = "local-ca";
/** The pod network: the ingress controller forwards from it, and prod's stand-in databases live in it. */
export const LOCAL_POD_CIDR = "10.244.0.0/24";
/** The in-cluster Prometheus of the local environment, which Argo's analyses query. */
export const LOCAL_PROMETHEUS = "http://prometheus.monitoring.svc:9090";
/** The local cluster's ingress controller: Traefik (with its NGINX provider) in namespace `ingress`. */
const LOCAL_INGRESS_CONTROLLER = { namespace: "ingress", podLabels: { "app.kubernetes.io/name": "traefik" } };

/** The local environment's facts, as scripts/use-local-env exports them. */
export function localEnvironment(): LocalEnvironment {
  const required = (name: string) => {
    const value = process.env[name];
    if (!value) {
      throw new Error(`${name} is not set: run this through scripts/use-local-env (npm run local, scripts/test-e2e)`);
    }
    return value;
  };
  return {
    registry: required("API_STACK_REGISTRY"),
    authRegistry: {
      address: required("API_STACK_AUTH_REGISTRY"),
      username: required("API_STACK_AUTH_REGISTRY_USERNAME"),
      password: required("API_STACK_AUTH_REGISTRY_PASSWORD"),
    },
    baseImage: required("API_STACK_BASE_IMAGE"),
    postgresImage: required("API_STACK_POSTGRES_IMAGE"),
    redisImage: required("API_STACK_REDIS_IMAGE"),
    caFile: path.join(required("API_STACK_STATE"), "local-env", "ca.crt"),
    signer: localSigner(path.join(required("API_STACK_STATE"), "cosign")),
  };
}

/** A cosign key pair for this machine's local stacks, made once; its password is local only. */
function localSigner(dir: string): LocalEnvironment["signer"] {
  const signer = {
    publicKey: path.join(dir, "cosign.pub"),
    privateKey: path.join(dir, "cosign.key"),
    password: "api-stack-local",
  };
  if (!fs.existsSync(signer.publicKey)) {
    fs.mkdirSync(dir, { recursive: true });
    execFileSync(cosign(), ["generate-key-pair"], {
      cwd: dir,
      env: { ...process.env, COSIGN_PASSWORD: signer.password },
      stdio: "ignore",
    });
  }
  return signer;
}

const cosign = () => process.env.COSIGN_BINARY ?? "cosign";

/** Signs a digest-pinned image in the loopback registry with the local key (no transparency log). */
export function signImage(imageRef: string, local: LocalEnvironment = localEnvironment()): void {
  execFileSync(cosign(), ["sign", "--yes", "--key", local.signer.privateKey, "--tlog-upload=false", imageRef], {
    env: { ...process.env, COSIGN_PASSWORD: local.signer.password },
    stdio: ["ignore", "ignore", "pipe"],
  });
}

/** `imageRef`, signed with the local key (signImage). */
function signedLocally(imageRef: string, local: LocalEnvironment): string {
  signImage(imageRef, local);
  return imageRef;
}

/**
 * A committed stack's shape (dev or prod) on the local environment: its plain values, the given
 * prebuilt image instead of a build, the given secrets, and what the local cluster has instead
 * of the cluster the stack file is written for: its ingress controller (Traefik), whose pod
 * network is trusted for forwarded headers; for dev, locally built Postgres and Redis images; for
 * prod, the local CA, the locally built backup image, the pod network as the "external"
 * databases' network (their stand-ins run in the cluster), the local signing key, CPU requests
 * that fit one small node, and no post-promotion analysis. The stack files name none of this
 * (tests/unit/stacks.test.ts).
 */
export function localShape(
  stack: "dev" | "prod",
  imageRef: string,
  secrets: Record<string, string>,
  local: LocalEnvironment = localEnvironment(),
): ConfigValues {
  const {
    imageRepository: _repository,
    imageBuildArgs: _buildArgs,
    imageSignerIdentity: _identity,
    prometheusAddress: _prometheus,
    ...values
  } = stackFileValues(stack);
  const cluster: ConfigValues = {
    ingressControllerPeer: LOCAL_INGRESS_CONTROLLER,
    forwardedAllowIps: [LOCAL_POD_CIDR],
  };
  const overlay: ConfigValues =
    stack === "dev"
      ? { ...cluster, postgresImage: local.postgresImage, redisImage: local.redisImage }
      : {
          ...cluster,
          clusterIssuer: LOCAL_CLUSTER_ISSUER,
          // It reads DATABASE_URL, so prod verifies it like the app's image: signed here, locally.
          backupImage: signedLocally(local.postgresImage, local),
          networkEgress: [{ cidr: LOCAL_POD_CIDR, ports: [5432, 6379] }],
          // Signed here with the local key, not keyless by the deploy workflow.
          imageSignerKey: local.signer.publicKey,
          // Prod's requests are sized for a real cluster: with a blue-green release's two sets of
          // pods beside the add-ons they would not fit the one 2-core node.
          cpuRequest: "100m",
          // Prod checks each promoted release against its users' traffic (prometheusAddress, left
          // out above); the local prod stacks promote without users, which the check rightly finds
          // inconclusive (docs/traffic.md). tests/e2e/delivery.test.ts runs the check under load.
          postPromotionAnalysis: false,
        };
  return { ...values, ...overlay, imageRef, ...secrets };
}

export interface SideStackOptions {
  /** Directory for the stack's project copy and stack file. */
  workDir: string;
  /** Directory of the file backend (state). */
  backendDir: string;
  passphrase: string;
  kubeconfig: string;
}

/** Creates or selects a stack of this project whose files live outside the repository. */
export async function sideStack(name: string, options: SideStackOptions): Promise<Stack> {
  fs.mkdirSync(options.workDir, { recursive: true });
  fs.mkdirSync(options.backendDir, { recursive: true });
  fs.copyFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), path.join(options.workDir, "Pulumi.yaml"));
  return LocalWorkspace.createOrSelectStack(
    { stackName: name, projectName: PROJECT, program: loadProgram },
    {
      workDir: options.workDir,
      envVars: {
        PULUMI_BACKEND_URL: `file://${options.backendDir}`,
        PULUMI_CONFIG_PASSPHRASE: options.passphrase,
        PULUMI_SKIP_UPDATE_CHECK: "1",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        KUBECONFIG: options.kubeconfig,
      },
    },
  );
}

/**
 * `pulumi destroy`, once more when the Kubernetes provider crashed while it awaited a deletion (a
 * nil dereference in its await of a Rollout's deletion, seen now and then in this provider
 * build): the second run finds what is already gone and removes the rest. `note` hears of it.
 */
export async function destroyStack(stack: Stack, note: (message: string) => void = () => undefined): Promise<void> {
  try {
    await stack.destroy({ onOutput: () => undefined });
  } catch (error) {
    if (!/exited prematurely/.test(String((error as Error).message))) {
      throw error;
    }
    note(`destroy of ${stack.name}: the provider crashed awaiting a deletion; destroying again`);
    await stack.destroy({ onOutput: () => undefined, refresh: true });
  }
}
