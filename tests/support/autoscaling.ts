// The API's HPA under a bounded load, watched from outside: the load goes through the ingress
// controller on loopback, the pods are read from the API server once a second, both on this
// machine's clock. Used by the end-to-end test (which asserts that the count goes up and comes
// back) and by the autoscaling benchmark (which reports how long each took).
import { execFileSync } from "node:child_process";
import { startLoad, type LoadRun } from "./load";

export interface ScaledApi {
  namespace: string;
  /** The Ingress host the load is sent to. */
  host: string;
  /** The image of the pods that serve users (blue-green: the active release's, not the preview's). */
  image: string;
}

interface Pod {
  metadata: { deletionTimestamp?: string; labels?: Record<string, string> };
  spec: { containers: Array<{ image: string }> };
  status: { conditions?: Array<{ type: string; status: string }> };
}

function kubectlJson<T>(...args: string[]): T {
  const kubeconfig = process.env.KUBECONFIG;
  if (!kubeconfig) {
    throw new Error("KUBECONFIG is not set: run this through scripts/use-local-env");
  }
  return JSON.parse(
    execFileSync("kubectl", ["--kubeconfig", kubeconfig, ...args, "-o", "json"], { encoding: "utf8" }),
  ) as T;
}

/** The API pods that serve users and are not going away: how many there are, and how many are Ready. */
export function servingPods(api: ScaledApi): { pods: number; ready: number } {
  const pods = kubectlJson<{ items: Pod[] }>(
    "get",
    "pods",
    "-n",
    api.namespace,
    "-l",
    "app.kubernetes.io/component=api",
  ).items.filter((pod) => !pod.metadata.deletionTimestamp && pod.spec.containers[0].image === api.image);
  const ready = pods.filter((pod) => pod.status.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
  return { pods: pods.length, ready: ready.length };
}

/** What the API's HPA wants and has, and whether metrics-server gave it a CPU reading. */
export function hpaStatus(namespace: string): { desired: number; current: number; cpuPercent?: number } {
  const hpa = kubectlJson<{
    status: {
      desiredReplicas?: number;
      currentReplicas?: number;
      currentMetrics?: Array<{ resource?: { name: string; current: { averageUtilization?: number } } }>;
    };
  }>("get", "hpa", "api", "-n", namespace);
  const cpu = hpa.status.currentMetrics?.find((m) => m.resource?.name === "cpu");
  return {
    desired: hpa.status.desiredReplicas ?? 0,
    current: hpa.status.currentReplicas ?? 0,
    cpuPercent: cpu?.resource?.current.averageUtilization,
  };
}

/**
 * A load on the API through the ingress: GET /openapi.json (served in development, no token
 * needed), one connection per request, bounded in count and time.
 */
export function cpuLoad(api: ScaledApi, ratePerSecond: number, maxSeconds: number): LoadRun {
  return startLoad({
    url: "http://127.0.0.1/openapi.json",
    host: api.host,
    ratePerSecond,
    maxRequests: ratePerSecond * maxSeconds,
    maxSeconds,
  });
}

/**
 * Polls once a second until `reached` holds; resolves with the moment (ms since the epoch), or
 * rejects after `seconds` with the last error a read threw.
 */
export async function until(what: string, seconds: number, reached: () => boolean): Promise<number> {
  const deadline = Date.now() + seconds * 1000;
  let last: Error | undefined;
  for (;;) {
    try {
      if (reached()) {
        return Date.now();
      }
    } catch (error) {
      last = error as Error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${seconds} s waiting for ${what}${last ? `: ${last.message}` : ""}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
