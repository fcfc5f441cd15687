// rbac-escalation, admission-webhooks and namespace-pod-security: objects whose effect reaches
// past the stack's own namespace, to every caller of the API server, every object it admits, or
// every pod a namespace lets in.
import { groupKind, isPatch, kubeType, nameOf, selects } from "../kube";
import { at, objects, show, text, texts, type Fields, type Props } from "../read";

// --- RBAC -------------------------------------------------------------------------------------

const RBAC = "rbac.authorization.k8s.io";
const BINDINGS = new Set([`${RBAC}/ClusterRoleBinding`, `${RBAC}/RoleBinding`]);
const ROLES = new Set([`${RBAC}/ClusterRole`, `${RBAC}/Role`]);

/** Built-in ClusterRoles that grant, wherever they are bound, more than a workload of this stack needs. */
const POWERFUL_ROLES: Record<string, string> = {
  "cluster-admin": "grants every permission on every object",
  admin: "reads every Secret, runs pods as any ServiceAccount and grants roles",
  edit: "reads every Secret and runs pods as any ServiceAccount",
};

/** Whom a subject stands for that Kubernetes gives callers by itself: binding it grants the role to all of them. */
function everyone(subject: Fields): string | undefined {
  const name = text(subject.name) ?? "";
  if (subject.kind === "User") {
    return name === "system:anonymous" ? "every anonymous caller" : undefined;
  }
  if (subject.kind !== "Group") {
    return undefined;
  }
  if (name.startsWith("system:serviceaccounts:")) {
    return `every ServiceAccount of namespace ${name.slice("system:serviceaccounts:".length)}`;
  }
  const groups: Record<string, string> = {
    "system:authenticated": "every authenticated caller",
    "system:unauthenticated": "every anonymous caller",
    "system:serviceaccounts": "every ServiceAccount of the cluster",
  };
  return groups[name];
}

const subjectName = (subject: Fields): string =>
  subject.kind === "ServiceAccount"
    ? `ServiceAccount ${show(subject.namespace ?? "")}/${show(subject.name)}`
    : `${show(subject.kind).toLowerCase()} ${show(subject.name)}`;

/**
 * A binding may not grant anything to a subject that stands for every caller or every
 * ServiceAccount, nor a powerful built-in role (POWERFUL_ROLES) to a group, whose members are
 * decided outside the stack, or to anyone in every namespace (a ClusterRoleBinding). roleRef
 * cannot change, so a patch that sets subjects must restate it for the pack to see the role.
 */
function bindingViolations(type: string, props: Props): string[] {
  const who = nameOf(type, props);
  const subjects = at(props, "subjects");
  if (isPatch(type) && subjects === undefined) {
    return [];
  }
  const roleKind = text(at(props, "roleRef", "kind"));
  const roleName = text(at(props, "roleRef", "name"));
  const bound = objects(subjects);
  if (roleName === undefined) {
    return isPatch(type) && bound.length > 0
      ? [
          `${who} binds ${bound.map(subjectName).join(", ")} without restating roleRef, ` +
            "so the pack cannot see what it grants them: restate the binding's roleRef in the patch",
        ]
      : [];
  }
  const role = `${roleKind ?? "ClusterRole"} ${roleName}`;
  const powerful = roleKind === "ClusterRole" ? POWERFUL_ROLES[roleName] : undefined;
  const clusterWide = groupKind(type) === `${RBAC}/ClusterRoleBinding`;
  return bound.flatMap((subject) => {
    const all = everyone(subject);
    if (all) {
      return [
        `${who} grants ${role} to ${subjectName(subject)}, that is to ${all}: bind the ServiceAccounts or users ` +
          "that need it by name",
      ];
    }
    if (powerful && subject.kind === "Group") {
      return [
        `${who} grants ${role}, which ${powerful}, to ${subjectName(subject)}, whose members are decided outside ` +
          "this stack: bind the ServiceAccounts or users that need it by name, to a role with only what they need",
      ];
    }
    if (powerful && clusterWide) {
      return [
        `${who} grants ${role}, which ${powerful}, in every namespace to ${subjectName(subject)}: ` +
          "bind a role with only what it needs, with a RoleBinding in the namespaces where it needs it",
      ];
    }
    return [];
  });
}

/** Powerful grants, each with what it lets the holder do and how to do without it. */
const GRANTS = {
  everything: "grants every verb on every resource, as cluster-admin does: list only the verbs and resources it needs",
  escalate:
    "can escalate or bind roles (escalate, bind on roles or clusterroles), and so grant itself any permission: " +
    "remove those verbs",
  impersonate:
    "can impersonate users, groups or ServiceAccounts, and so act as any of them: remove the impersonate verb",
  tokens:
    "creates tokens of ServiceAccounts (create on serviceaccounts/token), and so acts as any of them: remove it, " +
    "or name the ServiceAccounts in resourceNames",
  kubelet: "reaches the kubelet API of nodes (nodes/proxy), which runs commands in any pod on them: remove nodes/proxy",
  secrets:
    "reads Secrets (get, list or watch on secrets), in every namespace wherever a ClusterRoleBinding grants it: " +
    "grant it with a Role in the namespaces whose Secrets it needs, or name them in resourceNames",
} as const;

/** The powerful grants of one RBAC rule; a rule limited to named objects (resourceNames) has none. */
function grantsOf(rule: Fields, clusterRole: boolean): (keyof typeof GRANTS)[] {
  if (texts(rule.resourceNames).length > 0) {
    return [];
  }
  const groups = texts(rule.apiGroups);
  const resources = texts(rule.resources);
  const verbs = texts(rule.verbs);
  const inGroup = (group: string) => groups.includes(group) || groups.includes("*");
  // "*" covers every resource and subresource, "pods/*" every subresource of pods.
  const onResource = (resource: string) =>
    resources.includes(resource) || resources.includes("*") || resources.includes(`${resource.split("/")[0]}/*`);
  const allows = (group: string, names: string[], verbNames: string[]) =>
    inGroup(group) && names.some(onResource) && (verbs.includes("*") || verbNames.some((verb) => verbs.includes(verb)));
  if (verbs.includes("*") && resources.includes("*")) {
    return ["everything"];
  }
  const grants: (keyof typeof GRANTS)[] = [];
  if (allows(RBAC, ["roles", "clusterroles"], ["escalate", "bind"])) {
    grants.push("escalate");
  }
  if (allows("", ["users", "groups", "serviceaccounts"], ["impersonate"])) {
    grants.push("impersonate");
  }
  if (allows("", ["serviceaccounts/token"], ["create"])) {
    grants.push("tokens");
  }
  if (allows("", ["nodes/proxy"], ["get", "create", "update", "patch", "delete"])) {
    grants.push("kubelet");
  }
  // A Role reads only its own namespace's Secrets, as workloads that need one may.
  if (clusterRole && allows("", ["secrets"], ["get", "list", "watch"])) {
    grants.push("secrets");
  }
  return grants;
}

/**
 * Roles that grant what lets the holder take over more than its own work: every verb on every
 * resource, escalating or binding roles, impersonation, ServiceAccount tokens, the kubelet API,
 * and, for a ClusterRole, Secrets. A ClusterRole that aggregates others' rules cannot be read.
 * A patch sets rules whole (the list merges by no key), so it is judged like a whole role.
 */
function roleViolations(type: string, props: Props): string[] {
  const who = nameOf(type, props);
  const clusterRole = groupKind(type) === `${RBAC}/ClusterRole`;
  const grants = new Set(objects(at(props, "rules")).flatMap((rule) => grantsOf(rule, clusterRole)));
  const violations = [...grants].map((grant) => `${who} ${GRANTS[grant]}`);
  if (objects(at(props, "aggregationRule", "clusterRoleSelectors")).length > 0) {
    violations.push(
      `${who} collects the rules of every ClusterRole its aggregationRule selects, which the pack cannot see: ` +
        "remove aggregationRule and list the rules it needs",
    );
  }
  return violations;
}

/** RBAC objects that grant more than their holders' own work needs, or grant it to everyone. */
export function rbacEscalation(type: string, props: Props): string[] {
  const kind = groupKind(type) ?? "";
  if (BINDINGS.has(kind)) {
    return bindingViolations(type, props);
  }
  return ROLES.has(kind) ? roleViolations(type, props) : [];
}

// --- admission webhooks -----------------------------------------------------------------------

const WEBHOOK_KINDS = new Set([
  "admissionregistration.k8s.io/MutatingWebhookConfiguration",
  "admissionregistration.k8s.io/ValidatingWebhookConfiguration",
]);

/** Labels of kube-system a namespaceSelector is read against: the name label, which every namespace carries. */
const KUBE_SYSTEM = { "kubernetes.io/metadata.name": "kube-system" };

/**
 * Admission webhooks that hand what they admit to an address outside the cluster's Services
 * (clientConfig.url), are sent Secrets with their data, or fail closed for kube-system, so that an
 * outage of their Service stops the control plane's own pods. A patch's webhook is judged whole:
 * webhooks merge by name, and nothing in a patch shows whether it adds one.
 */
export function admissionWebhooks(type: string, props: Props): string[] {
  if (!WEBHOOK_KINDS.has(groupKind(type) ?? "")) {
    return [];
  }
  // admissionregistration.k8s.io/v1beta1 defaulted failurePolicy to Ignore, v1 to Fail.
  const defaultPolicy = kubeType(type)?.version === "v1beta1" ? "Ignore" : "Fail";
  return objects(at(props, "webhooks")).flatMap((webhook) => {
    const who = `${nameOf(type, props)} webhook "${show(webhook.name)}"`;
    const violations: string[] = [];
    const url = text(at(webhook, "clientConfig", "url"));
    if (url) {
      violations.push(
        `${who} sends the objects it admits to ${url}, an address outside the cluster's Services: ` +
          "point clientConfig.service at the webhook's Service in the cluster instead",
      );
    }
    const rules = objects(webhook.rules);
    const onSecrets = rules.some((rule) => {
      const groups = texts(rule.apiGroups);
      return (
        (groups.includes("") || groups.includes("*")) &&
        texts(rule.resources).some((resource) => ["secrets", "*"].includes(resource.split("/")[0]))
      );
    });
    if (onSecrets) {
      violations.push(
        `${who} is sent every Secret it admits, with its data (rules on secrets): leave secrets out of its rules`,
      );
    }
    const failClosed = (webhook.failurePolicy ?? defaultPolicy) === "Fail";
    if (failClosed && rules.length > 0 && selects(webhook.namespaceSelector ?? {}, KUBE_SYSTEM)) {
      violations.push(
        `${who} fails closed (failurePolicy: Fail) for kube-system too, so while its Service is down the control ` +
          "plane's own pods cannot be created or changed: exclude kube-system with a namespaceSelector " +
          "(kubernetes.io/metadata.name NotIn [kube-system])",
      );
    }
    return violations;
  });
}

// --- namespaces -------------------------------------------------------------------------------

const ENFORCE = "pod-security.kubernetes.io/enforce";
const ENFORCE_VERSION = "pod-security.kubernetes.io/enforce-version";
const WEAKER: Record<string, string> = {
  privileged: "with any privilege, host access included",
  baseline: "that run as root, keep their capabilities and escalate privileges",
};

/**
 * Namespaces that do not enforce the restricted Pod Security level, the backstop for every pod
 * this pack never sees (applied outside the stack, created by controllers): without the label,
 * with a weaker level, or pinned to an older version of the standard. A NamespacePatch fails
 * where it removes or weakens the label.
 */
export function namespacePodSecurity(type: string, props: Props): string[] {
  if (groupKind(type) !== "core/Namespace") {
    return [];
  }
  const who = nameOf(type, props);
  const fix = `label it ${ENFORCE}: restricted, as the program labels the namespace it creates`;
  const violations: string[] = [];
  const level = at(props, "metadata", "labels", ENFORCE);
  if (level === undefined && !isPatch(type)) {
    violations.push(
      `${who} has no ${ENFORCE} label, so admission lets in any pod that no policy here checked (applied outside ` +
        `this stack, or created by a controller): ${fix}`,
    );
  } else if (level === null) {
    violations.push(`${who} removes the ${ENFORCE} label, so admission lets in any pod: keep it restricted`);
  } else if (level !== undefined && level !== "restricted") {
    violations.push(
      `${who} enforces the ${show(level)} Pod Security level, ` +
        `which admits pods ${WEAKER[show(level)] ?? "the restricted level refuses"}: ${fix}`,
    );
  }
  const version = text(at(props, "metadata", "labels", ENFORCE_VERSION));
  if (version !== undefined && version !== "latest") {
    violations.push(
      `${who} pins Pod Security to ${version}, so the checks of later Kubernetes releases do not apply: ` +
        `set ${ENFORCE_VERSION}: latest (or remove it)`,
    );
  }
  return violations;
}
