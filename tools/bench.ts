// What the benchmarks share: timings, kubectl on the local cluster, stacks of their own outside
// the repository (and the config of an API under load), the server-side dry run of rendered
// manifests, and pods sent to the simulated (kwok) node.
import { execFileSync } from "node:child_process";
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

/**
 * Runs `run` with the pods of every namespace whose name starts with `namespacePrefix` sent to the
 * simulated node, where they are Ready at once: a MutatingAdmissionPolicy binds them to it as they
 * are created, and is deleted afterwards. Nothing else moves: the real node stays
 * schedulable and the simulated one tainted, so what else runs on the cluster (a test suite) is
 * untouched.
 */
export async function onSimulatedNode<T>(
  kubeconfig: string,
  namespacePrefix: string,
  run: () => Promise<T>,
): Promise<T> {
  const kubectl = kubectlOf(kubeconfig);
  const simulated = listObjects(kubeconfig, "nodes", "-l", "type=kwok").items[0]?.metadata.name;
  if (!simulated) {
    throw new Error("no simulated node: testbed/local-env up makes one (LOCAL_ENV_KWOK_NODES, default 1)");
  }
  const name = `simulated-node-${namespacePrefix}`;
  const policy = {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "MutatingAdmissionPolicy",
    metadata: { name },
    spec: {
      matchConstraints: {
        resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] }],
      },
      matchConditions: [{ name: "namespace", expression: `request.namespace.startsWith("${namespacePrefix}")` }],
      failurePolicy: "Fail",
      reinvocationPolicy: "Never",
      mutations: [
        {
          // The pod is bound to the node by name, past the scheduler and so past the node's taint
          // (an apply configuration may not set the atomic nodeSelector and tolerations, and this
          // API server fails on a JSON Patch that sets a map).
          patchType: "JSONPatch",
          jsonPatch: { expression: `[JSONPatch{op: "add", path: "/spec/nodeName", value: "${simulated}"}]` },
        },
      ],
    },
  };
  const binding = {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "MutatingAdmissionPolicyBinding",
    metadata: { name },
    spec: { policyName: name },
  };
  const probe = `${namespacePrefix}-probe`;
  const apply = (object: object) =>
    execFileSync("kubectl", ["--kubeconfig", kubeconfig, "apply", "-f", "-"], {
      input: JSON.stringify(object),
      stdio: ["pipe", "ignore", "inherit"],
    });
  try {
    apply(policy);
    apply(binding);
    // The API server takes a policy up within a second or so: a pod in a namespace of the prefix,
    // created as a dry run, shows when it does.
    kubectl("create", "namespace", probe);
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "probe", namespace: probe } };
    const podSpec = { containers: [{ name: "probe", image: "probe" }] };
    for (let attempt = 0; ; attempt++) {
      const created = execFileSync(
        "kubectl",
        ["--kubeconfig", kubeconfig, "create", "--dry-run=server", "-o", "json", "-f", "-"],
        { input: JSON.stringify({ ...pod, spec: podSpec }), encoding: "utf8", stdio: ["pipe", "pipe", "inherit"] },
      );
      if ((JSON.parse(created) as { spec: { nodeName?: string } }).spec.nodeName === simulated) {
        break;
      }
      if (attempt === 30) {
        throw new Error(`MutatingAdmissionPolicy ${name} did not take effect within 30 s`);
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    return await run();
  } finally {
    kubectl("delete", "--ignore-not-found", "--wait=false", "namespace", probe);
    kubectl("delete", "--ignore-not-found", "mutatingadmissionpolicybinding", name);
    kubectl("delete", "--ignore-not-found", "mutatingadmissionpolicy", name);
  }
}
