// Reading Kubernetes objects the way the policy engine hands them over: a Pulumi type token
// ("kubernetes:apps/v1:Deployment") and the object's properties as plain JSON. Nothing here
// imports a Pulumi package, so the rules run the same under the engine and in unit tests.
//
// During a preview some values are not known yet (the digest of an image that is built later,
// names derived from it). The engine's property proxy throws when a policy reads one, and
// reports "can't run during preview" as advisory; that is why these helpers read only the
// fields a rule needs and never walk a whole object.

export type Props = Record<string, any>;

export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** The program labels every object `app.kubernetes.io/instance: <appName>-<environment>`. */
export const INSTANCE_LABEL = "app.kubernetes.io/instance";

export interface PodTemplate {
  metadata?: Props;
  spec?: Props;
}

// Where each workload keeps its pod template. A Rollout's is at spec.template like a
// Deployment's (a Rollout that points at a Deployment through workloadRef has none of its own).
const POD_TEMPLATE: Record<string, (props: Props) => PodTemplate | undefined> = {
  "kubernetes:apps/v1:Deployment": (p) => p.spec?.template,
  "kubernetes:apps/v1:StatefulSet": (p) => p.spec?.template,
  "kubernetes:apps/v1:DaemonSet": (p) => p.spec?.template,
  "kubernetes:apps/v1:ReplicaSet": (p) => p.spec?.template,
  "kubernetes:batch/v1:Job": (p) => p.spec?.template,
  "kubernetes:batch/v1:CronJob": (p) => p.spec?.jobTemplate?.spec?.template,
  "kubernetes:argoproj.io/v1alpha1:Rollout": (p) => p.spec?.template,
  "kubernetes:core/v1:Pod": (p) => ({ metadata: p.metadata, spec: p.spec }),
};

/** Workloads that keep a number of pods running (as opposed to Jobs and bare Pods). */
export const REPLICATED = new Set([
  "kubernetes:apps/v1:Deployment",
  "kubernetes:apps/v1:StatefulSet",
  "kubernetes:argoproj.io/v1alpha1:Rollout",
]);

export function podTemplateOf(type: string, props: Props): PodTemplate | undefined {
  const template = POD_TEMPLATE[type]?.(props);
  return template?.spec ? template : undefined;
}

/** "kubernetes:apps/v1:Deployment" -> "Deployment". */
export function kindOf(type: string): string {
  return type.slice(type.lastIndexOf(":") + 1);
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

/** The stack a URN belongs to: `urn:pulumi:<stack>::<project>::<type>::<name>`. */
export function stackOf(urn: string | undefined): string | undefined {
  return urn ? /^urn:pulumi:([^:]+)::/.exec(urn)?.[1] : undefined;
}

/**
 * The environment an object belongs to, from the strongest signal available to a policy:
 * 1. its `app.kubernetes.io/instance` label (or its pod template's), `<appName>-<environment>`,
 *    which the program writes from the stack's `environment` config key, the same key its own
 *    production checks use;
 * 2. otherwise the stack name in its URN: `dev`, `staging`, `prod` (or `production`), alone or
 *    as the last dash-separated word (`eu-prod`);
 * 3. otherwise prod. An object nobody can place gets the strictest rules rather than none.
 */
export function environmentOf(type: string, props: Props, urn?: string): Environment {
  const labelled = [props.metadata?.labels, podTemplateOf(type, props)?.metadata?.labels];
  for (const labels of labelled) {
    const instance = labels?.[INSTANCE_LABEL];
    const match = typeof instance === "string" ? /-(dev|staging|prod)$/.exec(instance) : null;
    if (match) {
      return match[1] as Environment;
    }
  }
  const stack = stackOf(urn)?.toLowerCase();
  const match = stack ? /(?:^|[-_.])(dev|staging|prod|production)$/.exec(stack) : null;
  if (match) {
    return match[1] === "production" ? "prod" : (match[1] as Environment);
  }
  return "prod";
}

/**
 * Objects rendered from a third-party manifest or chart (a `kubernetes:yaml`, `helm.sh` or
 * `kustomize` parent in the URN's type chain, such as the Argo Rollouts install the program
 * applies on clusters that lack it). This project does not author them, so its rules cannot
 * be met by changing its config; they are left to whoever publishes them.
 */
export function fromThirdPartyManifest(urn: string | undefined): boolean {
  const qualifiedType = urn?.split("::")[2];
  if (!qualifiedType) {
    return false;
  }
  const parents = qualifiedType.split("$").slice(0, -1);
  return parents.some((type) => /^kubernetes:(yaml|helm\.sh|kustomize)\//.test(type));
}

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
