// The program as the CLI runs it, for the unit harness, the end-to-end tests, the local run
// and the benchmarks.
import * as path from "node:path";
import type { ReleaseReader } from "../components/api/cluster-reader";

export const PROJECT_DIR = path.resolve(__dirname, "..");
export const PROJECT = "api-stack";

/**
 * `entry` (a program: index.ts, or one built on the program's modules) required after the
 * program's rooms and `entry` itself left the module cache, so that each run of an Automation API
 * program (many in one process) loads the program's modules anew, as each run of the CLI does
 * (ts-node's compiler stays warm in between).
 */
export function requireFresh<T>(entry: string): T {
  const programRooms = ["index.ts", "config", "components"].map((room) => path.join(PROJECT_DIR, room));
  for (const key of Object.keys(require.cache)) {
    if (key === entry || programRooms.some((room) => key === room || key.startsWith(room + path.sep))) {
      delete require.cache[key];
    }
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the entry anew, after the cache was cleared
  return require(entry) as T;
}

/**
 * Runs index.ts exactly as the CLI would, from a fresh module cache each time (requireFresh).
 * `readRelease` stands in for the cluster.
 */
export async function loadProgram(readRelease?: ReleaseReader): Promise<Record<string, unknown>> {
  const program = requireFresh<(readRelease?: ReleaseReader) => Promise<Record<string, unknown>>>(
    path.join(PROJECT_DIR, "index.ts"),
  );
  return program(readRelease);
}
