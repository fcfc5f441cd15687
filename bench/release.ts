// `npm run bench:release`: zero downtime, measured. A bounded load through the ingress controller
// on loopback (BENCH_RATE requests per second, default 50, each stopped after at most 15 minutes)
// across a rolling update, a blue-green promotion, a rollback and a canary to 100 %, on the local
// cluster's real node. For each: requests sent, failed, p50/p99 latency, how long the `up` took,
// and when the last answer from the old release came, counted from the start of that `up` (after
// it, every user was on the new release). Then what a release that fails its users once promoted
// costs until the post-promotion analysis rolls it back: the requests that failed between its
// first 5xx and the rollback, and how long that took. Figures, not assertions; run through
// bench/release.sh.
import { performance } from "node:perf_hooks";
import type { Stack } from "@pulumi/pulumi/automation";
import { destroyStack, setConfig, LOCAL_PROMETHEUS, type ConfigValues } from "../tools/automation";
import { benchStack, benchStacks, loadedApi } from "../tools/bench";
import { explain, startLoad, type LoadResult, type LoadRun } from "../tests/support/load";
import { progress } from "../tests/support/progress";
import { buildReleases, failingBehindIngress } from "../tests/support/releases";
import { releaseId } from "../components/release";

const RATE = Number(process.env.BENCH_RATE ?? 50);
const SECRETS = {
  secretKey: "bench-release-secret-key-0123456789abcdef0123456789abcdef",
  devPostgresPassword: "bench-postgres-password",
  apiTokens: "bench-release-api-token-0123456789abcdef0123",
};
const quiet = { onOutput: () => undefined };
const STACKS = benchStacks("release");

interface Row {
  scenario: string;
  load: LoadResult;
  upSeconds: number;
  /** Seconds from the start of the `up` to the last answer of the old release. */
  switchedAfter: number;
}

async function stackFor(name: string, extra: ConfigValues, image: string): Promise<Stack> {
  const values = { ...loadedApi(name, image, SECRETS), hpaEnabled: false, replicas: 2, appVersion: "1.0.1", ...extra };
  const stack = await benchStack(STACKS, name, values, Object.keys(SECRETS));
  await stack.up(quiet);
  return stack;
}

/** The bounded load of every scenario, through the ingress for `host`. */
const loadOn = (host: string): LoadRun =>
  startLoad({
    url: "http://127.0.0.1/openapi.json",
    host,
    ratePerSecond: RATE,
    maxRequests: RATE * 900,
    maxSeconds: 900,
    release: (body) => (JSON.parse(body) as { info?: { version?: string } }).info?.version,
  });

/** Runs `change` as an `up` under load; the old release answers with version `from`. */
async function measure(scenario: string, stack: Stack, host: string, from: string, change: ConfigValues): Promise<Row> {
  progress(`${scenario}: ${RATE} requests/s through the ingress while pulumi up runs`);
  const load = loadOn(host);
  await new Promise((r) => setTimeout(r, 3000));
  await setConfig(stack, change);
  const upStartedAt = load.elapsedMs();
  const start = performance.now();
  await stack.up(quiet);
  const upSeconds = (performance.now() - start) / 1000;
  await new Promise((r) => setTimeout(r, 5000));
  const result = await load.stop();
  const last = result.releases[from]?.lastMs ?? upStartedAt;
  return { scenario, load: result, upSeconds, switchedAfter: Math.max(0, last - upStartedAt) / 1000 };
}

interface RolledBack {
  load: LoadResult;
  upSeconds: number;
  /** Seconds from the broken release's first 5xx to its last: until the rollback took every user back. */
  failingSeconds: number;
}

/**
 * Promotes a release that fails every user (it answers 500 to what comes through the ingress, and
 * passes its smoke test) under load, and lets the post-promotion analysis roll it back.
 */
async function rolledBack(stack: Stack, host: string, broken: string): Promise<RolledBack> {
  await setConfig(stack, { imageRef: broken, appVersion: "1.0.3" });
  await stack.up(quiet); // waits in preview, its smoke test passed
  progress(`automatic rollback: ${RATE} requests/s while the promoted release fails until its analysis rolls it back`);
  const load = loadOn(host);
  await new Promise((r) => setTimeout(r, 3000));
  await setConfig(stack, { promote: releaseId(broken) });
  const start = performance.now();
  const aborted = await stack.up(quiet).then(
    () => false,
    () => true,
  );
  const upSeconds = (performance.now() - start) / 1000;
  // Past the abort, until the ingress follows the Service back to the previous release.
  await new Promise((r) => setTimeout(r, 10_000));
  const result = await load.stop();
  if (!aborted || !result.failedSpan) {
    throw new Error(`the broken release was not rolled back by its analysis: ${explain(result)}`);
  }
  return { load: result, upSeconds, failingSeconds: (result.failedSpan.lastMs - result.failedSpan.firstMs) / 1000 };
}

/**
 * A stack that lives only while `run` measures on it: each scenario's pods leave the node before the
 * next one's arrive, so none waits for CPU (with all of them kept, the post-promotion release's
 * smoke-test pod stayed Pending, Insufficient cpu, until its Job's deadline).
 */
async function during<T>(name: string, extra: ConfigValues, image: string, run: (stack: Stack) => Promise<T>) {
  const stack = await stackFor(name, extra, image);
  try {
    return await run(stack);
  } finally {
    await destroyStack(stack, progress);
  }
}

async function main() {
  const [v1, v2] = buildReleases(2);
  const broken = failingBehindIngress();
  const next = { imageRef: v2, appVersion: "1.0.2" };
  const rows: Row[] = [];
  rows.push(
    await during("benchrolling", {}, v1, (stack) =>
      measure("rolling update", stack, "benchrolling.bench.localhost", "1.0.1", next),
    ),
  );
  const host = "benchbluegreen.bench.localhost";
  rows.push(
    ...(await during("benchbluegreen", { strategy: "blueGreen" }, v1, async (stack) => {
      await setConfig(stack, next);
      await stack.up(quiet); // the new release waits in preview
      const promotion = await measure("blue-green promotion", stack, host, "1.0.1", { promote: releaseId(v2) });
      const back = await measure("rollback", stack, host, "1.0.2", { rollbackTo: v1, appVersion: "1.0.1" });
      return [promotion, back];
    })),
  );
  const canary = {
    strategy: "canary",
    prometheusAddress: LOCAL_PROMETHEUS,
    canarySteps: [{ setWeight: 50 }, { pause: { duration: "2m" } }],
  };
  rows.push(
    await during("benchcanary", canary, v1, (stack) =>
      measure("canary to 100 % (50 %, 2 min)", stack, "benchcanary.bench.localhost", "1.0.1", next),
    ),
  );
  const checked = { strategy: "blueGreen", postPromotionAnalysis: true, prometheusAddress: LOCAL_PROMETHEUS };
  const rollback = await during("benchpostpromotion", checked, v1, (stack) =>
    rolledBack(stack, "benchpostpromotion.bench.localhost", broken),
  );

  console.log(
    `\n${RATE} requests/s through Traefik on 127.0.0.1 to /openapi.json (one connection per request), ` +
      "local cluster, real node\n",
  );
  console.log(
    "| scenario | requests | failed | p50 ms | p99 ms | `pulumi up` s " +
      "| last answer from the old release, s after the up started |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    const { sent, failed, p50Ms, p99Ms } = r.load;
    const cells = [r.scenario, sent, failed, p50Ms, p99Ms, r.upSeconds.toFixed(1), r.switchedAfter.toFixed(1)];
    console.log(`| ${cells.join(" | ")} |`);
  }
  const failures = rows.filter((r) => r.load.failed > 0);
  for (const r of failures) {
    console.log(`\n${r.scenario}: ${explain(r.load)}`);
  }

  console.log(
    "\nA blue-green release that fails every user once promoted, rolled back by its post-promotion analysis " +
      "(5xx ratio and p99 latency, a measurement a minute after a minute's delay)\n",
  );
  console.log("| requests | failed | from its first 5xx to the rollback, s | `pulumi up` s | outcomes |");
  console.log("|---:|---:|---:|---:|---|");
  const outcomes = Object.entries(rollback.load.outcomes)
    .map(([outcome, count]) => `${outcome}: ${count}`)
    .join(", ");
  const cells = [
    rollback.load.sent,
    rollback.load.failed,
    rollback.failingSeconds.toFixed(1),
    rollback.upSeconds.toFixed(1),
    outcomes,
  ];
  console.log(`| ${cells.join(" | ")} |`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
