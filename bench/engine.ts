// The real engine against the local cluster, side by side with kubectl: `pulumi up` (create and
// no-change), `pulumi preview` with no changes, and `kubectl apply --server-side --dry-run=server`
// of the same stack rendered to manifests (over the live objects, so conflicts with Pulumi's
// field manager are forced: it is a dry run), for the dev and prod shapes, in one run.
// Figures, not assertions. Run through bench/engine.sh, which brings up the environment.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { buildDevImage, localShape, setConfig, sideStack } from "../scripts/automation";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const KUBECONFIG = process.env.KUBECONFIG!;
const RUN_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "api-stack-bench-"));
const SECRETS = {
  dev: { secretKey: "bench-secret-key-0123456789abcdef0123456789abcdef", devPostgresPassword: "bench-postgres-pw" },
  prod: {
    secretKey: "bench-secret-key-0123456789abcdef0123456789abcdef",
    databaseUrl: "postgresql://app:bench@postgres.databases.svc:5432/app",
    redisUrl: "redis://redis.databases.svc:6379/0",
  },
};

async function timed(run: () => unknown | Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

async function median(run: () => unknown | Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    times.push(await timed(run));
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

async function measure(shape: "dev" | "prod", image: string) {
  const namespace = `api-bench${shape}`;
  const options = (name: string) => ({
    workDir: path.join(RUN_DIR, name),
    backendDir: path.join(RUN_DIR, "state"),
    passphrase: "api-stack-bench",
    kubeconfig: KUBECONFIG,
  });
  const values = { ...localShape(shape, image, SECRETS[shape]), namespace };
  const secret = Object.keys(SECRETS[shape]);
  const quiet = { onOutput: () => undefined };

  const stack = await sideStack(`bench${shape}`, options(`bench${shape}`));
  await setConfig(stack, values, secret);
  const render = await sideStack(`bench${shape}render`, options(`bench${shape}render`));
  const manifests = path.join(RUN_DIR, `${shape}-rendered`);
  await setConfig(render, { ...values, renderYamlTo: manifests }, secret);
  try {
    const create = await timed(() => stack.up(quiet));
    await render.up(quiet);
    const upNoChange = await median(() => stack.up(quiet));
    const preview = await median(() => stack.preview(quiet));
    const kubectl = await median(() =>
      execFileSync(
        "kubectl",
        ["--kubeconfig", KUBECONFIG, "apply", "--server-side", "--force-conflicts", "--dry-run=server", "-R", "-f", path.join(manifests, "1-manifest")],
        { stdio: ["ignore", "ignore", "inherit"] },
      ),
    );
    return { shape, create, upNoChange, preview, kubectl };
  } finally {
    await stack.destroy(quiet);
  }
}

async function main() {
  const image = buildDevImage("127.0.0.1:5000/api-stack/bench:latest");
  const rows = [await measure("dev", image), await measure("prod", image)];
  const s = (ms: number) => (ms / 1000).toFixed(1);
  console.log(`\nmedian of ${ROUNDS} rounds (create: one), local kwok cluster, Pulumi CLI 3.259.0\n`);
  console.log("| stack | up (create) s | up (no change) s | preview (no change) s | kubectl server dry-run s | preview / kubectl |");
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    console.log(
      `| ${r.shape} | ${s(r.create)} | ${s(r.upNoChange)} | ${s(r.preview)} | ${s(r.kubectl)} | ${(r.preview / r.kubectl).toFixed(1)}x |`,
    );
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
