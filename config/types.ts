import type { SecretValue } from "./secret";

export type Environment = "dev" | "staging" | "prod";

export interface Resources {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

/** Build the app's Dockerfile and push it, or deploy an image someone else built. */
export type ImageConfig =
  | {
      kind: "build";
      /** Absolute path of the build context. */
      context: string;
      /** Absolute path of the Dockerfile. */
      dockerfile: string;
      target: string;
      platform: string;
      buildArgs: Record<string, string>;
      repository: string;
      registry?: { server: string; username: string; password: SecretValue };
    }
  | { kind: "prebuilt"; ref: string };

export interface IngressConfig {
  host: string;
  className: string;
  /** cert-manager ClusterIssuer; absent when TLS is off. */
  tls?: { clusterIssuer: string; secretName: string };
  rateLimitPerMinute: number;
  /** Wait for the controller to publish an address (the provider's default for an Ingress). */
  waitForAddress: boolean;
}

export interface AutoscalingConfig {
  minReplicas: number;
  maxReplicas: number;
  cpuUtilization: number;
  memoryUtilization: number;
}

export interface DevServicesConfig {
  postgres: { image: string; storage: string; password: SecretValue };
  redis: { image: string };
}

export interface AnalysisConfig {
  prometheusAddress: string;
  /** The new release fails analysis above this share of 5xx responses (0..1). */
  maxErrorRatio: number;
}

export type CanaryStep = { setWeight: number } | { pause: { duration?: string } };

/** How a new image reaches users. `rolling` is a plain Deployment; the others an Argo Rollout. */
export type DeliveryConfig =
  | { strategy: "rolling" }
  | {
      strategy: "blueGreen";
      /** Release id (12 hex digits of the digest) the operator promoted, if any. */
      promote?: string;
      autoPromote: boolean;
      scaleDownDelaySeconds: number;
      prePromotionAnalysis: boolean;
      postPromotionAnalysis?: AnalysisConfig;
    }
  | { strategy: "canary"; steps: CanaryStep[]; analysis: AnalysisConfig };

export interface GithubStackCredentials {
  /** Stack name as the backend knows it. Default: the short name (dev, prod). */
  stackName?: string;
  /** Kubeconfig the deploy job uses. */
  kubeconfig: SecretValue;
  /**
   * Kubeconfig for pull-request previews. Pulumi previews Kubernetes changes as server-side
   * dry runs, so it needs get/list and dry-run patch, not write access. Default: kubeconfig.
   */
  previewKubeconfig?: SecretValue;
  /** Passphrase of the stack's secrets provider, when it is the passphrase provider. */
  configPassphrase?: SecretValue;
}

/** What the GitHub side of delivery needs (GithubRepository), as plain data. */
export interface GithubConfig {
  /** User or organization that owns the repository. */
  owner: string;
  /** Repository name, without the owner. */
  repository: string;
  /** Branch deploys run from and that branch protection guards. Default: main. */
  defaultBranch?: string;
  /** Token the GitHub provider uses. Unset: the provider reads GITHUB_TOKEN from the environment. */
  token?: SecretValue;
  /** Pulumi access token, set in every environment. */
  pulumiAccessToken: SecretValue;
  /** URL of a self-hosted Pulumi service (https://), set as a variable in every environment. Unset: Pulumi Cloud. */
  pulumiBackendUrl?: string;
  /** Numeric ids of the teams and users who may approve a prod deployment (at most 6 in all). */
  prodReviewers: { teams?: number[]; users?: number[] };
  /** Minutes a prod deployment job waits after it is triggered before it may start (0 to 43200). Default: 0. */
  prodWaitTimerMinutes?: number;
  /** Approving reviews a pull request needs (1 to 6). Default: 1. */
  requiredApprovals?: number;
  /** Whether administrators are held to branch protection too. Default: true. */
  enforceAdmins?: boolean;
  stacks: Record<"dev" | "prod", GithubStackCredentials>;
}

/** The whole stack, validated: plain data, no Outputs. Produced only by `validateConfig`. */
export interface StackConfig {
  project: string;
  stack: string;
  environment: Environment;
  appName: string;
  appVersion: string;
  namespace: string;
  image: ImageConfig;
  /** An earlier digest-pinned image to return to: deployed instead of `image`, promoted at once. */
  rollbackTo?: string;
  delivery: DeliveryConfig;
  /** Install Argo Rollouts from this manifest (URL or absolute path) before any Rollout. */
  argoRolloutsManifest?: string;
  api: {
    replicas: number;
    resources: Resources;
    terminationGracePeriodSeconds: number;
    preStopSleepSeconds: number;
  };
  migration?: { command: string[]; timeoutSeconds: number };
  backup?: { image: string; storage: string };
  worker?: { command: string[]; replicas: number };
  /** Non-secret app settings, rendered into the ConfigMap. */
  settings: {
    debug: boolean;
    corsOrigins: string[];
    dbPoolSize: number;
    dbMaxOverflow: number;
    accessTokenExpireMinutes: number;
    refreshTokenExpireDays: number;
    otelExporterOtlpEndpoint?: string;
  };
  /** Secret app settings, rendered into the Secret. URLs are absent when dev services provide them. */
  secrets: {
    secretKey: SecretValue;
    databaseUrl?: SecretValue;
    redisUrl?: SecretValue;
    sentryDsn?: SecretValue;
  };
  ingress?: IngressConfig;
  autoscaling?: AutoscalingConfig;
  pdb: { maxUnavailable: number };
  devServices?: DevServicesConfig;
  /** Manage the repository's CI/CD settings (GithubRepository). */
  github?: GithubConfig;
  renderYamlTo?: string;
}
