// The local environment's Prometheus (run by the Prometheus Operator, testbed/addons), read through
// the API server's service proxy: what it scrapes, what it stores and which rules it loaded.
import { kubectl } from "./env";

export interface Series {
  metric: Record<string, string>;
  value: [number, string];
}

/** The `data` of a Prometheus HTTP API answer (`path` from /api/v1 on); fails on an error answer. */
export function prometheusApi<T>(path: string): T {
  const answer = JSON.parse(
    kubectl("get", "--raw", `/api/v1/namespaces/monitoring/services/prometheus:9090/proxy/api/v1/${path}`),
  ) as { status: string; data: T; error?: string };
  if (answer.status !== "success") {
    throw new Error(`Prometheus ${path}: ${answer.error ?? answer.status}`);
  }
  return answer.data;
}

/** An instant query's vector. */
export const query = (promql: string): Series[] =>
  prometheusApi<{ result: Series[] }>(`query?query=${encodeURIComponent(promql)}`).result;

/** The `job` label of every series of `metric` in `namespace`: where the series came from. */
export const jobsOf = (metric: string, namespace: string): string[] =>
  query(`count by (job) (${metric}{namespace="${namespace}"})`).map((series) => series.metric.job);

export interface RuleGroup {
  name: string;
  rules: { name: string; type: string; health: string; lastError?: string; query: string }[];
}

/** The rule groups Prometheus evaluates. */
export const ruleGroups = (): RuleGroup[] => prometheusApi<{ groups: RuleGroup[] }>("rules").groups;

export interface Target {
  labels: Record<string, string>;
  health: string;
  scrapePool: string;
}

/** The targets Prometheus scrapes now. */
export const activeTargets = (): Target[] => prometheusApi<{ activeTargets: Target[] }>("targets").activeTargets;
