// A bounded HTTP load on loopback: a fixed request rate, stopped by the caller or by its own
// limits (count and time), with every outcome counted and the first failures kept. Used by the
// end-to-end tests (which assert on the failed requests) and by the release benchmark (which
// reports latency and the moment the new release took all traffic).
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import { parentPort, Worker, workerData } from "node:worker_threads";

export interface LoadOptions {
  /** Where to send requests, e.g. http://127.0.0.1/openapi.json. */
  url: string;
  /** Host header (the Ingress host), when the URL names an address. */
  host?: string;
  /** Sent as a bearer token (the notes API's API_TOKENS). */
  token?: string;
  ratePerSecond: number;
  /** Hard limits: the load stops at whichever comes first. */
  maxRequests: number;
  maxSeconds: number;
  /** CA for https URLs (the local CA), and the TLS server name to verify. */
  ca?: string | Buffer;
  /** Reads a release label from a successful response body (e.g. the version in /openapi.json). */
  release?: (body: string) => string | undefined;
}

export interface LoadResult {
  sent: number;
  ok: number;
  failed: number;
  /** Count per HTTP status (and per error code for requests that got no answer). */
  outcomes: Record<string, number>;
  /** The first failures, each with its time and the start of its body: who answered, and why. */
  failures: Array<{ atMs: number; outcome: string; body?: string }>;
  /** When the first and the last failed request were sent (ms since start); unset without a failure. */
  failedSpan?: { firstMs: number; lastMs: number };
  /**
   * Times (ms since start) and lengths of this process's event-loop pauses of STALL_MS or more:
   * while paused the client neither reads answers nor sends, so a request in flight then may be
   * timed out by the client however fast the server answered.
   */
  stalls: Array<{ atMs: number; ms: number }>;
  /**
   * The share of the load's time during which some task on this machine waited for a CPU
   * (Linux's pressure stall information); unset where the kernel does not report it. Near 100 %,
   * every process, the API's and the proxy's included, answers late for want of a CPU.
   */
  cpuPressurePercent?: number;
  p50Ms: number;
  p99Ms: number;
  /** The slowest answer: slow answers are measured here, not counted as failures (CLIENT_TIMEOUT_MS). */
  maxMs: number;
  seconds: number;
  /** Per release label: requests served and the time (ms since start) of its first and last answer. */
  releases: Record<string, { count: number; firstMs: number; lastMs: number }>;
}

export interface LoadRun {
  /** Stops sending, waits for requests in flight, and returns the result. */
  stop(): Promise<LoadResult>;
  /** Resolves when the load stopped on its own limits. */
  readonly done: Promise<LoadResult>;
  /** Milliseconds since the load started (to place events on the same clock). */
  elapsedMs(): number;
}

/** Microseconds some task has waited for a CPU since boot, or undefined without /proc/pressure. */
function cpuStallMicros(): number | undefined {
  try {
    const total = /^some .*total=(\d+)/.exec(fs.readFileSync("/proc/pressure/cpu", "utf8"))?.[1];
    return total === undefined ? undefined : Number(total);
  } catch {
    return undefined;
  }
}

/** An event-loop pause the load records (LoadResult.stalls): far above a timer's usual lateness. */
const STALL_MS = 500;

/**
 * Longer than the apps themselves let a request wait (10 s for a pooled connection, 10 s to open
 * one, in both apps' database settings), so that each request counts by the server's answer. A
 * shorter bound counted as failed a request the app was still serving: in a stall of the 2-core
 * test machine, while even Postgres's probes timed out, the client gave up on one after 5 s, its
 * earlier bound (docs/hardening.md). Slowness is measured apart (p99Ms, maxMs), never as a failure.
 */
const CLIENT_TIMEOUT_MS = 30_000;

export function startLoad(options: LoadOptions): LoadRun {
  const target = new URL(options.url);
  const client = target.protocol === "https:" ? https : http;
  // One connection per request: each one really goes through the proxy's connection handling,
  // as separate clients would, instead of reusing a socket that outlives a pod.
  const agent = new client.Agent({ keepAlive: false });
  const started = process.hrtime.bigint();
  const elapsedMs = () => Number(process.hrtime.bigint() - started) / 1e6;
  const stalledAtStart = cpuStallMicros();
  const latencies: number[] = [];
  const outcomes: Record<string, number> = {};
  const failures: LoadResult["failures"] = [];
  let failedSpan: LoadResult["failedSpan"];
  const releases: LoadResult["releases"] = {};
  const stalls: LoadResult["stalls"] = [];
  let sent = 0;
  let ok = 0;
  let inFlight = 0;
  let stopped = false;
  let settle: () => void = () => undefined;
  const drained = new Promise<void>((resolve) => (settle = resolve));

  const count = (outcome: string) => (outcomes[outcome] = (outcomes[outcome] ?? 0) + 1);
  const fail = (begin: number, outcome: string, body?: string) => {
    count(outcome);
    // Requests end out of order: the span runs from the earliest start to the latest.
    const at = Math.round(begin);
    failedSpan = { firstMs: Math.min(failedSpan?.firstMs ?? at, at), lastMs: Math.max(failedSpan?.lastMs ?? at, at) };
    if (failures.length < 10) {
      failures.push({ atMs: Math.round(begin), outcome, ...(body === undefined ? {} : { body: body.slice(0, 200) }) });
    }
  };
  const finish = () => {
    inFlight--;
    if (stopped && inFlight === 0) {
      settle();
    }
  };

  const fire = () => {
    sent++;
    inFlight++;
    const begin = elapsedMs();
    const request = client.request(
      target,
      {
        agent,
        headers: {
          ...(options.host ? { host: options.host } : {}),
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        },
        timeout: CLIENT_TIMEOUT_MS,
        ...(options.ca ? { ca: options.ca, servername: options.host ?? target.hostname } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const status = response.statusCode ?? 0;
          // Decoded only for a failure's record or a release label, not for every answer.
          const body = () => Buffer.concat(chunks).toString("utf8");
          latencies.push(elapsedMs() - begin);
          if (status < 200 || status >= 300) {
            fail(begin, String(status), body());
          } else {
            count(String(status));
            ok++;
            const label = options.release?.(body());
            if (label !== undefined) {
              const now = elapsedMs();
              const seen = (releases[label] ??= { count: 0, firstMs: now, lastMs: now });
              seen.count++;
              seen.lastMs = now;
            }
          }
          finish();
        });
        response.on("error", (error: NodeJS.ErrnoException) => {
          fail(begin, error.code ?? "response-error");
          finish();
        });
      },
    );
    request.on("timeout", () => request.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
    request.on("error", (error: NodeJS.ErrnoException) => {
      fail(begin, error.code ?? "request-error");
      finish();
    });
    request.end();
  };

  const interval = 1000 / options.ratePerSecond;
  let next = 0;
  let timer: NodeJS.Timeout | undefined;
  // When the pacing timer is due: it runs late only when the event loop was busy elsewhere.
  let due = 0;
  // Paced against the start time, not the previous timer, so a slow event loop does not lower
  // the rate; limits are checked before each request.
  const tick = () => {
    const late = elapsedMs() - due;
    if (late >= STALL_MS && stalls.length < 20) {
      stalls.push({ atMs: Math.round(due), ms: Math.round(late) });
    }
    while (!stopped && next <= elapsedMs()) {
      if (sent >= options.maxRequests || elapsedMs() >= options.maxSeconds * 1000) {
        void stop();
        return;
      }
      fire();
      next += interval;
    }
    if (!stopped) {
      const wait = Math.max(1, next - elapsedMs());
      due = elapsedMs() + wait;
      timer = setTimeout(tick, wait);
    }
  };

  let result: Promise<LoadResult> | undefined;
  const stop = (): Promise<LoadResult> => {
    if (!result) {
      stopped = true;
      clearTimeout(timer);
      if (inFlight === 0) {
        settle();
      }
      result = drained.then(() => {
        agent.destroy();
        const sorted = [...latencies].sort((a, b) => a - b);
        const stalled = cpuStallMicros();
        // In ms, to a tenth; quantile(1) is the slowest answer.
        const quantile = (q: number) => {
          const at = Math.min(sorted.length - 1, Math.floor(q * sorted.length));
          return sorted.length ? Math.round(sorted[at] * 10) / 10 : 0;
        };
        return {
          sent,
          ok,
          failed: sent - ok,
          outcomes,
          failures,
          failedSpan,
          stalls,
          ...(stalled === undefined || stalledAtStart === undefined
            ? {}
            : { cpuPressurePercent: Math.round((stalled - stalledAtStart) / 10 / elapsedMs()) }),
          p50Ms: quantile(0.5),
          p99Ms: quantile(0.99),
          maxMs: quantile(1),
          seconds: Math.round(elapsedMs() / 100) / 10,
          releases,
        };
      });
    }
    return result;
  };

  let resolveDone: (result: LoadResult) => void = () => undefined;
  const done = new Promise<LoadResult>((resolve) => (resolveDone = resolve));
  const limitTimer = setTimeout(() => void stop().then(resolveDone), options.maxSeconds * 1000 + 1);
  void drained.then(() => {
    clearTimeout(limitTimer);
    void stop().then(resolveDone);
  });
  tick();
  return { stop, done, elapsedMs };
}

/** The release that answered, by the version its OpenAPI document carries (FastAPI's info.version). */
export const openApiVersion = (body: string) => (JSON.parse(body) as { info?: { version?: string } }).info?.version;

/** startLoad's options for a thread: a function cannot cross to it, so the release is read by name. */
export interface ThreadLoadOptions extends Omit<LoadOptions, "release"> {
  /** Count the answers by openApiVersion, as LoadOptions.release would. */
  byOpenApiVersion?: boolean;
}

/**
 * startLoad on a thread of its own, for a test whose process also runs the Pulumi program (the
 * Automation API runs an inline program in its caller's process). Each `up` holds that process's
 * event loop while the program loads anew and checks its config (cosign through spawnSync, zxcvbn):
 * seconds on a busy machine, during which a client on the same loop reads no answer and times out
 * requests the server answered at once. On its own thread the client is as independent of the
 * program as a user is.
 */
export function startLoadInThread(options: ThreadLoadOptions): Promise<LoadRun> {
  // The thread compiles this file again: without type checks, which this process already made.
  const worker = new Worker(
    `require("ts-node/register/transpile-only"); require(${JSON.stringify(__filename)}).runLoadThread();`,
    { eval: true, workerData: options },
  );
  let settle: { resolve: (result: LoadResult) => void; reject: (error: Error) => void } | undefined;
  const result = new Promise<LoadResult>((resolve, reject) => (settle = { resolve, reject }));
  return new Promise((resolve, reject) => {
    worker.on("error", (error: Error) => {
      reject(error);
      settle!.reject(error);
    });
    worker.on("message", (message: { started: true } | { result: LoadResult }) => {
      if ("result" in message) {
        settle!.resolve(message.result);
        void worker.terminate();
        return;
      }
      const started = process.hrtime.bigint();
      resolve({
        stop: () => {
          worker.postMessage("stop");
          return result;
        },
        done: result,
        elapsedMs: () => Number(process.hrtime.bigint() - started) / 1e6,
      });
    });
  });
}

/** The thread's side of startLoadInThread: runs the load, stops it when asked, reports its result. */
export function runLoadThread(): void {
  const { byOpenApiVersion, ca, ...options } = workerData as ThreadLoadOptions;
  const run = startLoad({
    ...options,
    // A Buffer arrives as a plain Uint8Array.
    ...(ca ? { ca: Buffer.from(ca) } : {}),
    ...(byOpenApiVersion ? { release: openApiVersion } : {}),
  });
  void run.done.then((result) => parentPort!.postMessage({ result }));
  parentPort!.on("message", () => void run.stop());
  parentPort!.postMessage({ started: true });
}

/** The load's figures for a progress line: requests, failures, p99, the slowest answer, CPU pressure. */
export function tally(result: LoadResult): string {
  const { sent, failed, p99Ms, maxMs, cpuPressurePercent } = result;
  return (
    `${sent} requests, ${failed} failed, p99 ${p99Ms} ms, slowest ${maxMs} ms; ` +
    `CPU pressure ${cpuPressurePercent ?? "unknown"} %`
  );
}

/** The outcome counts and the first failures, for an assertion's message. */
export function explain(result: LoadResult): string {
  const { outcomes, failures, stalls, cpuPressurePercent } = result;
  return JSON.stringify({ outcomes, failures, stalls, cpuPressurePercent });
}
