// One stack of this project run by the Pulumi Kubernetes Operator (v2) instead of a CI runner: the
// Operator's `Stack` custom resource (pulumi.com/v1), and what its workspace pod needs beside it.
//  - A ServiceAccount: the operator's agent in the workspace pod authenticates the operator by
//    TokenReview (hence system:auth-delegator), and the stack deploys as it (a ClusterRole the
//    platform team names, covering what the stack creates: namespaces, workloads, Rollouts...).
//  - A kubeconfig: the program reads each API's live release through a kubeconfig
//    (components/api/cluster-reader.ts), and a pod has none. The pod's own service-account token
//    and CA, named in `kubernetes:kubeconfig`, serve the program and the Kubernetes provider alike.
//  - No secret in the object: the backend's token and the secrets provider's credentials are
//    environment from Secrets (envRefs), secret stack config comes from Secrets (secretsRef) or
//    from the stack file's secure: values, which the secrets provider decrypts.
// examples/operator/stack.yaml is `npx ts-node tools/operator-stack.ts` (OPERATOR_STACK_EXAMPLE);
// tests/unit/operator-stack.test.ts checks both.
import { dump } from "js-yaml";
import type { KeyName } from "../config/keys";
import { PROJECT } from "./program";

/** A key of a Kubernetes Secret in the Stack's namespace. */
export interface SecretKeyRef {
  name: string;
  key: string;
}

/** The program from this repository over git (the branch or commit to deploy). */
export interface GitSource {
  git: {
    url: string;
    branch?: string;
    commit?: string;
    /** Where Pulumi.yaml is in the repository. Default: its root. */
    dir?: string;
    /** A token that reads a private repository. */
    token?: SecretKeyRef;
  };
}

/** The program from a Flux source object (a GitRepository, OCIRepository or Bucket) that fetches it. */
export interface FluxSource {
  /** `dir`: where Pulumi.yaml is in the source's artifact. Default: its root. */
  flux: { kind: "GitRepository" | "OCIRepository" | "Bucket"; name: string; dir?: string };
}

export interface OperatorStackArgs {
  /** The Stack object's name, also its ServiceAccount's and its bindings' (with the namespace). */
  name: string;
  /** Where the Stack object and its workspace pod live. */
  namespace: string;
  /** The stack: `<org>/api-stack/<stack>` on Pulumi Cloud, with `backend` its name (`prod`). */
  stack: string;
  source: GitSource | FluxSource;
  /** A self-managed backend (s3://, gs://, azblob://...). Unset: Pulumi Cloud (PULUMI_ACCESS_TOKEN in `env`). */
  backend?: string;
  /** The workspace's environment from Secrets: PULUMI_ACCESS_TOKEN, the secrets provider's credentials. */
  env: Record<string, SecretKeyRef>;
  /** Secret stack config from Secrets, set on every run (databaseUrl, redisUrl, secretKey, apiTokens...). */
  secretConfig?: Partial<Record<KeyName, SecretKeyRef>>;
  /** Plain stack config set on every run: the release to deploy (imageRef), to promote (promote)... */
  config?: Partial<Record<KeyName, string>>;
  /** The ClusterRole the stack deploys with. */
  deployerClusterRole: string;
  /** The workspace's image: the Pulumi CLI, Node.js 22 or newer with npm, and cosign (prod verifies images). */
  workspaceImage: string;
}

const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** The cluster the workspace pod runs in, as its own service account reaches it. */
export const IN_CLUSTER_KUBECONFIG = dump({
  apiVersion: "v1",
  kind: "Config",
  clusters: [
    {
      name: "in-cluster",
      cluster: { server: "https://kubernetes.default.svc", "certificate-authority": `${SERVICE_ACCOUNT_DIR}/ca.crt` },
    },
  ],
  users: [{ name: "workspace", user: { tokenFile: `${SERVICE_ACCOUNT_DIR}/token` } }],
  contexts: [{ name: "in-cluster", context: { cluster: "in-cluster", user: "workspace" } }],
  "current-context": "in-cluster",
});

const secretRef = ({ name, key }: SecretKeyRef) => ({ type: "Secret", secret: { name, key } });
const byKey = <T, U>(entries: Record<string, T | undefined>, map: (value: T) => U, prefix = "") =>
  Object.fromEntries(
    Object.entries(entries)
      .filter((entry): entry is [string, T] => entry[1] !== undefined)
      .map(([key, value]) => [`${prefix}${key}`, map(value)]),
  );

function source(from: GitSource | FluxSource): Record<string, unknown> {
  if ("flux" in from) {
    const { kind, name, dir } = from.flux;
    return {
      fluxSource: { sourceRef: { apiVersion: "source.toolkit.fluxcd.io/v1", kind, name }, ...(dir ? { dir } : {}) },
    };
  }
  const { url, branch, commit, dir, token } = from.git;
  if ((branch === undefined) === (commit === undefined)) {
    throw new Error("a git source names a branch or a commit, one of them");
  }
  return {
    projectRepo: url,
    ...(branch !== undefined ? { branch } : { commit }),
    ...(dir ? { repoDir: dir } : {}),
    ...(token ? { gitAuth: { accessToken: secretRef(token) } } : {}),
  };
}

/** The ServiceAccount, its two ClusterRoleBindings and the Stack, in the order to apply them. */
export function operatorStack(args: OperatorStackArgs): Array<Record<string, unknown>> {
  const { name, namespace } = args;
  const subjects = [{ kind: "ServiceAccount", name, namespace }];
  const binding = (suffix: string, clusterRole: string) => ({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: `${namespace}-${name}-${suffix}` },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole },
    subjects,
  });
  const stack = {
    apiVersion: "pulumi.com/v1",
    kind: "Stack",
    metadata: { name, namespace },
    spec: {
      stack: args.stack,
      ...source(args.source),
      ...(args.backend ? { backend: args.backend } : {}),
      serviceAccountName: name,
      envRefs: byKey(args.env, secretRef),
      config: {
        "kubernetes:kubeconfig": IN_CLUSTER_KUBECONFIG,
        ...byKey(args.config ?? {}, (value) => value, `${PROJECT}:`),
      },
      ...(args.secretConfig ? { secretsRef: byKey(args.secretConfig, secretRef, `${PROJECT}:`) } : {}),
      // Deleting the Stack object leaves the stack and what it deployed alone.
      destroyOnFinalize: false,
      workspaceTemplate: {
        spec: {
          image: args.workspaceImage,
          securityProfile: "restricted",
          // The program's start: npm packages loaded, TypeScript compiled (tsconfig.program.json).
          resources: { requests: { cpu: "1", memory: "2Gi" }, limits: { memory: "2Gi" } },
        },
      },
    },
  };
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace } },
    binding("auth-delegator", "system:auth-delegator"),
    binding("deployer", args.deployerClusterRole),
    stack,
  ];
}

/** Prod from this repository's main branch, on Pulumi Cloud, its secret config from a Secret. */
export const OPERATOR_STACK_EXAMPLE: OperatorStackArgs = {
  name: "api-prod",
  namespace: "pulumi-operator",
  stack: "acme/api-stack/prod",
  source: {
    git: { url: "https://github.com/acme/api-stack", branch: "main", token: { name: "git-token", key: "token" } },
  },
  env: { PULUMI_ACCESS_TOKEN: { name: "pulumi-api", key: "accessToken" } },
  secretConfig: {
    databaseUrl: { name: "api-prod-config", key: "databaseUrl" },
    redisUrl: { name: "api-prod-config", key: "redisUrl" },
    secretKey: { name: "api-prod-config", key: "secretKey" },
    apiTokens: { name: "api-prod-config", key: "apiTokens" },
  },
  config: { imageRef: "registry.example.com/team/api@sha256:" + "0".repeat(64) },
  deployerClusterRole: "api-stack-deployer",
  workspaceImage: "registry.example.com/platform/pulumi-workspace:3.259.0",
};

/** The objects as one YAML stream, as examples/operator/stack.yaml holds them. */
export function operatorStackYaml(args: OperatorStackArgs): string {
  const header =
    "# Generated by `npx ts-node tools/operator-stack.ts` from OPERATOR_STACK_EXAMPLE " +
    "(README: Beyond one machine).\n";
  return (
    header +
    operatorStack(args)
      .map((object) => dump(object, { lineWidth: 120 }))
      .join("---\n")
  );
}

if (require.main === module) {
  process.stdout.write(operatorStackYaml(OPERATOR_STACK_EXAMPLE));
}
