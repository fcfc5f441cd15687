// Root hooks of the end-to-end suite. When a test fails, the ingress controller's access log
// entries of that test's time that were not answered 2xx or 3xx are printed: each names the
// upstream that answered ("-" when the controller found no ready endpoint), which tells a failure
// of the API from one of the routing in front of it.
import { kubectl } from "./env";

const ACCESS_LOG_LINES = 40;
let started = new Date();

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
    // Common log format: `... "GET /path HTTP/1.1" <status> ...`; the controller's own messages stay too.
    const unusual = log.split("\n").filter((line) => line && !/" [23]\d\d /.test(line));
    process.stderr.write(
      `    ingress controller, entries not answered 2xx/3xx since ${started.toISOString()} ` +
        `(last ${ACCESS_LOG_LINES}):\n` +
        unusual
          .slice(-ACCESS_LOG_LINES)
          .map((line) => `      ${line}\n`)
          .join(""),
    );
  },
};
