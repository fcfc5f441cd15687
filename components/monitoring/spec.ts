// Pure builders for what an operator-run Prometheus (the Prometheus Operator, as kube-prometheus-
// stack installs it) reads instead of scrape annotations: a PodMonitor per component that serves
// metrics, carrying the pod labels the analyses and alerts select by onto every series, and the
// app's alerting rules as a PrometheusRule.
import type { Labels, Naming } from "../names";
import { HEALTH, PORT_NAMES } from "../workload/spec";
import {
  appSelector,
  CELERY_QUEUE_LENGTH,
  CELERY_TASKS,
  errorRatio,
  latencyQuantile,
  seriesLabel,
  TARGET_POD_LABELS,
} from "./series";

export const MONITORING_API_VERSION = "monitoring.coreos.com/v1";

/** The thresholds the alerts share with the release analyses. */
export interface AlertThresholds {
  /** Share (0..1) of 5xx responses above which the API alerts. */
  maxErrorRatio: number;
  /** p99 response time, in seconds, above which the API alerts. */
  maxLatencyP99Seconds: number;
}

/**
 * How the team's Prometheus finds the app's metrics: `prometheusOperator`, PodMonitors and a
 * PrometheusRule labelled with what its selectors match; `annotations`, the prometheus.io/* pod
 * annotations; `none`, neither (nothing can analyse a release then).
 */
export type MonitoringConfig =
  | { kind: "prometheusOperator"; selectorLabels: Labels; alerts: AlertThresholds }
  | { kind: "annotations" }
  | { kind: "none" };

/** The components whose pods serve /metrics on the metrics port. */
export type MonitoredComponent = "api" | "worker";

/**
 * A PodMonitor of one component's pods, every release of them. A PodMonitor rather than a
 * ServiceMonitor: no Service exposes the metrics port (docs/apps.md), the worker has no Service,
 * and the API's Services select one release each (Argo writes its hash into their selectors), so
 * a Service would hide the pods of the release an analysis is about.
 */
export function podMonitorSpec(naming: Naming, component: MonitoredComponent): Record<string, unknown> {
  return {
    selector: { matchLabels: naming.selector(component) },
    podMetricsEndpoints: [{ port: PORT_NAMES.metrics, path: HEALTH.metrics }],
    // Without these the series carry only namespace, pod and container: no analysis could tell
    // the new release's pods from the old ones.
    podTargetLabels: [...TARGET_POD_LABELS],
  };
}

/** How long a condition must hold before its alert fires, and the windows the rates look back over. */
export const ALERT_TIMING = {
  /** The window of the error ratio and the latency quantile, and how long each must stay above its threshold. */
  window: "5m",
  for: "5m",
  /** Restarts counted over this window... */
  restartWindow: "15m",
  /** ...and how many of them alert. */
  restarts: 3,
  /** A worker alerts when tasks wait and none finished over this window. */
  stallWindow: "10m",
} as const;

export interface RuleInput {
  naming: Naming;
  namespace: string;
  alerts: AlertThresholds;
  /** Whether the stack runs the Celery worker (its alert only then). */
  worker: boolean;
}

/**
 * The alerts a team expects of the API and its worker: a 5xx ratio or a p99 latency above the
 * release analyses' thresholds, containers that keep restarting (kube-state-metrics' counter,
 * which kube-prometheus-stack installs), and a worker that finishes no task while tasks wait.
 */
export function prometheusRuleSpec(input: RuleInput): Record<string, unknown> {
  const { naming, namespace, alerts } = input;
  const app = naming.selector("api")["app.kubernetes.io/name"];
  const api = appSelector(namespace, app);
  const { window } = ALERT_TIMING;
  const labels = (severity: "warning" | "critical") => ({ severity, namespace, app });
  const rules = [
    {
      alert: "ApiErrorRatioHigh",
      expr: `${errorRatio(api, window)} > ${alerts.maxErrorRatio}`,
      for: ALERT_TIMING.for,
      labels: labels("critical"),
      annotations: {
        summary: `${app} in ${namespace} answers more than ${alerts.maxErrorRatio * 100} % of requests with 5xx`,
        description: `5xx share over ${window}: {{ $value | humanizePercentage }}.`,
      },
    },
    {
      alert: "ApiLatencyP99High",
      expr: `${latencyQuantile(0.99, api, window)} > ${alerts.maxLatencyP99Seconds}`,
      for: ALERT_TIMING.for,
      labels: labels("warning"),
      annotations: {
        summary: `${app} in ${namespace} answers 1 % of requests slower than ${alerts.maxLatencyP99Seconds} s`,
        description: `p99 response time over ${window}: {{ $value | humanizeDuration }}.`,
      },
    },
    {
      alert: "ApiContainerRestarting",
      // The app's long-running containers are named after their component.
      expr:
        `increase(kube_pod_container_status_restarts_total{namespace="${namespace}",container=~"api|worker"}` +
        `[${ALERT_TIMING.restartWindow}]) >= ${ALERT_TIMING.restarts}`,
      labels: labels("warning"),
      annotations: {
        summary: `A container of ${app} in ${namespace} keeps restarting`,
        description:
          `{{ $labels.container }} of {{ $labels.pod }} restarted {{ $value }} times ` +
          `in ${ALERT_TIMING.restartWindow}.`,
      },
    },
    ...(input.worker ? [workerStalled(namespace, app)] : []),
  ];
  return { groups: [{ name: `${namespace}.${app}`, rules }] };
}

function workerStalled(namespace: string, app: string) {
  const worker = appSelector(namespace, app, `${seriesLabel("app.kubernetes.io/component")}="worker"`);
  // Every worker replica reports the same queues: the largest is the backlog. No task series yet
  // (none finished since the workers started) counts as none finished.
  const waiting = `max(${CELERY_QUEUE_LENGTH}{${worker}}) > 0`;
  // A retried task went back to the queue: it is no progress.
  const done = `${worker},state!="retry"`;
  const finished = `(sum(increase(${CELERY_TASKS}{${done}}[${ALERT_TIMING.stallWindow}])) or vector(0)) == 0`;
  return {
    alert: "WorkerStalled",
    expr: `(${waiting}) and on() (${finished})`,
    for: ALERT_TIMING.for,
    labels: { severity: "critical", namespace, app },
    annotations: {
      summary: `The worker of ${app} in ${namespace} finishes no task while tasks wait`,
      description: `{{ $value }} tasks wait; none finished in ${ALERT_TIMING.stallWindow}.`,
    },
  };
}
