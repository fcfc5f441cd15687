// Program evaluation time under Pulumi's mocks: how long index.ts takes to validate config and
// declare every resource, for dev, prod and fleets of 10 and 50 APIs in one program. Figures,
// not assertions: `npm run bench` prints a table; the README records one run.
import { performance } from "node:perf_hooks";
import type { ReleaseReader } from "../components/api/cluster-reader";
import { ApiStack } from "../components/api-stack";
import { validateConfig } from "../config";
import { SIGNED } from "../tests/support/cosign";
import { devInput, execute, PROJECT, PROJECT_DIR, prodInput, type StackInput } from "../tests/support/harness";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

function fleet(size: number, input: StackInput): (readRelease: ReleaseReader) => Promise<Record<string, unknown>> {
  return (readRelease) => {
    const result = validateConfig({
      values: input.values,
      secretKeys: new Set(input.secretKeys),
      project: PROJECT,
      stack: "bench",
      projectDir: PROJECT_DIR,
    });
    if (!result.ok) {
      throw new Error(result.errors.join("\n"));
    }
    const { args } = result.config;
    for (let i = 0; i < size; i++) {
      const appName = `api${i}`;
      new ApiStack(appName, { ...args, app: { ...args.app, appName }, namespace: `${appName}-prod`, readRelease });
    }
    return Promise.resolve({});
  };
}

async function measure(run: () => ReturnType<typeof execute>): Promise<{ ms: number; resources: number }> {
  const times: number[] = [];
  let resources = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    const result = await run();
    times.push(performance.now() - start);
    if (result.error) {
      throw result.error;
    }
    resources = result.resources.length;
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], resources };
}

async function main() {
  // Prod verifies its prebuilt image before registering anything; under mocks a stand-in cosign
  // answers "signed" (the real verification is timed by nothing here).
  process.env.COSIGN_BINARY = SIGNED();
  await execute(prodInput(), { stack: "bench" }); // load modules once, outside the figures
  const scenarios: Array<[string, number, () => ReturnType<typeof execute>]> = [
    ["dev stack", 1, () => execute(devInput(), { stack: "bench" })],
    ["prod stack", 1, () => execute(prodInput(), { stack: "bench" })],
    ["fleet of 10 APIs", 10, () => execute(prodInput(), { stack: "bench", program: fleet(10, prodInput()) })],
    ["fleet of 50 APIs", 50, () => execute(prodInput(), { stack: "bench", program: fleet(50, prodInput()) })],
  ];
  const rows: Array<{ name: string; apis: number; ms: number; resources: number }> = [];
  for (const [name, apis, run] of scenarios) {
    rows.push({ name, apis, ...(await measure(run)) });
  }
  const prod = rows[1];
  console.log(`median of ${ROUNDS} rounds, Node ${process.version}, mocks (no engine)\n`);
  console.log("| scenario | resources | median ms | ms per API | vs prod stack |");
  console.log("|---|---:|---:|---:|---:|");
  for (const row of rows) {
    const perApi = (row.ms / row.apis).toFixed(1);
    const vsProd = `${(row.ms / prod.ms).toFixed(1)}x`;
    console.log(`| ${[row.name, row.resources, row.ms.toFixed(0), perApi, vsProd].join(" | ")} |`);
  }
  const [, , ten, fifty] = rows;
  console.log(`\ngrowth 10 -> 50 APIs: ${(fifty.ms / ten.ms).toFixed(2)}x time for 5x APIs`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
