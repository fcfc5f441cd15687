// The one place that names Kubernetes objects and labels them. Selectors use only labels that
// never change over a release (no version, no hash), so Services, Deployments and Rollouts are
// updated in place, never replaced because a selector moved.
import { RELEASE_ID_LENGTH } from "./release";

export type Component = "api" | "worker" | "migration" | "backup" | "smoke" | "postgres" | "redis";

export interface NamingInput {
  appName: string;
  environment: string;
  appVersion: string;
  /** The Pulumi project, recorded as app.kubernetes.io/part-of. */
  project: string;
}

export type Labels = Record<string, string>;

/** An RFC 1123 label: what Kubernetes accepts as a namespace and as the name of most objects. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS_LABEL_MAX_LENGTH = 63;
/** A label value: at most 63 characters, letters and digits at both ends, '-', '_', '.' between. */
export const LABEL_VALUE = /^(?=.{0,63}$)(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
/** A label key: an optional DNS subdomain prefix and '/', then a name of at most 63 characters. */
export const LABEL_KEY = labelKey();

function labelKey(): RegExp {
  // A DNS subdomain of at most 253 characters, then '/'.
  const prefix = "(?=[^/]{1,253}\\/)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\\/";
  // At most 63 characters, alphanumerics at both ends, '-', '_', '.' between.
  const name = "(?=[^/]{1,63}$)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?";
  return new RegExp(`^(${prefix})?${name}$`);
}

/**
 * Namespaces that belong to the cluster itself: `default`, and `kube-*` (kube-system,
 * kube-public, kube-node-lease and whatever Kubernetes adds under that prefix).
 */
export function isReservedNamespace(namespace: string): boolean {
  return namespace === "default" || namespace.startsWith("kube-");
}

/** Hex digits of the settings checksum that name the settings objects and, with the release, its Jobs. */
export const SETTINGS_ID_LENGTH = 8;

/**
 * The longest suffix an object name gets after the app name: a release Job,
 * `-migration-<release id>-<settings id>`. appName's bound keeps `<appName><suffix>` a DNS label.
 */
export const LONGEST_NAME_SUFFIX_LENGTH = "-migration-".length + RELEASE_ID_LENGTH + 1 + SETTINGS_ID_LENGTH;

export interface Naming {
  /** metadata.name of a component's main object (the API's is the app name itself). */
  name(component: Component, suffix?: string): string;
  /** The recommended app.kubernetes.io labels, including the version. */
  labels(component: Component): Labels;
  /**
   * The same without the version, for objects a release must not touch: Services (once Argo
   * Rollouts has written its hash into a Service's selector, an atomic map, any apply of the
   * Service by the program conflicts with it) and volume claim templates (immutable: a change
   * would replace the StatefulSet), and the pod templates of the dev Postgres and Redis (a release
   * of the app must not restart its database).
   */
  stableLabels(component: Component): Labels;
  /** The stable subset of labels that selects a component's pods. */
  selector(component: Component): Labels;
}

export function naming(input: NamingInput): Naming {
  const instance = `${input.appName}-${input.environment}`;
  for (const [what, value] of [
    ["app name", input.appName],
    ["app version", input.appVersion],
    ["instance", instance],
    ["project", input.project],
  ]) {
    if (!LABEL_VALUE.test(value)) {
      throw new Error(
        `${what} "${value}" is not a Kubernetes label value (at most 63 letters, digits, '-', '_', '.', ` +
          "alphanumeric at both ends)",
      );
    }
  }
  const name = (component: Component, suffix?: string) => {
    const full = [input.appName, component === "api" ? undefined : component, suffix].filter(Boolean).join("-");
    if (full.length > DNS_LABEL_MAX_LENGTH || !DNS_LABEL.test(full)) {
      throw new Error(`object name "${full}" is not a DNS label of at most ${DNS_LABEL_MAX_LENGTH} characters`);
    }
    return full;
  };
  const selector = (component: Component): Labels => ({
    "app.kubernetes.io/name": input.appName,
    "app.kubernetes.io/instance": instance,
    "app.kubernetes.io/component": component,
  });
  const stableLabels = (component: Component): Labels => ({
    ...selector(component),
    "app.kubernetes.io/part-of": input.project,
    "app.kubernetes.io/managed-by": "pulumi",
  });
  return {
    name,
    selector,
    labels: (component) => ({ ...stableLabels(component), "app.kubernetes.io/version": input.appVersion }),
    stableLabels,
  };
}

/** Pod-template annotation whose change rolls the pods when settings or secrets change. */
export const SETTINGS_CHECKSUM_ANNOTATION = "api-stack.io/settings-checksum";
