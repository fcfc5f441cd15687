// What a resource is, as the policy engine names it: a Pulumi type token
// ("kubernetes:apps/v1:Deployment") taken apart into API group, version and kind, whether it is a
// Patch resource, which component rendered it, and Kubernetes label-selector semantics.
import { at, keys, objects, text, texts } from "./read";

/** A Kubernetes type token taken apart: "kubernetes:apps/v1:DeploymentPatch". */
export interface KubeType {
  /** API group; "core" for the core group, as Pulumi spells it. */
  group: string;
  version: string;
  /** The object's kind, "Deployment" for a DeploymentPatch too. */
  kind: string;
  /**
   * A Patch resource (`<Kind>Patch`, CustomResourcePatch included): a server-side apply of the
   * fields it sets onto an object that exists, so a field it leaves out keeps its value.
   */
  patch: boolean;
}

export function kubeType(type: string): KubeType | undefined {
  // A CustomResource's token is `kubernetes:<apiVersion>:<kind>`, so a core kind made through one
  // reads `kubernetes:v1:Pod`, without a group.
  const match = /^kubernetes:(?:([^:/]+)\/)?([^:/]+):([A-Za-z0-9]+)$/.exec(type);
  if (!match) {
    return undefined;
  }
  const [, group = "core", version, name] = match;
  const patch = name.endsWith("Patch") && name !== "Patch";
  return { group, version, kind: patch ? name.slice(0, -"Patch".length) : name, patch };
}

/**
 * "apps/Deployment": a kind by API group, whatever its version and whether it is a patch.
 * Rules match kinds this way, so neither an older API version nor a Patch resource escapes them.
 */
export function groupKind(type: string): string | undefined {
  const parsed = kubeType(type);
  return parsed && `${parsed.group}/${parsed.kind}`;
}

export function isPatch(type: string): boolean {
  return kubeType(type)?.patch === true;
}

/** "kubernetes:apps/v1:DeploymentPatch" -> "DeploymentPatch", as messages name what was registered. */
export function kindOf(type: string): string {
  return type.slice(type.lastIndexOf(":") + 1);
}

/** How messages name an object: its kind as registered and its name, `ClusterRole argo-rollouts`. */
export function nameOf(type: string, props: object): string {
  return `${kindOf(type)} ${text(at(props, "metadata", "name")) ?? "(unnamed)"}`;
}

/** An object's namespace; objects that name none are in `default`. */
export const namespaceOf = (props: object): string => text(at(props, "metadata", "namespace")) ?? "default";

// --- where an object comes from ---------------------------------------------------------------

/** The name at the end of a URN (`...::<name>`). */
export function nameOfUrn(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

/**
 * Components that render a manifest, chart or kustomization into objects and register each of
 * them as its child (yaml ConfigFile/ConfigGroup, helm.sh Chart, kustomize Directory, every
 * version): the pack sees, and checks, every one of those objects.
 */
export function isRenderer(type: string): boolean {
  return /^kubernetes:(yaml|helm\.sh|kustomize)(\/v\d+)?:(ConfigFile|ConfigGroup|Chart|Directory)$/.test(type);
}

/**
 * A Helm release: Helm applies the chart's objects itself and Pulumi registers only the release,
 * so no policy ever sees what it installs.
 */
export const HELM_RELEASE = "kubernetes:helm.sh/v3:Release";

/** What rendered an object, as policies see it: its URN and its parent's. */
export interface Placed {
  type: string;
  urn?: string;
  /** The URN of the resource's parent. */
  parent?: string;
}

/**
 * The URN of the component an object was rendered by: its parent, when a renderer sits in the
 * type chain of its URN (`...$kubernetes:yaml/v2:ConfigFile$kubernetes:apps/v1:Deployment::...`);
 * a Helm release stands for the objects it hides and is its own. Undefined for everything the
 * program registers itself.
 */
export function renderedBy({ type, urn, parent }: Placed): string | undefined {
  if (type === HELM_RELEASE) {
    return urn;
  }
  const ancestors = urn?.split("::")[2]?.split("$").slice(0, -1) ?? [];
  return ancestors.some(isRenderer) ? parent : undefined;
}

// --- selectors --------------------------------------------------------------------------------

/**
 * Kubernetes label-selector semantics over a selector and labels as read from objects; an empty
 * selector matches everything, a missing one nothing.
 */
export function selects(selector: unknown, labels: unknown): boolean {
  if (selector === undefined || selector === null) {
    return false;
  }
  const label = (key: string) => text(at(labels, key));
  const matchLabels = at(selector, "matchLabels");
  if (keys(matchLabels).some((key) => label(key) !== text(at(matchLabels, key)))) {
    return false;
  }
  return objects(at(selector, "matchExpressions")).every((expression) => {
    const value = label(text(expression.key) ?? "");
    const values = texts(expression.values);
    switch (expression.operator) {
      case "In":
        return value !== undefined && values.includes(value);
      case "NotIn":
        return value === undefined || !values.includes(value);
      case "Exists":
        return value !== undefined;
      case "DoesNotExist":
        return value === undefined;
      default:
        return false;
    }
  });
}
