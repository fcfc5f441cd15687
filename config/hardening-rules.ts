// The cross-field rules of runtime hardening (docs/hardening.md): what every Kubernetes name
// must be, what prod refuses because it weakens the stack, network isolation, migrations, the
// Celery limits and image signatures. config/rules.ts lists them with the others.
import * as path from "node:path";
import { isReservedNamespace } from "../components/names";
import { DIGEST_REF_PATTERN } from "../components/image/reference";
import { HTTP_PORT } from "../components/workload/spec";
import { estimatedBits, SECRET_MIN_BITS } from "./entropy";
import type { KeyName, Values } from "./keys";
import { manifestForm } from "./manifest";
import { isFile, type Rule, type RuleContext } from "./rule";

/** A stack whose name says prod: "prod", "production", "prod-eu", "eu_prod"... */
const PROD_NAME = /(^|[^a-z])prod(uction)?([^a-z]|$)/i;

/** The effective namespace: the key, or what args.ts derives from appName and environment. */
const namespaceOf = (v: Partial<Values>) =>
  v.namespace ?? (v.appName && v.environment ? `${v.appName}-${v.environment}` : undefined);

/**
 * Namespaces where platform controllers are commonly installed: ingress-nginx, Traefik, Envoy
 * Gateway and Istio (ingress and Gateway API), cert-manager, Argo Rollouts, kube-prometheus
 * (monitoring). Beside them the configured peers' and the Gateway's namespaces are refused.
 */
export const PLATFORM_NAMESPACES = [
  "ingress-nginx",
  "traefik",
  "gateway-system",
  "envoy-gateway-system",
  "istio-system",
  "cert-manager",
  "argo-rollouts",
  "monitoring",
] as const;

const PEERS = {
  ingressControllerPeer: "the ingress controller's",
  metricsScraperPeer: "the metrics scraper's",
  releaseAnalysisPeer: "Argo Rollouts'",
} as const satisfies Partial<Record<KeyName, string>>;

/** The key that names the namespace: namespace itself, or appName when it is derived. */
const namespaceKey = ({ given, full }: RuleContext, namespace: string) =>
  given("namespace") ? full("namespace") : `${full("appName")} (the namespace ${namespace} derives from it)`;

/** The TLS a connection URL asks for: "none", "unverified" (encrypted only) or "verified". */
export function transportOf(key: "databaseUrl" | "redisUrl", text: string): "none" | "unverified" | "verified" {
  const url = new URL(text);
  if (key === "redisUrl") {
    return url.protocol !== "rediss:"
      ? "none"
      : url.searchParams.get("ssl_cert_reqs") === "required"
        ? "verified"
        : "unverified";
  }
  // libpq's default is prefer, which falls back to plain text without a word.
  const mode = url.searchParams.get("sslmode") ?? "prefer";
  return ["disable", "allow", "prefer"].includes(mode) ? "none" : mode === "require" ? "unverified" : "verified";
}

const CONNECTION_TLS = {
  databaseUrl: "sslmode=require (encrypted), or verify-full (and the server checked)",
  redisUrl: "rediss:// with ssl_cert_reqs=required (or none: encrypted, the server unchecked)",
} as const;

/** The secrets that sign or grant access, each a comma-separated list of values judged one by one. */
const GUESSABLE_KEYS = ["secretKey", "secretKeyFallbacks", "apiTokens"] as const;

/** Backups run in prod unless turned off, elsewhere only when turned on (config/args.ts). */
export const backupsOn = (v: Partial<Values>) => v.backupEnabled ?? v.environment === "prod";

/** The TCP port a URL connects to, its scheme's default when it names none. */
function portOf(text: string, defaults: Record<string, number>): number | undefined {
  try {
    const url = new URL(text);
    return url.port ? Number(url.port) : defaults[url.protocol.replace(/:$/, "")];
  } catch {
    return undefined;
  }
}

const EXTERNAL_ENDPOINTS = [
  ["databaseUrl", { postgresql: 5432, postgres: 5432 }],
  ["redisUrl", { redis: 6379, rediss: 6379 }],
  ["otelExporterOtlpEndpoint", { http: 80, https: 443 }],
  ["sentryDsn", { http: 80, https: 443 }],
] as const;

export const HARDENING_RULES: readonly Rule[] = [
  {
    rule:
      "The namespace (namespace, or <appName>-<environment>) is not default or kube-*, " +
      "which belong to the cluster.",
    keys: ["namespace", "appName", "environment"],
    check: ({ v, given, full }) => {
      const namespace = namespaceOf(v);
      if (namespace === undefined || !isReservedNamespace(namespace)) {
        return [];
      }
      const key = given("namespace")
        ? full("namespace")
        : `${full("appName")} (the namespace ${namespace} derives from it)`;
      return [
        `${key}: the namespace "${namespace}" belongs to the cluster (default, kube-*); ` +
          "deploy into a namespace of the stack's own.",
      ];
    },
  },
  {
    rule:
      `The namespace is not a platform controller's: not ${PLATFORM_NAMESPACES.join(", ")}, ` +
      `nor the namespace of ${Object.keys(PEERS).join(", ")}, nor, with exposure gateway, the Gateway's ` +
      "(gatewayNamespace, then required).",
    keys: ["namespace", "appName", "environment", ...(Object.keys(PEERS) as KeyName[]), "exposure", "gatewayNamespace"],
    check: (context) => {
      const { v, full, need, usable } = context;
      const namespace = namespaceOf(v);
      // Gateways live in namespaces of their own; the default would be this stack's namespace.
      const gateway = v.ingressEnabled && v.exposure === "gateway";
      const problems = gateway
        ? need(
            "gatewayNamespace",
            `with ${full("exposure")} gateway: the platform's Gateway lives in a namespace of its own`,
          )
        : [];
      if (namespace === undefined) {
        return problems;
      }
      const owners = [
        ...((PLATFORM_NAMESPACES as readonly string[]).includes(namespace)
          ? [`a namespace platform controllers are installed in (${PLATFORM_NAMESPACES.join(", ")})`]
          : []),
        ...(Object.entries(PEERS) as [keyof typeof PEERS, string][])
          .filter(([key]) => usable(key) && v[key]?.namespace === namespace)
          .map(([key, whose]) => `the namespace of ${full(key)} (${whose} pods)`),
        ...(gateway && v.gatewayNamespace === namespace ? [`the Gateway's (${full("gatewayNamespace")})`] : []),
      ];
      return owners.length === 0
        ? problems
        : [
            ...problems,
            `${namespaceKey(context, namespace)}: "${namespace}" is ${owners.join(", and ")}; the stack would ` +
              "label it Pod Security restricted, deny every pod in it by default and delete it on destroy. " +
              "Deploy into a namespace of the stack's own.",
          ];
    },
  },
  {
    rule:
      "prod connects to Postgres and Redis over TLS only: databaseUrl with sslmode require, verify-ca or " +
      "verify-full (libpq's default, prefer, falls back to plain text), redisUrl rediss://; staging is warned. " +
      "A rediss:// redisUrl says ssl_cert_reqs (required, optional or none), without which Celery refuses it.",
    keys: ["environment", "databaseUrl", "redisUrl"],
    check: ({ v, usable, full }) =>
      (["databaseUrl", "redisUrl"] as const).flatMap((key) => {
        const url = usable(key) ? v[key] : undefined;
        if (url === undefined) {
          return [];
        }
        const reqs = new URL(url).searchParams.get("ssl_cert_reqs");
        if (key === "redisUrl" && url.startsWith("rediss:") && !["required", "optional", "none"].includes(reqs ?? "")) {
          return [
            `${full(key)}: [secret] is a rediss:// URL without ssl_cert_reqs=required, optional or none; ` +
              "Celery refuses to start with it. Add ?ssl_cert_reqs=required.",
          ];
        }
        return v.environment === "prod" && transportOf(key, url) === "none"
          ? [
              `${full(key)}: [secret] is refused in prod: it connects without TLS, so its password and every ` +
                `query cross the network in plain text. Use ${CONNECTION_TLS[key]}.`,
            ]
          : [];
      }),
    warn: ({ v, usable, full }) =>
      (["databaseUrl", "redisUrl"] as const).flatMap((key) => {
        const url = usable(key) ? v[key] : undefined;
        const transport = url === undefined ? undefined : transportOf(key, url);
        if (v.environment === "staging" && transport === "none") {
          return [`${full(key)}: connects without TLS; prod refuses that. Use ${CONNECTION_TLS[key]}.`];
        }
        return v.environment === "prod" && transport === "unverified"
          ? [`${full(key)}: encrypted, but the server's certificate is not checked. Use ${CONNECTION_TLS[key]}.`]
          : [];
      }),
  },
  {
    rule:
      `In staging and prod, secretKey, each of secretKeyFallbacks and each of apiTokens are unguessable: ` +
      `an estimated ${SECRET_MIN_BITS} bits or more (zxcvbn's guesses, bounded by the characters used).`,
    keys: ["environment", ...GUESSABLE_KEYS],
    check: ({ v, usable, full }) =>
      v.environment === "dev"
        ? []
        : GUESSABLE_KEYS.flatMap((key) => {
            const text = usable(key) ? v[key] : undefined;
            // secretKey is one value whatever it holds; the others are comma-separated lists.
            const values =
              text === undefined ? [] : key === "secretKey" ? [text] : text.split(",").map((t) => t.trim());
            const weak = values.flatMap((value, i) => {
              const bits = estimatedBits(value);
              return bits < SECRET_MIN_BITS
                ? [`${values.length > 1 ? `value ${i + 1}: ` : ""}about ${Math.floor(bits)} bits`]
                : [];
            });
            return weak.length === 0
              ? []
              : [
                  `${full(key)}: [secret] is guessable (${weak.join(", ")}; at least ${SECRET_MIN_BITS} are needed ` +
                    `in ${v.environment}). Use random bytes, such as \`openssl rand -hex 32\`.`,
                ];
          }),
  },
  {
    rule: "prod refuses plain http CORS origins: a page served over http can be changed on the way.",
    keys: ["environment", "corsOrigins"],
    check: ({ v, usable, full }) => {
      const plain =
        v.environment === "prod" && usable("corsOrigins") ? v.corsOrigins!.filter((o) => o.startsWith("http:")) : [];
      return plain.length === 0
        ? []
        : [
            `${full("corsOrigins")}: ${plain.map((o) => JSON.stringify(o)).join(", ")} refused in prod; a page ` +
              "served over plain http can be rewritten on the way and would act with the user's access. " +
              "Use https:// origins.",
          ];
    },
  },
  {
    rule: `argoRolloutsManifest is a manifest that cannot change, and a local one is a file of the project.`,
    keys: ["argoRolloutsManifest"],
    check: ({ v, usable, full, projectDir }) => {
      const form =
        usable("argoRolloutsManifest") && v.argoRolloutsManifest ? manifestForm(v.argoRolloutsManifest) : undefined;
      return form?.kind === "path" && !isFile(path.resolve(projectDir, form.file))
        ? [
            `${full("argoRolloutsManifest")}: "${form.file}" is not a file ` +
              `(resolved to ${path.resolve(projectDir, form.file)}).`,
          ]
        : [];
    },
  },
  {
    rule:
      "A stack named like prod (prod, production, prod-eu, ...) has environment prod, " +
      "so prod's protections apply to it.",
    keys: ["environment"],
    check: ({ v, full, stack }) =>
      PROD_NAME.test(stack) && v.environment !== undefined && v.environment !== "prod"
        ? [
            `${full("environment")}: "${v.environment}" in the stack "${stack}", whose name says prod; ` +
              `set environment to prod (or name the stack after its environment).`,
          ]
        : [],
  },
  {
    rule:
      "prod refuses plain HTTP (ingressTls = false with ingressEnabled) and, with exposure ingress, " +
      "a staging certificate issuer.",
    keys: ["environment", "ingressEnabled", "ingressTls", "exposure", "clusterIssuer"],
    check: ({ v, full }) => {
      if (v.environment !== "prod" || !v.ingressEnabled) {
        return [];
      }
      if (v.ingressTls === false) {
        return [
          `${full("ingressTls")}: false is refused in prod; users' requests, tokens and cookies would cross the ` +
            "network in plain text.",
        ];
      }
      // A Gateway's listener brings its own certificate; clusterIssuer is then unused.
      return v.exposure !== "gateway" && v.clusterIssuer !== undefined && /staging/.test(v.clusterIssuer)
        ? [
            `${full("clusterIssuer")}: "${v.clusterIssuer}" is refused in prod; ` +
              "a staging issuer's certificates are not trusted by browsers or clients. " +
              `Name the production ClusterIssuer (e.g. letsencrypt-prod).`,
          ]
        : [];
    },
  },
  {
    rule:
      "prod refuses a pdbMaxUnavailable that lets a node drain take every API pod at once (at least the HPA's " +
      "minimum, or replicas without the HPA).",
    keys: ["environment", "pdbMaxUnavailable", "hpaEnabled", "hpaMinReplicas", "replicas"],
    check: ({ v, usable, full }) => {
      if (v.environment !== "prod" || !usable("pdbMaxUnavailable", "hpaMinReplicas", "replicas")) {
        return [];
      }
      const [fewest, key] = v.hpaEnabled
        ? [v.hpaMinReplicas!, "hpaMinReplicas" as const]
        : [v.replicas!, "replicas" as const];
      return v.pdbMaxUnavailable! >= fewest
        ? [
            `${full("pdbMaxUnavailable")}: ${v.pdbMaxUnavailable} is refused in prod; ` +
              `with ${full(key)} ${fewest}, a node drain may take every API pod at once. ` +
              `Set it below ${fewest}.`,
          ]
        : [];
    },
  },
  {
    rule:
      "prod refuses networkPolicyEnabled = false; forwardedAllowIps needs the NetworkPolicy, " +
      "which keeps every other pod off the API's port.",
    keys: ["environment", "networkPolicyEnabled", "forwardedAllowIps"],
    check: ({ v, given, full, refuse }) => [
      ...(v.environment === "prod" && v.networkPolicyEnabled === false
        ? [
            `${full("networkPolicyEnabled")}: false is refused in prod; ` +
              "any pod of the cluster could reach the API's port, its metrics and its database.",
          ]
        : []),
      ...(v.networkPolicyEnabled === false && given("forwardedAllowIps")
        ? refuse(
            "forwardedAllowIps",
            `while ${full("networkPolicyEnabled")} is false: any pod in those networks could forge its client ` +
              "address and scheme",
          )
        : []),
    ],
  },
  {
    rule:
      "With the NetworkPolicy and an external database, networkEgress allows the port of databaseUrl, redisUrl, " +
      "otelExporterOtlpEndpoint and sentryDsn.",
    keys: [
      "networkPolicyEnabled",
      "devServicesEnabled",
      "networkEgress",
      "databaseUrl",
      "redisUrl",
      "otelExporterOtlpEndpoint",
      "sentryDsn",
    ],
    check: ({ v, usable, full }) => {
      if (!v.networkPolicyEnabled || !usable("networkEgress")) {
        return [];
      }
      const allowed = new Set(v.networkEgress!.flatMap((endpoint) => endpoint.ports));
      return EXTERNAL_ENDPOINTS.flatMap(([key, defaults]) => {
        // The dev services are reached inside the namespace; their URLs are not config.
        const url = v[key];
        const port = url === undefined || !usable(key) ? undefined : portOf(url, defaults);
        return port === undefined || allowed.has(port)
          ? []
          : [
              `${full("networkEgress")}: no entry allows port ${port} of ${full(key)}; ` +
                "the NetworkPolicy would block the app's connections to it. " +
                `Add {"cidr": "<its network>", "ports": [${port}]}.`,
            ];
      });
    },
  },
  {
    rule: "metricsPort is not the app's port (8000).",
    keys: ["metricsPort"],
    check: ({ v, full }) =>
      v.metricsPort === HTTP_PORT
        ? [`${full("metricsPort")}: ${HTTP_PORT} is the app's port; /metrics needs a port of its own.`]
        : [],
  },
  {
    rule: "celeryTaskSoftTimeLimitSeconds < celeryTaskTimeLimitSeconds < celeryVisibilityTimeoutSeconds.",
    keys: ["celeryTaskSoftTimeLimitSeconds", "celeryTaskTimeLimitSeconds", "celeryVisibilityTimeoutSeconds"],
    check: ({ v, usable, full }) => {
      if (!usable("celeryTaskSoftTimeLimitSeconds", "celeryTaskTimeLimitSeconds", "celeryVisibilityTimeoutSeconds")) {
        return [];
      }
      const [soft, hard, visibility] = [
        v.celeryTaskSoftTimeLimitSeconds!,
        v.celeryTaskTimeLimitSeconds!,
        v.celeryVisibilityTimeoutSeconds!,
      ];
      return [
        ...(soft >= hard
          ? [
              `${full("celeryTaskSoftTimeLimitSeconds")}: ${soft} must be ` +
                `below ${full("celeryTaskTimeLimitSeconds")} (${hard}), or a task is killed without warning.`,
            ]
          : []),
        ...(visibility <= hard
          ? [
              `${full("celeryVisibilityTimeoutSeconds")}: ${visibility} must ` +
                `exceed ${full("celeryTaskTimeLimitSeconds")} (${hard}), ` +
                `or a task still running is handed to a second worker.`,
            ]
          : []),
      ];
    },
  },
  {
    rule:
      "migrationStatementTimeoutSeconds is below migrationTimeoutSeconds, so Postgres cancels a runaway " +
      "statement before the Job's deadline kills it.",
    keys: ["migrationStatementTimeoutSeconds", "migrationTimeoutSeconds"],
    check: ({ v, usable, full }) =>
      usable("migrationStatementTimeoutSeconds", "migrationTimeoutSeconds") &&
      v.migrationStatementTimeoutSeconds! >= v.migrationTimeoutSeconds!
        ? [
            `${full("migrationStatementTimeoutSeconds")}: ${v.migrationStatementTimeoutSeconds} ` +
              `must be below ${full("migrationTimeoutSeconds")} (${v.migrationTimeoutSeconds}).`,
          ]
        : [],
  },
  {
    rule: "secretKeyFallbacks does not hold secretKey itself.",
    keys: ["secretKey", "secretKeyFallbacks"],
    check: ({ v, full }) =>
      v.secretKey !== undefined && v.secretKeyFallbacks?.split(",").some((key) => key.trim() === v.secretKey)
        ? [`${full("secretKeyFallbacks")}: [secret] holds the current ${full("secretKey")}; list only earlier keys.`]
        : [],
  },
  {
    rule:
      "Backups in prod (on unless backupEnabled is false), and wherever a signer verifies the backupImage, use a " +
      "backupImage pinned by digest.",
    keys: ["environment", "backupEnabled", "backupImage", "imageSignerIdentity", "imageSignerKey"],
    check: ({ v, given, full }) => {
      const signer = given("imageSignerIdentity") || given("imageSignerKey");
      const where = v.environment === "prod" ? "in prod" : signer ? "with a signer" : undefined;
      return where && backupsOn(v) && v.backupImage !== undefined && !DIGEST_REF_PATTERN.test(v.backupImage)
        ? [
            `${full("backupImage")}: "${v.backupImage}" is refused ${where}; the image that reads every row must be ` +
              "pinned by digest (repository@sha256:<64 hex>), so the image that runs is the one verified.",
          ]
        : [];
    },
  },
  {
    rule:
      "imageSignerIdentity and imageSignerKey exclude each other; imageSignerIssuer only with imageSignerIdentity; " +
      "imageSignerKey is a file; " +
      "prod requires one of them, since it deploys only prebuilt images (imageRef, rollbackTo) verified as signed.",
    keys: ["environment", "imageSignerIdentity", "imageSignerIssuer", "imageSignerKey"],
    check: ({ v, given, full, refuse, projectDir }) => {
      const problems: string[] = [];
      if (given("imageSignerIdentity") && given("imageSignerKey")) {
        problems.push(
          `${full("imageSignerKey")}: set either it or ${full("imageSignerIdentity")}, not both; ` +
            "a signature is checked against one signer.",
        );
      }
      if (!given("imageSignerIdentity")) {
        problems.push(...refuse("imageSignerIssuer", `without ${full("imageSignerIdentity")}`));
      }
      if (v.imageSignerKey !== undefined && !isFile(path.resolve(projectDir, v.imageSignerKey))) {
        problems.push(
          `${full("imageSignerKey")}: "${v.imageSignerKey}" is not a file (resolved ` +
            `to ${path.resolve(projectDir, v.imageSignerKey)}).`,
        );
      }
      if (v.environment === "prod" && !given("imageSignerIdentity") && !given("imageSignerKey")) {
        problems.push(
          `${full("imageSignerIdentity")} is required in prod, ` +
            `which deploys only images (${full("imageRef")}, ${full("rollbackTo")}) verified as signed. ` +
            "Run `pulumi config set imageSignerIdentity <workflow identity>` (or set imageSignerKey).",
        );
      }
      return problems;
    },
  },
];
