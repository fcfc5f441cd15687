// Turns the raw stack config (strings keyed "project:key", as Pulumi hands them to a program)
// into a typed StackConfig, or into every problem found at once. Pure: no Pulumi runtime,
// so tests and the CLI entry point share it.
import * as fs from "node:fs";
import { isDeepStrictEqual } from "node:util";
import * as path from "node:path";
import type { z } from "zod";
import { KEYS, type KeyName, type KeySpec } from "./keys";
import { parseQuantity } from "./quantity";
import { SecretValue } from "./secret";
import { MAX_REVIEWERS } from "./github-patterns";
import type { DeliveryConfig, GithubConfig, StackConfig } from "./types";

export interface RawConfig {
  /** Config as Pulumi passes it: "project:key" -> string value (JSON for lists and objects). */
  values: Record<string, string>;
  /** Full keys ("project:key") whose values were stored encrypted. */
  secretKeys: ReadonlySet<string>;
  project: string;
  stack: string;
  /** Directory that relative paths in config are resolved against (the project root). */
  projectDir: string;
}

export type ValidationResult = { ok: true; config: StackConfig } | { ok: false; errors: string[] };

type Values = { [K in KeyName]?: z.infer<(typeof KEYS)[K]["schema"]> };

const BUILD_KEYS = [
  "imageRepository",
  "imageContext",
  "imageDockerfile",
  "imageTarget",
  "imagePlatform",
  "imageBuildArgs",
  "registryUsername",
  "registryPassword",
] as const satisfies readonly KeyName[];

export function validateConfig(raw: RawConfig): ValidationResult {
  const errors: string[] = [];
  const full = (key: string) => `${raw.project}:${key}`;
  const values: Values = {};
  const given = new Set<KeyName>();
  const invalid = new Set<KeyName>();

  for (const [fullKey, text] of Object.entries(raw.values)) {
    const [namespace, ...rest] = fullKey.split(":");
    if (namespace !== raw.project) {
      continue; // provider and pulumi: keys belong to others
    }
    const key = rest.join(":");
    if (!(key in KEYS)) {
      errors.push(`${fullKey} is not a known key${suggest(key)}. Known keys: see \`pulumi config\` or the README.`);
      continue;
    }
    const name = key as KeyName;
    const spec: KeySpec = KEYS[name];
    given.add(name);
    if (spec.secret && !raw.secretKeys.has(fullKey)) {
      errors.push(
        `${fullKey} is stored in plaintext; it must be a secret. ` +
          `Run \`pulumi config set --secret ${key} <value>\` (expected ${spec.allowed}).`,
      );
      invalid.add(name);
      continue;
    }
    const parsed = parseText(spec, text);
    const result = parsed.ok ? spec.schema.safeParse(parsed.value) : undefined;
    if (!result?.success) {
      const shown = spec.secret ? "[secret]" : JSON.stringify(text);
      errors.push(`${fullKey}: ${shown} is not allowed; expected ${spec.allowed}.`);
      invalid.add(name);
      continue;
    }
    (values as Record<string, unknown>)[name] = result.data;
  }

  // The CLI fills every default declared in Pulumi.yaml into the config it hands over, so a
  // value equal to its default cannot be told from one left unset: count it as unset.
  for (const name of given) {
    const spec: KeySpec = KEYS[name];
    if ("default" in spec && !invalid.has(name) && isDeepStrictEqual(values[name], spec.default)) {
      given.delete(name);
    }
  }

  for (const [name, spec] of Object.entries(KEYS) as [KeyName, KeySpec][]) {
    if (!given.has(name) && "default" in spec) {
      (values as Record<string, unknown>)[name] = structuredClone(spec.default);
    }
  }

  // Cross-field rules. A rule is skipped when a key it reads was itself invalid, so every
  // message is about a real conflict, not an echo of a parse error.
  const usable = (...keys: KeyName[]) => keys.every((k) => !invalid.has(k));
  const need = (key: KeyName, why: string) => {
    if (values[key] === undefined && usable(key)) {
      const spec: KeySpec = KEYS[key];
      const how = spec.secret ? `pulumi config set --secret ${key} <value>` : `pulumi config set ${key} <value>`;
      errors.push(`${full(key)} is required ${why}: expected ${spec.allowed}. Run \`${how}\`.`);
    }
  };
  const refuse = (key: KeyName, why: string) => {
    if (given.has(key)) {
      errors.push(`${full(key)} must not be set ${why}. Run \`pulumi config rm ${key}\`.`);
    }
  };
  const v = values;

  for (const [name, spec] of Object.entries(KEYS) as [KeyName, KeySpec][]) {
    if (spec.required) {
      need(name, "for every stack");
    }
  }

  for (const [request, limit] of [
    ["cpuRequest", "cpuLimit"],
    ["memoryRequest", "memoryLimit"],
  ] as const) {
    if (usable(request, limit) && parseQuantity(v[limit]!)! < parseQuantity(v[request]!)!) {
      errors.push(
        `${full(limit)}: "${v[limit]}" is below ${full(request)} "${v[request]}"; a limit must be at least the request.`,
      );
    }
  }

  if (usable("preStopSleepSeconds", "terminationGracePeriodSeconds") &&
      v.preStopSleepSeconds! >= v.terminationGracePeriodSeconds!) {
    errors.push(
      `${full("preStopSleepSeconds")}: ${v.preStopSleepSeconds} leaves no time to drain; it must be less than ` +
        `${full("terminationGracePeriodSeconds")} (${v.terminationGracePeriodSeconds}).`,
    );
  }

  if (v.hpaEnabled && usable("hpaMinReplicas", "hpaMaxReplicas", "replicas")) {
    if (v.hpaMinReplicas! > v.hpaMaxReplicas!) {
      errors.push(
        `${full("hpaMinReplicas")}: ${v.hpaMinReplicas} is above ${full("hpaMaxReplicas")} (${v.hpaMaxReplicas}); ` +
          `the minimum must not exceed the maximum.`,
      );
    } else if (v.replicas! < v.hpaMinReplicas! || v.replicas! > v.hpaMaxReplicas!) {
      errors.push(
        `${full("replicas")}: ${v.replicas} is outside the HPA range ${v.hpaMinReplicas}..${v.hpaMaxReplicas} ` +
          `(${full("hpaMinReplicas")}..${full("hpaMaxReplicas")}); the starting count must lie within it.`,
      );
    }
  }

  if (given.has("imageRef")) {
    for (const key of BUILD_KEYS) {
      refuse(key, `together with ${full("imageRef")}: a prebuilt image is not built or pushed`);
    }
  } else {
    need("imageRepository", "to push the built image (or set imageRef to deploy a prebuilt one)");
    if (usable("imageContext", "imageDockerfile")) {
      const context = path.resolve(raw.projectDir, v.imageContext!);
      if (!isDirectory(context)) {
        errors.push(`${full("imageContext")}: "${v.imageContext}" is not a directory (resolved to ${context}).`);
      } else if (!isFile(path.resolve(context, v.imageDockerfile!))) {
        errors.push(
          `${full("imageDockerfile")}: "${v.imageDockerfile}" is not a file in the build context ${context}.`,
        );
      }
    }
  }
  if (given.has("registryUsername") !== given.has("registryPassword")) {
    const missing: KeyName = given.has("registryUsername") ? "registryPassword" : "registryUsername";
    need(missing, `together with ${full(missing === "registryPassword" ? "registryUsername" : "registryPassword")}`);
  }

  if (v.ingressEnabled) {
    need("ingressHost", `when ${full("ingressEnabled")} is true`);
  } else {
    refuse("ingressHost", `while ${full("ingressEnabled")} is false (did you mean to enable the Ingress?)`);
  }

  if (v.devServicesEnabled) {
    need("devPostgresPassword", `when ${full("devServicesEnabled")} is true`);
    refuse("databaseUrl", `while ${full("devServicesEnabled")} provides Postgres`);
    refuse("redisUrl", `while ${full("devServicesEnabled")} provides Redis`);
  } else {
    need("databaseUrl", `unless ${full("devServicesEnabled")} is true`);
    need("redisUrl", `unless ${full("devServicesEnabled")} is true`);
    refuse("devPostgresPassword", `while ${full("devServicesEnabled")} is false`);
  }

  const BLUE_GREEN_KEYS = ["promote", "autoPromote", "scaleDownDelaySeconds", "prePromotionAnalysis", "postPromotionAnalysis"] as const;
  for (const key of BLUE_GREEN_KEYS) {
    if (v.strategy !== "blueGreen" && usable("strategy")) {
      refuse(key, `unless ${full("strategy")} is blueGreen (it is ${v.strategy})`);
    }
  }
  if (v.strategy !== "canary" && usable("strategy")) {
    refuse("canarySteps", `unless ${full("strategy")} is canary (it is ${v.strategy})`);
  }
  if (v.strategy === "canary") {
    need("prometheusAddress", `when ${full("strategy")} is canary, for the error-rate analysis`);
    if (usable("canarySteps")) {
      const weights = v.canarySteps!.flatMap((step) => ("setWeight" in step ? [step.setWeight] : []));
      if (weights.some((weight, i) => i > 0 && weight <= weights[i - 1])) {
        errors.push(`${full("canarySteps")}: weights ${weights.join(", ")} must increase from step to step.`);
      }
    }
  }
  if (v.strategy === "blueGreen" && v.postPromotionAnalysis) {
    need("prometheusAddress", `when ${full("postPromotionAnalysis")} is true`);
  }
  if (given.has("prometheusAddress") && !(v.strategy === "canary" || v.postPromotionAnalysis)) {
    refuse("prometheusAddress", "while no analysis uses it (strategy canary, or blueGreen with postPromotionAnalysis)");
  }
  if (given.has("argoRolloutsManifest") && v.strategy === "rolling") {
    refuse("argoRolloutsManifest", `while ${full("strategy")} is rolling (no Rollout needs it)`);
  }
  if (v.backupEnabled && v.devServicesEnabled) {
    errors.push(`${full("backupEnabled")}: true is refused with ${full("devServicesEnabled")}; the in-cluster dev database is disposable.`);
  }

  const githubKeys = (Object.keys(KEYS) as KeyName[]).filter((key) => key.startsWith("github") && key !== "githubEnabled");
  if (v.githubEnabled) {
    for (const key of ["githubOwner", "githubRepository", "githubPulumiAccessToken", "githubDevKubeconfig", "githubProdKubeconfig"] as const) {
      need(key, `when ${full("githubEnabled")} is true`);
    }
    const reviewers = (v.githubProdReviewerTeams?.length ?? 0) + (v.githubProdReviewerUsers?.length ?? 0);
    if (usable("githubProdReviewerTeams", "githubProdReviewerUsers") && (reviewers < 1 || reviewers > MAX_REVIEWERS)) {
      errors.push(
        `${full("githubProdReviewerUsers")} and ${full("githubProdReviewerTeams")}: ${reviewers} reviewers in all; ` +
          `prod needs 1 to ${MAX_REVIEWERS} (numeric ids), or nothing gates a prod deployment.`,
      );
    }
  } else {
    for (const key of githubKeys) {
      refuse(key, `while ${full("githubEnabled")} is false`);
    }
  }

  if (v.environment === "prod") {
    if (v.debug) {
      errors.push(`${full("debug")}: true is refused in prod; debug mode leaks stack traces and settings.`);
    }
    if (v.devServicesEnabled) {
      errors.push(
        `${full("devServicesEnabled")}: true is refused in prod; use managed Postgres/Redis via databaseUrl and redisUrl.`,
      );
    }
    if (v.autoPromote) {
      errors.push(
        `${full("autoPromote")}: true is refused in prod; promote each release with \`pulumi config set promote <release id>\`.`,
      );
    }
  }

  if (errors.length > 0) {
    return { ok: false, errors };
  }
  return { ok: true, config: assemble(raw, v) };
}

function assemble(raw: RawConfig, v: Values): StackConfig {
  const secret = (text: string | undefined) => (text === undefined ? undefined : new SecretValue(text));
  const appName = v.appName!;
  const environment = v.environment!;
  const context = path.resolve(raw.projectDir, v.imageContext!);
  return {
    project: raw.project,
    stack: raw.stack,
    environment,
    appName,
    appVersion: v.appVersion!,
    namespace: v.namespace ?? `${appName}-${environment}`,
    image: v.imageRef
      ? { kind: "prebuilt", ref: v.imageRef }
      : {
          kind: "build",
          context,
          dockerfile: path.resolve(context, v.imageDockerfile!),
          target: v.imageTarget!,
          platform: v.imagePlatform!,
          buildArgs: v.imageBuildArgs!,
          repository: v.imageRepository!,
          registry: v.registryUsername
            ? {
                server: v.imageRepository!.split("/")[0],
                username: v.registryUsername,
                password: new SecretValue(v.registryPassword!),
              }
            : undefined,
        },
    rollbackTo: v.rollbackTo,
    delivery: delivery(v),
    argoRolloutsManifest:
      v.argoRolloutsManifest === undefined || v.argoRolloutsManifest.startsWith("https://")
        ? v.argoRolloutsManifest
        : path.resolve(raw.projectDir, v.argoRolloutsManifest),
    api: {
      replicas: v.replicas!,
      resources: {
        requests: { cpu: v.cpuRequest!, memory: v.memoryRequest! },
        limits: { cpu: v.cpuLimit!, memory: v.memoryLimit! },
      },
      terminationGracePeriodSeconds: v.terminationGracePeriodSeconds!,
      preStopSleepSeconds: v.preStopSleepSeconds!,
    },
    migration: v.migrationsEnabled
      ? { command: v.migrationCommand!, timeoutSeconds: v.migrationTimeoutSeconds! }
      : undefined,
    backup: v.backupEnabled ? { image: v.backupImage!, storage: v.backupStorage! } : undefined,
    worker: v.workerEnabled ? { command: v.workerCommand!, replicas: v.workerReplicas! } : undefined,
    settings: {
      debug: v.debug!,
      corsOrigins: v.corsOrigins!,
      dbPoolSize: v.dbPoolSize!,
      dbMaxOverflow: v.dbMaxOverflow!,
      accessTokenExpireMinutes: v.accessTokenExpireMinutes!,
      refreshTokenExpireDays: v.refreshTokenExpireDays!,
      otelExporterOtlpEndpoint: v.otelExporterOtlpEndpoint,
    },
    secrets: {
      secretKey: new SecretValue(v.secretKey!),
      databaseUrl: secret(v.databaseUrl),
      redisUrl: secret(v.redisUrl),
      sentryDsn: secret(v.sentryDsn),
    },
    ingress: v.ingressEnabled
      ? {
          host: v.ingressHost!,
          className: v.ingressClassName!,
          tls: v.ingressTls ? { clusterIssuer: v.clusterIssuer!, secretName: `${appName}-tls` } : undefined,
          rateLimitPerMinute: v.rateLimitPerMinute!,
          waitForAddress: v.ingressWaitForAddress!,
        }
      : undefined,
    autoscaling: v.hpaEnabled
      ? {
          minReplicas: v.hpaMinReplicas!,
          maxReplicas: v.hpaMaxReplicas!,
          cpuUtilization: v.hpaCpuUtilization!,
          memoryUtilization: v.hpaMemoryUtilization!,
        }
      : undefined,
    pdb: { maxUnavailable: v.pdbMaxUnavailable! },
    devServices: v.devServicesEnabled
      ? {
          postgres: {
            image: v.postgresImage!,
            storage: v.postgresStorage!,
            password: new SecretValue(v.devPostgresPassword!),
          },
          redis: { image: v.redisImage! },
        }
      : undefined,
    github: v.githubEnabled ? github(v) : undefined,
    renderYamlTo: v.renderYamlTo === undefined ? undefined : path.resolve(raw.projectDir, v.renderYamlTo),
  };
}

function github(v: Values): GithubConfig {
  const secret = (text: string | undefined) => (text === undefined ? undefined : new SecretValue(text));
  const stack = (stackName: string, kubeconfig: string, preview?: string, passphrase?: string) => ({
    stackName,
    kubeconfig: new SecretValue(kubeconfig),
    previewKubeconfig: secret(preview),
    configPassphrase: secret(passphrase),
  });
  return {
    owner: v.githubOwner!,
    repository: v.githubRepository!,
    defaultBranch: v.githubDefaultBranch!,
    token: secret(v.githubToken),
    pulumiAccessToken: new SecretValue(v.githubPulumiAccessToken!),
    pulumiBackendUrl: v.githubPulumiBackendUrl,
    prodReviewers: { teams: v.githubProdReviewerTeams ?? [], users: v.githubProdReviewerUsers ?? [] },
    prodWaitTimerMinutes: v.githubProdWaitTimerMinutes!,
    requiredApprovals: v.githubRequiredApprovals!,
    enforceAdmins: v.githubEnforceAdmins!,
    stacks: {
      dev: stack(v.githubDevStackName!, v.githubDevKubeconfig!, v.githubDevPreviewKubeconfig, v.githubDevConfigPassphrase),
      prod: stack(v.githubProdStackName!, v.githubProdKubeconfig!, v.githubProdPreviewKubeconfig, v.githubProdConfigPassphrase),
    },
  };
}

function delivery(v: Values): DeliveryConfig {
  const analysis = () => ({ prometheusAddress: v.prometheusAddress!, maxErrorRatio: v.maxErrorRatePercent! / 100 });
  switch (v.strategy!) {
    case "rolling":
      return { strategy: "rolling" };
    case "blueGreen":
      return {
        strategy: "blueGreen",
        promote: v.promote,
        autoPromote: v.autoPromote!,
        scaleDownDelaySeconds: v.scaleDownDelaySeconds!,
        prePromotionAnalysis: v.prePromotionAnalysis!,
        postPromotionAnalysis: v.postPromotionAnalysis ? analysis() : undefined,
      };
    case "canary":
      return { strategy: "canary", steps: v.canarySteps!, analysis: analysis() };
  }
}

/** Pulumi hands every value over as a string; the key's kind says how to read it. */
function parseText(spec: KeySpec, text: string): { ok: true; value: unknown } | { ok: false } {
  switch (spec.kind) {
    case "string":
      return { ok: true, value: text };
    case "integer":
      return /^-?\d+$/.test(text.trim()) ? { ok: true, value: Number(text) } : { ok: false };
    case "boolean":
      return text === "true" || text === "false" ? { ok: true, value: text === "true" } : { ok: false };
    case "array":
    case "object":
      try {
        return { ok: true, value: JSON.parse(text) };
      } catch {
        return { ok: false };
      }
  }
}

function suggest(key: string): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const known of Object.keys(KEYS)) {
    const distance = editDistance(key.toLowerCase(), known.toLowerCase());
    if (distance < bestDistance) {
      best = known;
      bestDistance = distance;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(key.length / 4)) ? ` (did you mean ${best}?)` : "";
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

function isDirectory(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

function isFile(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
}
