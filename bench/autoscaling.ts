// `npm run bench:autoscaling`: how fast the API's HPA follows a load on the local cluster's real
// node, with metrics-server's resource metrics. A bounded load through the ingress controller
// (BENCH_RATE requests per second to /openapi.json, default 60) runs until the HPA has scaled the
// dev-shaped API as far as it will (no new peak of Ready pods for 90 s), then stops. Reported: from
// the load's start to the second pod Ready, the most pods, how often the count changed under the
// steady load, and from the load's stop to one pod again; for the default behaviour
// (components/scaling/spec.ts: scale-up window 60 s, scale-down window 300 s, then at most double
// per minute up and a tenth per minute down) and for the short windows the end-to-end test uses.
// Figures, not assertions; run through bench/autoscaling.sh.
import type { Stack } from "@pulumi/pulumi/automation";
import { KEYS } from "../config/keys";
import { destroyStack } from "../tools/automation";
import { benchStack, benchStacks, loadedApi } from "../tools/bench";
import { cpuLoad, hpaStatus, servingPods, until, type ScaledApi } from "../tests/support/autoscaling";
import { progress } from "../tests/support/progress";
import { baseRelease } from "../tests/support/releases";

const RATE = Number(process.env.BENCH_RATE ?? 60);
/**
 * Scaled as far as it will when no new peak has come for this long under the load. Not "unchanged":
 * with short windows the count swings between two values under a steady load and never stays.
 */
const SETTLED_SECONDS = 90;
const SECRETS = {
  secretKey: "bench-hpa-secret-key-0123456789abcdef0123456789abcdef01",
  devPostgresPassword: "bench-postgres-password",
  apiTokens: "bench-hpa-api-token-0123456789abcdef012345",
};
const quiet = { onOutput: () => undefined };
const STACKS = benchStacks("autoscaling");

interface Row {
  behaviour: string;
  windows: { up: number; down: number };
  scaleOutSeconds: number;
  peakPods: number;
  peakCpuPercent?: number;
  /** Times the Ready count went up or down after the second pod, under the same load. */
  swings: number;
  scaleInSeconds: number;
}

async function stackFor(name: string, windows: Row["windows"], image: string): Promise<Stack> {
  const values = {
    ...loadedApi(name, image, SECRETS),
    hpaScaleUpStabilizationSeconds: windows.up,
    hpaScaleDownStabilizationSeconds: windows.down,
  };
  const stack = await benchStack(STACKS, name, values, Object.keys(SECRETS));
  await stack.up(quiet);
  return stack;
}

async function measure(behaviour: string, windows: Row["windows"], api: ScaledApi): Promise<Row> {
  await until("metrics-server's first CPU reading", 180, () => hpaStatus(api.namespace).cpuPercent !== undefined);
  progress(`${behaviour}: ${RATE} requests/s until no new peak of Ready pods for ${SETTLED_SECONDS} s`);
  const load = cpuLoad(api, RATE, 1800);
  const started = Date.now();
  const out = await until("a second Ready pod", 900, () => servingPods(api).ready >= 2);
  let peak = servingPods(api).ready;
  let peakCpu = hpaStatus(api.namespace).cpuPercent;
  let last = peak;
  let swings = 0;
  let peaked = Date.now();
  await until("no new peak of Ready pods", 1200, () => {
    const { ready } = servingPods(api);
    peakCpu = Math.max(peakCpu ?? 0, hpaStatus(api.namespace).cpuPercent ?? 0);
    if (ready !== last) {
      swings++;
      last = ready;
    }
    if (ready > peak) {
      peak = ready;
      peaked = Date.now();
    }
    return Date.now() - peaked >= SETTLED_SECONDS * 1000;
  });
  await load.stop();
  const stopped = Date.now();
  progress(`${behaviour}: at most ${peak} pods, ${swings} changes of the count; load stopped, waiting for one pod`);
  const back = await until("one pod again", 1800, () => {
    const hpa = hpaStatus(api.namespace);
    return hpa.desired === 1 && servingPods(api).pods === 1;
  });
  return {
    behaviour,
    windows,
    scaleOutSeconds: (out - started) / 1000,
    peakPods: peak,
    peakCpuPercent: peakCpu,
    swings,
    scaleInSeconds: (back - stopped) / 1000,
  };
}

async function main() {
  const image = baseRelease();
  const defaults = {
    up: KEYS.hpaScaleUpStabilizationSeconds.default,
    down: KEYS.hpaScaleDownStabilizationSeconds.default,
  };
  const scenarios: Array<[string, Row["windows"]]> = [
    ["default behaviour", defaults],
    ["the e2e test's windows", { up: 0, down: 30 }],
  ];
  const rows: Row[] = [];
  for (const [i, [behaviour, windows]] of scenarios.entries()) {
    const name = `benchhpa${i}`;
    const stack = await stackFor(name, windows, image);
    try {
      rows.push(
        await measure(behaviour, windows, { namespace: `api-${name}`, host: `${name}.bench.localhost`, image }),
      );
    } finally {
      await destroyStack(stack, progress);
    }
  }

  console.log(
    `\n${RATE} requests/s through Traefik on 127.0.0.1 to /openapi.json; the dev shape: HPA from 1 to 3 pods ` +
      "at 70 % of a 100m CPU request; local cluster, real node, metrics-server\n",
  );
  console.log(
    "| behaviour | stabilization up / down s | load start to 2nd pod Ready, s | most pods (peak CPU %) " +
      "| count changes under the load | load stop to 1 pod, s |",
  );
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    const cells = [
      r.behaviour,
      `${r.windows.up} / ${r.windows.down}`,
      r.scaleOutSeconds.toFixed(0),
      `${r.peakPods} (${r.peakCpuPercent ?? "?"} %)`,
      String(r.swings),
      r.scaleInSeconds.toFixed(0),
    ];
    console.log(`| ${cells.join(" | ")} |`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
