// The real engine against the local cluster: `pulumi up` of the dev stack (create, then no change),
// `pulumi preview` with no change, and `kubectl apply --server-side --dry-run=server` of the same
// stack rendered to manifests (over the live objects, so conflicts with Pulumi's field manager
// are forced: it is a dry run), once on the real node, where every pod pulls its image, starts
// and passes its probes, and once on the simulated (kwok) node, where pods are Ready at once; then
// how long each image's pod takes from creation to Ready on the real node. Figures, not
// assertions. Run through bench/engine.sh, which brings up the environment.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import type { Stack } from "@pulumi/pulumi/automation";
import { buildAndPush } from "../tools/images";
import { localEnvironment, localShape, setConfig, sideStack, type ConfigValues } from "../tools/automation";
import { PROJECT_DIR } from "../tools/program";
import { progress } from "../tests/support/progress";
import { baseRelease } from "../tests/support/releases";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const KUBECONFIG = process.env.KUBECONFIG!;
const RUN_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "api-stack-bench-"));
const SECRETS = {
  secretKey: "bench-secret-key-0123456789abcdef0123456789abcdef0123456",
  devPostgresPassword: "bench-postgres-pw",
  // Both apps refuse to start without one (API_TOKENS); nothing here calls /notes.
  apiTokens: "bench-api-token-0123456789abcdef0123456789",
};
const quiet = { onOutput: () => undefined };

const kubectl = (...args: string[]) =>
  execFileSync("kubectl", ["--kubeconfig", KUBECONFIG, ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });

async function timed(run: () => unknown): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

async function median(run: () => unknown): Promise<number> {
  const times: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    times.push(await timed(run));
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

async function devStack(name: string, extra: ConfigValues = {}): Promise<Stack> {
  const stack = await sideStack(name, {
    workDir: path.join(RUN_DIR, name),
    backendDir: path.join(RUN_DIR, "state"),
    passphrase: "api-stack-bench",
    kubeconfig: KUBECONFIG,
  });
  await setConfig(
    stack,
    { ...localShape("dev", baseRelease(), SECRETS), namespace: `api-${name}`, ...extra },
    Object.keys(SECRETS),
  );
  return stack;
}

/** The same stack's figures on whichever node takes its pods. */
async function measure(node: string, name: string) {
  const stack = await devStack(name);
  // The same stack rendered to manifests, for kubectl to apply over the live objects.
  const manifests = path.join(RUN_DIR, `${name}-rendered`);
  const render = await devStack(`${name}render`, { namespace: `api-${name}`, renderYamlTo: manifests });
  try {
    progress(`${node}: pulumi up (create)`);
    const create = await timed(() => stack.up(quiet));
    await render.up(quiet);
    const upNoChange = await median(() => stack.up(quiet));
    const preview = await median(() => stack.preview(quiet));
    const kubectlDryRun = await median(() =>
      kubectl(
        "apply",
        "--server-side",
        "--force-conflicts",
        "--dry-run=server",
        "-R",
        "-f",
        path.join(manifests, "1-manifest"),
      ),
    );
    return { node, create, upNoChange, preview, kubectlDryRun, pods: readyTimes(`api-${name}`) };
  } finally {
    await stack.destroy(quiet);
  }
}

/** The fields of a `kubectl get -o json` list that the figures are read from. */
interface ObjectList {
  items: Array<{
    metadata: { name: string; creationTimestamp: string; labels: Record<string, string> };
    status: { conditions?: Array<{ type: string; status: string; lastTransitionTime: string }> };
  }>;
}

const list = (...args: string[]) => JSON.parse(kubectl("get", ...args, "-o", "json")) as ObjectList;

/** Seconds from each pod's creation to its Ready condition (the API server's second resolution). */
function readyTimes(namespace: string): Record<string, number> {
  const pods = list("pods", "-n", namespace).items;
  const times: Record<string, number> = {};
  for (const pod of pods) {
    const ready = pod.status.conditions?.find((c) => c.type === "Ready" && c.status === "True");
    if (ready) {
      const component = pod.metadata.labels["app.kubernetes.io/component"];
      times[component] = (Date.parse(ready.lastTransitionTime) - Date.parse(pod.metadata.creationTimestamp)) / 1000;
    }
  }
  return times;
}

/** The dev stack's figures with its pods sent to the simulated node (the real one cordoned). */
async function onSimulatedNode<T>(run: () => Promise<T>): Promise<T> {
  const simulated = list("nodes", "-l", "type=kwok").items[0]?.metadata.name;
  if (!simulated) {
    throw new Error("no simulated node: testbed/local-env up makes one (LOCAL_ENV_KWOK_NODES, default 1)");
  }
  kubectl("cordon", "api-stack-node");
  kubectl("taint", "node", simulated, "kwok.x-k8s.io/node-");
  try {
    return await run();
  } finally {
    kubectl("uncordon", "api-stack-node");
    kubectl("taint", "--overwrite", "node", simulated, "kwok.x-k8s.io/node=fake:NoSchedule");
  }
}

/** The Django app's API pod on the real node, from creation to Ready. */
async function djangoReady(): Promise<number | undefined> {
  const image = buildAndPush({
    context: path.join(PROJECT_DIR, "apps/django"),
    tag: "127.0.0.1:5000/api-stack/django:bench",
    buildArgs: { BASE_IMAGE: localEnvironment().baseImage },
  });
  const stack = await devStack("benchdjango", {
    imageRef: image,
    migrationCommand: ["python", "manage.py", "migrate", "--noinput"],
    workerEnabled: false,
  });
  try {
    progress("django: pulumi up (create)");
    await stack.up(quiet);
    return readyTimes("api-benchdjango").api;
  } finally {
    await stack.destroy(quiet);
  }
}

async function main() {
  const real = await measure("real node", "benchreal");
  const simulated = await onSimulatedNode(() => measure("simulated node", "benchkwok"));
  const django = await djangoReady();

  const s = (ms: number) => (ms / 1000).toFixed(1);
  console.log(`\ndev stack, median of ${ROUNDS} rounds (create: one), Pulumi CLI 3.259.0, local cluster\n`);
  console.log(
    "| node | up (create) s | up (no change) s | preview (no change) s | kubectl server dry-run s " +
      "| preview / kubectl |",
  );
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const r of [real, simulated]) {
    const ratio = `${(r.preview / r.kubectlDryRun).toFixed(1)}x`;
    console.log(`| ${[r.node, s(r.create), s(r.upNoChange), s(r.preview), s(r.kubectlDryRun), ratio].join(" | ")} |`);
  }
  console.log(`\ncreate on the real node / on the simulated node: ${(real.create / simulated.create).toFixed(1)}x`);
  console.log("\npod creation to Ready on the real node (s; the API server records whole seconds)\n");
  console.log("| image | pod | s |");
  console.log("|---|---|---:|");
  const rows: Array<[string, string, number | undefined]> = [
    ["fastapi (app)", "API", real.pods.api],
    ["fastapi (app)", "Celery worker", real.pods.worker],
    ["django (app)", "API", django],
    ["postgres (service)", "dev Postgres", real.pods.postgres],
    ["redis (service)", "dev Redis", real.pods.redis],
  ];
  for (const [image, pod, seconds] of rows) {
    console.log(`| ${image} | ${pod} | ${seconds ?? "n/a"} |`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
