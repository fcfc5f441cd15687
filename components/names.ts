// The one place that names Kubernetes objects and labels them. Selectors use only labels that
// never change over a release (no version, no hash), so Services, Deployments and Rollouts are
// updated in place, never replaced because a selector moved.

export type Component = "api" | "worker" | "migration" | "backup" | "postgres" | "redis";

export interface NamingInput {
  appName: string;
  environment: string;
  appVersion: string;
  /** The Pulumi project, recorded as app.kubernetes.io/part-of. */
  project: string;
}

export type Labels = Record<string, string>;

export interface Naming {
  /** metadata.name of a component's main object (the API's is the app name itself). */
  name(component: Component, suffix?: string): string;
  /** The recommended app.kubernetes.io labels, including the version. */
  labels(component: Component): Labels;
  /** The stable subset of labels that selects a component's pods. */
  selector(component: Component): Labels;
}

export function naming(input: NamingInput): Naming {
  const instance = `${input.appName}-${input.environment}`;
  const name = (component: Component, suffix?: string) =>
    [input.appName, component === "api" ? undefined : component, suffix].filter(Boolean).join("-");
  const selector = (component: Component): Labels => ({
    "app.kubernetes.io/name": input.appName,
    "app.kubernetes.io/instance": instance,
    "app.kubernetes.io/component": component,
  });
  return {
    name,
    selector,
    labels: (component) => ({
      ...selector(component),
      "app.kubernetes.io/version": input.appVersion,
      "app.kubernetes.io/part-of": input.project,
      "app.kubernetes.io/managed-by": "pulumi",
    }),
  };
}

/** Pod-template annotation whose change rolls the pods when settings or secrets change. */
export const SETTINGS_CHECKSUM_ANNOTATION = "api-stack.io/settings-checksum";
