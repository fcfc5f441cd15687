// A bounded HTTP load on loopback: a fixed request rate, stopped by the caller or by its own
// limits (count and time), with every outcome counted and the first failures kept. Used by the
// end-to-end tests (which assert on the failed requests) and by the release benchmark (which
// reports latency and the moment the new release took all traffic).
import * as http from "node:http";
import * as https from "node:https";

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
  timeoutMs?: number;
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
  p50Ms: number;
  p99Ms: number;
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

export function startLoad(options: LoadOptions): LoadRun {
  const target = new URL(options.url);
  const client = target.protocol === "https:" ? https : http;
  // One connection per request: each one really goes through the proxy's connection handling,
  // as separate clients would, instead of reusing a socket that outlives a pod.
  const agent = new client.Agent({ keepAlive: false });
  const started = process.hrtime.bigint();
  const elapsedMs = () => Number(process.hrtime.bigint() - started) / 1e6;
  const latencies: number[] = [];
  const outcomes: Record<string, number> = {};
  const failures: LoadResult["failures"] = [];
  let failedSpan: LoadResult["failedSpan"];
  const releases: LoadResult["releases"] = {};
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
        timeout: options.timeoutMs ?? 5000,
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
  // Paced against the start time, not the previous timer, so a slow event loop does not lower
  // the rate; limits are checked before each request.
  const tick = () => {
    while (!stopped && next <= elapsedMs()) {
      if (sent >= options.maxRequests || elapsedMs() >= options.maxSeconds * 1000) {
        void stop();
        return;
      }
      fire();
      next += interval;
    }
    if (!stopped) {
      timer = setTimeout(tick, Math.max(1, next - elapsedMs()));
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
        const quantile = (q: number) =>
          sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0;
        return {
          sent,
          ok,
          failed: sent - ok,
          outcomes,
          failures,
          failedSpan,
          p50Ms: Math.round(quantile(0.5) * 10) / 10,
          p99Ms: Math.round(quantile(0.99) * 10) / 10,
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

/** The outcome counts and the first failures, for an assertion's message. */
export function explain(result: LoadResult): string {
  return JSON.stringify({ outcomes: result.outcomes, failures: result.failures });
}
