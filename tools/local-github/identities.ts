// The Kubernetes identities the local GitHub hands each environment, backed by real RBAC and
// admission in the local API server. Per environment: a deploy identity that may write to its
// own namespace only; a post-merge preview identity and, where pull requests are previewed, a
// pull-request identity, which may read and dry-run that namespace but whose writes the API
// server refuses (a ValidatingAdmissionPolicy admits their writes only as dry runs, since RBAC
// authorizes a dry run exactly like the write it simulates). Each identity is a ServiceAccount
// token in a kubeconfig of its own, whose context names its namespace.
import { execFileSync } from "node:child_process";
import { load } from "js-yaml";

/** Namespace of the identities' ServiceAccounts, apart from the namespaces they act in. */
export const IDENTITY_NAMESPACE = "github-identities";
const DRY_RUN_ONLY = "github-preview-identities-dry-run-only";

export type Purpose = "deploy" | "preview" | "pull-request";

/** What a stack manages in its namespace, and only that: what the deploy identity may change. */
const STACK_RULES = [
  {
    apiGroups: [""],
    resources: ["configmaps", "secrets", "services", "serviceaccounts", "persistentvolumeclaims"],
    verbs: ["*"],
  },
  { apiGroups: [""], resources: ["pods", "pods/log", "events", "endpoints"], verbs: ["get", "list", "watch"] },
  { apiGroups: ["apps"], resources: ["deployments", "statefulsets"], verbs: ["*"] },
  { apiGroups: ["apps"], resources: ["replicasets"], verbs: ["get", "list", "watch"] },
  { apiGroups: ["batch"], resources: ["jobs"], verbs: ["*"] },
  { apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], verbs: ["*"] },
  { apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: ["*"] },
  { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies", "ingresses"], verbs: ["*"] },
  { apiGroups: ["gateway.networking.k8s.io"], resources: ["httproutes"], verbs: ["*"] },
  { apiGroups: ["argoproj.io"], resources: ["rollouts", "analysistemplates"], verbs: ["*"] },
  { apiGroups: ["argoproj.io"], resources: ["analysisruns", "experiments"], verbs: ["get", "list", "watch"] },
  {
    apiGroups: ["monitoring.coreos.com"],
    resources: ["podmonitors", "servicemonitors", "prometheusrules"],
    verbs: ["*"],
  },
  { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
  { apiGroups: ["cert-manager.io"], resources: ["certificates"], verbs: ["get", "list", "watch"] },
];

const serviceAccount = (environment: string, purpose: Purpose) =>
  ({ deploy: environment, preview: `${environment}-preview`, "pull-request": `${environment}-pr` })[purpose];

/** The identity objects of one environment, as one multi-document manifest. */
function manifest(environment: string, namespace: string, purposes: Purpose[]): object[] {
  const subjects = purposes.map((purpose) => ({
    kind: "ServiceAccount",
    name: serviceAccount(environment, purpose),
    namespace: IDENTITY_NAMESPACE,
  }));
  const name = `github-${environment}`;
  return [
    // The platform makes the namespace; the stack labels and manages it from then on.
    { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } },
    ...subjects.map((s) => ({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: s.name, namespace: IDENTITY_NAMESPACE },
    })),
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name, namespace }, rules: STACK_RULES },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name, namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects,
    },
    // Its own namespace, by name: the stack labels it (Pod Security), nothing else cluster-wide.
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name },
      rules: [
        { apiGroups: [""], resources: ["namespaces"], resourceNames: [namespace], verbs: ["get", "patch", "update"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
      subjects,
    },
  ];
}

/** Every preview and pull-request identity's write must be a dry run, wherever RBAC lets it reach. */
const dryRunOnly = (): object[] => [
  {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicy",
    metadata: { name: DRY_RUN_ONLY },
    spec: {
      failurePolicy: "Fail",
      matchConstraints: {
        resourceRules: [
          {
            apiGroups: ["*"],
            apiVersions: ["*"],
            operations: ["CREATE", "UPDATE", "DELETE", "CONNECT"],
            resources: ["*/*"],
          },
        ],
      },
      matchConditions: [
        {
          name: "preview-identities",
          expression:
            `request.userInfo.username.startsWith('system:serviceaccount:${IDENTITY_NAMESPACE}:') && ` +
            "(request.userInfo.username.endsWith('-preview') || request.userInfo.username.endsWith('-pr'))",
        },
      ],
      validations: [
        {
          expression: "request.dryRun == true",
          message: "preview identities may only read and dry-run: this write was not a dry run",
        },
      ],
    },
  },
  {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicyBinding",
    metadata: { name: DRY_RUN_ONLY },
    spec: { policyName: DRY_RUN_ONLY, validationActions: ["Deny"] },
  },
];

export interface Identities {
  /** The kubeconfig (file content) of an environment's identity for a purpose. */
  kubeconfig(environment: string, purpose: Purpose): string;
  /** Deletes what createIdentities made, the environments' namespaces included. */
  remove(): void;
}

/**
 * Creates (or updates) the identities of each environment in the cluster of `adminKubeconfig`
 * and mints each a token valid for `hours`.
 */
export function createIdentities(
  adminKubeconfig: string,
  environments: { name: string; namespace: string; pullRequestPreview?: boolean }[],
  hours = 12,
): Identities {
  const kubectl = (args: string[], input?: string) =>
    execFileSync("kubectl", ["--kubeconfig", adminKubeconfig, ...args], {
      encoding: "utf8",
      input,
      stdio: ["pipe", "pipe", "pipe"],
    });
  const objects = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: IDENTITY_NAMESPACE } },
    ...dryRunOnly(),
    ...environments.flatMap((env) =>
      manifest(env.name, env.namespace, [
        "deploy",
        "preview",
        ...(env.pullRequestPreview ? ["pull-request" as const] : []),
      ]),
    ),
  ];
  const list = JSON.stringify({ apiVersion: "v1", kind: "List", items: objects });
  kubectl(["apply", "-f", "-"], list);

  const admin = load(kubectl(["config", "view", "--raw", "--minify", "--flatten", "-o", "yaml"])) as {
    clusters: { cluster: { server: string; "certificate-authority-data": string } }[];
  };
  const cluster = admin.clusters[0].cluster;
  const namespaceOf = new Map(environments.map((env) => [env.name, env.namespace]));
  const minted = new Map<string, string>();
  return {
    kubeconfig(environment, purpose) {
      const namespace = namespaceOf.get(environment);
      if (namespace === undefined) {
        throw new Error(`no identities for environment ${environment}`);
      }
      const user = serviceAccount(environment, purpose);
      const known = minted.get(user);
      if (known !== undefined) {
        return known;
      }
      const token = kubectl(["create", "token", user, "-n", IDENTITY_NAMESPACE, "--duration", `${hours}h`]).trim();
      const kubeconfig = JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "local", cluster }],
        users: [{ name: user, user: { token } }],
        contexts: [{ name: user, context: { cluster: "local", user, namespace } }],
        "current-context": user,
      });
      minted.set(user, kubeconfig);
      return kubeconfig;
    },
    remove: () => void kubectl(["delete", "-f", "-", "--ignore-not-found", "--wait=false"], list),
  };
}
