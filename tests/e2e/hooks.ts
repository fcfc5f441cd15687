// Root hooks of the end-to-end suite. When a test fails, the ingress controller's access log
// entries of that test's time and of its file's stacks that were not answered 2xx or 3xx, or took
// SLOW_MS or longer, are printed: each names the upstream that answered ("-" when the controller
// found no ready endpoint) and how long it took, which tells a failure of the API from one of the
// routing in front of it, and a slow answer from a client that gave up on a fast one. For each pod
// that answered 5xx, the error lines of its own log follow: why the API failed, not only that.
import { kubectl, STACK_NAMESPACES } from "./env";

const ACCESS_LOG_LINES = 40;
/** Several times a quiet run's p99 through the ingress (docs/hardening.md): slow enough to name. */
const SLOW_MS = 1000;
const POD_LOG_LINES = 30;
/** An access log entry answered 5xx by an upstream: `"<method> <path> ..." 5xx ... "http://<ip>:<port>" <n>ms`. */
const UPSTREAM_5XX = /" 5\d\d .* "https?:\/\/([\d.]+):\d+" \d+ms$/;
/** Lines of an app's log that say why a request failed (Python's tracebacks and error records). */
const ERROR_LINE = /Traceback|Error|Exception|^\s+File "|"level": ?"(error|ERROR|critical|CRITICAL)"/;
let started = new Date();

/**
 * Traefik's common log format: `... "GET /path HTTP/1.1" <status> ... <duration>ms`; lines that
 * are not requests (the controller's own messages) are kept too.
 */
function unusual(line: string): boolean {
  const duration = / (\d+)ms$/.exec(line);
  return !/" [23]\d\d /.test(line) || (duration !== null && Number(duration[1]) >= SLOW_MS);
}

/**
 * Whether an entry can belong to this file: Traefik names an Ingress' router `<namespace>-…` and
 * a Gateway route's `httproute-<namespace>-…`. Entries with no router, and the controller's own
 * lines, could be anyone's and are kept; so is everything when no stack named its namespace.
 */
function ours(line: string): boolean {
  const router = /" \d+ "([^"]+)@kubernetes\w*"/.exec(line)?.[1];
  return (
    router === undefined ||
    STACK_NAMESPACES.size === 0 ||
    [...STACK_NAMESPACES].some((ns) => router.startsWith(`${ns}-`) || router.startsWith(`httproute-${ns}-`))
  );
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
    const entries = log.split("\n").filter((line) => line && unusual(line) && ours(line));
    process.stderr.write(
      `    ingress controller, entries not answered 2xx/3xx or taking ${SLOW_MS} ms or more since ` +
        `${started.toISOString()} (last ${ACCESS_LOG_LINES}):\n` +
        entries
          .slice(-ACCESS_LOG_LINES)
          .map((line) => `      ${line}\n`)
          .join(""),
    );
    const upstreams = new Set(entries.map((line) => UPSTREAM_5XX.exec(line)?.[1]).filter((ip) => ip !== undefined));
    for (const ip of upstreams) {
      process.stderr.write(podErrors(ip));
    }
  },
};

/** The error lines since the test began of the pod at `ip`, if it still exists. */
function podErrors(ip: string): string {
  try {
    const pod = kubectl(
      "get",
      "pods",
      "--all-namespaces",
      `--field-selector=status.podIP=${ip}`,
      "-o",
      "jsonpath={.items[0].metadata.namespace} {.items[0].metadata.name}",
    ).trim();
    if (!pod) {
      return `    the pod that answered 5xx from ${ip} is gone; its log with it\n`;
    }
    const [namespace, name] = pod.split(" ");
    const errors = kubectl("logs", "-n", namespace, name, "--all-containers", `--since-time=${started.toISOString()}`)
      .split("\n")
      .filter((line) => ERROR_LINE.test(line));
    return (
      `    ${namespace}/${name} (${ip}), which answered 5xx: its error lines (last ${POD_LOG_LINES})\n` +
      errors
        .slice(-POD_LOG_LINES)
        .map((line) => `      ${line}\n`)
        .join("")
    );
  } catch (error) {
    return `    (the log of the pod at ${ip} could not be read: ${(error as Error).message.split("\n")[0]})\n`;
  }
}
