// What the benchmarks share: timings, kubectl on the local cluster, stacks of their own outside
// the repository (and the config of an API under load), and the server-side dry run of rendered
// manifests.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import type { Stack } from "@pulumi/pulumi/automation";
import { localShape, setConfig, sideStack, type ConfigValues } from "./automation";

/** Milliseconds `run` takes. */
export async function timed(run: () => unknown): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

/** The median of `rounds` timings of `run`, in milliseconds. */
export async function median(rounds: number, run: () => unknown): Promise<number> {
  const times: number[] = [];
  for (let round = 0; round < rounds; round++) {
    times.push(await timed(run));
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

/** kubectl of `kubeconfig`, its output as a string (its errors on this process's stderr). */
export const kubectlOf =
  (kubeconfig: string) =>
  (...args: string[]): string =>
    execFileSync("kubectl", ["--kubeconfig", kubeconfig, ...args], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    });

/** The fields of a `kubectl get -o json` list that the benchmarks read. */
export interface ObjectList {
  items: Array<{
    metadata: { name: string; creationTimestamp: string; labels: Record<string, string> };
    status: { conditions?: Array<{ type: string; status: string; lastTransitionTime: string }> };
  }>;
}

/** `kubectl get <args> -o json`. */
export const listObjects = (kubeconfig: string, ...args: string[]): ObjectList =>
  JSON.parse(kubectlOf(kubeconfig)("get", ...args, "-o", "json")) as ObjectList;

/**
 * `kubectl apply --server-side --dry-run=server` of a render-mode stack's manifests (its
 * `1-manifest` directory) over the live objects: conflicts with Pulumi's field manager are
 * forced, since it is a dry run.
 */
export function serverDryRun(kubeconfig: string, renderedDir: string): void {
  kubectlOf(kubeconfig)(
    "apply",
    "--server-side",
    "--force-conflicts",
    "--dry-run=server",
    "-R",
    "-f",
    `${renderedDir}/1-manifest`,
  );
}

/** Where a benchmark keeps its stacks: one file backend and a directory per stack, outside the repository. */
export interface BenchStacks {
  runDir: string;
  kubeconfig: string;
  passphrase: string;
}

/** Where one run of `benchmark` keeps its stacks: a new directory under the system's temp directory. */
export function benchStacks(benchmark: string): BenchStacks {
  return {
    runDir: fs.mkdtempSync(path.join(os.tmpdir(), `api-stack-bench-${benchmark}-`)),
    kubeconfig: process.env.KUBECONFIG!,
    passphrase: "api-stack-bench",
  };
}

/** A stack of this project (its program: `program`, else index.ts) with `values` as its config. */
export async function benchStack(
  where: BenchStacks,
  name: string,
  values: ConfigValues,
  secretKeys: string[],
  program?: () => Promise<Record<string, unknown>>,
): Promise<Stack> {
  const stack = await sideStack(name, {
    workDir: `${where.runDir}/${name}`,
    backendDir: `${where.runDir}/state`,
    passphrase: where.passphrase,
    kubeconfig: where.kubeconfig,
  });
  if (program) {
    stack.workspace.program = program;
  }
  await setConfig(stack, values, secretKeys);
  return stack;
}

/**
 * A dev-shaped API that a load benchmark sends requests to: its own namespace and ingress host
 * (`<name>.bench.localhost`), no worker, and no rate limit, since one client address sends the
 * whole load.
 */
export function loadedApi(name: string, image: string, secrets: Record<string, string>): ConfigValues {
  return {
    ...localShape("dev", image, secrets),
    namespace: `api-${name}`,
    ingressHost: `${name}.bench.localhost`,
    workerEnabled: false,
    rateLimitPerMinute: 100_000,
  };
}
