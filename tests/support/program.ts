// The program as the CLI runs it, for the unit harness, the end-to-end tests, the local run
// and the benchmarks: they all depend on this folder, never the other way round.
import * as path from "node:path";
import type { ReleaseReader } from "../../components/api/cluster-reader";

export const PROJECT_DIR = path.resolve(__dirname, "../..");
export const PROJECT = "api-stack";

/**
 * Runs index.ts exactly as the CLI would, from a fresh module cache each time (an Automation
 * API program may run many times in one process). `readRelease` stands in for the cluster.
 */
export async function loadProgram(readRelease?: ReleaseReader): Promise<Record<string, unknown>> {
  for (const key of Object.keys(require.cache)) {
    const own = key.startsWith(PROJECT_DIR) && !key.includes("node_modules");
    if (own && !key.includes(`${path.sep}tests${path.sep}`) && !key.includes(`${path.sep}scripts${path.sep}`)) {
      delete require.cache[key];
    }
  }
  const program = require(path.join(PROJECT_DIR, "index.ts")) as (
    readRelease?: ReleaseReader,
  ) => Promise<Record<string, unknown>>;
  return program(readRelease);
}
