// End-to-end harness: the real Pulumi engine (CLI built by testbed/toolchain, driven through the
// Automation API with the program run in-process) against testbed/local-env: kube-apiserver, a
// real kubelet node running the pods, CoreDNS, kube-network-policies, Argo Rollouts, cert-manager,
// Traefik on 127.0.0.1:80/443 and Prometheus, with dockerd and the loopback registry.
// scripts/test-e2e sets the environment this reads (KUBECONFIG, PULUMI_HOME, PATH, the service
// images). Every request goes to loopback or into pods of this cluster.
import type { Stack } from "@pulumi/pulumi/automation";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import { destroyStack as destroyWithRetry, setConfig, sideStack, type ConfigValues } from "../../tools/automation";
import { progress } from "../support/progress";

export { releaseId } from "../../components/release";

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run the end-to-end tests through scripts/test-e2e`);
  }
  return value;
}

export const KUBECONFIG = required("KUBECONFIG");
const RUN_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "api-stack-e2e-"));

/**
 * The namespaces of the stacks this file made: each mocha process runs one file, so the failure
 * hook can tell this file's requests in the shared ingress log from those of the file beside it.
 */
export const STACK_NAMESPACES = new Set<string>();

/** A fresh stack on a throwaway file backend, with `values` on top of Pulumi.yaml's defaults. */
export async function newStack(name: string, values: ConfigValues, secret: string[] = []): Promise<Stack> {
  if (typeof values.namespace === "string") {
    STACK_NAMESPACES.add(values.namespace);
  }
  const stack = await sideStack(name, {
    workDir: path.join(RUN_DIR, name),
    backendDir: path.join(RUN_DIR, "state"),
    passphrase: "api-stack-e2e",
    kubeconfig: KUBECONFIG,
  });
  await setConfig(stack, values, secret);
  return stack;
}

/** `up` with `values` set first; fails unless the update succeeded. Returns the `release` output. */
export async function upRelease(stack: Stack, values: ConfigValues = {}): Promise<Record<string, string | undefined>> {
  await setConfig(stack, values);
  const result = await stack.up({ onOutput: () => undefined });
  if (result.summary.result !== "succeeded") {
    throw new Error(`pulumi up of ${stack.name}: ${result.summary.result}`);
  }
  return result.outputs.release.value as Record<string, string | undefined>;
}

/** Which release answered: the app's version from its OpenAPI document (served in development only). */
export { openApiVersion } from "../support/load";

/** Tears a test's stack down (again when the provider crashed awaiting a deletion). */
export async function destroyStack(stack: Stack | undefined): Promise<void> {
  if (stack) {
    await destroyWithRetry(stack, progress);
  }
}

export function kubectl(...args: string[]): string {
  return execFileSync("kubectl", ["--kubeconfig", KUBECONFIG, ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    // The ingress controller's log over a loaded test outgrows the 1 MiB default (ENOBUFS).
    maxBuffer: 256 * 1024 * 1024,
  });
}

export function kubectlJson<T = any>(...args: string[]): T {
  return JSON.parse(kubectl(...args, "-o", "json")) as T;
}

export function exists(kind: string, name: string, namespace?: string): boolean {
  try {
    kubectl("get", kind, name, ...(namespace ? ["-n", namespace] : []));
    return true;
  } catch {
    return false;
  }
}

/** Polls until `check` returns a value (not undefined), or fails with the last error seen. */
export async function eventually<T>(
  what: string,
  seconds: number,
  check: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  let last: Error | undefined;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) {
        return value;
      }
    } catch (error) {
      last = error as Error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${seconds}s waiting for ${what}${last ? `: ${last}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Operations in a change summary other than "same" and "read" (the stack's reference to itself). */
export function changes(summary: Record<string, number> | undefined): string[] {
  return Object.keys(summary ?? {}).filter((op) => op !== "same" && op !== "read");
}

/** The local CA that cert-manager's ClusterIssuer local-ca signs with (for verifying TLS). */
export const LOCAL_CA = path.join(required("API_STACK_STATE"), "local-env", "ca.crt");

export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * One request to the ingress controller on loopback (127.0.0.1:80, or :443 with TLS verified
 * against the local CA for `host`), the way a client that resolved `host` to it would send it;
 * `token` is sent as a bearer token.
 */
export function viaIngress(
  host: string,
  requestPath: string,
  options: { method?: string; json?: unknown; tls?: boolean; localAddress?: string; token?: string } = {},
): Promise<Response> {
  const body = options.json === undefined ? undefined : JSON.stringify(options.json);
  const client = options.tls ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(
      {
        host: "127.0.0.1",
        port: options.tls ? 443 : 80,
        path: requestPath,
        method: options.method ?? (body === undefined ? "GET" : "POST"),
        headers: {
          host,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
        },
        timeout: 10_000,
        agent: false,
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
        ...(options.tls ? { ca: fs.readFileSync(LOCAL_CA), servername: host } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      },
    );
    request.on("timeout", () => request.destroy(new Error(`timeout: ${host}${requestPath}`)));
    request.on("error", reject);
    request.end(body);
  });
}

/** Runs a command in a pod's (first) container. */
export function podExec(namespace: string, pod: string, ...command: string[]): string {
  return kubectl("exec", "-n", namespace, pod, "--", ...command);
}

/** The node's pod sandboxes and containers of a namespace, as the container runtime lists them. */
export function nodeObjects(namespace: string): { pods: string[]; containers: string[] } {
  const crictl = (...args: string[]) =>
    execFileSync(
      required("CRICTL_BINARY"),
      ["--config", path.join(required("API_STACK_STATE"), "local-env/node/crictl.yaml"), ...args],
      {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      },
    )
      .split("\n")
      .filter(Boolean);
  const label = `io.kubernetes.pod.namespace=${namespace}`;
  return { pods: crictl("pods", "-q", "--label", label), containers: crictl("ps", "-a", "-q", "--label", label) };
}

export { progress };
