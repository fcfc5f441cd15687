// Every stack config key the program accepts, in one table: its Pulumi type, its schema, its
// default and the sentence that explains it. The value types are inferred from the schemas
// (`Values`), "allowed" texts of integers and booleans are derived from their bounds by the key
// constructors, and `Pulumi.yaml` and docs/config.md are generated from this table
// (`npm run gen:project`), so none of them can drift.
import { isIP } from "node:net";
import { z } from "zod";
import { DNS_LABEL_MAX_LENGTH, LABEL_KEY, LABEL_VALUE, LONGEST_NAME_SUFFIX_LENGTH } from "../components/names";
import { postPromotionScaleDownDelaySeconds } from "../components/api/delivery";
import { DIGEST_REF_PATTERN, IMAGE_REPOSITORY, REGISTRY } from "../components/image/reference";
import { GITHUB_ACTIONS_ISSUER } from "../components/image/signature";
import { RELEASE_ID_LENGTH, RELEASE_ID_PATTERN } from "../components/release";
import { SECRET_MIN_BITS } from "./entropy";
import { MANIFEST_FORMS, manifestForm } from "./manifest";
import { parseQuantity } from "./quantity";

/** The value types Pulumi project config can declare, plus `object` (JSON, set with --path). */
export type Kind = "string" | "integer" | "boolean" | "array" | "object";

export interface KeySpec {
  kind: Kind;
  schema: z.ZodType;
  /** What a valid value looks like, quoted in every error about this key. */
  allowed: string;
  description: string;
  default?: unknown;
  /** The value must be stored encrypted (`pulumi config set --secret`). */
  secret?: boolean;
  /** Every stack must set it (other keys are required only in some combinations). */
  required?: boolean;
}

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
// RFC 1123 subdomain, the form Kubernetes and certificate issuers accept for a host.
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/;
const ORIGIN = /^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** An Argo duration in whole seconds, minutes or hours (what config/rules.ts adds up). */
export const DURATION = /^\d+[smh]$/;
/**
 * BASE_IMAGE of a build unless imageBuildArgs sets one: the apps' Dockerfile default
 * (python:3.12-slim), pinned by digest so a moved tag cannot change what is built.
 */
export const DEFAULT_BASE_IMAGE =
  "python:3.12-slim@sha256:78387bc3881b8273120a12ebe6c1ab22b018ccc2c9adf565ae1ac9b536e184ea";
/** Both apps refuse a shorter SECRET_KEY outside development (Django's own rule). */
const SECRET_KEY_MIN_LENGTH = 50;
/** Both apps refuse a shorter API token outside development. */
const API_TOKEN_MIN_LENGTH = 32;
/** RFC 6750's b64token, the characters both apps accept in a bearer token. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

const label = (max: number) => z.string().max(max).regex(DNS_LABEL);
/** Every object name is `<appName><suffix>`, a DNS label; the longest suffix sets appName's bound. */
const APP_NAME_MAX_LENGTH = Math.min(30, DNS_LABEL_MAX_LENGTH - LONGEST_NAME_SUFFIX_LENGTH);
const int = (min: number, max: number) => z.number().int().min(min).max(max);
const urlWithScheme = (...schemes: string[]) =>
  z.string().refine((text) => {
    try {
      const url = new URL(text);
      return schemes.includes(url.protocol.replace(/:$/, "")) && url.hostname !== "";
    } catch {
      return false;
    }
  });
const command = z.array(z.string().min(1)).min(1);

/** An integer key: the bounds are written once, for the schema and the "allowed" text. */
const integer = (min: number, max: number, unit?: string) => ({
  kind: "integer" as const,
  schema: int(min, max),
  allowed: `an integer from ${min} to ${max}${unit ? ` (${unit})` : ""}`,
});
/** A Kubernetes quantity key: the floor is written once, for the schema and the "allowed" text. */
const QUANTITY_FLOOR = {
  cpu: { noun: "CPU", floor: 0.001, shown: "1m" },
  memory: { noun: "memory", floor: 2 ** 20, shown: "1Mi" },
  storage: { noun: "storage", floor: 2 ** 20, shown: "1Mi" },
} as const;
const quantity = (unit: keyof typeof QUANTITY_FLOOR, example: string) => {
  const { noun, floor, shown } = QUANTITY_FLOOR[unit];
  return {
    kind: "string" as const,
    schema: z.string().refine((text) => (parseQuantity(text) ?? 0) >= floor),
    allowed: `a ${noun} quantity of at least ${shown}, such as ${example}`,
  };
};
const flag = () => ({ kind: "boolean" as const, schema: z.boolean(), allowed: "true or false" });
/** Pods in another namespace, as NetworkPolicy peers: the namespace's name and the pods' labels. */
const peerPods = () => ({
  kind: "object" as const,
  schema: z.strictObject({
    namespace: label(63),
    podLabels: z
      .record(z.string().regex(LABEL_KEY), z.string().regex(LABEL_VALUE))
      .refine((labels) => Object.keys(labels).length > 0),
  }),
  allowed:
    'a JSON object {"namespace": "<namespace>", "podLabels": {"<label>": "<value>", ...}} with at least one label',
});
function isCidr(text: string): boolean {
  const [address, prefix, ...rest] = text.split("/");
  const family = isIP(address);
  return (
    rest.length === 0 && family !== 0 && /^\d{1,3}$/.test(prefix ?? "") && Number(prefix) <= (family === 4 ? 32 : 128)
  );
}
/** An address as a number: 32 bits for IPv4, 128 for IPv6 (`::` expanded). */
function addressBits(address: string): bigint {
  if (isIP(address) === 4) {
    return address.split(".").reduce((n, part) => (n << 8n) | BigInt(part), 0n);
  }
  const [head, tail] = address.split("::");
  const groups = (text?: string) => (text ? text.split(":") : []);
  const missing = 8 - groups(head).length - groups(tail).length;
  const all = [...groups(head), ...(tail === undefined ? [] : Array<string>(missing).fill("0")), ...groups(tail)];
  return all.reduce((n, group) => (n << 16n) | BigInt(`0x${group}`), 0n);
}
/** A CIDR with no address bits past its prefix (10.244.0.0/24, not 10.244.0.5/24), as Python's ip_network wants. */
function isNetwork(text: string): boolean {
  if (!isCidr(text)) {
    return false;
  }
  const [address, prefix] = text.split("/");
  const width = isIP(address) === 4 ? 32 : 128;
  return (addressBits(address) & ((1n << BigInt(width - Number(prefix))) - 1n)) === 0n;
}
/** A string key with a fixed set of values: the list is written once, for the schema and the "allowed" text. */
const oneOf = <const T extends readonly [string, ...string[]]>(...values: T) => ({
  kind: "string" as const,
  schema: z.enum(values),
  allowed: values.length === 2 ? `${values[0]} or ${values[1]}` : `one of ${values.join(", ")}`,
});

export const KEYS = {
  // --- the application -----------------------------------------------------------------
  environment: {
    ...oneOf("dev", "staging", "prod"),
    description: "Which environment this stack is. Rules that protect production apply to prod.",
    required: true,
  },
  appName: {
    kind: "string",
    schema: label(APP_NAME_MAX_LENGTH),
    allowed: `a DNS label of at most ${APP_NAME_MAX_LENGTH} characters (lowercase letters, digits, '-')`,
    description: "Name of the API. Prefixes every Kubernetes object and labels it app.kubernetes.io/name.",
    default: "api",
  },
  appVersion: {
    kind: "string",
    schema: z.string().min(1).regex(LABEL_VALUE),
    allowed:
      "a version string such as 1.4.2 that is a Kubernetes label value (letters, digits, '.', '_', '-', " +
      "starting and ending with a letter or digit; at most 63 characters)",
    description: "Version reported by the app (APP_VERSION) and labelled app.kubernetes.io/version.",
    default: "0.1.0",
  },
  namespace: {
    kind: "string",
    schema: label(63),
    allowed: "a DNS label of at most 63 characters",
    description:
      "Namespace to create and deploy into; not default or kube-*, which belong to the cluster, nor a platform " +
      "controller's (the peers', the Gateway's, cert-manager's...), which the stack would lock down and delete. " +
      "Default: <appName>-<environment>.",
  },
  debug: {
    ...flag(),
    description: "DEBUG for the app. Refused in staging and prod, where the apps refuse to start with it.",
    default: false,
  },
  corsOrigins: {
    kind: "array",
    schema: z.array(z.string().regex(ORIGIN)),
    allowed: 'a JSON list of origins such as ["https://app.example.com"]',
    description: "Origins allowed by CORS (CORS_ORIGINS). Plain http origins are refused in prod.",
    default: [],
  },

  // --- the image -----------------------------------------------------------------------
  imageRef: {
    kind: "string",
    schema: z.string().regex(DIGEST_REF_PATTERN),
    allowed: "an image reference pinned by digest, repository@sha256:<64 hex digits>",
    description:
      "Deploy this prebuilt image instead of building one (the digest CI built, e.g. the one dev already runs). " +
      "Excludes the build keys. Required in prod, which never builds.",
  },
  imageRepository: {
    kind: "string",
    schema: z.string().regex(IMAGE_REPOSITORY),
    allowed:
      "an image repository without tag or digest that names its registry host, such as " +
      "registry.example.com/team/api or 127.0.0.1:5000/api",
    description:
      "Repository the built image is pushed to. " +
      "Required unless imageRef is set; refused in prod, which deploys imageRef only.",
  },
  imageContext: {
    kind: "string",
    schema: z.string().min(1),
    allowed: "a directory, relative to the project, that exists",
    description: "Docker build context of the app.",
    default: "apps/fastapi",
  },
  imageDockerfile: {
    kind: "string",
    schema: z.string().min(1),
    allowed: "a file, relative to imageContext, that exists",
    description: "Dockerfile of the app, relative to imageContext.",
    default: "Dockerfile",
  },
  imageTarget: {
    kind: "string",
    schema: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/),
    allowed: "a Dockerfile stage name",
    description: "Stage of the multi-stage Dockerfile to build.",
    default: "runtime",
  },
  imagePlatform: {
    ...oneOf("linux/amd64", "linux/arm64"),
    description: "Platform to build for.",
    default: "linux/amd64",
  },
  imageBuildArgs: {
    kind: "object",
    schema: z.record(z.string().regex(ENV_NAME), z.string()),
    allowed: 'a JSON object of build-arg names to strings, such as {"BASE_IMAGE": "python:3.12-slim"}',
    description:
      "Build arguments (e.g. BASE_IMAGE for a mirror or a locally built base). " +
      `BASE_IMAGE defaults to ${DEFAULT_BASE_IMAGE}, the apps' Dockerfile default.`,
    default: {},
  },
  registryUsername: {
    kind: "string",
    schema: z.string().min(1),
    allowed: "a non-empty user name (set together with registryPassword)",
    description: "User for pushing to the registry of imageRepository.",
  },
  registryPassword: {
    kind: "string",
    schema: z.string().min(1),
    allowed: "a non-empty secret (set together with registryUsername)",
    description: "Password or token for pushing to the registry.",
    secret: true,
  },
  imagePullUsername: {
    kind: "string",
    schema: z.string().min(1),
    allowed: "a non-empty user name (set together with imagePullPassword)",
    description:
      "User the cluster pulls the app's image with, from a registry that requires a login " +
      "(a read-only account, not the one that pushes). Unset: pulls need no login.",
  },
  imagePullPassword: {
    kind: "string",
    schema: z.string().min(1),
    allowed: "a non-empty secret (set together with imagePullUsername)",
    description:
      "Password or token of imagePullUsername. With it the stack creates the kubernetes.io/dockerconfigjson " +
      "Secret <appName>-registry, which every pod of the app's image names in imagePullSecrets.",
    secret: true,
  },
  imagePullRegistry: {
    kind: "string",
    schema: z.string().regex(REGISTRY),
    allowed:
      "a registry host with its port if any, and optionally a path prefix, such as registry.example.com, " +
      "127.0.0.1:5001 or registry.example.com/team; it must serve the app's image",
    description:
      "The registry imagePullUsername logs in to. Default: the registry of the app's image (rollbackTo, imageRef " +
      "or imageRepository). The backup Job uses the login too when its image comes from this registry.",
  },

  // --- the workload --------------------------------------------------------------------
  replicas: {
    ...integer(1, 100),
    description: "API pods without the HPA (hpaEnabled false). With the HPA on it is refused: the HPA owns the count.",
    default: 2,
  },
  cpuRequest: {
    ...quantity("cpu", "250m or 0.5"),
    description: "CPU request of each API container.",
    default: "250m",
  },
  cpuLimit: {
    ...quantity("cpu", "500m or 1"),
    description: "CPU limit of each API container.",
    default: "500m",
  },
  memoryRequest: {
    ...quantity("memory", "256Mi"),
    description: "Memory request of each API container.",
    default: "256Mi",
  },
  memoryLimit: {
    ...quantity("memory", "512Mi"),
    description: "Memory limit of each API container.",
    default: "512Mi",
  },
  terminationGracePeriodSeconds: {
    ...integer(5, 600),
    description: "Time a pod gets to drain in-flight requests after SIGTERM.",
    default: 30,
  },
  preStopSleepSeconds: {
    ...integer(0, 120),
    description: "Pause before SIGTERM so endpoints stop routing to the pod first.",
    default: 5,
  },
  migrationsEnabled: {
    ...flag(),
    description: "Run migrationCommand as a Job before each new image rolls out.",
    default: true,
  },
  migrationCommand: {
    kind: "array",
    schema: command,
    allowed: 'a non-empty JSON list of strings, such as ["alembic", "upgrade", "head"]',
    description: 'Migration command (Django: ["python", "manage.py", "migrate", "--noinput"]).',
    default: ["alembic", "upgrade", "head"],
  },
  migrationTimeoutSeconds: {
    ...integer(30, 7200),
    description: "Deadline of the migration Job (and of the backup Job); past it the release stops.",
    default: 600,
  },
  workerEnabled: {
    ...flag(),
    description: "Deploy the Celery worker from the same image and settings.",
    default: true,
  },
  workerCommand: {
    kind: "array",
    schema: command,
    allowed: "a non-empty JSON list of strings",
    description: "Worker command.",
    default: ["celery", "-A", "app.celery", "worker", "-l", "info"],
  },
  workerReplicas: {
    ...integer(1, 100),
    description: "Worker pods.",
    default: 1,
  },

  // --- settings (ConfigMap) and secrets (Secret) ----------------------------------------
  dbPoolSize: {
    ...integer(1, 100),
    description: "DB_POOL_SIZE for the app.",
    default: 5,
  },
  dbMaxOverflow: {
    ...integer(0, 100),
    description: "DB_MAX_OVERFLOW for the app.",
    default: 10,
  },
  accessTokenExpireMinutes: {
    ...integer(1, 1440),
    description: "ACCESS_TOKEN_EXPIRE_MINUTES for the app.",
    default: 30,
  },
  refreshTokenExpireDays: {
    ...integer(1, 365),
    description: "REFRESH_TOKEN_EXPIRE_DAYS for the app.",
    default: 7,
  },
  otelExporterOtlpEndpoint: {
    kind: "string",
    schema: urlWithScheme("http", "https"),
    allowed: "an http(s) URL such as http://otel-collector.observability:4317",
    description: "OTEL_EXPORTER_OTLP_ENDPOINT for the app. Unset: tracing export off.",
  },
  databaseUrl: {
    kind: "string",
    schema: urlWithScheme("postgresql", "postgres").refine((text) => new URL(text).pathname.length > 1),
    allowed: "a postgresql://user:password@host:5432/database URL that names its database",
    description:
      "DATABASE_URL of an external Postgres. Required unless devServicesEnabled. " +
      "Prod requires TLS: sslmode=require, verify-ca or verify-full.",
    secret: true,
  },
  redisUrl: {
    kind: "string",
    schema: urlWithScheme("redis", "rediss"),
    allowed: "a redis:// or rediss:// URL",
    description: "REDIS_URL of an external Redis. Required unless devServicesEnabled. Prod requires TLS (rediss://).",
    secret: true,
  },
  secretKey: {
    kind: "string",
    schema: z.string().min(SECRET_KEY_MIN_LENGTH),
    allowed: `a secret of at least ${SECRET_KEY_MIN_LENGTH} characters (e.g. \`openssl rand -hex 32\`)`,
    description:
      "SECRET_KEY the app signs tokens with. In staging and prod it must be unguessable " +
      `(an estimated ${SECRET_MIN_BITS} bits or more).`,
    secret: true,
    required: true,
  },
  apiTokens: {
    kind: "string",
    schema: z.string().refine((text) => {
      const tokens = text.split(",").map((token) => token.trim());
      return tokens.every((token) => token.length >= API_TOKEN_MIN_LENGTH && B64TOKEN.test(token));
    }),
    allowed:
      `a comma-separated list of bearer tokens, each at least ${API_TOKEN_MIN_LENGTH} characters of ` +
      "A-Z a-z 0-9 - . _ ~ + / (and = at its end), such as `openssl rand -hex 32`",
    description:
      "API_TOKENS: the bearer tokens clients of the notes API send (Authorization: Bearer <token>); several rotate " +
      `one without downtime. Both apps refuse to start without one. In staging and prod each must be unguessable ` +
      `(an estimated ${SECRET_MIN_BITS} bits or more).`,
    secret: true,
    required: true,
  },
  sentryDsn: {
    kind: "string",
    schema: urlWithScheme("https", "http"),
    allowed: "a Sentry DSN URL",
    description: "SENTRY_DSN for error reporting. Unset: off.",
    secret: true,
  },

  // --- networking ------------------------------------------------------------------------
  ingressEnabled: {
    ...flag(),
    description: "Expose the API at ingressHost, through an Ingress or (exposure gateway) an HTTPRoute.",
    default: false,
  },
  ingressHost: {
    kind: "string",
    schema: z.string().regex(DNS_NAME),
    allowed: "a lowercase DNS name with at least two labels, such as api.example.com",
    description: "Host users reach the API at. Required when ingressEnabled.",
  },
  ingressClassName: {
    kind: "string",
    schema: label(63),
    allowed: "a DNS label",
    description:
      "exposure ingress: IngressClass that serves the Ingress (spec.ingressClassName); " +
      "its controller must read ingress-nginx's annotations (ingress-nginx, Traefik's NGINX provider).",
    default: "nginx",
  },
  ingressTls: {
    ...flag(),
    description:
      "Serve HTTPS and redirect HTTP to it: with exposure ingress, a certificate from cert-manager (clusterIssuer); " +
      "with exposure gateway, on the Gateway's HTTPS listener (gatewayHttpsListener).",
    default: true,
  },
  clusterIssuer: {
    kind: "string",
    schema: label(63),
    allowed: "a DNS label naming a cert-manager ClusterIssuer",
    description:
      "exposure ingress: cert-manager ClusterIssuer for the TLS certificate (a Gateway's listener has its own).",
    default: "letsencrypt-staging",
  },
  ingressWaitForAddress: {
    ...flag(),
    description:
      "Wait until the controller takes the exposure: publishes an address for the Ingress, " +
      "or the Gateway accepts the HTTPRoute. Turn off where no controller reports it.",
    default: true,
  },
  rateLimitPerMinute: {
    ...integer(1, 100000),
    description:
      "exposure ingress: requests per minute one client address may send (limit-rpm, bursts up to twice that). " +
      "Counted per client address (the TCP peer, so a proxy in front counts as one client) " +
      "by each ingress controller replica on its own: N replicas admit up to N times the rate. " +
      "Over it: 429 (Traefik) or 503 (ingress-nginx's default). " +
      "Traefik refills every budget at each reload of its configuration, which moving endpoints cause " +
      "(docs/traffic.md).",
    default: 100,
  },

  // --- exposure: Ingress or Gateway API (docs/traffic.md) -----------------------------------
  exposure: {
    ...oneOf("ingress", "gateway"),
    description:
      "How ingressHost is served: an Ingress (ingressClassName), or an HTTPRoute attached to the platform team's " +
      "Gateway (gatewayName). Canary needs ingress: Argo Rollouts shifts its traffic on the Ingress.",
    default: "ingress",
  },
  gatewayName: {
    kind: "string",
    schema: label(63),
    allowed: "a DNS label naming a Gateway",
    description:
      "exposure gateway: the Gateway the HTTPRoutes attach to (spec.parentRefs). Required with exposure gateway.",
  },
  gatewayNamespace: {
    kind: "string",
    schema: label(63),
    allowed: "a DNS label naming a namespace",
    description:
      "exposure gateway: namespace of gatewayName (its listeners must allow routes from this stack's namespace). " +
      "Required with exposure gateway, and not the stack's own namespace, which the stack locks down and deletes.",
  },
  gatewayHttpListener: {
    kind: "string",
    schema: label(63),
    allowed: "a DNS label naming a listener of the Gateway",
    description:
      "exposure gateway: the Gateway's plain-HTTP listener (sectionName). " +
      "Serves the API without ingressTls; with it, only redirects to https.",
    default: "http",
  },
  gatewayHttpsListener: {
    kind: "string",
    schema: label(63),
    allowed: "a DNS label naming a listener of the Gateway",
    description:
      "exposure gateway with ingressTls: the Gateway's HTTPS listener (sectionName), " +
      "which terminates TLS with the certificate cert-manager issues for the Gateway; " +
      "its hostname must cover ingressHost and previewHost.",
    default: "https",
  },
  previewHost: {
    kind: "string",
    schema: z.string().regex(DNS_NAME),
    allowed: "a lowercase DNS name with at least two labels, such as api-preview.example.com",
    description:
      "blueGreen: a second host that reaches only the preview (the release waiting for promotion), " +
      "through its own Ingress or HTTPRoute. Unset: the preview is reached inside the cluster only.",
  },

  // --- autoscaling and disruption ---------------------------------------------------------
  hpaEnabled: {
    ...flag(),
    description: "Scale API pods with a HorizontalPodAutoscaler (autoscaling/v2).",
    default: true,
  },
  hpaMinReplicas: {
    ...integer(1, 1000),
    description: "Fewest API pods the HPA keeps; the API is created with this many, all of which `up` waits for.",
    default: 2,
  },
  hpaMaxReplicas: {
    ...integer(1, 1000),
    description: "Most API pods the HPA allows.",
    default: 5,
  },
  hpaCpuUtilization: {
    ...integer(1, 100, "percent"),
    description: "Average CPU utilization the HPA aims for, in percent of requests.",
    default: 70,
  },
  hpaMemoryUtilization: {
    ...integer(1, 100, "percent"),
    description:
      "Average memory utilization the HPA also aims for, in percent of requests, for an app whose memory grows " +
      "with its load. Unset: CPU only. The sample apps' pods hold about the same memory whatever their load, and " +
      "a memory target the pods sit near would keep every pod CPU added (the HPA takes the largest count any " +
      "metric asks for).",
  },
  hpaScaleUpStabilizationSeconds: {
    ...integer(0, 3600),
    description:
      "How long a higher pod count must be recommended before the HPA adds pods (then it may double them per " +
      "minute): a short spike does not scale out.",
    default: 60,
  },
  hpaScaleDownStabilizationSeconds: {
    ...integer(0, 3600),
    description:
      "How long a lower pod count must be recommended before the HPA removes pods (then a tenth per minute): " +
      "a short lull does not throw away capacity the next burst needs.",
    default: 300,
  },
  pdbMaxUnavailable: {
    ...integer(1, 1000),
    description: "API pods a voluntary disruption (node drain) may take down at once.",
    default: 1,
  },

  // --- in-cluster dependencies for dev -----------------------------------------------------
  devServicesEnabled: {
    ...flag(),
    description: "Run Postgres and Redis in the namespace and point DATABASE_URL/REDIS_URL at them. Refused in prod.",
    default: false,
  },
  devPostgresPassword: {
    kind: "string",
    schema: z
      .string()
      .min(12)
      .regex(/^[A-Za-z0-9._~-]+$/),
    allowed: "a secret of at least 12 URL-safe characters (letters, digits, '.', '_', '~', '-')",
    description: "Password of the in-cluster Postgres. Required when devServicesEnabled.",
    secret: true,
  },
  postgresImage: {
    kind: "string",
    schema: z.string().regex(/^[^\s]+$/),
    allowed: "an image reference",
    description: "Image of the in-cluster Postgres.",
    default: "postgres:16-alpine",
  },
  redisImage: {
    kind: "string",
    schema: z.string().regex(/^[^\s]+$/),
    allowed: "an image reference",
    description: "Image of the in-cluster Redis.",
    default: "redis:7-alpine",
  },
  postgresStorage: {
    ...quantity("storage", "1Gi"),
    description: "Volume size of the in-cluster Postgres.",
    default: "1Gi",
  },

  // --- progressive delivery (Argo Rollouts) --------------------------------------------
  strategy: {
    ...oneOf("rolling", "blueGreen", "canary"),
    description:
      "How a new image reaches users: a rolling Deployment, or an Argo Rollout (blue-green with preview, " +
      "or canary steps).",
    default: "rolling",
  },
  promote: {
    kind: "string",
    schema: z.string().regex(RELEASE_ID_PATTERN),
    allowed:
      `a release id: the first ${RELEASE_ID_LENGTH} hex digits of the image digest ` + "(stack output release.preview)",
    description:
      "blueGreen: promote exactly this release from preview to active. " +
      "A later release waits again; the key need not be removed.",
  },
  autoPromote: {
    ...flag(),
    description: "blueGreen: promote every release without waiting for `promote`. Refused in prod.",
    default: false,
  },
  rollbackTo: {
    kind: "string",
    schema: z.string().regex(DIGEST_REF_PATTERN),
    allowed: "an image reference pinned by digest (stack output release.previous)",
    description:
      "Deploy this earlier image instead of building, promoted at once and without migrations. " +
      "Remove it to resume releases.",
  },
  scaleDownDelaySeconds: {
    ...integer(0, 3600),
    description:
      "blueGreen: how long the previous release keeps running after a promotion, for in-flight requests and " +
      "rollback; with postPromotionAnalysis it must outlast the analysis, which rolls back to it. " +
      `Default: 30, or ${postPromotionScaleDownDelaySeconds()} with postPromotionAnalysis.`,
  },
  prePromotionAnalysis: {
    ...flag(),
    description:
      "blueGreen: before promotion, run smokeCommand in a Job of the app's image against the preview Service; " +
      "a failure aborts the release.",
    default: true,
  },
  smokeCommand: {
    kind: "array",
    schema: command,
    allowed: 'a non-empty JSON list of strings, such as ["python", "-m", "app.smoke"]',
    description:
      "blueGreen prePromotionAnalysis: the smoke test, a command of the app's image that gets the preview's base " +
      "URL as its last argument, walks a key user flow through it with a token of API_TOKENS and leaves no data " +
      'behind; exit 0 when the flow works (Django: ["python", "manage.py", "smoke"]).',
    default: ["python", "-m", "app.smoke"],
  },
  postPromotionAnalysis: {
    ...flag(),
    description:
      "blueGreen: after promotion, check the new release's 5xx ratio and p99 latency in Prometheus for about " +
      "3 minutes; a failure rolls back to the previous release (kept by scaleDownDelaySeconds). " +
      "Default: true in prod, false elsewhere.",
  },
  canarySteps: {
    kind: "object",
    schema: z
      .array(
        z.union([
          z.strictObject({ setWeight: int(1, 100) }),
          z.strictObject({ pause: z.strictObject({ duration: z.string().regex(DURATION) }) }),
        ]),
      )
      .min(1)
      .refine((steps) => steps.some((step) => "setWeight" in step)),
    allowed:
      'a JSON list of Argo canary steps, {"setWeight": 1..100} or {"pause": {"duration": "5m"}} (a duration in s, ' +
      "m or h: `pulumi up` waits for the release, so no pause waits for a human), with at least one setWeight",
    description: "canary: traffic steps of a release. Default: 10%, 30%, 50%, 80%, each followed by a 5 minute pause.",
    default: [
      { setWeight: 10 },
      { pause: { duration: "5m" } },
      { setWeight: 30 },
      { pause: { duration: "5m" } },
      { setWeight: 50 },
      { pause: { duration: "5m" } },
      { setWeight: 80 },
      { pause: { duration: "5m" } },
    ],
  },
  releaseTimeoutSeconds: {
    ...integer(60, 86400),
    description:
      "blueGreen, canary: how long `pulumi up` waits for the release to settle (active and Healthy, " +
      "or ready in preview awaiting promotion) before it fails; Argo Rollouts carries on. " +
      "Must cover the canary pauses and the analyses.",
    default: 1800,
  },
  prometheusAddress: {
    kind: "string",
    schema: urlWithScheme("http", "https"),
    allowed: "an http(s) URL of a Prometheus server, such as http://prometheus-operated.monitoring.svc:9090",
    description: "Prometheus the release analyses query. Required for canary and for postPromotionAnalysis.",
  },
  maxErrorRatePercent: {
    ...integer(1, 100, "percent"),
    description:
      "Analysis fails, and the release aborts, when more than this share of the new release's responses are 5xx; " +
      "with monitoring prometheusOperator the API alerts above it too.",
    default: 5,
  },
  maxLatencyP99Milliseconds: {
    ...integer(10, 10_000, "milliseconds; the app's largest latency bucket is 10 s"),
    description:
      "Analysis fails, and the release aborts, when the new release's p99 response time exceeds this; " +
      "with monitoring prometheusOperator the API alerts above it too.",
    default: 1000,
  },
  monitoring: {
    ...oneOf("prometheusOperator", "annotations", "none"),
    description:
      "How Prometheus finds the app's metrics. prometheusOperator (kube-prometheus-stack): PodMonitors of the API " +
      "and the worker that carry the labels the analyses select by, and a PrometheusRule with the app's alerts; " +
      "the Operator's CRDs must exist, so a cluster without them fails the update at once instead of analysing " +
      "releases without data. annotations: prometheus.io/* pod annotations, for a Prometheus configured to scrape " +
      "by them and to keep the pod labels (docs/traffic.md). none: neither, and no analysis. " +
      "Every mode but none annotates the pods too.",
    default: "prometheusOperator",
  },
  monitoringLabels: {
    kind: "object",
    schema: z.record(z.string().regex(LABEL_KEY), z.string().regex(LABEL_VALUE)),
    allowed: 'a JSON object of Kubernetes labels, such as {"release": "kube-prometheus-stack"}',
    description:
      "monitoring prometheusOperator: labels on the PodMonitors and the PrometheusRule, which the team's " +
      "Prometheus selects them by (its podMonitorSelector and ruleSelector). The default is what " +
      "kube-prometheus-stack installed as release kube-prometheus-stack selects; a Prometheus with empty " +
      "selectors takes them whatever their labels.",
    default: { release: "kube-prometheus-stack" },
  },
  backupEnabled: {
    ...flag(),
    description:
      "Before migrations, pg_dump the database to a volume, once per release and settings; " +
      "a failed backup stops the release. Default: true in prod, false elsewhere.",
  },
  backupImage: {
    kind: "string",
    schema: z.string().regex(/^[^\s]+$/),
    allowed: "an image reference that contains pg_dump (pinned by digest in prod)",
    description:
      "Image of the backup Job (its pg_dump must not be older than the server). It reads DATABASE_URL: " +
      "with a signer (imageSignerIdentity, imageSignerKey) it must be signed by it, like imageRef.",
    default: "postgres:16-alpine@sha256:57c72fd2a128e416c7fcc499958864df5301e940bca0a56f58fddf30ffc07777",
  },
  backupStorage: {
    ...quantity("storage", "10Gi"),
    description: "Size of the volume the backups are written to.",
    default: "5Gi",
  },
  argoRolloutsManifest: {
    kind: "string",
    schema: z.string().refine((text) => manifestForm(text) !== undefined),
    allowed: `Argo Rollouts' install manifest (install.yaml) that cannot change: ${MANIFEST_FORMS}`,
    description:
      "Install Argo Rollouts (CRDs and controller) from this manifest before any Rollout, for clusters that lack it.",
  },

  // --- runtime hardening: network isolation, pods, migrations, signatures (docs/hardening.md) ---
  networkPolicyEnabled: {
    ...flag(),
    description:
      "Deny all traffic to and from the namespace's pods, then allow what the app needs: " +
      "the ingress controller to the API, the metrics scraper to the metrics port, the app to DNS, " +
      "its dev services and networkEgress. Refused off in prod.",
    default: true,
  },
  ingressControllerPeer: {
    ...peerPods(),
    description:
      "The ingress or Gateway controller's pods, the only peers that reach the API's port (and whose forwarded " +
      "headers may be trusted).",
    default: { namespace: "ingress-nginx", podLabels: { "app.kubernetes.io/name": "ingress-nginx" } },
  },
  metricsScraperPeer: {
    ...peerPods(),
    description: "The pods that scrape the metrics port (Prometheus).",
    default: { namespace: "monitoring", podLabels: { "app.kubernetes.io/name": "prometheus" } },
  },
  releaseAnalysisPeer: {
    ...peerPods(),
    description:
      "blueGreen, canary: the pods that run the release's web analysis against the API (the Argo Rollouts controller).",
    default: { namespace: "argo-rollouts", podLabels: { "app.kubernetes.io/name": "argo-rollouts" } },
  },
  networkEgress: {
    kind: "object",
    schema: z.array(z.strictObject({ cidr: z.string().refine(isCidr), ports: z.array(int(1, 65535)).min(1) })),
    allowed: 'a JSON list of {"cidr": "10.0.0.0/8", "ports": [5432, 6379]} (IPv4 or IPv6 CIDRs, TCP ports 1..65535)',
    description:
      "Where app pods may connect besides DNS and the dev services: the external database, Redis, " +
      "OTLP collector and Sentry, by CIDR and TCP port. Must cover the port of each of them.",
    default: [],
  },
  forwardedAllowIps: {
    kind: "array",
    schema: z.array(z.string().refine((text) => isIP(text) !== 0 || isNetwork(text))),
    allowed:
      'a JSON list of IP addresses or networks, such as ["10.244.0.0/16"], with no address bits past the prefix ' +
      "(the apps refuse 10.244.0.5/24)",
    description:
      "FORWARDED_ALLOW_IPS: the peers whose X-Forwarded-For/-Proto the app believes. " +
      "With the NetworkPolicy only the ingress controller reaches the API's port, so the pod CIDR is safe here; " +
      "without it, refused. Unset: the app's default, loopback only.",
    default: [],
  },
  metricsPort: {
    ...integer(1024, 65535),
    description: "METRICS_PORT: the port /metrics is served on, apart from the app's 8000; no Service exposes it.",
    default: 9000,
  },
  runAsUser: {
    ...integer(1000, 2147483647),
    description:
      "UID and GID of every app pod (API, worker, Jobs). " +
      "Above 10000 by default so it matches no user of the node; the image's files must be readable by it.",
    default: 10001,
  },
  ephemeralStorageRequest: {
    ...quantity("storage", "256Mi"),
    description: "Scratch disk (logs, /tmp) each app container requests.",
    default: "256Mi",
  },
  ephemeralStorageLimit: {
    ...quantity("storage", "1Gi"),
    description: "Scratch disk each app container may use before the kubelet evicts its pod (and only its pod).",
    default: "1Gi",
  },
  secretKeyFallbacks: {
    kind: "string",
    schema: z.string().refine((text) => text.split(",").every((key) => key.trim().length >= SECRET_KEY_MIN_LENGTH)),
    allowed: `a comma-separated list of earlier secret keys, each at least ${SECRET_KEY_MIN_LENGTH} characters`,
    description:
      "SECRET_KEY_FALLBACKS: earlier SECRET_KEYs, still accepted for verifying what they signed. " +
      "Set during a key rotation.",
    secret: true,
  },
  migrationLockTimeoutSeconds: {
    ...integer(1, 600),
    description:
      "lock_timeout of the migration's statements (PGOPTIONS): a migration that waits longer for a lock fails " +
      "instead of stalling every query queued behind it.",
    default: 5,
  },
  migrationStatementTimeoutSeconds: {
    ...integer(1, 7200),
    description: "statement_timeout of the migration's statements (PGOPTIONS). Below migrationTimeoutSeconds.",
    default: 300,
  },
  backupRetention: {
    ...integer(1, 1000),
    description: "Dumps kept on the backup volume; after a successful backup, older ones are deleted.",
    default: 7,
  },
  celeryTaskTimeLimitSeconds: {
    ...integer(1, 86400),
    description:
      "CELERY_TASK_TIME_LIMIT: a task running longer is killed. The worker's grace period is this plus 30 s.",
    default: 60,
  },
  celeryTaskSoftTimeLimitSeconds: {
    ...integer(1, 86400),
    description:
      "CELERY_TASK_SOFT_TIME_LIMIT: a task running longer is told to stop. Below celeryTaskTimeLimitSeconds.",
    default: 50,
  },
  celeryVisibilityTimeoutSeconds: {
    ...integer(1, 86400),
    description:
      "CELERY_VISIBILITY_TIMEOUT: an unacknowledged task returns to the queue after it. " +
      "Above celeryTaskTimeLimitSeconds.",
    default: 300,
  },
  workerLivenessCommand: {
    kind: "array",
    schema: command,
    allowed: "a non-empty JSON list of strings",
    description:
      "Exec check of the worker's liveness (and startup): exits 0 while the worker makes progress, or waits for " +
      "a broker that does not answer; a failure restarts the container.",
    default: ["python", "-m", "app.worker_liveness"],
  },
  workerReadinessCommand: {
    kind: "array",
    schema: command,
    allowed: "a non-empty JSON list of strings",
    description:
      "Exec check of the worker's readiness: exits 0 while it is connected to the broker and consuming; " +
      "a rolling update of the worker waits for it.",
    default: ["python", "-m", "app.worker_readiness"],
  },
  imageSignerIdentity: {
    kind: "string",
    schema: urlWithScheme("https"),
    allowed:
      "a URI, the certificate identity of the workflow that signs, such as " +
      "https://github.com/<owner>/<repo>/.github/workflows/deploy.yml@refs/heads/main",
    description:
      "Verify imageRef and rollbackTo as signed keyless by this identity (cosign) " +
      "before any resource is registered. Prod requires it or imageSignerKey to deploy a prebuilt image.",
  },
  imageSignerIssuer: {
    kind: "string",
    schema: urlWithScheme("https"),
    allowed: "an https URL of an OIDC issuer",
    description: "OIDC issuer of imageSignerIdentity's certificate.",
    default: GITHUB_ACTIONS_ISSUER,
  },
  imageSignerKey: {
    kind: "string",
    schema: z.string().min(1),
    allowed: "a file, relative to the project, holding a cosign public key",
    description:
      "Verify imageRef and rollbackTo as signed with this cosign key pair (instead of keyless) " +
      "before any resource is registered.",
  },

  // --- output mode ---------------------------------------------------------------------
  renderYamlTo: {
    kind: "string",
    schema: z.string().min(1),
    allowed: "a directory path",
    description:
      "Write manifests to this directory instead of applying them (GitOps). Secrets are written there in plaintext.",
  },
} satisfies Record<string, KeySpec>;

export type KeyName = keyof typeof KEYS;

type ValueOf<K extends KeyName> = z.infer<(typeof KEYS)[K]["schema"]>;

/** A validated stack config: keys with a default or required by every stack always have a value. */
export type Values = {
  [K in KeyName]: (typeof KEYS)[K] extends { default: unknown } | { required: boolean }
    ? ValueOf<K>
    : ValueOf<K> | undefined;
};
