// pod-security: every pod runs as the restricted Pod Security Standard requires, baseline
// controls included, except those with policies of their own (host-namespaces, volume-types,
// host-ports). It is stricter on seccomp: RuntimeDefault only, since a Localhost profile is a file
// on the node that this pack cannot read.
import { containerLabel, containersOf, inPod, podViews, type PodView } from "../pods";
import { at, keys, objects, show, text, texts, type Props } from "../read";
import { fails } from "./rule";

/** Capabilities the restricted Pod Security level lets a container add back after dropping ALL. */
const ADDABLE_CAPABILITIES = new Set(["NET_BIND_SERVICE"]);

/** The SELinux types Pod Security baseline allows (1.31 on): the container types of container-selinux. */
const SELINUX_TYPES = new Set(["container_t", "container_init_t", "container_kvm_t", "container_engine_t"]);

/**
 * The sysctls Pod Security baseline calls safe (Kubernetes 1.32 to 1.36): namespaced to the pod
 * and isolated from the node's other pods. Later releases add more; so does this list once the
 * clusters run them.
 */
const SAFE_SYSCTLS = new Set([
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.ping_group_range",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_rmem",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.tcp_wmem",
]);

/** The pod annotation that set a container's AppArmor profile before the field did. */
const APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/";

/** Probe and lifecycle handlers whose `host` the kubelet would connect to instead of the pod. */
const HANDLERS = [
  ["livenessProbe"],
  ["readinessProbe"],
  ["startupProbe"],
  ["lifecycle", "postStart"],
  ["lifecycle", "preStop"],
] as const;

interface SecuritySettings {
  runAsUser?: unknown;
  runAsNonRoot?: unknown;
  seccomp?: unknown;
  readOnlyRootFilesystem?: unknown;
  privileged?: unknown;
  allowPrivilegeEscalation?: unknown;
  capabilities?: unknown;
}

/** The settings a pod or a container must hold, judged whole or (partial) for what they set. */
function securityViolations(who: string, s: SecuritySettings, partial: boolean): string[] {
  const violations: string[] = [];
  if (s.runAsUser === 0) {
    violations.push(`${who} runs as UID 0: set securityContext.runAsUser to a non-zero UID and runAsNonRoot: true`);
  } else if (fails(partial, s.runAsNonRoot, (v) => v === true)) {
    violations.push(`${who} may run as root: set securityContext.runAsNonRoot: true on the pod or the container`);
  }
  if (fails(partial, s.readOnlyRootFilesystem, (v) => v === true)) {
    violations.push(
      `${who} has a writable root filesystem: set securityContext.readOnlyRootFilesystem: ` +
        "true and mount an emptyDir where it must write (such as /tmp)",
    );
  }
  if (s.privileged === true) {
    violations.push(`${who} is privileged: remove securityContext.privileged`);
  }
  // Unset means allowed: Kubernetes defaults allowPrivilegeEscalation to true.
  if (fails(partial, s.allowPrivilegeEscalation, (v) => v === false)) {
    violations.push(`${who} may escalate privileges: set securityContext.allowPrivilegeEscalation: false`);
  }
  const capability = (name: string) => name.toUpperCase();
  const drop = at(s.capabilities, "drop");
  if (fails(partial, drop, (v) => texts(v).some((cap) => capability(cap) === "ALL"))) {
    violations.push(`${who} keeps its Linux capabilities: set securityContext.capabilities.drop: ["ALL"]`);
  }
  const added = texts(at(s.capabilities, "add")).filter((cap) => !ADDABLE_CAPABILITIES.has(capability(cap)));
  if (added.length > 0) {
    violations.push(
      `${who} adds capabilities ${added.join(", ")}: remove them from securityContext.capabilities.add (only ` +
        "NET_BIND_SERVICE may be added back)",
    );
  }
  if (fails(partial, s.seccomp, (v) => v === "RuntimeDefault")) {
    const profile = typeof s.seccomp === "string" ? `with seccomp profile ${s.seccomp}` : "without a seccomp profile";
    violations.push(
      `${who} runs ${profile}: set securityContext.seccompProfile.type: RuntimeDefault on the pod or the container`,
    );
  }
  return violations;
}

const seccompOf = (sc: unknown) => at(sc, "seccompProfile", "type");

/** Confinement a pod or a container may leave to the runtime but must not weaken: AppArmor and SELinux. */
function confinementViolations(who: string, sc: unknown): string[] {
  const violations: string[] = [];
  const appArmor = at(sc, "appArmorProfile", "type");
  if (appArmor !== undefined && appArmor !== null && appArmor !== "RuntimeDefault" && appArmor !== "Localhost") {
    const how = appArmor === "Unconfined" ? "unconfined by AppArmor" : `with AppArmor profile type ${show(appArmor)}`;
    violations.push(`${who} runs ${how}: remove securityContext.appArmorProfile or set its type to RuntimeDefault`);
  }
  const seLinuxType = text(at(sc, "seLinuxOptions", "type"));
  if (seLinuxType && !SELINUX_TYPES.has(seLinuxType)) {
    violations.push(
      `${who} runs with the SELinux type ${seLinuxType}, which is not confined as a container: ` +
        "remove securityContext.seLinuxOptions.type (the runtime sets container_t)",
    );
  }
  for (const field of ["user", "role"]) {
    const value = text(at(sc, "seLinuxOptions", field));
    if (value) {
      violations.push(
        `${who} sets the SELinux ${field} ${value}: remove securityContext.seLinuxOptions.${field}, ` +
          "which the runtime chooses",
      );
    }
  }
  return violations;
}

/** What a pod sets for all its containers that would reach past its own: unsafe sysctls, AppArmor annotations. */
function podLevelViolations(pod: PodView): string[] {
  const violations = confinementViolations("pod", pod.spec.securityContext);
  const unsafe = objects(at(pod.spec.securityContext, "sysctls"))
    .map((sysctl) => show(sysctl.name))
    .filter((name) => !SAFE_SYSCTLS.has(name));
  if (unsafe.length > 0) {
    violations.push(
      `pod sets the sysctls ${unsafe.join(", ")}, which are not isolated to the pod and reach into the node's ` +
        "kernel: remove them from securityContext.sysctls (only those Pod Security calls safe may be set; " +
        "docs/policy.md lists them)",
    );
  }
  const annotations = at(pod.metadata, "annotations");
  for (const name of keys(annotations).filter((name) => name.startsWith(APPARMOR_ANNOTATION))) {
    const profile = at(annotations, name);
    if (
      profile === null ||
      profile === "" ||
      profile === "runtime/default" ||
      text(profile)?.startsWith("localhost/")
    ) {
      continue;
    }
    violations.push(
      `pod annotation ${name}: ${show(profile)} runs container "${name.slice(APPARMOR_ANNOTATION.length)}" without ` +
        "its AppArmor profile: remove the annotation (or set it to runtime/default)",
    );
  }
  return violations;
}

/** What a container sets that reaches past the container: an unmasked /proc, probes aimed at other hosts. */
function containerReachViolations(who: string, container: Props): string[] {
  const violations: string[] = [];
  const procMount = at(container, "securityContext", "procMount");
  if (procMount !== undefined && procMount !== null && procMount !== "Default") {
    violations.push(
      `${who} unmasks /proc (securityContext.procMount: ${show(procMount)}), which exposes the node's kernel ` +
        "interfaces: remove procMount",
    );
  }
  for (const handler of HANDLERS) {
    for (const action of ["httpGet", "tcpSocket"]) {
      const host = text(at(container, ...handler, action, "host"));
      if (host) {
        const path = [...handler, action].join(".");
        violations.push(
          `${who} aims ${path} at host ${host}, which the kubelet reaches from the node's network on its behalf: ` +
            `remove ${path}.host so it targets the pod itself`,
        );
      }
    }
  }
  return violations;
}

/**
 * Pods whose containers do not all run as the restricted Pod Security level requires. A whole
 * pod is judged per container, the container's settings over the pod's as the kubelet applies
 * them. A patch's pod-level settings are judged for what they set (the patched object's
 * containers rely on them); its containers are judged whole, since it may be adding them.
 */
export function podSecurity(type: string, props: Props): string[] {
  return podViews(type, props).flatMap((pod) => [
    ...pod.specPatches.map(
      (path) =>
        `${path} sets pod fields out of every rule's sight: remove it and set those fields in the template, ` +
        "where the rules check them",
    ),
    ...podViolations(pod).map((message) => inPod(pod, message)),
  ]);
}

function podViolations(pod: PodView): string[] {
  const sc = pod.spec.securityContext;
  const podLevel = sc ?? pod.inherited;
  const violations: string[] = [];
  if (pod.partial) {
    const set = { runAsUser: at(sc, "runAsUser"), runAsNonRoot: at(sc, "runAsNonRoot"), seccomp: seccompOf(sc) };
    violations.push(...securityViolations("pod", set, true));
  }
  violations.push(...podLevelViolations(pod));
  for (const ref of containersOf(pod)) {
    const own = ref.container.securityContext;
    const settings: SecuritySettings = {
      runAsUser: at(own, "runAsUser"),
      runAsNonRoot: at(own, "runAsNonRoot"),
      seccomp: seccompOf(own),
      readOnlyRootFilesystem: at(own, "readOnlyRootFilesystem"),
      privileged: at(own, "privileged"),
      allowPrivilegeEscalation: at(own, "allowPrivilegeEscalation"),
      capabilities: at(own, "capabilities"),
    };
    const who = containerLabel(ref);
    const effective = ref.partial
      ? settings
      : {
          ...settings,
          runAsUser: settings.runAsUser ?? at(podLevel, "runAsUser"),
          runAsNonRoot: settings.runAsNonRoot ?? at(podLevel, "runAsNonRoot"),
          seccomp: settings.seccomp ?? seccompOf(podLevel),
        };
    violations.push(
      ...securityViolations(who, effective, ref.partial),
      ...confinementViolations(who, own),
      ...containerReachViolations(who, ref.container),
    );
  }
  return violations;
}
