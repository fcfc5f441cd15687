// The cross-field rules of stack config, as a list: each says in one sentence what it requires
// (docs/config.md lists them) and checks it against the values that parsed. Rules run after
// every key has been parsed on its own; a rule does not speak about a key that was itself
// invalid, so every message is about a real conflict, not an echo of a parse error.
import * as path from "node:path";
import { analysisCheckSeconds, postPromotionScaleDownDelaySeconds, RELEASE_ANALYSIS } from "../components/api/delivery";
import { imageLocation, registryServes } from "../components/image/reference";
import { HARDENING_RULES } from "./hardening-rules";
import { KEYS, type KeyName, type KeySpec, type Values } from "./keys";
import { parseQuantity } from "./quantity";
import { isDirectory, isFile, type Rule } from "./rule";

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

const BLUE_GREEN_KEYS = [
  "promote",
  "autoPromote",
  "scaleDownDelaySeconds",
  "prePromotionAnalysis",
  "smokeCommand",
  "postPromotionAnalysis",
  "previewHost",
] as const;

/** Whether blue-green releases get the post-promotion check: postPromotionAnalysis, on by default in prod. */
export const postPromotionOn = (v: Partial<Values>) =>
  v.strategy === "blueGreen" && (v.postPromotionAnalysis ?? v.environment === "prod");
/** Whether a release is analysed in Prometheus: every canary, and blue-green with the post-promotion check. */
const analysed = (v: Partial<Values>) => v.strategy === "canary" || postPromotionOn(v);
/**
 * scaleDownDelaySeconds, or its default: 30 s for in-flight requests, or long enough for the
 * post-promotion check to roll back to the previous release.
 */
export const scaleDownDelayOf = (v: Partial<Values>) =>
  v.scaleDownDelaySeconds ?? (postPromotionOn(v) ? postPromotionScaleDownDelaySeconds() : 30);

const INGRESS_ONLY_KEYS = [
  "ingressClassName",
  "clusterIssuer",
  "rateLimitPerMinute",
] as const satisfies readonly KeyName[];
const GATEWAY_KEYS = [
  "gatewayName",
  "gatewayNamespace",
  "gatewayHttpListener",
  "gatewayHttpsListener",
] as const satisfies readonly KeyName[];

/** Seconds of an Argo duration such as "90s", "5m", "1h" (keys.ts DURATION). */
const seconds = (duration: string) =>
  Number(duration.slice(0, -1)) * { s: 1, m: 60, h: 3600 }[duration.slice(-1) as "s" | "m" | "h"];

const REQUIRED = (Object.entries(KEYS) as [KeyName, KeySpec][])
  .filter(([, spec]) => spec.required)
  .map(([name]) => name);

const limitCoversRequest = (
  request: "cpuRequest" | "memoryRequest" | "ephemeralStorageRequest",
  limit: "cpuLimit" | "memoryLimit" | "ephemeralStorageLimit",
): Rule => ({
  rule: `${limit} is at least ${request}.`,
  keys: [request, limit],
  check: ({ v, usable, full }) =>
    usable(request, limit) && parseQuantity(v[limit]!)! < parseQuantity(v[request]!)!
      ? [
          `${full(limit)}: "${v[limit]}" is below ${full(request)} "${v[request]}"; ` +
            "a limit must be at least the request.",
        ]
      : [],
});

/** The image this update deploys: a rollback's, a prebuilt one, or the repository a build is pushed to. */
export const appImage = (v: Partial<Values>): string | undefined => v.rollbackTo ?? v.imageRef ?? v.imageRepository;

/** Two keys that mean something only as a pair, such as a user and its password. */
const setTogether = (a: KeyName, b: KeyName): Rule => ({
  rule: `${a} and ${b} are set together.`,
  keys: [a, b],
  check: ({ given, need, full }) =>
    given(a) === given(b) ? [] : given(a) ? need(b, `together with ${full(a)}`) : need(a, `together with ${full(b)}`),
});

const refusedInProd = (key: "devServicesEnabled" | "autoPromote", why: string): Rule => ({
  rule: `prod refuses ${key} = true.`,
  keys: ["environment", key],
  check: ({ v, full }) => (v.environment === "prod" && v[key] ? [`${full(key)}: true is refused in prod; ${why}`] : []),
});

export const RULES: readonly Rule[] = [
  {
    rule: `Every stack sets ${REQUIRED.join(", ")}.`,
    keys: REQUIRED,
    check: ({ need }) => REQUIRED.flatMap((key) => need(key, "for every stack")),
  },
  limitCoversRequest("cpuRequest", "cpuLimit"),
  limitCoversRequest("memoryRequest", "memoryLimit"),
  limitCoversRequest("ephemeralStorageRequest", "ephemeralStorageLimit"),
  {
    rule: "preStopSleepSeconds is less than terminationGracePeriodSeconds, so a pod has time to drain.",
    keys: ["preStopSleepSeconds", "terminationGracePeriodSeconds"],
    check: ({ v, usable, full }) =>
      usable("preStopSleepSeconds", "terminationGracePeriodSeconds") &&
      v.preStopSleepSeconds! >= v.terminationGracePeriodSeconds!
        ? [
            `${full("preStopSleepSeconds")}: ${v.preStopSleepSeconds} leaves no time to drain; it must be less than ` +
              `${full("terminationGracePeriodSeconds")} (${v.terminationGracePeriodSeconds}).`,
          ]
        : [],
  },
  {
    rule: "With the HPA on, hpaMinReplicas ≤ hpaMaxReplicas, and replicas is not set: the HPA owns the count.",
    keys: ["hpaEnabled", "hpaMinReplicas", "hpaMaxReplicas", "replicas"],
    check: ({ v, usable, refuse, full }) => {
      if (!v.hpaEnabled) {
        return [];
      }
      const problems = usable("replicas")
        ? refuse(
            "replicas",
            `while ${full("hpaEnabled")} is true: the HPA owns the count, ` +
              `between ${full("hpaMinReplicas")} and ${full("hpaMaxReplicas")}`,
          )
        : [];
      if (usable("hpaMinReplicas", "hpaMaxReplicas") && v.hpaMinReplicas! > v.hpaMaxReplicas!) {
        problems.push(
          `${full("hpaMinReplicas")}: ${v.hpaMinReplicas} is above ${full("hpaMaxReplicas")} (${v.hpaMaxReplicas}); ` +
            `the minimum must not exceed the maximum.`,
        );
      }
      return problems;
    },
  },
  {
    rule:
      `imageRef excludes the build keys (${BUILD_KEYS.join(", ")}); ` +
      "without it, imageRepository is required and imageContext/imageDockerfile must exist. " +
      "prod requires imageRef and refuses the build keys: it deploys the image CI built once and signed, " +
      "never a rebuild.",
    keys: ["environment", "imageRef", ...BUILD_KEYS],
    check: ({ v, given, usable, full, need, refuse, projectDir }) => {
      if (v.environment === "prod") {
        const why =
          "in prod, which deploys only the image CI built once and signed, " +
          `by digest (${full("imageRef")}), never a rebuild`;
        return [
          ...need("imageRef", `${why}; the release workflow sets it from the build`),
          ...BUILD_KEYS.filter((key) => usable(key)).flatMap((key) => refuse(key, why)),
        ];
      }
      if (given("imageRef")) {
        return BUILD_KEYS.flatMap((key) =>
          refuse(key, `together with ${full("imageRef")}: a prebuilt image is not built or pushed`),
        );
      }
      const problems = need("imageRepository", "to push the built image (or set imageRef to deploy a prebuilt one)");
      if (usable("imageContext", "imageDockerfile")) {
        const context = path.resolve(projectDir, v.imageContext!);
        if (!isDirectory(context)) {
          problems.push(`${full("imageContext")}: "${v.imageContext}" is not a directory (resolved to ${context}).`);
        } else if (!isFile(path.resolve(context, v.imageDockerfile!))) {
          problems.push(
            `${full("imageDockerfile")}: "${v.imageDockerfile}" is not a file in the build context ${context}.`,
          );
        }
      }
      return problems;
    },
  },
  setTogether("registryUsername", "registryPassword"),
  setTogether("imagePullUsername", "imagePullPassword"),
  {
    rule:
      "imagePullRegistry only with imagePullUsername, and it serves the app's image (rollbackTo, imageRef or " +
      "imageRepository): its registry host, or a path prefix of it.",
    keys: ["imagePullRegistry", "imagePullUsername", "rollbackTo", "imageRef", "imageRepository"],
    check: ({ v, given, usable, refuse, full }) => {
      if (!given("imagePullUsername")) {
        return refuse("imagePullRegistry", `without ${full("imagePullUsername")} (it says where that user logs in)`);
      }
      const image = appImage(v);
      if (!usable("imagePullRegistry") || v.imagePullRegistry === undefined || image === undefined) {
        return [];
      }
      const { host, path: imagePath } = imageLocation(image);
      return registryServes(v.imagePullRegistry, image)
        ? []
        : [
            `${full("imagePullRegistry")}: "${v.imagePullRegistry}" does not serve the app's image ${image}, whose ` +
              `pods would then pull without the login; expected ${host}, or ${host}/ and a prefix of ${imagePath}.`,
          ];
    },
  },
  {
    rule: "ingressHost is set exactly when ingressEnabled is true.",
    keys: ["ingressEnabled", "ingressHost"],
    check: ({ v, need, refuse, full }) =>
      v.ingressEnabled
        ? need("ingressHost", `when ${full("ingressEnabled")} is true`)
        : refuse("ingressHost", `while ${full("ingressEnabled")} is false (did you mean to enable the Ingress?)`),
  },
  {
    rule:
      "previewHost needs ingressEnabled and differs from ingressHost; " +
      "exposure gateway needs gatewayName and refuses the Ingress-only keys " +
      `(${INGRESS_ONLY_KEYS.join(", ")}); the gateway keys (${GATEWAY_KEYS.join(", ")}) only with exposure gateway, ` +
      "gatewayHttpsListener only with ingressTls.",
    keys: [
      "ingressEnabled",
      "ingressHost",
      "previewHost",
      "exposure",
      "ingressTls",
      ...INGRESS_ONLY_KEYS,
      ...GATEWAY_KEYS,
    ],
    check: ({ v, given, need, refuse, full }) => {
      const problems: string[] = [];
      if (given("previewHost") && !v.ingressEnabled) {
        problems.push(
          ...refuse(
            "previewHost",
            `while ${full("ingressEnabled")} is false (the preview gets a host beside the API's)`,
          ),
        );
      } else if (v.previewHost !== undefined && v.previewHost === v.ingressHost) {
        problems.push(
          `${full("previewHost")}: "${v.previewHost}" is ${full("ingressHost")} too; ` +
            "the preview needs a host of its own.",
        );
      }
      if (given("exposure") && !v.ingressEnabled) {
        problems.push(...refuse("exposure", `while ${full("ingressEnabled")} is false (nothing is exposed)`));
      }
      if (v.exposure === "gateway") {
        const why =
          "with exposure gateway: the platform's Gateway serves the host (TLS on its listener, " +
          "no ingress-nginx annotations)";
        problems.push(...(v.ingressEnabled ? need("gatewayName", `when ${full("exposure")} is gateway`) : []));
        problems.push(...INGRESS_ONLY_KEYS.flatMap((key) => refuse(key, why)));
        if (!v.ingressTls) {
          problems.push(
            ...refuse(
              "gatewayHttpsListener",
              `while ${full("ingressTls")} is false (the route serves plain HTTP on gatewayHttpListener)`,
            ),
          );
        }
      } else {
        problems.push(...GATEWAY_KEYS.flatMap((key) => refuse(key, `unless ${full("exposure")} is gateway`)));
      }
      return problems;
    },
  },
  {
    rule:
      "devServicesEnabled needs devPostgresPassword and excludes databaseUrl and redisUrl; " +
      "without it, databaseUrl and redisUrl are required.",
    keys: ["devServicesEnabled", "devPostgresPassword", "databaseUrl", "redisUrl"],
    check: ({ v, need, refuse, full }) =>
      v.devServicesEnabled
        ? [
            ...need("devPostgresPassword", `when ${full("devServicesEnabled")} is true`),
            ...refuse("databaseUrl", `while ${full("devServicesEnabled")} provides Postgres`),
            ...refuse("redisUrl", `while ${full("devServicesEnabled")} provides Redis`),
          ]
        : [
            ...need("databaseUrl", `unless ${full("devServicesEnabled")} is true`),
            ...need("redisUrl", `unless ${full("devServicesEnabled")} is true`),
            ...refuse("devPostgresPassword", `while ${full("devServicesEnabled")} is false`),
          ],
  },
  {
    rule: `${BLUE_GREEN_KEYS.join(", ")} only with strategy blueGreen; canarySteps only with strategy canary.`,
    keys: ["strategy", ...BLUE_GREEN_KEYS, "canarySteps"],
    check: ({ v, usable, refuse, full }) => {
      if (!usable("strategy")) {
        return [];
      }
      const unless = (strategy: string) => `unless ${full("strategy")} is ${strategy} (it is ${v.strategy})`;
      return [
        ...(v.strategy !== "blueGreen" ? BLUE_GREEN_KEYS.flatMap((key) => refuse(key, unless("blueGreen"))) : []),
        ...(v.strategy !== "canary" ? refuse("canarySteps", unless("canary")) : []),
      ];
    },
  },
  {
    rule:
      "canary needs an Ingress (ingressEnabled, exposure ingress); " +
      "its setWeight steps increase, and its pauses from the first setWeight on last at least " +
      `${(RELEASE_ANALYSIS.initialDelaySeconds + RELEASE_ANALYSIS.intervalSeconds) / 60} minutes, ` +
      "so the analysis measures the canary's own traffic before it can pass.",
    keys: ["strategy", "ingressEnabled", "exposure", "canarySteps"],
    check: ({ v, usable, full }) => {
      if (v.strategy !== "canary") {
        return [];
      }
      const problems: string[] = [];
      if (!v.ingressEnabled) {
        problems.push(
          `${full("strategy")}: canary shifts traffic on the API's Ingress (Argo Rollouts' NGINX router), ` +
            `and ${full("ingressEnabled")} is false; expose the API (ingressEnabled, ingressHost), ` +
            "or use strategy blueGreen.",
        );
      } else if (v.exposure === "gateway") {
        problems.push(
          `${full("strategy")}: canary is not available with ${full("exposure")} gateway: ` +
            "Argo Rollouts routes Gateway API traffic only through its Gateway API plugin " +
            "(rollouts-plugin-trafficrouter-gatewayapi), which this program does not install or configure. " +
            "Use exposure ingress (Argo's NGINX router: ingress-nginx, or Traefik's NGINX provider), " +
            "or strategy blueGreen, which works with a Gateway.",
        );
      }
      if (usable("canarySteps")) {
        const steps = v.canarySteps!;
        const weights = steps.flatMap((step) => ("setWeight" in step ? [step.setWeight] : []));
        if (weights.some((weight, i) => i > 0 && weight <= weights[i - 1])) {
          problems.push(`${full("canarySteps")}: weights ${weights.join(", ")} must increase from step to step.`);
        }
        // The background analysis ends with the steps and passes when it has measured nothing.
        const measured = steps
          .slice(steps.findIndex((step) => "setWeight" in step))
          .reduce((sum, step) => sum + ("pause" in step ? seconds(step.pause.duration) : 0), 0);
        const needed = RELEASE_ANALYSIS.initialDelaySeconds + RELEASE_ANALYSIS.intervalSeconds;
        if (measured < needed) {
          problems.push(
            `${full("canarySteps")}: the pauses after the first setWeight last ${measured} s; ` +
              `they must last at least ${needed} s, ` +
              "so the analysis measures the canary's traffic before the release can complete.",
          );
        }
      }
      return problems;
    },
  },
  {
    rule:
      "releaseTimeoutSeconds only with strategy blueGreen or canary, and longer than the canary pauses or the " +
      "post-promotion analysis.",
    keys: ["environment", "strategy", "releaseTimeoutSeconds", "canarySteps", "postPromotionAnalysis"],
    check: ({ v, usable, refuse, full }) => {
      if (v.strategy === "rolling") {
        return refuse(
          "releaseTimeoutSeconds",
          `while ${full("strategy")} is rolling (the provider waits for a Deployment itself)`,
        );
      }
      if (!usable("releaseTimeoutSeconds", "canarySteps")) {
        return [];
      }
      const [planned, what] =
        v.strategy === "canary"
          ? [
              v.canarySteps!.reduce((sum, step) => sum + ("pause" in step ? seconds(step.pause.duration) : 0), 0),
              `the pauses of ${full("canarySteps")}`,
            ]
          : postPromotionOn(v)
            ? [analysisCheckSeconds(), `the post-promotion analysis (${full("postPromotionAnalysis")})`]
            : [0, ""];
      return planned >= v.releaseTimeoutSeconds!
        ? [
            `${full("releaseTimeoutSeconds")}: ${v.releaseTimeoutSeconds} s is not longer than ` +
              `${what}, ${planned} s, so \`pulumi up\` would give up on every release; raise it well above that.`,
          ]
        : [];
    },
  },
  {
    rule:
      "The release analyses (strategy canary; blueGreen with postPromotionAnalysis, on by default in prod) " +
      "need prometheusAddress and monitoring other than none. A stack file may name its Prometheus whatever " +
      "the strategy (prod's does).",
    keys: ["environment", "strategy", "postPromotionAnalysis", "prometheusAddress", "monitoring"],
    check: ({ v, given, need, full }) => {
      if (!analysed(v)) {
        return [];
      }
      const on = given("postPromotionAnalysis") ? "set" : "prod's default";
      const why =
        v.strategy === "canary"
          ? `when ${full("strategy")} is canary`
          : `when ${full("postPromotionAnalysis")} is on (${on})`;
      return [
        ...need("prometheusAddress", `${why}, for the release analysis`),
        ...(v.monitoring === "none"
          ? [
              `${full("monitoring")}: none leaves Prometheus without the app's series, and the release analysis ` +
                `${why} would never decide; choose prometheusOperator or annotations` +
                (v.strategy === "canary" ? "." : `, or set ${full("postPromotionAnalysis")} to false.`),
            ]
          : []),
      ];
    },
  },
  {
    rule:
      "With the post-promotion analysis, scaleDownDelaySeconds is at least " +
      `${postPromotionScaleDownDelaySeconds()}: the previous release still runs when the analysis rolls back to it.`,
    keys: ["environment", "strategy", "postPromotionAnalysis", "scaleDownDelaySeconds"],
    check: ({ v, given, full }) => {
      const needed = postPromotionScaleDownDelaySeconds();
      return postPromotionOn(v) && given("scaleDownDelaySeconds") && v.scaleDownDelaySeconds! < needed
        ? [
            `${full("scaleDownDelaySeconds")}: ${v.scaleDownDelaySeconds} s scales the previous release down before ` +
              `the post-promotion analysis (${full("postPromotionAnalysis")}) can roll back to it; ` +
              `it must be at least ${needed} s (the analysis' ${analysisCheckSeconds()} s and one interval), ` +
              "or unset.",
          ]
        : [];
    },
  },
  {
    rule: "monitoringLabels only with monitoring prometheusOperator; smokeCommand only with prePromotionAnalysis.",
    keys: ["monitoring", "monitoringLabels", "prePromotionAnalysis", "smokeCommand"],
    check: ({ v, refuse, full }) => [
      ...(v.monitoring !== "prometheusOperator"
        ? refuse("monitoringLabels", `unless ${full("monitoring")} is prometheusOperator (it is ${v.monitoring})`)
        : []),
      ...(v.prePromotionAnalysis === false
        ? refuse("smokeCommand", `while ${full("prePromotionAnalysis")} is false (no smoke test runs)`)
        : []),
    ],
  },
  {
    rule: "argoRolloutsManifest is refused with strategy rolling.",
    keys: ["strategy", "argoRolloutsManifest"],
    check: ({ v, given, refuse, full }) =>
      given("argoRolloutsManifest") && v.strategy === "rolling"
        ? refuse("argoRolloutsManifest", `while ${full("strategy")} is rolling (no Rollout needs it)`)
        : [],
  },
  {
    rule: "backupEnabled is refused with devServicesEnabled.",
    keys: ["backupEnabled", "devServicesEnabled"],
    check: ({ v, full }) =>
      v.backupEnabled && v.devServicesEnabled
        ? [
            `${full("backupEnabled")}: true is refused with ${full("devServicesEnabled")}; ` +
              "the in-cluster dev database is disposable.",
          ]
        : [],
  },
  {
    rule: "staging and prod refuse debug = true, as both apps do at start-up.",
    keys: ["environment", "debug"],
    check: ({ v, full }) =>
      v.environment !== "dev" && v.debug
        ? [
            `${full("debug")}: true is refused in ${v.environment}; debug mode leaks stack traces and settings, ` +
              "and the apps refuse to start with DEBUG outside development.",
          ]
        : [],
  },
  refusedInProd("devServicesEnabled", "use managed Postgres/Redis via databaseUrl and redisUrl."),
  refusedInProd("autoPromote", "promote each release with `pulumi config set promote <release id>`."),
  ...HARDENING_RULES,
];
