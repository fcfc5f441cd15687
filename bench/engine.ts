// The real engine against the local cluster: `pulumi up` of the dev stack (create, then no change),
// `pulumi preview` with no change, and `kubectl apply --server-side --dry-run=server` of the same
// stack rendered to manifests (over the live objects, so conflicts with Pulumi's field manager
// are forced: it is a dry run), once on the real node, where every pod pulls its image, starts
// and passes its probes, and once on the simulated (kwok) node, where pods are Ready at once (the
// helpers shared with bench/fleet.ts are in tools/bench.ts); then
// how long each image's pod takes from creation to Ready on the real node. Figures, not
// assertions. Run through bench/engine.sh, which brings up the environment.
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { buildAndPush } from "../tools/images";
import { destroyStack, localEnvironment, localShape, type ConfigValues } from "../tools/automation";
import { benchStack, benchStacks, listObjects, median as medianOf, serverDryRun, timed } from "../tools/bench";
import { onSimulatedNode } from "../tools/simulated-node";
import { PROJECT_DIR } from "../tools/program";
import { progress } from "../tests/support/progress";
import { baseRelease } from "../tests/support/releases";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const KUBECONFIG = process.env.KUBECONFIG!;
const SECRETS = {
  secretKey: "bench-secret-key-0123456789abcdef0123456789abcdef0123456",
  devPostgresPassword: "bench-postgres-pw",
  // Both apps refuse to start without one (API_TOKENS); nothing here calls /notes.
  apiTokens: "bench-api-token-0123456789abcdef0123456789",
};
const quiet = { onOutput: () => undefined };

const STACKS = benchStacks("engine");
const median = (run: () => unknown) => medianOf(ROUNDS, run);

async function devStack(name: string, extra: ConfigValues = {}): Promise<Stack> {
  return benchStack(
    STACKS,
    name,
    { ...localShape("dev", baseRelease(), SECRETS), namespace: `api-${name}`, ...extra },
    Object.keys(SECRETS),
  );
}

/** The same stack's figures on whichever node takes its pods. */
async function measure(node: string, name: string) {
  const stack = await devStack(name);
  // The same stack rendered to manifests, for kubectl to apply over the live objects.
  const manifests = path.join(STACKS.runDir, `${name}-rendered`);
  const render = await devStack(`${name}render`, { namespace: `api-${name}`, renderYamlTo: manifests });
  try {
    progress(`${node}: pulumi up (create)`);
    const create = await timed(() => stack.up(quiet));
    await render.up(quiet);
    const upNoChange = await median(() => stack.up(quiet));
    const preview = await median(() => stack.preview(quiet));
    const kubectlDryRun = await median(() => serverDryRun(KUBECONFIG, manifests));
    return { node, create, upNoChange, preview, kubectlDryRun, pods: readyTimes(`api-${name}`) };
  } finally {
    await destroyStack(stack, progress);
  }
}

/** Seconds from each pod's creation to its Ready condition (the API server's second resolution). */
function readyTimes(namespace: string): Record<string, number> {
  const pods = listObjects(KUBECONFIG, "pods", "-n", namespace).items;
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
    await destroyStack(stack, progress);
  }
}

async function main() {
  const real = await measure("real node", "benchreal");
  const simulated = await onSimulatedNode(KUBECONFIG, "api-benchkwok", () => measure("simulated node", "benchkwok"));
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
