// The production rules of api-stack as plain functions: a resource's type and properties in,
// violation messages out. Each message says what to change and, where this project has one,
// which stack config key changes it (config/keys.ts), so a failed preview reads as a to-do list.
// The pack (pack.ts) decides where each rule applies and how hard it blocks; tests call these
// functions directly.
import {
  containerLabel,
  containersOf,
  isApiPod,
  kindOf,
  podTemplateOf,
  ports,
  REPLICATED,
  selects,
  type Environment,
  type Props,
} from "./kube";

const key = (name: string) => `api-stack:${name}`;

export type Level = "mandatory" | "advisory" | "disabled";

interface RuleBase {
  /** Policy name, as configured with --policy-pack-config. */
  name: string;
  description: string;
  /** The level this rule enforces at unless the stack's policy config says otherwise. */
  enforcementLevel: Exclude<Level, "disabled">;
  /** Environments whose objects the rule checks, unless the policy config's `environments` says otherwise. */
  environments: readonly Environment[];
}

export interface ResourceRule extends RuleBase {
  kind: "resource";
  check(type: string, props: Props): string[];
}

export interface StackResource {
  type: string;
  props: Props;
  urn?: string;
}

export interface StackViolation {
  message: string;
  /** The object at fault; none for a problem of the stack as a whole. */
  urn?: string;
}

export interface StackRule extends RuleBase {
  kind: "stack";
  check(resources: StackResource[], options: { minReplicas: number }): StackViolation[];
}

export type Rule = ResourceRule | StackRule;

const ALL: readonly Environment[] = ["dev", "staging", "prod"];
const PROD: readonly Environment[] = ["prod"];

// --- pod security ---------------------------------------------------------------------------

/** Capabilities the restricted Pod Security level lets a container add back after dropping ALL. */
const ADDABLE_CAPABILITIES = new Set(["NET_BIND_SERVICE"]);

/** Pods whose containers do not all run as the restricted Pod Security level requires. */
export function podSecurity(type: string, props: Props): string[] {
  const template = podTemplateOf(type, props);
  if (!template) {
    return [];
  }
  const pod = template.spec!.securityContext ?? {};
  const violations: string[] = [];
  for (const ref of containersOf(template.spec!)) {
    const sc = ref.container.securityContext ?? {};
    const who = containerLabel(ref);
    // Container settings override the pod's, as the kubelet applies them.
    const runAsNonRoot = sc.runAsNonRoot ?? pod.runAsNonRoot;
    const runAsUser = sc.runAsUser ?? pod.runAsUser;
    const seccomp = sc.seccompProfile?.type ?? pod.seccompProfile?.type;
    if (runAsUser === 0) {
      violations.push(`${who} runs as UID 0: set securityContext.runAsUser to a non-zero UID and runAsNonRoot: true`);
    } else if (runAsNonRoot !== true) {
      violations.push(`${who} may run as root: set securityContext.runAsNonRoot: true on the pod or the container`);
    }
    if (sc.readOnlyRootFilesystem !== true) {
      violations.push(
        `${who} has a writable root filesystem: set securityContext.readOnlyRootFilesystem: true ` +
          "and mount an emptyDir where it must write (such as /tmp)",
      );
    }
    if (sc.privileged === true) {
      violations.push(`${who} is privileged: remove securityContext.privileged`);
    }
    // Unset means allowed: Kubernetes defaults allowPrivilegeEscalation to true.
    if (sc.allowPrivilegeEscalation !== false) {
      violations.push(`${who} may escalate privileges: set securityContext.allowPrivilegeEscalation: false`);
    }
    const drop: string[] = Array.isArray(sc.capabilities?.drop) ? sc.capabilities.drop : [];
    if (!drop.some((cap) => String(cap).toUpperCase() === "ALL")) {
      violations.push(`${who} keeps its Linux capabilities: set securityContext.capabilities.drop: ["ALL"]`);
    }
    const added: string[] = (Array.isArray(sc.capabilities?.add) ? sc.capabilities.add : []).filter(
      (cap: string) => !ADDABLE_CAPABILITIES.has(String(cap).toUpperCase()),
    );
    if (added.length > 0) {
      violations.push(
        `${who} adds capabilities ${added.join(", ")}: remove them from securityContext.capabilities.add ` +
          "(only NET_BIND_SERVICE may be added back)",
      );
    }
    if (seccomp !== "RuntimeDefault") {
      violations.push(
        `${who} runs ${seccomp ? `with seccomp profile ${seccomp}` : "without a seccomp profile"}: ` +
          "set securityContext.seccompProfile.type: RuntimeDefault on the pod or the container",
      );
    }
  }
  return violations;
}

// --- resources ------------------------------------------------------------------------------

const RESOURCE_FIELDS = [
  ["requests", "cpu", "cpuRequest"],
  ["requests", "memory", "memoryRequest"],
  ["limits", "cpu", "cpuLimit"],
  ["limits", "memory", "memoryLimit"],
] as const;

/** Containers without CPU and memory requests and limits: unschedulable guesses, noisy neighbours. */
export function resources(type: string, props: Props): string[] {
  const template = podTemplateOf(type, props);
  if (!template) {
    return [];
  }
  const violations: string[] = [];
  for (const ref of containersOf(template.spec!)) {
    const set = ref.container.resources ?? {};
    const missing = RESOURCE_FIELDS.filter(([group, resource]) => set[group]?.[resource] === undefined);
    if (missing.length > 0) {
      violations.push(
        `${containerLabel(ref)} lacks ${missing.map(([group, resource]) => `resources.${group}.${resource}`).join(", ")}: ` +
          `set ${missing.length === 1 ? "it" : "them"} (for the app's containers: ` +
          `${missing.map(([, , name]) => key(name)).join(", ")})`,
      );
    }
  }
  return violations;
}

// --- probes ---------------------------------------------------------------------------------

/** Containers that serve a port without liveness and readiness probes. */
export function probes(type: string, props: Props): string[] {
  const template = podTemplateOf(type, props);
  if (!template) {
    return [];
  }
  const violations: string[] = [];
  for (const ref of containersOf(template.spec!)) {
    const served = ports(ref.container);
    // Init containers run to completion before the pod serves; probes do not apply to them.
    if (ref.init || served.length === 0) {
      continue;
    }
    const missing = ["livenessProbe", "readinessProbe"].filter((probe) => ref.container[probe] === undefined);
    if (missing.length > 0) {
      violations.push(
        `${containerLabel(ref)} serves port${served.length === 1 ? "" : "s"} ${served.join(", ")} without ${missing.join(" or ")}: ` +
          `add ${missing.length === 1 ? "it" : "them"} so Kubernetes restarts a hung process and routes only to ready pods ` +
          "(the app answers /health/live and /health/ready)",
      );
    }
  }
  return violations;
}

// --- images ---------------------------------------------------------------------------------

/** The config key that chooses each container's image, by the container names the program uses. */
const IMAGE_KEYS: Record<string, string> = {
  backup: "backupImage",
  postgres: "postgresImage",
  redis: "redisImage",
};

const DIGEST = /@sha256:[a-f0-9]{64}$/;

/** Images referenced by a tag (or by nothing, which means latest) rather than a digest. */
export function imageDigest(type: string, props: Props): string[] {
  const template = podTemplateOf(type, props);
  if (!template) {
    return [];
  }
  const violations: string[] = [];
  for (const ref of containersOf(template.spec!)) {
    const image = String(ref.container.image ?? "");
    if (DIGEST.test(image)) {
      continue;
    }
    const fix =
      "pin it by digest, as repository@sha256:<digest> " +
      `(${key(IMAGE_KEYS[ref.container.name] ?? "imageRef")}; the app's image is pinned when the program builds it)`;
    const who = `${containerLabel(ref)} image "${image}"`;
    if (image.includes("@")) {
      violations.push(`${who} has no valid sha256 digest: ${fix}`);
      continue;
    }
    // A tag follows the last ":" after the last "/" (a ":" before it belongs to a registry port).
    const lastPart = image.slice(image.lastIndexOf("/") + 1);
    const tag = lastPart.includes(":") ? lastPart.slice(lastPart.indexOf(":") + 1) : undefined;
    if (tag === undefined) {
      violations.push(`${who} has neither tag nor digest, so it is whatever latest is at pull time: ${fix}`);
    } else if (tag === "latest") {
      violations.push(`${who} uses the mutable tag latest: ${fix}`);
    } else {
      violations.push(`${who} is pinned only by the tag ${tag}, which can be moved: ${fix}`);
    }
  }
  return violations;
}

// --- network --------------------------------------------------------------------------------

/** Services that reach past the Ingress: LoadBalancer and NodePort. */
export function noExternalService(type: string, props: Props): string[] {
  if (type !== "kubernetes:core/v1:Service") {
    return [];
  }
  const serviceType = props.spec?.type;
  if (serviceType !== "LoadBalancer" && serviceType !== "NodePort") {
    return [];
  }
  return [
    `Service of type ${serviceType} exposes the API around the Ingress (its TLS, rate limit and host rules): ` +
      `use type ClusterIP and publish the API through the Ingress (${key("ingressEnabled")}, ${key("ingressHost")})`,
  ];
}

/** Ingress hosts served without a TLS entry. */
export function ingressTls(type: string, props: Props): string[] {
  if (type !== "kubernetes:networking.k8s.io/v1:Ingress") {
    return [];
  }
  const spec = props.spec ?? {};
  const tls: Props[] = Array.isArray(spec.tls) ? spec.tls : [];
  // An entry without hosts serves the controller's certificate for every host.
  const coversAll = tls.some((entry) => !Array.isArray(entry.hosts) || entry.hosts.length === 0);
  const covered = new Set(tls.flatMap((entry) => (Array.isArray(entry.hosts) ? entry.hosts : [])));
  const rules: Props[] = Array.isArray(spec.rules) ? spec.rules : [];
  const hosts = rules.length > 0 ? rules.map((rule) => rule.host ?? "*") : ["*"];
  const plain = [...new Set(hosts)].filter((host) => !coversAll && !covered.has(host));
  if (plain.length === 0) {
    return [];
  }
  const what = plain.map((host) => (host === "*" ? "every host" : host)).join(", ");
  return [
    `Ingress serves ${what} over plain HTTP: set ${key("ingressTls")} to true so cert-manager ` +
      `(${key("clusterIssuer")}) issues a certificate and spec.tls lists ${plain.length === 1 ? "the host" : "each host"}`,
  ];
}

// --- settings -------------------------------------------------------------------------------

/** Settings the program reads from secret config keys, by environment variable name. */
const SECRET_SETTING_KEYS: Record<string, string> = {
  SECRET_KEY: "secretKey",
  DATABASE_URL: "databaseUrl",
  REDIS_URL: "redisUrl",
  SENTRY_DSN: "sentryDsn",
};

const SECRET_WORDS = new Set(["PASSWORD", "PASSWD", "SECRET", "SECRETS", "CREDENTIAL", "CREDENTIALS", "DSN"]);
// Nouns that name a secret only as the last word: GITHUB_TOKEN and API_KEY hold one;
// ACCESS_TOKEN_EXPIRE_MINUTES and CACHE_KEY_PREFIX only talk about one.
const SECRET_LAST_WORDS = new Set(["TOKEN", "TOKENS", "APIKEY"]);

/** Whether a setting's name says it holds a secret. */
export function looksSecret(name: string): boolean {
  const words = name.toUpperCase().split(/[^A-Z0-9]+/).filter(Boolean);
  if (words.some((word) => SECRET_WORDS.has(word))) {
    return true;
  }
  const last = words.at(-1) ?? "";
  // *_KEY, but not a setting called just KEY.
  if (SECRET_LAST_WORDS.has(last) || (last === "KEY" && words.length > 1)) {
    return true;
  }
  return words.slice(-2).join("_") === "DATABASE_URL";
}

/** A URL with a password in it (scheme://user:password@host), the way credentials hide in settings. */
const URL_WITH_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]+@/i;

/** ConfigMap keys or values that belong in a Secret. */
export function noSecretsInConfigMap(type: string, props: Props): string[] {
  if (type !== "kubernetes:core/v1:ConfigMap") {
    return [];
  }
  const fix = (name: string) =>
    SECRET_SETTING_KEYS[name]
      ? `move it to the Secret: it comes from the secret config key ${key(SECRET_SETTING_KEYS[name])} ` +
        `(pulumi config set --secret ${SECRET_SETTING_KEYS[name]})`
      : "move it to a Secret and read it through envFrom.secretRef or secretKeyRef";
  const violations: string[] = [];
  for (const field of ["data", "binaryData"]) {
    for (const name of Object.keys(props[field] ?? {})) {
      if (looksSecret(name)) {
        violations.push(`ConfigMap key ${name} looks like a secret: ${fix(name)}`);
      } else if (field === "data" && URL_WITH_PASSWORD.test(String(props.data[name]))) {
        violations.push(`ConfigMap key ${name} holds a URL with a password: ${fix(name)}`);
      }
    }
  }
  return violations;
}

// --- blue-green promotion -------------------------------------------------------------------

/**
 * The Rollout annotation in which the program records why it lets Argo promote a blue-green
 * release, as `<source>:<release id>` (the release id is the first 12 hex digits of the image
 * digest, as in the `promote` config key):
 * - `promote:<id>`     the `promote` config key names this release;
 * - `rollbackTo:<id>`  the `rollbackTo` config key deploys this earlier release;
 * - `active:<id>`      the release is already the active one (the stack's first release, or an
 *                      update that keeps the image), so nothing waits in preview;
 * - `autoPromote:<id>` the `autoPromote` config key promotes every release (refused in prod).
 * The program writes it whenever it sets spec.strategy.blueGreen.autoPromotionEnabled to true.
 */
export const PROMOTION_ANNOTATION = "api-stack.io/promotion";
export const PROMOTION_SOURCES = ["promote", "rollbackTo", "active", "autoPromote"] as const;

const RELEASE_ID = /@sha256:([a-f0-9]{12})[a-f0-9]{52}$/;

/** Blue-green Rollouts that promote a release nobody promoted by config. */
export function blueGreenPromotion(type: string, props: Props): string[] {
  if (type !== "kubernetes:argoproj.io/v1alpha1:Rollout") {
    return [];
  }
  const blueGreen = props.spec?.strategy?.blueGreen;
  // Argo promotes automatically unless told not to: unset counts as true.
  if (!blueGreen || blueGreen.autoPromotionEnabled === false) {
    return [];
  }
  const containers = containersOf(props.spec?.template?.spec ?? {}).filter((ref) => !ref.init);
  const app = containers.find((ref) => ref.container.name === "api") ?? containers[0];
  const image = String(app?.container.image ?? "");
  const release = RELEASE_ID.exec(image)?.[1];
  const wait = "set spec.strategy.blueGreen.autoPromotionEnabled: false so the release waits in preview, then";
  if (!release) {
    return [
      `Rollout auto-promotes image "${image}", which has no digest, so no promotion by config can name it: ` +
        `deploy a digest-pinned image and promote it with ${key("promote")}`,
    ];
  }
  const promoteWith = `pulumi config set promote ${release}`;
  const recorded = props.metadata?.annotations?.[PROMOTION_ANNOTATION];
  if (recorded === undefined) {
    return [
      `Rollout auto-promotes release ${release} without a promotion by config (no ${PROMOTION_ANNOTATION} annotation): ` +
        `${wait} promote it with \`${promoteWith}\` (${key("promote")})`,
    ];
  }
  const match = /^([A-Za-z]+):([a-f0-9]{12})$/.exec(String(recorded));
  if (!match || !(PROMOTION_SOURCES as readonly string[]).includes(match[1])) {
    return [
      `Rollout auto-promotes release ${release} with an unreadable ${PROMOTION_ANNOTATION} annotation "${recorded}" ` +
        `(expected ${PROMOTION_SOURCES.join("|")}:<release id>): ${wait} promote it with \`${promoteWith}\` (${key("promote")})`,
    ];
  }
  const [, source, promoted] = match;
  if (source === "autoPromote") {
    return [
      `Rollout auto-promotes release ${release} because ${key("autoPromote")} is true, which is refused in prod: ` +
        `unset it (pulumi config rm autoPromote) and promote each release with \`${promoteWith}\` (${key("promote")})`,
    ];
  }
  if (promoted !== release) {
    const named =
      source === "promote"
        ? `${key("promote")} names release ${promoted}`
        : source === "rollbackTo"
          ? `${key("rollbackTo")} names release ${promoted}`
          : `the active release is ${promoted}`;
    return [
      `Rollout auto-promotes release ${release} but ${named}: a promotion applies to exactly one release; ` +
        `${wait} promote it with \`${promoteWith}\` (${key("promote")})`,
    ];
  }
  return [];
}

// --- availability (stack) -------------------------------------------------------------------

const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
const PDB = "kubernetes:policy/v1:PodDisruptionBudget";

const namespaceOf = (props: Props) => props.metadata?.namespace ?? "default";

/**
 * Serving workloads (a Deployment, StatefulSet or Rollout with a container that serves a port)
 * must survive a node drain: at least `minReplicas` pods (the HPA's floor, or the replica count
 * without one) and a PodDisruptionBudget selecting them.
 */
export function availability(resources: StackResource[], { minReplicas }: { minReplicas: number }): StackViolation[] {
  const violations: StackViolation[] = [];
  const hpas = resources.filter((r) => r.type === HPA);
  const pdbs = resources.filter((r) => r.type === PDB);

  for (const hpa of hpas) {
    // Kubernetes defaults minReplicas to 1.
    const floor = hpa.props.spec?.minReplicas ?? 1;
    if (floor < minReplicas) {
      violations.push({
        urn: hpa.urn,
        message:
          `HorizontalPodAutoscaler ${hpa.props.metadata?.name} may scale down to ${floor} ` +
          `replica${floor === 1 ? "" : "s"}: set ${key("hpaMinReplicas")} to ${minReplicas} or more`,
      });
    }
  }

  for (const workload of resources.filter((r) => REPLICATED.has(r.type))) {
    const template = podTemplateOf(workload.type, workload.props);
    if (!template || !containersOf(template.spec!).some((ref) => !ref.init && ports(ref.container).length > 0)) {
      continue;
    }
    const kind = kindOf(workload.type);
    const name = workload.props.metadata?.name;
    const namespace = namespaceOf(workload.props);
    const scaled = hpas.some((hpa) => {
      const target = hpa.props.spec?.scaleTargetRef ?? {};
      return namespaceOf(hpa.props) === namespace && target.kind === kind && target.name === name;
    });
    const replicas = workload.props.spec?.replicas ?? 1;
    if (!scaled && replicas < minReplicas) {
      violations.push({
        urn: workload.urn,
        message:
          `${kind} ${name} runs ${replicas} replica${replicas === 1 ? "" : "s"} without an autoscaler: ` +
          `set ${key("replicas")} to ${minReplicas} or more (or enable ${key("hpaEnabled")} with ${key("hpaMinReplicas")} >= ${minReplicas})`,
      });
    }
    const budgeted = pdbs.some(
      (pdb) => namespaceOf(pdb.props) === namespace && selects(pdb.props.spec?.selector, template.metadata?.labels),
    );
    if (!budgeted) {
      violations.push({
        urn: workload.urn,
        message:
          `${kind} ${name} has no PodDisruptionBudget, so a node drain may evict all its pods at once: ` +
          `add one whose selector matches its pod labels (the program's Scaling component does, sized by ${key("pdbMaxUnavailable")})`,
      });
    }
  }
  return violations;
}

// --- advisory -------------------------------------------------------------------------------

export const RECOMMENDED_LABELS = [
  "app.kubernetes.io/name",
  "app.kubernetes.io/instance",
  "app.kubernetes.io/version",
  "app.kubernetes.io/component",
  "app.kubernetes.io/part-of",
  "app.kubernetes.io/managed-by",
] as const;

/** Kubernetes objects proper (not providers, nor the components that render manifests). */
function isKubernetesObject(type: string): boolean {
  return type.startsWith("kubernetes:") && !/^kubernetes:(yaml|helm\.sh|kustomize)\//.test(type);
}

export function recommendedLabels(type: string, props: Props): string[] {
  if (!isKubernetesObject(type)) {
    return [];
  }
  const labels = props.metadata?.labels ?? {};
  const missing = RECOMMENDED_LABELS.filter((label) => labels[label] === undefined);
  if (missing.length === 0) {
    return [];
  }
  return [
    `${kindOf(type)} lacks the recommended label${missing.length === 1 ? "" : "s"} ${missing.join(", ")}: ` +
      `label it as the program's naming does (from ${key("appName")}, ${key("environment")} and ${key("appVersion")}), ` +
      "so dashboards, selectors and kubectl can find it",
  ];
}

export const SCRAPE_ANNOTATIONS: Record<string, string | undefined> = { "prometheus.io/scrape": "true", "prometheus.io/port": undefined, "prometheus.io/path": undefined };

/** API pods that Prometheus would not scrape. */
export function prometheusScrape(type: string, props: Props): string[] {
  const template = podTemplateOf(type, props);
  if (!template || !isApiPod(template)) {
    return [];
  }
  const annotations = template.metadata?.annotations ?? {};
  const missing = Object.entries(SCRAPE_ANNOTATIONS)
    .filter(([name, value]) => annotations[name] === undefined || (value !== undefined && annotations[name] !== value))
    .map(([name, value]) => (value === undefined ? name : `${name}: "${value}"`));
  if (missing.length === 0) {
    return [];
  }
  return [
    `API pods lack the Prometheus annotation${missing.length === 1 ? "" : "s"} ${missing.join(", ")} ` +
      "on the pod template: add them so /metrics is scraped (the program adds them to every API pod)",
  ];
}

/** Multi-replica API workloads whose pods may all land in one zone or on one node. */
export function topologySpread(type: string, props: Props): string[] {
  if (!REPLICATED.has(type)) {
    return [];
  }
  const template = podTemplateOf(type, props);
  const replicas = props.spec?.replicas ?? 1;
  if (!template || !isApiPod(template) || replicas <= 1) {
    return [];
  }
  const constraints = template.spec!.topologySpreadConstraints;
  if (Array.isArray(constraints) && constraints.length > 0) {
    return [];
  }
  return [
    `${kindOf(type)} runs ${replicas} API replicas without topologySpreadConstraints: spread them over ` +
      "topology.kubernetes.io/zone and kubernetes.io/hostname so one zone or node failure cannot take them all " +
      `(the program does when ${key("replicas")} or ${key("hpaMaxReplicas")} is above 1)`,
  ];
}

// --- the table --------------------------------------------------------------------------------

export const RULES: readonly Rule[] = [
  {
    kind: "resource",
    name: "pod-security",
    description:
      "Containers run as non-root with a read-only root filesystem, no privilege escalation, all capabilities dropped and seccomp RuntimeDefault.",
    enforcementLevel: "mandatory",
    environments: ALL,
    check: podSecurity,
  },
  {
    kind: "resource",
    name: "resources",
    description: "Every container sets CPU and memory requests and limits.",
    enforcementLevel: "mandatory",
    environments: ALL,
    check: resources,
  },
  {
    kind: "resource",
    name: "probes",
    description: "Containers that serve a port have liveness and readiness probes.",
    enforcementLevel: "mandatory",
    // Dev's in-cluster Postgres and Redis are probed for readiness only; see docs/policy.md.
    environments: PROD,
    check: probes,
  },
  {
    kind: "resource",
    name: "image-digest",
    description: "Images are pinned by digest, never by a tag or latest.",
    enforcementLevel: "mandatory",
    environments: PROD,
    check: imageDigest,
  },
  {
    kind: "resource",
    name: "no-external-service",
    description: "No Service of type LoadBalancer or NodePort: the API is reached through its Ingress.",
    enforcementLevel: "mandatory",
    environments: ALL,
    check: noExternalService,
  },
  {
    kind: "resource",
    name: "ingress-tls",
    description: "Every Ingress host is served over TLS.",
    enforcementLevel: "mandatory",
    environments: PROD,
    check: ingressTls,
  },
  {
    kind: "resource",
    name: "no-secrets-in-configmap",
    description: "No secret-looking key (PASSWORD, SECRET, *_TOKEN, *_KEY, DSN, DATABASE_URL, ...) or URL with a password in a ConfigMap.",
    enforcementLevel: "mandatory",
    environments: ALL,
    check: noSecretsInConfigMap,
  },
  {
    kind: "resource",
    name: "blue-green-promotion",
    description: "A blue-green Rollout auto-promotes only the release that config promoted.",
    enforcementLevel: "mandatory",
    environments: PROD,
    check: blueGreenPromotion,
  },
  {
    kind: "stack",
    name: "availability",
    description: "Serving workloads keep at least two replicas (HPA minReplicas) and have a PodDisruptionBudget.",
    enforcementLevel: "mandatory",
    environments: PROD,
    check: availability,
  },
  {
    kind: "resource",
    name: "recommended-labels",
    description: "Objects carry the recommended app.kubernetes.io labels.",
    enforcementLevel: "advisory",
    environments: ALL,
    check: recommendedLabels,
  },
  {
    kind: "resource",
    name: "prometheus-scrape",
    description: "API pods carry the prometheus.io scrape annotations.",
    enforcementLevel: "advisory",
    environments: ALL,
    check: prometheusScrape,
  },
  {
    kind: "resource",
    name: "topology-spread",
    description: "Multi-replica API workloads spread their pods over zones and nodes.",
    enforcementLevel: "advisory",
    environments: ALL,
    check: topologySpread,
  },
];
