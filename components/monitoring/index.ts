import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Labels, Naming } from "../names";
import {
  MONITORING_API_VERSION,
  podMonitorSpec,
  prometheusRuleSpec,
  type AlertThresholds,
  type MonitoredComponent,
} from "./spec";

export interface MonitoringArgs {
  naming: Naming;
  /** Literal, because the alerts select the app's series by it. */
  namespace: string;
  /** Labels the team's Prometheus selects PodMonitors and PrometheusRules by (its podMonitorSelector, ruleSelector). */
  selectorLabels: Labels;
  alerts: AlertThresholds;
  /** Whether the stack runs the Celery worker: its PodMonitor and alert only then. */
  worker: boolean;
}

/**
 * What an operator-run Prometheus reads of this API: a PodMonitor of the API's pods and one of the
 * worker's, which carry the labels the release analyses select by onto every series, and a
 * PrometheusRule with the app's alerts. Needs the Prometheus Operator's CRDs in the cluster.
 */
export class Monitoring extends pulumi.ComponentResource {
  readonly podMonitors: k8s.apiextensions.CustomResource[];
  readonly rule: k8s.apiextensions.CustomResource;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("api-stack:index:Monitoring", name, {}, opts);
    const { naming, namespace } = args;
    const metadata = (component: MonitoredComponent) => ({
      name: naming.name(component),
      namespace,
      labels: { ...naming.labels(component), ...args.selectorLabels },
    });
    const components: MonitoredComponent[] = args.worker ? ["api", "worker"] : ["api"];
    this.podMonitors = components.map(
      (component) =>
        new k8s.apiextensions.CustomResource(
          component === "api" ? name : `${name}-${component}`,
          {
            apiVersion: MONITORING_API_VERSION,
            kind: "PodMonitor",
            metadata: metadata(component),
            spec: podMonitorSpec(naming, component),
          },
          { parent: this },
        ),
    );
    this.rule = new k8s.apiextensions.CustomResource(
      name,
      {
        apiVersion: MONITORING_API_VERSION,
        kind: "PrometheusRule",
        metadata: metadata("api"),
        spec: prometheusRuleSpec({
          naming,
          namespace,
          alerts: args.alerts,
          worker: args.worker,
        }),
      },
      { parent: this },
    );
    this.registerOutputs({ podMonitors: this.podMonitors, rule: this.rule });
  }
}
