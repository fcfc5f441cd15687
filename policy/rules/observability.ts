// recommended-labels and prometheus-scrape (advisory): objects can be found by their labels and
// API pods are scraped. They ask for what a good object has; a patch leaves what it does not set
// to the object it patches, so they judge whole objects only.
import { HELM_RELEASE, isPatch, isRenderer, kindOf } from "../kube";
import { inPod, isApiPod, podViews } from "../pods";
import { at, type Props } from "../read";
import { key } from "./rule";

export const RECOMMENDED_LABELS = [
  "app.kubernetes.io/name",
  "app.kubernetes.io/instance",
  "app.kubernetes.io/version",
  "app.kubernetes.io/component",
  "app.kubernetes.io/part-of",
  "app.kubernetes.io/managed-by",
] as const;

/** Kubernetes objects proper (not providers, patches, nor the components that render manifests). */
function isKubernetesObject(type: string): boolean {
  return type.startsWith("kubernetes:") && !isRenderer(type) && type !== HELM_RELEASE && !isPatch(type);
}

export function recommendedLabels(type: string, props: Props): string[] {
  if (!isKubernetesObject(type)) {
    return [];
  }
  const labels = at(props, "metadata", "labels");
  // A Service carries no version: a Service whose selector Argo Rollouts has written cannot be
  // applied again without a conflict, so nothing that changes per release may be on it.
  const expected =
    kindOf(type) === "Service"
      ? RECOMMENDED_LABELS.filter((label) => label !== "app.kubernetes.io/version")
      : RECOMMENDED_LABELS;
  const missing = expected.filter((label) => at(labels, label) === undefined);
  if (missing.length === 0) {
    return [];
  }
  return [
    `${kindOf(type)} lacks the recommended label${missing.length === 1 ? "" : "s"} ${missing.join(", ")}: ` +
      `label it as the program's naming does (from ${key("appName")}, ` +
      `${key("environment")} and ${key("appVersion")}), so dashboards, selectors and kubectl can find it`,
  ];
}

export const SCRAPE_ANNOTATIONS: Record<string, string | undefined> = {
  "prometheus.io/scrape": "true",
  "prometheus.io/port": undefined,
  "prometheus.io/path": undefined,
};

/** API pods that Prometheus would not scrape. */
export function prometheusScrape(type: string, props: Props): string[] {
  if (isPatch(type)) {
    return [];
  }
  return podViews(type, props)
    .filter(isApiPod)
    .flatMap((pod) => {
      const annotations = at(pod.metadata, "annotations");
      const missing = Object.entries(SCRAPE_ANNOTATIONS)
        .filter(([name, value]) => {
          const set = at(annotations, name);
          return set === undefined || (value !== undefined && set !== value);
        })
        .map(([name, value]) => (value === undefined ? name : `${name}: "${value}"`));
      if (missing.length === 0) {
        return [];
      }
      return [
        inPod(
          pod,
          `API pods lack the Prometheus annotation${missing.length === 1 ? "" : "s"} ${missing.join(", ")} on the ` +
            "pod template: add them so /metrics is scraped (the program adds them to every API pod)",
        ),
      ];
    });
}
