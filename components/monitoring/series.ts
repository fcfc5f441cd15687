// The series the app's pods export, as Prometheus stores them, and the PromQL over them that the
// release analyses (components/api/delivery.ts) and the alerts (spec.ts) share. The label names
// come from the pod labels the PodMonitors carry onto every series (`podTargetLabels`), sanitized
// the way the Prometheus Operator does; a Prometheus that scrapes by annotation must label the
// series the same way (docs/traffic.md).

/**
 * The pod labels each series carries, besides the `namespace`, `pod` and `container` every
 * PodMonitor target gets: which app, which stack, which component, and which release
 * (Argo Rollouts' pod-template hash, on the API's pods only).
 */
export const TARGET_POD_LABELS = [
  "app.kubernetes.io/name",
  "app.kubernetes.io/instance",
  "app.kubernetes.io/component",
  "rollouts-pod-template-hash",
] as const;

/** A pod label as a series' label name: the Operator replaces every character Prometheus refuses with `_`. */
export const seriesLabel = (podLabel: (typeof TARGET_POD_LABELS)[number]) => podLabel.replace(/[^a-zA-Z0-9_]/g, "_");

/** The app's request counter and latency histogram (docs/apps.md), by method, route and status. */
export const HTTP_REQUESTS = "http_requests_total";
export const HTTP_DURATION_BUCKETS = "http_request_duration_seconds_bucket";
/**
 * The largest finite bucket of the app's latency histogram, in seconds: a quantile above it is
 * reported as this bound, so no latency threshold above it can ever be crossed.
 */
export const LARGEST_LATENCY_BUCKET_SECONDS = 10;
/** The worker's tasks finished, by task and state, and the messages waiting in each queue it consumes. */
export const CELERY_TASKS = "celery_tasks_total";
export const CELERY_QUEUE_LENGTH = "celery_queue_length";

/** The matchers of one app's series in one namespace, and any `extra` matchers. */
export function appSelector(namespace: string, app: string, ...extra: string[]): string {
  return [`namespace="${namespace}"`, `${seriesLabel("app.kubernetes.io/name")}="${app}"`, ...extra].join(",");
}

/** The matcher of one release's series: `hash` is a pod-template hash, or an Argo argument that yields one. */
export const releaseMatcher = (hash: string) => `${seriesLabel("rollouts-pod-template-hash")}="${hash}"`;

const rate = (series: string, selector: string, window: string) => `rate(${series}{${selector}}[${window}])`;

/**
 * The share of 5xx responses among the requests `selector` matches, over the last `window`. No
 * 5xx series at all is a ratio of 0, not a missing one; no request at all stays missing (no
 * series) or NaN (0/0), which neither passes nor fails a threshold.
 */
export function errorRatio(selector: string, window: string): string {
  const all = `sum(${rate(HTTP_REQUESTS, selector, window)})`;
  const errors = `sum(${rate(HTTP_REQUESTS, `${selector},status=~"5.."`, window)})`;
  return `(${errors} or vector(0)) / ${all}`;
}

/** The `quantile` (0..1) of response times in seconds, over the last `window`; NaN without requests. */
export function latencyQuantile(quantile: number, selector: string, window: string): string {
  return `histogram_quantile(${quantile}, sum by (le) (${rate(HTTP_DURATION_BUCKETS, selector, window)}))`;
}
