// The program as the CLI runs it, for the unit harness, the end-to-end tests, the local run
// and the benchmarks.
import * as path from "node:path";
import type { ReleaseReader } from "../components/api/cluster-reader";

export const PROJECT_DIR = path.resolve(__dirname, "..");
export const PROJECT = "api-stack";

/**
 * Runs index.ts exactly as the CLI would, from a fresh module cache each time (an Automation
 * API program may run many times in one process). `readRelease` stands in for the cluster.
 */
export async function loadProgram(readRelease?: ReleaseReader): Promise<Record<string, unknown>> {
  const programRooms = ["index.ts", "config", "components"].map((room) => path.join(PROJECT_DIR, room));
  for (const key of Object.keys(require.cache)) {
    if (programRooms.some((room) => key === room || key.startsWith(room + path.sep))) {
      delete require.cache[key];
    }
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- index.ts anew, after the cache was cleared
  const program = require(path.join(PROJECT_DIR, "index.ts")) as (
    readRelease?: ReleaseReader,
  ) => Promise<Record<string, unknown>>;
  return program(readRelease);
}
