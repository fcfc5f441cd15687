// Root hooks of the end-to-end suite. When a test fails, the ingress controller's access log
// entries of that test's time that were not answered 2xx or 3xx, or took SLOW_MS or longer, are
// printed: each names the upstream that answered ("-" when the controller found no ready
// endpoint) and how long it took, which tells a failure of the API from one of the routing in
// front of it, and a slow answer from a client that gave up on a fast one.
import { kubectl } from "./env";

const ACCESS_LOG_LINES = 40;
/** A fifth of the load's client timeout (tests/support/load.ts): slow enough to name. */
const SLOW_MS = 1000;
let started = new Date();

/**
 * Traefik's common log format: `... "GET /path HTTP/1.1" <status> ... <duration>ms`; lines that
 * are not requests (the controller's own messages) are kept too.
 */
function unusual(line: string): boolean {
  const duration = / (\d+)ms$/.exec(line);
  return !/" [23]\d\d /.test(line) || (duration !== null && Number(duration[1]) >= SLOW_MS);
}

export const mochaHooks = {
  beforeEach(): void {
    started = new Date();
  },
  afterEach(this: Mocha.Context): void {
    if (this.currentTest?.state !== "failed") {
      return;
    }
    let log: string;
    try {
      log = kubectl("logs", "-n", "ingress", "deployment/traefik", `--since-time=${started.toISOString()}`);
    } catch (error) {
      process.stderr.write(
        `    (the ingress controller's log could not be read: ${(error as Error).message.split("\n")[0]})\n`,
      );
      return;
    }
    const entries = log.split("\n").filter((line) => line && unusual(line));
    process.stderr.write(
      `    ingress controller, entries not answered 2xx/3xx or taking ${SLOW_MS} ms or more since ` +
        `${started.toISOString()} (last ${ACCESS_LOG_LINES}):\n` +
        entries
          .slice(-ACCESS_LOG_LINES)
          .map((line) => `      ${line}\n`)
          .join(""),
    );
  },
};
