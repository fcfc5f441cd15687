// Reading Kubernetes objects the way the policy engine hands them over: a Pulumi type token
// ("kubernetes:apps/v1:Deployment") and the object's properties as plain JSON. Nothing here
// imports a Pulumi package, so the rules run the same under the engine and in unit tests.
//
// During a preview some values are not known yet (the digest of an image that is built later,
// names derived from it). The engine's property proxy throws when a policy reads one, and
// reports "can't run during preview" as advisory; that is why these helpers read only the
// fields a rule needs and never walk a whole object.

export type Props = Record<string, any>;

/** From the least to the most strict. */
export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** The program labels every object `app.kubernetes.io/instance: <appName>-<environment>`. */
export const INSTANCE_LABEL = "app.kubernetes.io/instance";

// --- types ------------------------------------------------------------------------------------

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

// --- pods -------------------------------------------------------------------------------------

export interface PodTemplate {
  metadata?: Props;
  spec?: Props;
}

const specTemplate = (p: Props): PodTemplate | undefined => p.spec?.template;

// Where each pod-bearing kind keeps its pod template. A Rollout's is at spec.template like a
// Deployment's (a Rollout that points at a Deployment through workloadRef has none of its own).
const POD_TEMPLATE: Record<string, (props: Props) => PodTemplate | undefined> = {
  "apps/Deployment": specTemplate,
  "extensions/Deployment": specTemplate,
  "apps/StatefulSet": specTemplate,
  "apps/DaemonSet": specTemplate,
  "extensions/DaemonSet": specTemplate,
  "apps/ReplicaSet": specTemplate,
  "extensions/ReplicaSet": specTemplate,
  "core/ReplicationController": specTemplate,
  "batch/Job": specTemplate,
  "batch/CronJob": (p) => p.spec?.jobTemplate?.spec?.template,
  "argoproj.io/Rollout": specTemplate,
  "core/Pod": (p) => ({ metadata: p.metadata, spec: p.spec }),
};

/** Workloads that keep a number of pods running (as opposed to Jobs, DaemonSets and bare Pods). */
export const REPLICATED = new Set([
  "apps/Deployment",
  "extensions/Deployment",
  "apps/StatefulSet",
  "apps/ReplicaSet",
  "extensions/ReplicaSet",
  "core/ReplicationController",
  "argoproj.io/Rollout",
]);

export function podTemplateOf(type: string, props: Props): PodTemplate | undefined {
  const template = POD_TEMPLATE[groupKind(type) ?? ""]?.(props);
  return template?.spec ? template : undefined;
}

export interface ContainerRef {
  container: Props;
  init: boolean;
}

export function containersOf(spec: Props): ContainerRef[] {
  const list = (value: unknown) => (Array.isArray(value) ? value : []);
  return [
    ...list(spec.initContainers).map((container) => ({ container, init: true })),
    ...list(spec.containers).map((container) => ({ container, init: false })),
  ];
}

/** How messages name a container: `container "api"`, `init container "wait"`. */
export function containerLabel({ container, init }: ContainerRef): string {
  return `${init ? "init container" : "container"} "${container.name}"`;
}

export function ports(container: Props): number[] {
  return (Array.isArray(container.ports) ? container.ports : []).map((port: Props) => port.containerPort);
}

/**
 * The API's pods: labelled component "api" by the program, or, for objects the program did not
 * label, any pod serving a port named "http".
 */
export function isApiPod(template: PodTemplate): boolean {
  const component = template.metadata?.labels?.["app.kubernetes.io/component"];
  if (component !== undefined) {
    return component === "api";
  }
  return containersOf(template.spec ?? {}).some(({ container }) =>
    (Array.isArray(container.ports) ? container.ports : []).some((port: Props) => port.name === "http"),
  );
}

// --- environments -----------------------------------------------------------------------------

/** The stack a URN belongs to: `urn:pulumi:<stack>::<project>::<type>::<name>`. */
export function stackOf(urn: string | undefined): string | undefined {
  return urn ? /^urn:pulumi:([^:]+)::/.exec(urn)?.[1] : undefined;
}

/** The name at the end of a URN (`...::<name>`). */
export function nameOfUrn(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

/**
 * The environment a stack's name places it in: `dev`, `staging`, `prod` or `production`, alone
 * or as the last word (`eu-prod`). A stack whose name places it nowhere is prod.
 */
export function stackEnvironment(urn: string | undefined): Environment {
  const stack = stackOf(urn)?.toLowerCase();
  const match = stack ? /(?:^|[-_.])(dev|staging|prod|production)$/.exec(stack) : null;
  if (!match) {
    return "prod";
  }
  return match[1] === "production" ? "prod" : (match[1] as Environment);
}

/**
 * The environment an object is judged by: the strictest of
 * 1. its stack's, from the stack name in its URN (prod when the name says none), and
 * 2. its `app.kubernetes.io/instance` label, or its pod template's, `<appName>-<environment>`,
 *    which the program writes from the stack's `environment` config key.
 * A label can make an object stricter than its stack, never laxer: `api-dev` in a prod stack is
 * prod, `api-prod` in a dev stack is prod too.
 */
export function environmentOf(type: string, props: Props, urn?: string): Environment {
  let strictest = ENVIRONMENTS.indexOf(stackEnvironment(urn));
  for (const labels of [props.metadata?.labels, podTemplateOf(type, props)?.metadata?.labels]) {
    const instance = labels?.[INSTANCE_LABEL];
    const match = typeof instance === "string" ? /-(dev|staging|prod)$/.exec(instance) : null;
    if (match) {
      strictest = Math.max(strictest, ENVIRONMENTS.indexOf(match[1] as Environment));
    }
  }
  return ENVIRONMENTS[strictest];
}

// --- where an object comes from ---------------------------------------------------------------

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

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Kubernetes label-selector semantics; an empty selector matches everything. */
export function selects(selector: LabelSelector | undefined, labels: Record<string, string> = {}): boolean {
  if (!selector) {
    return false;
  }
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) {
      return false;
    }
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, key);
    const ok =
      operator === "In"
        ? has && values.includes(labels[key])
        : operator === "NotIn"
          ? !has || !values.includes(labels[key])
          : operator === "Exists"
            ? has
            : operator === "DoesNotExist"
              ? !has
              : false;
    if (!ok) {
      return false;
    }
  }
  return true;
}
