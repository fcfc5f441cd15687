import { strict as assert } from "node:assert";
import { validateConfig, type RawConfig } from "./validate";
import {
  devInput,
  execute,
  prodInput,
  PROJECT,
  PROJECT_DIR,
  readStackFile,
  TEST_SECRETS,
  withConfig,
  type StackInput,
} from "../tests/support/harness";

const raw = (input: StackInput): RawConfig => ({
  values: input.values,
  secretKeys: new Set(input.secretKeys),
  project: PROJECT,
  stack: "unit",
  projectDir: PROJECT_DIR,
});

const errorsOf = (input: StackInput) => {
  const result = validateConfig(raw(input));
  return result.ok ? [] : result.errors;
};

const DIGEST_REF = `registry.example.com/platform/api@sha256:${"b".repeat(64)}`;

// Each row: a stack, what is changed, which key the error must name, and a phrase it must say.
const INVALID: Array<{
  name: string;
  base: () => StackInput;
  set: Record<string, unknown>;
  secret?: string[];
  key: string;
  says: RegExp;
}> = [
  { name: "unknown key (typo)", base: prodInput, set: { replcas: 3 }, key: "replcas", says: /did you mean replicas/ },
  {
    name: "environment outside the list",
    base: prodInput,
    set: { environment: "production" },
    key: "environment",
    says: /one of dev, staging, prod/,
  },
  {
    name: "environment missing",
    base: prodInput,
    set: { environment: undefined },
    key: "environment",
    says: /is required/,
  },
  { name: "appName not a DNS label", base: prodInput, set: { appName: "My_API" }, key: "appName", says: /DNS label/ },
  {
    name: "replicas not an integer",
    base: prodInput,
    set: { replicas: "three" },
    key: "replicas",
    says: /"three" is not allowed; expected an integer from 1 to 100/,
  },
  { name: "replicas zero", base: prodInput, set: { replicas: 0 }, key: "replicas", says: /from 1 to 100/ },
  {
    name: "hpa min above max",
    base: prodInput,
    set: { hpaMinReplicas: 10, hpaMaxReplicas: 5 },
    key: "hpaMinReplicas",
    says: /must not exceed the maximum/,
  },
  {
    name: "replicas with the HPA on",
    base: prodInput,
    set: { replicas: 4 },
    key: "replicas",
    says: /must not be set while api-stack:hpaEnabled is true: the HPA owns the count/,
  },
  {
    name: "cpu limit below request",
    base: prodInput,
    set: { cpuLimit: "100m" },
    key: "cpuLimit",
    says: /limit must be at least the request/,
  },
  {
    name: "memory limit below request",
    base: prodInput,
    set: { memoryLimit: "128Mi" },
    key: "memoryLimit",
    says: /limit must be at least the request/,
  },
  {
    name: "cpu not a quantity",
    base: prodInput,
    set: { cpuRequest: "half a core" },
    key: "cpuRequest",
    says: /CPU quantity/,
  },
  {
    name: "memory not a quantity",
    base: prodInput,
    set: { memoryRequest: "256MB" },
    key: "memoryRequest",
    says: /memory quantity/,
  },
  {
    name: "cpu utilization above 100",
    base: prodInput,
    set: { hpaCpuUtilization: 150 },
    key: "hpaCpuUtilization",
    says: /from 1 to 100 \(percent\)/,
  },
  {
    name: "memory utilization zero",
    base: prodInput,
    set: { hpaMemoryUtilization: 0 },
    key: "hpaMemoryUtilization",
    says: /from 1 to 100 \(percent\)/,
  },
  {
    name: "ingress host not a DNS name",
    base: prodInput,
    set: { ingressHost: "https://api.example.com/" },
    key: "ingressHost",
    says: /DNS name/,
  },
  {
    name: "ingress enabled without host",
    base: prodInput,
    set: { ingressHost: undefined },
    key: "ingressHost",
    says: /required when api-stack:ingressEnabled is true/,
  },
  {
    name: "host without ingress",
    base: prodInput,
    set: { ingressEnabled: false },
    key: "ingressHost",
    says: /must not be set while api-stack:ingressEnabled is false/,
  },
  {
    name: "boolean spelled yes",
    base: prodInput,
    set: { ingressEnabled: "yes" },
    key: "ingressEnabled",
    says: /true or false/,
  },
  {
    name: "image context missing",
    base: devInput,
    set: { imageContext: "apps/does-not-exist" },
    key: "imageContext",
    says: /is not a directory/,
  },
  {
    name: "dockerfile missing",
    base: devInput,
    set: { imageDockerfile: "Nope.Dockerfile" },
    key: "imageDockerfile",
    says: /is not a file in the build context/,
  },
  {
    name: "image repository with a tag",
    base: devInput,
    set: { imageRepository: "registry.example.com/api:latest" },
    key: "imageRepository",
    says: /without tag or digest/,
  },
  {
    name: "imageRef with a mutable tag",
    base: prodInput,
    set: { imageRef: "registry.example.com/api:1.2.3" },
    key: "imageRef",
    says: /pinned by digest/,
  },
  {
    name: "imageRef and a build key",
    base: devInput,
    set: { imageRef: DIGEST_REF },
    key: "imageRepository",
    says: /must not be set together with api-stack:imageRef/,
  },
  {
    name: "no repository and no imageRef",
    base: devInput,
    set: { imageRepository: undefined },
    key: "imageRepository",
    says: /is required to push the built image/,
  },
  {
    name: "secret key stored in plaintext",
    base: prodInput,
    set: { secretKey: TEST_SECRETS.secretKey },
    secret: [],
    key: "secretKey",
    says: /stored in plaintext; it must be a secret/,
  },
  {
    name: "secret key too short",
    base: prodInput,
    set: { secretKey: "short" },
    secret: ["secretKey"],
    key: "secretKey",
    says: /at least 50 characters/,
  },
  {
    name: "database URL not postgres",
    base: prodInput,
    set: { databaseUrl: "mysql://db/app" },
    secret: ["databaseUrl"],
    key: "databaseUrl",
    says: /postgresql:\/\//,
  },
  {
    name: "prod without database URL",
    base: prodInput,
    set: { databaseUrl: undefined },
    key: "databaseUrl",
    says: /required unless api-stack:devServicesEnabled/,
  },
  { name: "debug in prod", base: prodInput, set: { debug: true }, key: "debug", says: /refused in prod/ },
  {
    name: "dev services in prod",
    base: prodInput,
    set: { devServicesEnabled: true, devPostgresPassword: "a-long-enough-password" },
    secret: ["devPostgresPassword"],
    key: "devServicesEnabled",
    says: /refused in prod/,
  },
  {
    name: "dev services without password",
    base: devInput,
    set: { devPostgresPassword: undefined },
    key: "devPostgresPassword",
    says: /required when api-stack:devServicesEnabled is true/,
  },
  {
    name: "dev services and an external database",
    base: devInput,
    set: { databaseUrl: TEST_SECRETS.databaseUrl },
    secret: ["databaseUrl"],
    key: "databaseUrl",
    says: /must not be set while api-stack:devServicesEnabled provides Postgres/,
  },
  {
    name: "preStop pause longer than the grace period",
    base: prodInput,
    set: { preStopSleepSeconds: 50 },
    key: "preStopSleepSeconds",
    says: /leaves no time to drain/,
  },
  {
    name: "CORS origin with a path",
    base: prodInput,
    set: { corsOrigins: ["https://app.example.com/path"] },
    key: "corsOrigins",
    says: /list of origins/,
  },
  {
    name: "CORS origins not JSON",
    base: prodInput,
    set: { corsOrigins: "https://app.example.com" },
    key: "corsOrigins",
    says: /JSON list of origins/,
  },
  {
    name: "migration command empty",
    base: prodInput,
    set: { migrationCommand: [] },
    key: "migrationCommand",
    says: /non-empty JSON list/,
  },
  {
    name: "build arg with a bad name",
    base: devInput,
    set: { imageBuildArgs: { "BASE IMAGE": "x" } },
    key: "imageBuildArgs",
    says: /build-arg names/,
  },
  {
    name: "registry user without password",
    base: devInput,
    set: { registryUsername: "ci" },
    key: "registryPassword",
    says: /required together with api-stack:registryUsername/,
  },
  {
    name: "rate limit zero",
    base: prodInput,
    set: { rateLimitPerMinute: 0 },
    key: "rateLimitPerMinute",
    says: /from 1 to 100000/,
  },
  {
    name: "platform not supported",
    base: devInput,
    set: { imagePlatform: "windows/amd64" },
    key: "imagePlatform",
    says: /linux\/amd64 or linux\/arm64/,
  },
  // exposure, the Gateway and the preview's host (docs/traffic.md)
  {
    name: "exposure outside the list",
    base: prodInput,
    set: { exposure: "mesh" },
    key: "exposure",
    says: /ingress or gateway/,
  },
  {
    name: "exposure without a host",
    base: prodInput,
    set: { ingressEnabled: false, ingressHost: undefined, exposure: "gateway" },
    key: "exposure",
    says: /must not be set while api-stack:ingressEnabled is false/,
  },
  {
    name: "gateway without its name",
    base: prodInput,
    set: { exposure: "gateway", clusterIssuer: undefined },
    key: "gatewayName",
    says: /required when api-stack:exposure is gateway/,
  },
  {
    name: "gateway with a ClusterIssuer",
    base: prodInput,
    set: { exposure: "gateway", gatewayName: "platform" },
    key: "clusterIssuer",
    says: /must not be set with exposure gateway/,
  },
  {
    name: "gateway with an ingress-nginx rate limit",
    base: prodInput,
    set: { exposure: "gateway", gatewayName: "platform", clusterIssuer: undefined, rateLimitPerMinute: 50 },
    key: "rateLimitPerMinute",
    says: /must not be set with exposure gateway/,
  },
  {
    name: "gateway key with an Ingress",
    base: prodInput,
    set: { gatewayName: "platform" },
    key: "gatewayName",
    says: /must not be set unless api-stack:exposure is gateway/,
  },
  {
    name: "HTTPS listener without TLS",
    base: devInput,
    set: { exposure: "gateway", gatewayName: "platform", gatewayHttpsListener: "secure" },
    key: "gatewayHttpsListener",
    says: /while api-stack:ingressTls is false/,
  },
  {
    name: "preview host without blue-green",
    base: prodInput,
    set: { strategy: "rolling", previewHost: "api-preview.example.com" },
    key: "previewHost",
    says: /must not be set unless api-stack:strategy is blueGreen/,
  },
  {
    name: "preview host the API's own",
    base: prodInput,
    set: { strategy: "blueGreen", previewHost: "api.example.com" },
    key: "previewHost",
    says: /needs a host of its own/,
  },
  {
    name: "preview host not a DNS name",
    base: prodInput,
    set: { strategy: "blueGreen", previewHost: "preview" },
    key: "previewHost",
    says: /DNS name/,
  },
  // canary traffic and the wait for a release
  {
    name: "canary on a Gateway",
    base: prodInput,
    set: {
      strategy: "canary",
      prometheusAddress: "http://prometheus:9090",
      exposure: "gateway",
      gatewayName: "platform",
      clusterIssuer: undefined,
    },
    key: "strategy",
    says: /canary is not available with api-stack:exposure gateway/,
  },
  {
    name: "canary without an Ingress",
    base: prodInput,
    set: {
      strategy: "canary",
      prometheusAddress: "http://prometheus:9090",
      ingressEnabled: false,
      ingressHost: undefined,
    },
    key: "strategy",
    says: /canary shifts traffic on the API's Ingress/,
  },
  {
    name: "canary pause that waits for a human",
    base: prodInput,
    set: {
      strategy: "canary",
      prometheusAddress: "http://prometheus:9090",
      canarySteps: [{ setWeight: 20 }, { pause: {} }],
    },
    key: "canarySteps",
    says: /a duration in s, m or h/,
  },
  {
    name: "canary too short to measure",
    base: prodInput,
    set: {
      strategy: "canary",
      prometheusAddress: "http://prometheus:9090",
      canarySteps: [{ setWeight: 20 }, { pause: { duration: "1m" } }],
    },
    key: "canarySteps",
    says: /must last at least 120 s/,
  },
  {
    name: "release timeout shorter than the canary",
    base: prodInput,
    set: { strategy: "canary", prometheusAddress: "http://prometheus:9090", releaseTimeoutSeconds: 600 },
    key: "releaseTimeoutSeconds",
    says: /600 s is not longer than the pauses of api-stack:canarySteps, 1200 s/,
  },
  // the release analyses and the monitoring they read (docs/traffic.md)
  {
    name: "canary without Prometheus",
    base: prodInput,
    set: { strategy: "canary", prometheusAddress: undefined },
    key: "prometheusAddress",
    says: /is required when api-stack:strategy is canary, for the release analysis/,
  },
  {
    name: "prod's post-promotion analysis without Prometheus",
    base: prodInput,
    set: { prometheusAddress: undefined },
    key: "prometheusAddress",
    says: /is required when api-stack:postPromotionAnalysis is on \(prod's default\)/,
  },
  {
    name: "an analysis that could read no series",
    base: prodInput,
    set: { monitoring: "none" },
    key: "monitoring",
    says: /none leaves Prometheus without the app's series.*or set api-stack:postPromotionAnalysis to false/,
  },
  {
    name: "monitoring outside the list",
    base: devInput,
    set: { monitoring: "prometheus" },
    key: "monitoring",
    says: /one of prometheusOperator, annotations, none/,
  },
  {
    name: "the previous release scaled down before the post-promotion analysis can roll back",
    base: prodInput,
    set: { scaleDownDelaySeconds: 30 },
    key: "scaleDownDelaySeconds",
    says: /must be at least 240 s \(the analysis' 180 s and one interval\)/,
  },
  {
    name: "monitoring labels without the Prometheus Operator",
    base: devInput,
    set: { monitoring: "annotations", monitoringLabels: { release: "prometheus" } },
    key: "monitoringLabels",
    says: /unless api-stack:monitoring is prometheusOperator \(it is annotations\)/,
  },
  {
    name: "monitoring labels that are not labels",
    base: devInput,
    set: { monitoringLabels: { "not a label": "x" } },
    key: "monitoringLabels",
    says: /a JSON object of Kubernetes labels/,
  },
  {
    name: "a smoke command without the smoke test",
    base: prodInput,
    set: { prePromotionAnalysis: false, smokeCommand: ["python", "manage.py", "smoke"] },
    key: "smokeCommand",
    says: /while api-stack:prePromotionAnalysis is false/,
  },
  {
    name: "a latency threshold no quantile of the app's histogram can cross",
    base: prodInput,
    set: { maxLatencyP99Milliseconds: 20_000 },
    key: "maxLatencyP99Milliseconds",
    says: /an integer from 10 to 10000 \(milliseconds; the app's largest latency bucket is 10 s\)/,
  },
  {
    name: "release timeout with a Deployment",
    base: prodInput,
    set: { strategy: "rolling", releaseTimeoutSeconds: 900 },
    key: "releaseTimeoutSeconds",
    says: /must not be set while api-stack:strategy is rolling/,
  },
  // names, labels and prod's refusals (docs/hardening.md)
  {
    name: "app version not a label value",
    base: prodInput,
    set: { appVersion: "1.4.2+build.7" },
    key: "appVersion",
    says: /Kubernetes label value/,
  },
  {
    name: "namespace of the cluster",
    base: prodInput,
    set: { namespace: "kube-system" },
    key: "namespace",
    says: /belongs to the cluster/,
  },
  {
    name: "namespace default",
    base: prodInput,
    set: { namespace: "default" },
    key: "namespace",
    says: /belongs to the cluster/,
  },
  {
    name: "ingress host label over 63 characters",
    base: prodInput,
    set: { ingressHost: `${"a".repeat(64)}.example.com` },
    key: "ingressHost",
    says: /DNS name/,
  },
  {
    name: "plain HTTP in prod",
    base: prodInput,
    set: { ingressTls: false },
    key: "ingressTls",
    says: /false is refused in prod/,
  },
  {
    name: "staging certificate issuer in prod",
    base: prodInput,
    set: { clusterIssuer: "letsencrypt-staging" },
    key: "clusterIssuer",
    says: /refused in prod; a staging issuer/,
  },
  {
    name: "PDB that lets every pod go in prod",
    base: prodInput,
    set: { pdbMaxUnavailable: 3 },
    key: "pdbMaxUnavailable",
    says: /may take every API pod at once/,
  },
  {
    name: "NetworkPolicy off in prod",
    base: prodInput,
    set: { networkPolicyEnabled: false },
    key: "networkPolicyEnabled",
    says: /false is refused in prod/,
  },
  {
    name: "trusted proxies without the NetworkPolicy",
    base: prodInput,
    set: { environment: "staging", networkPolicyEnabled: false, forwardedAllowIps: ["10.0.0.0/8"] },
    key: "forwardedAllowIps",
    says: /must not be set while api-stack:networkPolicyEnabled is false/,
  },
  {
    name: "trusted proxy not an address",
    base: prodInput,
    set: { forwardedAllowIps: ["ingress-nginx"] },
    key: "forwardedAllowIps",
    says: /IP addresses or networks/,
  },
  {
    name: "trusted network with address bits past its prefix (the apps refuse it)",
    base: prodInput,
    set: { forwardedAllowIps: ["10.244.0.5/24"] },
    key: "forwardedAllowIps",
    says: /no address bits past the prefix/,
  },
  {
    name: "egress without the database's port",
    base: prodInput,
    set: { networkEgress: [{ cidr: "10.0.0.0/8", ports: [6380] }] },
    key: "networkEgress",
    says: /no entry allows port 5432 of api-stack:databaseUrl/,
  },
  {
    name: "egress CIDR out of range",
    base: prodInput,
    set: { networkEgress: [{ cidr: "10.0.0.0/33", ports: [5432, 6380] }] },
    key: "networkEgress",
    says: /IPv4 or IPv6 CIDRs/,
  },
  {
    name: "peer label not a label value",
    base: prodInput,
    set: { ingressControllerPeer: { namespace: "ingress", podLabels: { "app.kubernetes.io/name": "-traefik" } } },
    key: "ingressControllerPeer",
    says: /podLabels/,
  },
  {
    name: "metrics on the app's port",
    base: prodInput,
    set: { metricsPort: 8000 },
    key: "metricsPort",
    says: /the app's port/,
  },
  {
    name: "runtime UID of a system user",
    base: prodInput,
    set: { runAsUser: 0 },
    key: "runAsUser",
    says: /from 1000 to/,
  },
  {
    name: "scratch disk limit below request",
    base: prodInput,
    set: { ephemeralStorageLimit: "128Mi" },
    key: "ephemeralStorageLimit",
    says: /limit must be at least the request/,
  },
  {
    name: "Celery soft limit not below hard",
    base: prodInput,
    set: { celeryTaskSoftTimeLimitSeconds: 60 },
    key: "celeryTaskSoftTimeLimitSeconds",
    says: /must be below api-stack:celeryTaskTimeLimitSeconds/,
  },
  {
    name: "Celery visibility timeout within the task limit",
    base: prodInput,
    set: { celeryVisibilityTimeoutSeconds: 60 },
    key: "celeryVisibilityTimeoutSeconds",
    says: /handed to a second worker/,
  },
  {
    name: "statement timeout past the Job's deadline",
    base: prodInput,
    set: { migrationStatementTimeoutSeconds: 600 },
    key: "migrationStatementTimeoutSeconds",
    says: /must be below api-stack:migrationTimeoutSeconds/,
  },
  {
    name: "secret key fallback too short",
    base: prodInput,
    set: { secretKeyFallbacks: "old" },
    key: "secretKeyFallbacks",
    says: /at least 50 characters/,
  },
  {
    name: "secret key among its fallbacks",
    base: prodInput,
    set: { secretKeyFallbacks: TEST_SECRETS.secretKey },
    key: "secretKeyFallbacks",
    says: /holds the current api-stack:secretKey/,
  },
  {
    name: "backup image by tag in prod",
    base: prodInput,
    set: { backupImage: "postgres:16-alpine" },
    key: "backupImage",
    says: /refused in prod; .* pinned by digest/,
  },
  // the platform's controllers keep their namespaces
  {
    name: "namespace of a platform controller",
    base: prodInput,
    set: { namespace: "cert-manager" },
    key: "namespace",
    says: /"cert-manager" is a namespace platform controllers are installed in .* delete it on destroy/,
  },
  {
    name: "namespace of the ingress controller's peer",
    base: prodInput,
    set: { namespace: "ingress", ingressControllerPeer: { namespace: "ingress", podLabels: { app: "traefik" } } },
    key: "namespace",
    says: /"ingress" is the namespace of api-stack:ingressControllerPeer \(the ingress controller's pods\)/,
  },
  {
    name: "derived namespace of the metrics scraper's peer",
    base: prodInput,
    set: { metricsScraperPeer: { namespace: "api-prod", podLabels: { app: "prometheus" } } },
    key: "appName",
    says: /the namespace api-prod derives from it\): "api-prod" is the namespace of api-stack:metricsScraperPeer/,
  },
  {
    name: "namespace of the Gateway",
    base: prodInput,
    set: { exposure: "gateway", gatewayName: "platform", gatewayNamespace: "api-prod", clusterIssuer: undefined },
    key: "appName",
    says: /is the Gateway's \(api-stack:gatewayNamespace\)/,
  },
  {
    name: "Gateway in the stack's own namespace by default",
    base: prodInput,
    set: { exposure: "gateway", gatewayName: "platform", clusterIssuer: undefined },
    key: "gatewayNamespace",
    says: /is required with api-stack:exposure gateway/,
  },
  // prod's connections, keys and origins
  {
    name: "plain-text Redis in prod",
    base: prodInput,
    set: { redisUrl: "redis://:unit-test-redis-password@redis.internal:6379/0" },
    key: "redisUrl",
    says: /\[secret\] is refused in prod: it connects without TLS/,
  },
  {
    name: "Postgres without sslmode in prod (libpq prefers, then falls back to plain text)",
    base: prodInput,
    set: { databaseUrl: "postgresql://app:unit-test-db-password@db.internal:5432/app" },
    key: "databaseUrl",
    says: /refused in prod: it connects without TLS.* sslmode=require/,
  },
  {
    name: "Postgres with sslmode=prefer in prod",
    base: prodInput,
    set: { databaseUrl: "postgresql://app:unit-test-db-password@db.internal:5432/app?sslmode=prefer" },
    key: "databaseUrl",
    says: /refused in prod: it connects without TLS/,
  },
  {
    name: "rediss:// without ssl_cert_reqs (Celery refuses it)",
    base: prodInput,
    set: { environment: "staging", redisUrl: "rediss://:unit-test-redis-password@redis.internal:6380/0" },
    key: "redisUrl",
    says: /without ssl_cert_reqs=required, optional or none; Celery refuses to start with it/,
  },
  {
    name: "database URL without a database (Django refuses it)",
    base: prodInput,
    set: { databaseUrl: "postgresql://app:unit-test-db-password@db.internal:5432?sslmode=verify-full" },
    key: "databaseUrl",
    says: /names its database/,
  },
  {
    name: "secret key of one character repeated",
    base: prodInput,
    set: { secretKey: "k".repeat(64) },
    key: "secretKey",
    says: /\[secret\] is guessable \(about \d+ bits; at least 128 are needed in prod\)/,
  },
  {
    name: "secret key of a two-character alphabet",
    base: prodInput,
    set: { secretKey: "0110100110010110100101100110100110010110011010010110100110010110" },
    key: "secretKey",
    says: /is guessable \(about 64 bits/,
  },
  {
    name: "secret key of dictionary words in staging",
    base: prodInput,
    set: { environment: "staging", secretKey: "correcthorsebatterystaplecorrecthorsebatterystaple" },
    key: "secretKey",
    says: /is guessable .* in staging/,
  },
  {
    name: "secret key fallback that repeats a pattern",
    base: prodInput,
    set: { secretKeyFallbacks: "abc123".repeat(10) },
    key: "secretKeyFallbacks",
    says: /is guessable/,
  },
  {
    name: "no API token",
    base: prodInput,
    set: { apiTokens: undefined },
    key: "apiTokens",
    says: /required for every stack/,
  },
  {
    name: "API token shorter than the apps accept",
    base: prodInput,
    set: { apiTokens: "short-token" },
    key: "apiTokens",
    says: /each at least 32 characters/,
  },
  {
    name: "API token with a character no Authorization header carries",
    base: prodInput,
    set: { apiTokens: `${"c41f7a09e2d86b35f1a0c7e49b2d58f3"}:${"a6e1c09d7b4f2a85e3c6d1f09a7b4e2c"}` },
    key: "apiTokens",
    says: /A-Z a-z 0-9 - \. _ ~ \+ \//,
  },
  {
    name: "second API token guessable",
    base: prodInput,
    set: { apiTokens: `${TEST_SECRETS.apiTokens},${"0123456789".repeat(4)}` },
    key: "apiTokens",
    says: /is guessable \(value 2: about \d+ bits/,
  },
  {
    name: "plain-http CORS origin in prod",
    base: prodInput,
    set: { corsOrigins: ["https://app.example.com", "http://app.example.com"] },
    key: "corsOrigins",
    says: /"http:\/\/app.example.com" refused in prod/,
  },
  // what the apps refuse to start with
  {
    name: "debug in staging",
    base: prodInput,
    set: { environment: "staging", debug: true },
    key: "debug",
    says: /true is refused in staging;.* the apps refuse to start with DEBUG outside development/,
  },
  // Argo Rollouts' install manifest must not change under the stack
  {
    name: "Argo Rollouts manifest from a branch",
    base: prodInput,
    set: {
      argoRolloutsManifest: "https://raw.githubusercontent.com/argoproj/argo-rollouts/master/manifests/install.yaml",
    },
    key: "argoRolloutsManifest",
    says: /cannot change: a local path .* #sha256=<64 hex digits>/,
  },
  {
    name: "Argo Rollouts manifest of the latest release",
    base: prodInput,
    set: { argoRolloutsManifest: "https://github.com/argoproj/argo-rollouts/releases/latest/download/install.yaml" },
    key: "argoRolloutsManifest",
    says: /cannot change/,
  },
  {
    name: "Argo Rollouts manifest with a short digest",
    base: prodInput,
    set: { argoRolloutsManifest: "https://example.com/argo/install.yaml#sha256=0123abcd" },
    key: "argoRolloutsManifest",
    says: /cannot change/,
  },
  {
    name: "Argo Rollouts manifest file missing",
    base: prodInput,
    set: { argoRolloutsManifest: "deploy/argo-rollouts.yaml" },
    key: "argoRolloutsManifest",
    says: /"deploy\/argo-rollouts.yaml" is not a file/,
  },
  // the backup image reads DATABASE_URL: pinned where a signer verifies it
  {
    name: "backup image by tag in staging with a signer",
    base: prodInput,
    set: { environment: "staging", backupEnabled: true, backupImage: "postgres:16-alpine" },
    key: "backupImage",
    says: /refused with a signer; .* pinned by digest/,
  },
  // prod deploys only the image CI built once and signed: no build, no unsigned image
  {
    name: "prod without an image",
    base: prodInput,
    set: { imageRef: undefined },
    key: "imageRef",
    says: new RegExp(
      "is required in prod, which deploys only the image CI built once and signed, by digest .* " +
        "Run `pulumi config set imageRef <value>`",
    ),
  },
  {
    name: "prod building its image",
    base: prodInput,
    set: { imageRepository: "registry.example.com/platform/api" },
    key: "imageRepository",
    says: new RegExp(
      "must not be set in prod, which deploys only the image CI built once and signed, by digest .*, " +
        "never a rebuild\\. Run `pulumi config rm imageRepository`",
    ),
  },
  {
    name: "prod building on a base of its own",
    base: prodInput,
    set: { imageBuildArgs: { BASE_IMAGE: "python:3.12-slim" } },
    key: "imageBuildArgs",
    says: /must not be set in prod/,
  },
  {
    name: "prod pushing with registry credentials",
    base: prodInput,
    set: { registryUsername: "ci", registryPassword: TEST_SECRETS.registryPassword },
    secret: ["registryPassword"],
    key: "registryPassword",
    says: /must not be set in prod/,
  },
  {
    name: "prod without a signer",
    base: prodInput,
    set: { imageSignerIdentity: undefined },
    key: "imageSignerIdentity",
    says: /required in prod, which deploys only images \(api-stack:imageRef, api-stack:rollbackTo\) verified as signed/,
  },
  {
    name: "two signers",
    base: prodInput,
    set: { imageSignerKey: "package.json" },
    key: "imageSignerKey",
    says: /not both/,
  },
  {
    name: "signer key file missing",
    base: prodInput,
    set: { imageSignerIdentity: undefined, imageSignerKey: "keys/missing.pub" },
    key: "imageSignerKey",
    says: /is not a file/,
  },
  {
    name: "issuer without an identity",
    base: prodInput,
    set: { imageSignerIdentity: undefined, imageSignerIssuer: "https://issuer.example.com" },
    key: "imageSignerIssuer",
    says: /must not be set without api-stack:imageSignerIdentity/,
  },
  {
    name: "signer identity not an https URI",
    base: prodInput,
    set: { imageSignerIdentity: "deploy.yml@refs/heads/main" },
    key: "imageSignerIdentity",
    says: /the certificate identity of the workflow/,
  },
];

describe("stack config validation", () => {
  it("accepts the dev and prod stack files (prod with its secrets set)", () => {
    assert.deepEqual(errorsOf(devInput()), []);
    assert.deepEqual(errorsOf(prodInput()), []);
  });

  it("fills defaults and derives the namespace", () => {
    const result = validateConfig(raw(prodInput()));
    assert.ok(result.ok);
    const { args } = result.config;
    assert.equal(args.namespace, "api-prod");
    assert.ok(args.ingress?.kind === "ingress");
    assert.equal(args.ingress.rateLimitPerMinute, 100);
    assert.deepEqual(args.api.resources, {
      requests: { cpu: "250m", memory: "256Mi" },
      limits: { cpu: "500m", memory: "512Mi" },
    });
    assert.deepEqual(args.autoscaling, {
      minReplicas: 3,
      maxReplicas: 20,
      cpuUtilization: 70,
      stabilizationSeconds: { scaleUp: 60, scaleDown: 300 },
    });
    assert.equal(args.ingress.tls?.clusterIssuer, "letsencrypt-prod");
  });

  it("checks prod's promotions against Prometheus by default, keeping the previous release to roll back to", () => {
    const prod = validateConfig(raw(prodInput()));
    assert.ok(prod.ok);
    const delivery = prod.config.args.delivery;
    assert.ok(delivery.strategy === "blueGreen");
    assert.deepEqual(delivery.postPromotionAnalysis, {
      prometheusAddress: "http://prometheus-operated.monitoring.svc:9090",
      maxErrorRatio: 0.05,
      maxLatencyP99Seconds: 1,
    });
    assert.equal(delivery.scaleDownDelaySeconds, 240);
    assert.deepEqual(delivery.prePromotionAnalysis, { command: ["python", "-m", "app.smoke"] });
    assert.deepEqual(prod.config.args.monitoring, {
      kind: "prometheusOperator",
      selectorLabels: { release: "kube-prometheus-stack" },
      alerts: { maxErrorRatio: 0.05, maxLatencyP99Seconds: 1 },
    });
    const dev = validateConfig(raw(withConfig(devInput(), { strategy: "blueGreen" })));
    assert.ok(dev.ok);
    assert.ok(dev.config.args.delivery.strategy === "blueGreen");
    assert.equal(dev.config.args.delivery.postPromotionAnalysis, undefined);
    assert.equal(dev.config.args.delivery.scaleDownDelaySeconds, 30);
  });

  it("hands the apps ENVIRONMENT in their own spelling", () => {
    for (const [environment, expected] of [
      ["dev", "development"],
      ["staging", "staging"],
      ["prod", "production"],
    ]) {
      const result = validateConfig(raw(withConfig(prodInput(), { environment })));
      assert.ok(result.ok, environment);
      assert.equal(result.config.args.settings.environment, expected);
    }
  });

  it("passes the Kubernetes provider's kubeconfig (as a secret) and context on to the release reader", () => {
    const result = validateConfig(
      raw(withRaw(prodInput(), { "kubernetes:kubeconfig": "/etc/kube/prod", "kubernetes:context": "prod" })),
    );
    assert.ok(result.ok);
    assert.equal(String(result.config.cluster.kubeconfig), "[secret]");
    assert.equal(result.config.cluster.context, "prod");
  });

  it("lists what the prod stack file leaves to the operator (its secrets) and to each release (the image)", () => {
    const errors = errorsOf(readStackFile("prod"));
    const keyOf = (e: string) => /^(api-stack:\w+)/.exec(e)?.[1];
    assert.deepEqual(errors.map(keyOf).sort(), [
      "api-stack:apiTokens",
      "api-stack:databaseUrl",
      "api-stack:imageRef",
      "api-stack:redisUrl",
      "api-stack:secretKey",
    ]);
    for (const error of errors) {
      assert.ok(
        error.includes(
          keyOf(error) === "api-stack:imageRef" ? "pulumi config set imageRef" : "pulumi config set --secret",
        ),
        error,
      );
    }
  });

  it("reports several problems together", () => {
    const errors = errorsOf(withConfig(prodInput(), { replicas: "x", cpuLimit: "1m", appName: "Bad Name" }));
    assert.equal(errors.length, 3, errors.join("\n"));
  });

  it("never echoes a secret value in an error", () => {
    const errors = errorsOf(withConfig(prodInput(), { secretKey: "hunter2-is-too-short" }, ["secretKey"]));
    assert.equal(errors.length, 1);
    assert.ok(!errors[0].includes("hunter2"), errors[0]);
    assert.match(errors[0], /\[secret\]/);
  });

  it("warns, without refusing, of staging's plain-text connections and prod's unchecked TLS", () => {
    const staging = validateConfig(
      raw(withConfig(prodInput(), { environment: "staging", redisUrl: "redis://redis.internal:6379/0" }, ["redisUrl"])),
    );
    assert.ok(staging.ok);
    assert.deepEqual(staging.warnings, [
      "api-stack:redisUrl: connects without TLS; prod refuses that. " +
        "Use rediss:// with ssl_cert_reqs=required (or none: encrypted, the server unchecked).",
    ]);
    const unchecked = "postgresql://app:unit-test-db-password@db.internal:5432/app?sslmode=require";
    const prod = validateConfig(raw(withConfig(prodInput(), { databaseUrl: unchecked }, ["databaseUrl"])));
    assert.ok(prod.ok);
    assert.match(
      prod.warnings.join("\n"),
      /api-stack:databaseUrl: encrypted, but the server's certificate is not checked/,
    );
    assert.ok(!prod.warnings.join("\n").includes("unit-test-db-password"));
  });

  it("ignores keys of other namespaces (providers, pulumi)", () => {
    assert.deepEqual(errorsOf(withRaw(prodInput(), { "kubernetes:context": "kind-dev" })), []);
  });

  describe(`rejects ${INVALID.length} invalid configurations before any resource is registered`, () => {
    for (const row of INVALID) {
      it(row.name, async () => {
        const input = withConfig(row.base(), row.set as Record<string, string>, row.secret ?? Object.keys(row.set));
        const errors = errorsOf(input);
        const mine = errors.filter((e) => new RegExp(`^${PROJECT}:${row.key}\\b`).test(e));
        assert.equal(mine.length, 1, `expected one error naming ${row.key}, got:\n${errors.join("\n")}`);
        assert.match(mine[0], row.says);

        const run = await execute(input);
        assert.ok(run.error, "the program must fail");
        assert.match(run.error.message, /Invalid stack configuration/);
        assert.ok(run.error.message.includes(`${PROJECT}:${row.key}`));
        assert.deepEqual(
          run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack").map((r) => r.key),
          [],
        );
      });
    }
  });
});

function withRaw(input: StackInput, extra: Record<string, string>): StackInput {
  return { ...input, values: { ...input.values, ...extra } };
}
