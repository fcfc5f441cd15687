// The production rules of api-stack as plain functions: a resource's type and properties in,
// violation messages out. Each message says what to change and, where this project has one,
// which stack config key changes it (config/keys.ts), so a failed preview reads as a to-do list.
// The pack (pack.ts) decides where each rule applies and how hard it blocks; tests call these
// functions directly.
//
// Kinds are matched by API group and kind, whatever the version, and Patch resources are checked
// like the objects they patch, for what they set: a field a patch leaves out keeps the value of
// the object it patches (whose creator the rules judged), one it sets to null asks for its
// removal, and one it sets to a weaker value weakens it. So a rule that requires a field blames a
// patch only for removing or weakening it, never for leaving it out.
import {
  containerLabel,
  containersOf,
  groupKind,
  HELM_RELEASE,
  isApiPod,
  isPatch,
  isRenderer,
  kindOf,
  kubeType,
  podTemplateOf,
  ports,
  REPLICATED,
  selects,
  type Environment,
  type Props,
} from "./kube";
import {
  DIGEST_REF_PATTERN,
  PROMOTION_ANNOTATION,
  PROMOTION_SOURCES,
  readPromotionRecord,
  releaseIdOf,
} from "./release";

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
  /** The URN of the resource's parent (a component), which tells what rendered it. */
  parent?: string;
}

export interface StackViolation {
  message: string;
  /** The object at fault; none for a problem of the stack as a whole. */
  urn?: string;
}

/** What a stack rule may be configured with (policy config) and look things up in. */
export interface StackContext {
  /** availability: the fewest replicas a serving workload may have. */
  minReplicas: number;
  /** gateway-tls: `<namespace>/<gateway>/<listener>` of listeners, outside the stack, known to serve HTTPS. */
  httpsListeners: readonly string[];
  /** Every resource the stack registers, in the rule's scope or not: facts to look things up in. */
  registered?: readonly StackResource[];
}

export interface StackRule extends RuleBase {
  kind: "stack";
  /** The policy config this rule takes beyond `environments` and `exempt`. */
  options: readonly ("minReplicas" | "httpsListeners")[];
  check(resources: StackResource[], context: StackContext): StackViolation[];
}

export type Rule = ResourceRule | StackRule;

const ALL: readonly Environment[] = ["dev", "staging", "prod"];
const PROD: readonly Environment[] = ["prod"];

const list = (value: unknown): any[] => (Array.isArray(value) ? value : []);

/** A field of a value that may be null: null, a removal in a patch, removes what is below it too. */
const field = (value: any, name: string): any => (value === null ? null : value?.[name]);

/**
 * Whether a field that must hold a strong value fails: missing from a full object, or, in a
 * patch, set to null (removed) or to a weaker value. A patch that leaves it out passes.
 */
function fails(patch: boolean, value: unknown, strong: (value: any) => boolean): boolean {
  if (value === undefined) {
    return !patch;
  }
  return value === null || !strong(value);
}

// --- pod security ---------------------------------------------------------------------------

/** Capabilities the restricted Pod Security level lets a container add back after dropping ALL. */
const ADDABLE_CAPABILITIES = new Set(["NET_BIND_SERVICE"]);

interface SecuritySettings {
  runAsUser?: unknown;
  runAsNonRoot?: unknown;
  seccomp?: unknown;
  readOnlyRootFilesystem?: unknown;
  privileged?: unknown;
  allowPrivilegeEscalation?: unknown;
  capabilities?: unknown;
}

function securityViolations(who: string, s: SecuritySettings, patch: boolean): string[] {
  const violations: string[] = [];
  if (s.runAsUser === 0) {
    violations.push(`${who} runs as UID 0: set securityContext.runAsUser to a non-zero UID and runAsNonRoot: true`);
  } else if (fails(patch, s.runAsNonRoot, (v) => v === true)) {
    violations.push(`${who} may run as root: set securityContext.runAsNonRoot: true on the pod or the container`);
  }
  if (fails(patch, s.readOnlyRootFilesystem, (v) => v === true)) {
    violations.push(
      `${who} has a writable root filesystem: set securityContext.readOnlyRootFilesystem: true ` +
        "and mount an emptyDir where it must write (such as /tmp)",
    );
  }
  if (s.privileged === true) {
    violations.push(`${who} is privileged: remove securityContext.privileged`);
  }
  // Unset means allowed: Kubernetes defaults allowPrivilegeEscalation to true.
  if (fails(patch, s.allowPrivilegeEscalation, (v) => v === false)) {
    violations.push(`${who} may escalate privileges: set securityContext.allowPrivilegeEscalation: false`);
  }
  const drop = field(s.capabilities, "drop");
  if (fails(patch, drop, (v) => list(v).some((cap) => String(cap).toUpperCase() === "ALL"))) {
    violations.push(`${who} keeps its Linux capabilities: set securityContext.capabilities.drop: ["ALL"]`);
  }
  const added = list(field(s.capabilities, "add")).filter(
    (cap) => !ADDABLE_CAPABILITIES.has(String(cap).toUpperCase()),
  );
  if (added.length > 0) {
    violations.push(
      `${who} adds capabilities ${added.join(", ")}: remove them from securityContext.capabilities.add ` +
        "(only NET_BIND_SERVICE may be added back)",
    );
  }
  if (fails(patch, s.seccomp, (v) => v === "RuntimeDefault")) {
    violations.push(
      `${who} runs ${typeof s.seccomp === "string" ? `with seccomp profile ${s.seccomp}` : "without a seccomp profile"}: ` +
        "set securityContext.seccompProfile.type: RuntimeDefault on the pod or the container",
    );
  }
  return violations;
}

const seccompOf = (sc: unknown) => field(field(sc, "seccompProfile"), "type");

/**
 * Pods whose containers do not all run as the restricted Pod Security level requires. A full
 * object is judged per container, the container's settings over the pod's as the kubelet applies
 * them; a patch is judged on each level it sets, since the other level is the patched object's.
 */
export function podSecurity(type: string, props: Props): string[] {
  const template = podTemplateOf(type, props);
  if (!template) {
    return [];
  }
  const pod = template.spec!.securityContext;
  const containers = containersOf(template.spec!);
  const own = (sc: unknown): SecuritySettings => ({
    runAsUser: field(sc, "runAsUser"),
    runAsNonRoot: field(sc, "runAsNonRoot"),
    seccomp: seccompOf(sc),
    readOnlyRootFilesystem: field(sc, "readOnlyRootFilesystem"),
    privileged: field(sc, "privileged"),
    allowPrivilegeEscalation: field(sc, "allowPrivilegeEscalation"),
    capabilities: field(sc, "capabilities"),
  });
  if (isPatch(type)) {
    const podLevel = {
      runAsUser: field(pod, "runAsUser"),
      runAsNonRoot: field(pod, "runAsNonRoot"),
      seccomp: seccompOf(pod),
    };
    return [
      ...securityViolations("pod", podLevel, true),
      ...containers.flatMap((ref) => securityViolations(containerLabel(ref), own(ref.container.securityContext), true)),
    ];
  }
  return containers.flatMap((ref) => {
    const sc = ref.container.securityContext;
    const settings = own(sc);
    return securityViolations(
      containerLabel(ref),
      {
        ...settings,
        runAsUser: settings.runAsUser ?? field(pod, "runAsUser"),
        runAsNonRoot: settings.runAsNonRoot ?? field(pod, "runAsNonRoot"),
        seccomp: settings.seccomp ?? seccompOf(pod),
      },
      false,
    );
  });
}

// --- the node's namespaces, files and ports ----------------------------------------------------

const HOST_NAMESPACES = [
  [
    "hostNetwork",
    "the node's network namespace, so it can bind the node's ports and reach every service listening on the node",
  ],
  ["hostPID", "the node's process namespace, so it can see, and signal, every process on the node"],
  ["hostIPC", "the node's IPC namespace, so it can read other processes' shared memory"],
] as const;

/** Pods that share a namespace with the node, or run as a Windows host process. */
export function hostNamespaces(type: string, props: Props): string[] {
  const template = podTemplateOf(type, props);
  if (!template) {
    return [];
  }
  const spec = template.spec!;
  const violations: string[] = HOST_NAMESPACES.filter(([name]) => spec[name] === true).map(
    ([name, what]) => `pod shares ${what}: remove spec.${name}`,
  );
  const hostProcess = (sc: unknown) => field(field(sc, "windowsOptions"), "hostProcess") === true;
  const who = [
    ...(hostProcess(spec.securityContext) ? ["pod"] : []),
    ...containersOf(spec)
      .filter((ref) => hostProcess(ref.container.securityContext))
      .map(containerLabel),
  ];
  for (const subject of who) {
    violations.push(
      `${subject} runs as a Windows host process, with the node's privileges: remove securityContext.windowsOptions.hostProcess`,
    );
  }
  return violations;
}

/** Pods that mount a directory of the node. */
export function hostPath(type: string, props: Props): string[] {
  const template = podTemplateOf(type, props);
  if (!template) {
    return [];
  }
  return list(template.spec!.volumes)
    .filter((volume) => volume?.hostPath)
    .map(
      (volume) =>
        `pod mounts the node's ${volume.hostPath.path} (volume "${volume.name}"), which lets it read or change the node: ` +
        "use an emptyDir, a ConfigMap or Secret, or a PersistentVolumeClaim instead of a hostPath volume",
    );
}

/** Containers that bind a port of the node. */
export function hostPorts(type: string, props: Props): string[] {
  const template = podTemplateOf(type, props);
  if (!template) {
    return [];
  }
  return containersOf(template.spec!).flatMap((ref) =>
    list(ref.container.ports)
      .filter((port) => port?.hostPort)
      .map(
        (port) =>
          `${containerLabel(ref)} binds port ${port.hostPort} of its node (hostPort of containerPort ${port.containerPort}), ` +
          "around its Service and the Ingress and onto every address of the node: remove hostPort",
      ),
  );
}

// --- resources ------------------------------------------------------------------------------

const RESOURCE_FIELDS = [
  ["requests", "cpu", "cpuRequest"],
  ["requests", "memory", "memoryRequest"],
  ["limits", "cpu", "cpuLimit"],
  ["limits", "memory", "memoryLimit"],
] as const;

/**
 * Containers without CPU and memory requests and limits: unschedulable guesses, noisy neighbours.
 * A patch fails only where it removes one.
 */
export function resources(type: string, props: Props): string[] {
  const template = podTemplateOf(type, props);
  if (!template) {
    return [];
  }
  const patch = isPatch(type);
  const violations: string[] = [];
  for (const ref of containersOf(template.spec!)) {
    const set = ref.container.resources;
    const missing = RESOURCE_FIELDS.filter(([group, resource]) =>
      fails(patch, field(field(set, group), resource), () => true),
    );
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

const PROBES = ["livenessProbe", "readinessProbe"] as const;
const PROBES_WHY =
  "so Kubernetes restarts a hung process and routes only to ready pods (the app answers /health/live and /health/ready)";

/**
 * Containers that serve a port without liveness and readiness probes. A patch cannot show
 * whether the container it changes serves a port, so it fails wherever it removes a probe.
 */
export function probes(type: string, props: Props): string[] {
  const template = podTemplateOf(type, props);
  if (!template) {
    return [];
  }
  const patch = isPatch(type);
  const violations: string[] = [];
  // Init containers run to completion before the pod serves; probes do not apply to them.
  for (const ref of containersOf(template.spec!).filter((ref) => !ref.init)) {
    if (patch) {
      const removed = PROBES.filter((probe) => ref.container[probe] === null);
      if (removed.length > 0) {
        violations.push(
          `${containerLabel(ref)}: the patch removes its ${removed.join(" and ")}: keep ${removed.length === 1 ? "it" : "them"} ${PROBES_WHY}`,
        );
      }
      continue;
    }
    const served = ports(ref.container);
    if (served.length === 0) {
      continue;
    }
    const missing = PROBES.filter((probe) => ref.container[probe] === undefined);
    if (missing.length > 0) {
      violations.push(
        `${containerLabel(ref)} serves port${served.length === 1 ? "" : "s"} ${served.join(", ")} without ${missing.join(" or ")}: ` +
          `add ${missing.length === 1 ? "it" : "them"} ${PROBES_WHY}`,
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

/** Images referenced by a tag (or by nothing, which means latest) rather than a digest. */
export function imageDigest(type: string, props: Props): string[] {
  const template = podTemplateOf(type, props);
  if (!template) {
    return [];
  }
  const patch = isPatch(type);
  const violations: string[] = [];
  for (const ref of containersOf(template.spec!)) {
    // A patch that does not set a container's image keeps the patched object's.
    if (patch && ref.container.image === undefined) {
      continue;
    }
    const image = String(ref.container.image ?? "");
    if (DIGEST_REF_PATTERN.test(image)) {
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

const AROUND_INGRESS = "around the Ingress (its TLS, rate limit and host rules)";
const THROUGH_INGRESS = `publish the API through the Ingress (${key("ingressEnabled")}, ${key("ingressHost")})`;

/**
 * Services that reach past the Ingress: LoadBalancer and NodePort, and external IPs, for which
 * every node forwards traffic to the Service, whoever else owns the address (CVE-2020-8554).
 */
export function noExternalService(type: string, props: Props): string[] {
  if (groupKind(type) !== "core/Service") {
    return [];
  }
  const violations: string[] = [];
  const serviceType = props.spec?.type;
  if (serviceType === "LoadBalancer" || serviceType === "NodePort") {
    violations.push(
      `Service of type ${serviceType} exposes the API ${AROUND_INGRESS}: use type ClusterIP and ${THROUGH_INGRESS}`,
    );
  }
  const externalIPs = list(props.spec?.externalIPs);
  if (externalIPs.length > 0) {
    violations.push(
      `Service claims the external IPs ${externalIPs.join(", ")}, so every node forwards their traffic to it, ${AROUND_INGRESS} ` +
        `and over whoever else owns those addresses: remove spec.externalIPs and ${THROUGH_INGRESS}`,
    );
  }
  return violations;
}

const INGRESS_KINDS = new Set(["networking.k8s.io/Ingress", "extensions/Ingress"]);

/**
 * Ingress hosts served without a TLS entry. An IngressPatch that sets spec.rules replaces them
 * (a list applied whole), and the pack cannot see the TLS of the Ingress it patches, so such a
 * patch must list the TLS of its hosts itself; one that empties spec.tls removes it.
 */
export function ingressTls(type: string, props: Props): string[] {
  if (!INGRESS_KINDS.has(groupKind(type) ?? "")) {
    return [];
  }
  const spec = props.spec ?? {};
  if (isPatch(type) && spec.rules === undefined) {
    return spec.tls === null || (Array.isArray(spec.tls) && spec.tls.length === 0)
      ? [
          `${kindOf(type)} empties spec.tls, so the Ingress it patches serves every host over plain HTTP: ` +
            `keep ${key("ingressTls")} true so spec.tls lists each host with its certificate`,
        ]
      : [];
  }
  const tls = list(spec.tls);
  // An entry without hosts serves the controller's certificate for every host.
  const coversAll = tls.some((entry) => !Array.isArray(entry.hosts) || entry.hosts.length === 0);
  const covered = new Set(tls.flatMap((entry) => list(entry.hosts)));
  const rules = list(spec.rules);
  const hosts = rules.length > 0 ? rules.map((rule) => rule.host ?? "*") : ["*"];
  const plain = [...new Set(hosts)].filter((host) => !coversAll && !covered.has(host));
  if (plain.length === 0) {
    return [];
  }
  const what = plain.map((host) => (host === "*" ? "every host" : host)).join(", ");
  return [
    `${kindOf(type)} serves ${what} over plain HTTP: set ${key("ingressTls")} to true so cert-manager ` +
      `(${key("clusterIssuer")}) issues a certificate and spec.tls lists ${plain.length === 1 ? "the host" : "each host"}`,
  ];
}

const GATEWAY_GROUP = "gateway.networking.k8s.io";
const ROUTE_KINDS = new Set([`${GATEWAY_GROUP}/HTTPRoute`, `${GATEWAY_GROUP}/GRPCRoute`]);
const isWildcard = (host: unknown) => typeof host === "string" && host.includes("*");

/**
 * Ingresses and Gateway API routes that answer for hosts nobody named: a rule without a host,
 * a default backend, a route without hostnames (every host its listener accepts), or a wildcard.
 */
export function explicitHosts(type: string, props: Props): string[] {
  const kind = groupKind(type) ?? "";
  const spec = props.spec ?? {};
  const patch = isPatch(type);
  const who = kindOf(type);
  const violations: string[] = [];
  if (INGRESS_KINDS.has(kind)) {
    const fix = `give every rule the API's host (${key("ingressHost")})`;
    if (!patch || spec.rules !== undefined) {
      const hosts = list(spec.rules).map((rule) => rule?.host);
      if (hosts.some((host) => !host)) {
        violations.push(`${who} has a rule without host, which answers for every host: ${fix}`);
      }
      for (const host of new Set(hosts.filter(isWildcard))) {
        violations.push(`${who} answers for the wildcard host ${host}: ${fix}`);
      }
    }
    const fallback = spec.defaultBackend ?? spec.backend;
    if (fallback) {
      violations.push(`${who} has a default backend, which answers for every host: remove it and ${fix}`);
    }
    return violations;
  }
  if (!ROUTE_KINDS.has(kind) || (patch && spec.hostnames === undefined)) {
    return [];
  }
  const hostnames = list(spec.hostnames);
  const fix = "list each host the API serves in spec.hostnames";
  if (hostnames.length === 0) {
    violations.push(`${who} has no spec.hostnames, so it answers for every host its Gateway listener accepts: ${fix}`);
  }
  for (const host of new Set(hostnames.filter(isWildcard))) {
    violations.push(`${who} answers for the wildcard host ${host}: ${fix}`);
  }
  return violations;
}

const namespaceOf = (props: Props) => props.metadata?.namespace ?? "default";

/** A route whose every rule redirects to https serves nothing over plain HTTP. */
function redirectsToHttps(spec: Props): boolean {
  const rules = list(spec.rules);
  return (
    rules.length > 0 &&
    rules.every(
      (rule) =>
        list(rule?.backendRefs).length === 0 &&
        list(rule?.filters).some(
          (filter) => filter?.type === "RequestRedirect" && filter.requestRedirect?.scheme === "https",
        ),
    )
  );
}

/**
 * Gateway API routes in prod are served over TLS, like an Ingress. A route has no TLS of its
 * own: its Gateway's listeners terminate it. So a route (HTTPRoute, GRPCRoute) passes when every
 * Gateway listener it attaches to is HTTPS:
 * - a Gateway this stack registers is read directly (the listeners its parentRef selects by
 *   sectionName and port);
 * - a Gateway the stack does not register (the platform team's) cannot be seen, so the route
 *   must name the listener (parentRefs[].sectionName) and the policy config must list it as
 *   HTTPS in `httpsListeners`, as `<namespace>/<gateway>/<listener>`.
 * A route that only redirects to https passes anywhere. Each HTTPS listener of a Gateway the
 * stack registers must name its certificate (tls.certificateRefs, which cert-manager fills).
 */
export function gatewayTls(
  resources: StackResource[],
  { httpsListeners, registered = resources }: Pick<StackContext, "httpsListeners" | "registered">,
): StackViolation[] {
  const violations: StackViolation[] = [];
  const gateways = registered.filter((r) => groupKind(r.type) === `${GATEWAY_GROUP}/Gateway` && !isPatch(r.type));

  for (const gateway of resources.filter((r) => groupKind(r.type) === `${GATEWAY_GROUP}/Gateway`)) {
    for (const listener of list(gateway.props.spec?.listeners)) {
      if (listener?.protocol === "HTTPS" && list(listener.tls?.certificateRefs).length === 0) {
        violations.push({
          urn: gateway.urn,
          message:
            `${kindOf(gateway.type)} listener "${listener.name}" is HTTPS without tls.certificateRefs, so it has no certificate to serve: ` +
            "list the Secret that cert-manager issues for its hostname in tls.certificateRefs (with the Gateway annotated cert-manager.io/cluster-issuer)",
        });
      }
    }
  }

  for (const route of resources.filter((r) => ROUTE_KINDS.has(groupKind(r.type) ?? ""))) {
    const spec = route.props.spec ?? {};
    if ((isPatch(route.type) && spec.parentRefs === undefined) || redirectsToHttps(spec)) {
      continue;
    }
    const who = kindOf(route.type);
    const hostnames = list(spec.hostnames);
    const hosts = hostnames.length > 0 ? hostnames.join(", ") : "every host";
    const report = (message: string) => violations.push({ urn: route.urn, message });
    for (const ref of list(spec.parentRefs).filter(Boolean)) {
      const refKind = ref.kind ?? "Gateway";
      // A Service parent is a mesh route between workloads, not exposed by a Gateway.
      if (refKind === "Service") {
        continue;
      }
      const id = `${ref.namespace ?? namespaceOf(route.props)}/${ref.name}`;
      const gateway =
        refKind === "Gateway" && (ref.group ?? GATEWAY_GROUP) === GATEWAY_GROUP
          ? gateways.find((g) => `${namespaceOf(g.props)}/${g.props.metadata?.name}` === id)
          : undefined;
      if (gateway) {
        const attached = list(gateway.props.spec?.listeners).filter(
          (listener) =>
            (ref.sectionName === undefined || listener?.name === ref.sectionName) &&
            (ref.port === undefined || listener?.port === ref.port),
        );
        for (const listener of attached.filter((listener) => listener?.protocol !== "HTTPS")) {
          report(
            `${who} serves ${hosts} over plain HTTP through listener "${listener.name}" (${listener.protocol}) of Gateway ${id}: ` +
              "attach it to an HTTPS listener only (spec.parentRefs[].sectionName), or make it only redirect to https",
          );
        }
      } else if (ref.sectionName === undefined) {
        report(
          `${who} attaches to every listener of ${refKind} ${id}, which this stack does not create, so the pack cannot tell ` +
            `that they all serve TLS: name the HTTPS listener in spec.parentRefs[].sectionName and list "${id}/<listener>" ` +
            "in the gateway-tls policy config's httpsListeners",
        );
      } else if (!httpsListeners.includes(`${id}/${ref.sectionName}`)) {
        report(
          `${who} serves ${hosts} through listener "${ref.sectionName}" of ${refKind} ${id}, which this stack does not create, ` +
            `so the pack cannot see that it serves TLS: once it is an HTTPS listener with a certificate, list "${id}/${ref.sectionName}" ` +
            "in the gateway-tls policy config's httpsListeners",
        );
      }
    }
  }
  return violations;
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
  const words = name
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter(Boolean);
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

/** ConfigMap keys or values that belong in a Secret (a ConfigMapPatch's keys too). */
export function noSecretsInConfigMap(type: string, props: Props): string[] {
  if (groupKind(type) !== "core/ConfigMap") {
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
 * Blue-green Rollouts that promote a release nobody promoted by config, as the program records
 * it (PROMOTION_ANNOTATION). A RolloutPatch is judged when it turns auto-promotion on (true, or
 * null, which restores Argo's default of true), and must then set the image it promotes.
 */
export function blueGreenPromotion(type: string, props: Props): string[] {
  if (groupKind(type) !== "argoproj.io/Rollout") {
    return [];
  }
  const who = kindOf(type);
  const blueGreen = props.spec?.strategy?.blueGreen;
  // Argo promotes automatically unless told not to: unset counts as true.
  const autoPromotion = blueGreen?.autoPromotionEnabled;
  if (!blueGreen || autoPromotion === false || (isPatch(type) && autoPromotion === undefined)) {
    return [];
  }
  const containers = containersOf(props.spec?.template?.spec ?? {}).filter((ref) => !ref.init);
  const app = containers.find((ref) => ref.container.name === "api") ?? containers[0];
  const wait = "set spec.strategy.blueGreen.autoPromotionEnabled: false so the release waits in preview, then";
  if (isPatch(type) && app?.container.image === undefined) {
    return [
      `${who} turns on auto-promotion without setting the image it promotes, so no promotion by config can name the release: ` +
        `${wait} promote it with ${key("promote")}`,
    ];
  }
  const image = String(app?.container.image ?? "");
  const release = releaseIdOf(image);
  if (!release) {
    return [
      `${who} auto-promotes image "${image}", which has no digest, so no promotion by config can name it: ` +
        `deploy a digest-pinned image and promote it with ${key("promote")}`,
    ];
  }
  const promoteWith = `pulumi config set promote ${release}`;
  const recorded = props.metadata?.annotations?.[PROMOTION_ANNOTATION];
  if (recorded === undefined) {
    return [
      `${who} auto-promotes release ${release} without a promotion by config (no ${PROMOTION_ANNOTATION} annotation): ` +
        `${wait} promote it with \`${promoteWith}\` (${key("promote")})`,
    ];
  }
  const record = readPromotionRecord(String(recorded));
  if (!record) {
    return [
      `${who} auto-promotes release ${release} with an unreadable ${PROMOTION_ANNOTATION} annotation "${recorded}" ` +
        `(expected ${PROMOTION_SOURCES.join("|")}:<release id>): ${wait} promote it with \`${promoteWith}\` (${key("promote")})`,
    ];
  }
  const { source, release: promoted } = record;
  if (source === "autoPromote") {
    return [
      `${who} auto-promotes release ${release} because ${key("autoPromote")} is true, which is refused in prod: ` +
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
      `${who} auto-promotes release ${release} but ${named}: a promotion applies to exactly one release; ` +
        `${wait} promote it with \`${promoteWith}\` (${key("promote")})`,
    ];
  }
  return [];
}

// --- availability (stack) -------------------------------------------------------------------

const HPA = "autoscaling/HorizontalPodAutoscaler";
const PDB = "policy/PodDisruptionBudget";

/** A budget that lets a drain evict every pod it selects protects nothing. */
function evictsAll(pdb: Props): string | undefined {
  const { minAvailable, maxUnavailable } = pdb.spec ?? {};
  if (minAvailable === 0 || minAvailable === "0%") {
    return `minAvailable: ${JSON.stringify(minAvailable)}`;
  }
  if (maxUnavailable === "100%") {
    return `maxUnavailable: "100%"`;
  }
  return undefined;
}

/**
 * Serving workloads (a Deployment, StatefulSet, ReplicaSet or Rollout with a container that
 * serves a port) must survive a node drain: at least `minReplicas` pods (the HPA's floor, or the
 * replica count without one) and a PodDisruptionBudget selecting them that keeps some. Patches:
 * one that lowers an HPA's floor or a workload's replicas (a serving one, by its own template or
 * the stack's object it patches), or lets a budget evict everything, fails; none is blamed for a
 * budget or an autoscaler it does not create.
 */
export function availability(
  resources: StackResource[],
  { minReplicas, registered = resources }: Pick<StackContext, "minReplicas" | "registered">,
): StackViolation[] {
  const violations: StackViolation[] = [];
  const hpas = registered.filter((r) => groupKind(r.type) === HPA);
  const pdbs = registered.filter((r) => groupKind(r.type) === PDB && !isPatch(r.type));

  for (const hpa of resources.filter((r) => groupKind(r.type) === HPA)) {
    const set = hpa.props.spec?.minReplicas;
    if (isPatch(hpa.type) && set === undefined) {
      continue;
    }
    // Kubernetes defaults minReplicas to 1.
    const floor = set ?? 1;
    if (floor < minReplicas) {
      violations.push({
        urn: hpa.urn,
        message:
          `${kindOf(hpa.type)} ${hpa.props.metadata?.name} may scale down to ${floor} ` +
          `replica${floor === 1 ? "" : "s"}: set ${key("hpaMinReplicas")} to ${minReplicas} or more`,
      });
    }
  }

  for (const pdb of resources.filter((r) => groupKind(r.type) === PDB)) {
    const setting = evictsAll(pdb.props);
    if (setting) {
      violations.push({
        urn: pdb.urn,
        message:
          `${kindOf(pdb.type)} ${pdb.props.metadata?.name} lets a node drain evict every pod it selects (${setting}): ` +
          `set maxUnavailable below the replica count (the program's Scaling component sets it from ${key("pdbMaxUnavailable")})`,
      });
    }
  }

  const serves = (template: { spec?: Props } | undefined) =>
    template !== undefined &&
    containersOf(template.spec ?? {}).some((ref) => !ref.init && ports(ref.container).length > 0);

  for (const workload of resources.filter((r) => REPLICATED.has(groupKind(r.type) ?? ""))) {
    const patch = isPatch(workload.type);
    const kind = kubeType(workload.type)!.kind;
    const name = workload.props.metadata?.name;
    const namespace = namespaceOf(workload.props);
    const same = (r: StackResource) => groupKind(r.type) === groupKind(workload.type) && !isPatch(r.type);
    const patched = patch
      ? registered.find((r) => same(r) && r.props.metadata?.name === name && namespaceOf(r.props) === namespace)
      : undefined;
    const template = podTemplateOf(workload.type, workload.props);
    const serving = serves(template) || (patched !== undefined && serves(podTemplateOf(patched.type, patched.props)));
    if (!serving || (patch && workload.props.spec?.replicas === undefined)) {
      continue;
    }
    const scaled = hpas.some((hpa) => {
      const target = hpa.props.spec?.scaleTargetRef ?? {};
      return namespaceOf(hpa.props) === namespace && target.kind === kind && target.name === name;
    });
    const replicas = workload.props.spec?.replicas ?? 1;
    if (!scaled && replicas < minReplicas) {
      violations.push({
        urn: workload.urn,
        message:
          `${kindOf(workload.type)} ${name} runs ${replicas} replica${replicas === 1 ? "" : "s"} without an autoscaler: ` +
          `set ${key("replicas")} to ${minReplicas} or more (or enable ${key("hpaEnabled")} with ${key("hpaMinReplicas")} >= ${minReplicas})`,
      });
    }
    const budgeted = pdbs.some(
      (pdb) => namespaceOf(pdb.props) === namespace && selects(pdb.props.spec?.selector, template?.metadata?.labels),
    );
    if (!patch && !budgeted) {
      violations.push({
        urn: workload.urn,
        message:
          `${kindOf(workload.type)} ${name} has no PodDisruptionBudget, so a node drain may evict all its pods at once: ` +
          `add one whose selector matches its pod labels (the program's Scaling component does, sized by ${key("pdbMaxUnavailable")})`,
      });
    }
  }
  return violations;
}

// --- objects no policy can see ----------------------------------------------------------------

/** Helm releases, which install objects that Pulumi never registers. */
export function visibleObjects(type: string, props: Props): string[] {
  if (type !== HELM_RELEASE) {
    return [];
  }
  return [
    `Helm Release of chart ${props.chart} installs objects that only Helm sees, so no policy can check them: ` +
      "install the chart with kubernetes.helm.v4.Chart, which registers each object, or exempt this release " +
      "in the visible-objects policy config (docs/policy.md, Exemptions)",
  ];
}

// --- advisory -------------------------------------------------------------------------------
// These rules ask for what a good object has; a patch leaves what it does not set to the object
// it patches, so they judge full objects only.

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
  const labels = props.metadata?.labels ?? {};
  // A Service carries no version: a Service whose selector Argo Rollouts has written cannot be
  // applied again without a conflict, so nothing that changes per release may be on it.
  const expected =
    kindOf(type) === "Service"
      ? RECOMMENDED_LABELS.filter((label) => label !== "app.kubernetes.io/version")
      : RECOMMENDED_LABELS;
  const missing = expected.filter((label) => labels[label] === undefined);
  if (missing.length === 0) {
    return [];
  }
  return [
    `${kindOf(type)} lacks the recommended label${missing.length === 1 ? "" : "s"} ${missing.join(", ")}: ` +
      `label it as the program's naming does (from ${key("appName")}, ${key("environment")} and ${key("appVersion")}), ` +
      "so dashboards, selectors and kubectl can find it",
  ];
}

export const SCRAPE_ANNOTATIONS: Record<string, string | undefined> = {
  "prometheus.io/scrape": "true",
  "prometheus.io/port": undefined,
  "prometheus.io/path": undefined,
};

/** API pods that Prometheus would not scrape. */
export function prometheusScrape(type: string, props: Props): string[] {
  const template = podTemplateOf(type, props);
  if (!template || isPatch(type) || !isApiPod(template)) {
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
  if (!REPLICATED.has(groupKind(type) ?? "") || isPatch(type)) {
    return [];
  }
  const template = podTemplateOf(type, props);
  // A workload that names no count leaves it to an autoscaler (the program does exactly when the
  // HPA is on), which may run many.
  const replicas: number | undefined = props.spec?.replicas;
  if (!template || !isApiPod(template) || (replicas !== undefined && replicas <= 1)) {
    return [];
  }
  const constraints = template.spec!.topologySpreadConstraints;
  if (Array.isArray(constraints) && constraints.length > 0) {
    return [];
  }
  return [
    `${kindOf(type)} runs ${replicas ?? "autoscaled"} API replicas without topologySpreadConstraints: spread them over ` +
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
      "Containers run as non-root with a read-only root filesystem, no privilege escalation, not privileged, all capabilities dropped (NET_BIND_SERVICE alone added back) and seccomp RuntimeDefault.",
    enforcementLevel: "mandatory",
    environments: ALL,
    check: podSecurity,
  },
  {
    kind: "resource",
    name: "host-namespaces",
    description:
      "No pod shares the node's network, process or IPC namespace (hostNetwork, hostPID, hostIPC) or runs as a Windows host process.",
    enforcementLevel: "mandatory",
    environments: ALL,
    check: hostNamespaces,
  },
  {
    kind: "resource",
    name: "host-path",
    description: "No pod mounts a hostPath volume.",
    enforcementLevel: "mandatory",
    environments: ALL,
    check: hostPath,
  },
  {
    kind: "resource",
    name: "host-ports",
    description: "No container binds a hostPort.",
    enforcementLevel: "mandatory",
    environments: ALL,
    check: hostPorts,
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
    description:
      "No Service of type LoadBalancer or NodePort and no Service externalIPs: the API is reached through its Ingress.",
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
    kind: "stack",
    name: "gateway-tls",
    description:
      "Every Gateway API route (HTTPRoute, GRPCRoute) is served only by HTTPS Gateway listeners, and those have a certificate.",
    enforcementLevel: "mandatory",
    environments: PROD,
    options: ["httpsListeners"],
    check: gatewayTls,
  },
  {
    kind: "resource",
    name: "explicit-hosts",
    description:
      "Ingresses and Gateway API routes name every host they answer for: no host-less rule, default backend or wildcard.",
    enforcementLevel: "mandatory",
    environments: PROD,
    check: explicitHosts,
  },
  {
    kind: "resource",
    name: "no-secrets-in-configmap",
    description:
      "No secret-looking key (PASSWORD, SECRET, *_TOKEN, *_KEY, DSN, DATABASE_URL, ...) or URL with a password in a ConfigMap.",
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
    description:
      "Serving workloads keep at least two replicas (HPA minReplicas) and have a PodDisruptionBudget that keeps some.",
    enforcementLevel: "mandatory",
    environments: PROD,
    options: ["minReplicas"],
    check: availability,
  },
  {
    kind: "resource",
    name: "visible-objects",
    description:
      "Every Kubernetes object is registered with Pulumi, where policies see it: no Helm Release, whose objects only Helm sees.",
    enforcementLevel: "mandatory",
    environments: ALL,
    check: visibleObjects,
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
