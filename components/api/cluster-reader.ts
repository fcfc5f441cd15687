// Reads what the cluster runs for one API, with GETs only (so `pulumi preview` under a read-only
// identity works), through the kubeconfig the default Kubernetes provider uses. Any failure is
// an observation too: `unknown`, which the release state machine answers by waiting.
//
// A small client of its own instead of @kubernetes/client-node: that package is ESM-only and
// pulls in some twenty runtime dependencies (websockets, tar, OIDC) for what is here two GETs.
// Kubeconfig support covers what clusters hand out: CA, client certificates, tokens (inline or
// file), basic auth, insecure-skip-tls-verify and exec credential plugins (EKS, GKE, AKS).
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import { load } from "js-yaml";
import { SecretValue } from "../secret";
import {
  observeRelease,
  type LiveRelease,
  type ReplicaSetObservation,
  type WorkloadObservation,
} from "./release-state";
import {
  waitForRelease,
  type ClusterAnswer,
  type ExpectedRelease,
  type ReleaseOutcome,
  type WaitOptions,
} from "./release-wait";

/** The API object whose release is read, and the name of the app's container in its pods. */
export interface ReleaseTarget {
  kind: "Deployment" | "Rollout";
  namespace: string;
  name: string;
  container: string;
}

/** Waits, after an update applied a Rollout, until its release settles (release-wait.ts); never throws. */
export type ReleaseAwaiter = (
  target: ReleaseTarget,
  expected: ExpectedRelease,
  options: WaitOptions,
) => Promise<ReleaseOutcome>;

/**
 * Reads the live release of one API; never throws (a failure is `unknown`). A reader that
 * reaches a cluster can also wait for a release; readers that reach none (render mode, the
 * unit tests' fake cluster) have no `awaitRelease`, and nothing waits.
 */
export type ReleaseReader = ((target: ReleaseTarget) => Promise<LiveRelease>) & { awaitRelease?: ReleaseAwaiter };

/** Where the cluster is, as the Kubernetes provider is told (`kubernetes:kubeconfig`, `kubernetes:context`). */
export interface ClusterAccess {
  /** Kubeconfig contents (YAML or JSON) or a path to one. Default: $KUBECONFIG, else ~/.kube/config. */
  kubeconfig?: string | SecretValue;
  /** Context to use. Default: the kubeconfig's current-context. */
  context?: string;
}

/** For render mode, which applies nothing and so reads nothing either. */
export const noClusterReader =
  (reason: string): ReleaseReader =>
  () =>
    Promise.resolve({ kind: "unknown", reason });

const PATHS = {
  Rollout: (ns: string, name: string) => `/apis/argoproj.io/v1alpha1/namespaces/${ns}/rollouts/${name}`,
  Deployment: (ns: string, name: string) => `/apis/apps/v1/namespaces/${ns}/deployments/${name}`,
};

export function clusterReleaseReader(access: ClusterAccess = {}): ReleaseReader {
  const read = (target: ReleaseTarget) => readWorkload(access, target);
  return Object.assign(
    async (target: ReleaseTarget): Promise<LiveRelease> => {
      const answer = await read(target);
      return answer.kind === "observed" ? observeRelease(answer.observation) : answer;
    },
    {
      awaitRelease: ((target, expected, options) =>
        waitForRelease(() => read(target), target, expected, options)) satisfies ReleaseAwaiter,
    },
  );
}

/** The workload and the ReplicaSets it owns, with two GETs; any failure is `unknown`. */
async function readWorkload(access: ClusterAccess, target: ReleaseTarget): Promise<ClusterAnswer> {
  try {
    const client = connect(access);
    const workload = await client.get(PATHS[target.kind](target.namespace, target.name));
    if (workload.status === 404) {
      return { kind: "absent" };
    }
    const object = expectOk<WorkloadObservation["workload"]>(
      workload,
      `${target.kind} ${target.namespace}/${target.name}`,
    );
    const selector = Object.entries(object.spec?.selector?.matchLabels ?? {})
      .map(([key, value]) => `${key}=${value}`)
      .join(",");
    const sets = expectOk<{ items?: ReplicaSetObservation[] }>(
      await client.get(
        `/apis/apps/v1/namespaces/${target.namespace}/replicasets?labelSelector=${encodeURIComponent(selector)}`,
      ),
      `ReplicaSets of ${target.kind} ${target.namespace}/${target.name}`,
    );
    return {
      kind: "observed",
      observation: { workload: object, replicaSets: sets.items ?? [], container: target.container },
    };
  } catch (error) {
    return { kind: "unknown", reason: (error as Error).message };
  }
}

interface Response {
  status: number;
  body: string;
}

/** The body of a 200 answer, as the object the API server documents for that path. */
function expectOk<T>(response: Response, what: string): T {
  if (response.status !== 200) {
    throw new Error(`GET ${what}: HTTP ${response.status}`);
  }
  return JSON.parse(response.body) as T;
}

interface Client {
  get: (path: string) => Promise<Response>;
}

/** The parts of a kubeconfig this client reads (client-go's clientcmd v1 Config). */
interface Kubeconfig {
  "current-context"?: string;
  contexts?: Array<{ name: string; context?: { cluster?: string; user?: string } }>;
  clusters?: Array<{ name: string; cluster?: KubeconfigCluster }>;
  users?: Array<{ name: string; user?: KubeconfigUser }>;
}

interface KubeconfigCluster {
  server?: string;
  "certificate-authority-data"?: string;
  "certificate-authority"?: string;
  "insecure-skip-tls-verify"?: boolean;
  "tls-server-name"?: string;
}

interface KubeconfigUser {
  exec?: ExecConfig;
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  "client-certificate-data"?: string;
  "client-certificate"?: string;
  "client-key-data"?: string;
  "client-key"?: string;
}

interface ExecConfig {
  command: string;
  args?: string[];
  env?: Array<{ name: string; value: string }>;
  apiVersion?: string;
}

function connect(access: ClusterAccess): Client {
  const { config, dir } = readKubeconfig(
    access.kubeconfig instanceof SecretValue ? access.kubeconfig.reveal() : access.kubeconfig,
  );
  const contextName = access.context ?? config["current-context"];
  const context = named(config.contexts, contextName, "context")?.context;
  const cluster = named(config.clusters, context?.cluster, "cluster")?.cluster;
  const user: KubeconfigUser = named(config.users, context?.user, "user")?.user ?? {};
  if (!cluster?.server) {
    throw new Error(`kubeconfig context "${contextName}" names no cluster with a server`);
  }
  const file = (p: string) => fs.readFileSync(path.resolve(dir, p));
  const data = (inline: string | undefined, p: string | undefined) =>
    inline !== undefined ? Buffer.from(inline, "base64") : p !== undefined ? file(p) : undefined;

  const credential = user.exec ? execCredential(user.exec) : {};
  const token =
    credential.token ?? user.token ?? (user.tokenFile ? file(user.tokenFile).toString("utf8").trim() : undefined);
  const headers: Record<string, string> = { accept: "application/json" };
  if (token) {
    headers.authorization = `Bearer ${token}`;
  } else if (user.username !== undefined) {
    headers.authorization = `Basic ${Buffer.from(`${user.username}:${user.password ?? ""}`).toString("base64")}`;
  }
  const server = new URL(cluster.server);
  const tls: https.RequestOptions = {
    ca: data(cluster["certificate-authority-data"], cluster["certificate-authority"]),
    cert: credential.clientCertificateData ?? data(user["client-certificate-data"], user["client-certificate"]),
    key: credential.clientKeyData ?? data(user["client-key-data"], user["client-key"]),
    rejectUnauthorized: cluster["insecure-skip-tls-verify"] !== true,
    servername: cluster["tls-server-name"],
  };
  const base = server.pathname.replace(/\/$/, "");
  return {
    get: (requestPath) =>
      new Promise((resolve, reject) => {
        const options = { method: "GET", headers, timeout: 10_000, ...(server.protocol === "https:" ? tls : {}) };
        const request = (server.protocol === "https:" ? https : http).request(
          new URL(base + requestPath, server.origin),
          options,
          (response) => {
            const chunks: Buffer[] = [];
            response.on("data", (chunk: Buffer) => chunks.push(chunk));
            response.on("end", () =>
              resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
            );
            response.on("error", reject);
          },
        );
        request.on("timeout", () =>
          request.destroy(new Error(`GET ${server.origin}${requestPath}: no answer within 10 s`)),
        );
        request.on("error", reject);
        request.end();
      }),
  };
}

function readKubeconfig(given: string | undefined): { config: Kubeconfig; dir: string } {
  // Like the provider: a value with a line break or a brace is the kubeconfig itself.
  if (given !== undefined && /[\n{]/.test(given)) {
    return { config: parse(given, "the kubeconfig in kubernetes:kubeconfig"), dir: process.cwd() };
  }
  const candidates =
    given !== undefined ? [given] : (process.env.KUBECONFIG?.split(path.delimiter).filter(Boolean) ?? []);
  if (candidates.length === 0) {
    candidates.push(path.join(os.homedir(), ".kube", "config"));
  }
  const found = candidates.find((candidate) => fs.existsSync(candidate));
  if (!found) {
    throw new Error(`no kubeconfig found (looked at ${candidates.join(", ")})`);
  }
  return { config: parse(fs.readFileSync(found, "utf8"), found), dir: path.dirname(path.resolve(found)) };
}

// The reason ends up in the stack's outputs: never quote a kubeconfig, it holds credentials.
function parse(text: string, what: string): Kubeconfig {
  try {
    return load(text) as Kubeconfig;
  } catch {
    throw new Error(`${what} is not valid YAML`);
  }
}

function named<T extends { name: string }>(list: T[] | undefined, name: string | undefined, what: string) {
  const entry = list?.find((item) => item.name === name);
  if (name !== undefined && !entry) {
    throw new Error(`kubeconfig has no ${what} named "${name}"`);
  }
  return entry;
}

/** Runs a client-go exec credential plugin, as kubectl would, and returns its credential. */
function execCredential(exec: ExecConfig) {
  const env = { ...process.env, ...Object.fromEntries((exec.env ?? []).map(({ name, value }) => [name, value])) };
  env.KUBERNETES_EXEC_INFO = JSON.stringify({
    apiVersion: exec.apiVersion ?? "client.authentication.k8s.io/v1",
    kind: "ExecCredential",
    spec: { interactive: false },
  });
  let output: string;
  try {
    output = execFileSync(exec.command, exec.args ?? [], {
      env,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 30_000,
    });
  } catch (error) {
    const status = (error as { status?: number }).status ?? "no exit status";
    throw new Error(`the kubeconfig's exec credential plugin ${exec.command} failed (${status})`, { cause: error });
  }
  type Credential = { status?: { token?: string; clientCertificateData?: string; clientKeyData?: string } };
  try {
    return (JSON.parse(output) as Credential).status ?? {};
  } catch {
    throw new Error(`the kubeconfig's exec credential plugin ${exec.command} printed no ExecCredential`);
  }
}
