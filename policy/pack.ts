// Wires the rules into policies: which environments each checks, at which enforcement level,
// which rendered objects the stack's policy config exempts, and what else that config may change.
// index.ts hands `policies()` to the PolicyPack.
//
// This module deliberately does not import @pulumi/policy, not even its types: the unit tests
// (run from the repository root, without the pack's own node_modules) load it to check the
// wiring, and index.ts, compiled with the pack's tsconfig, checks that these shapes are the
// ones @pulumi/policy expects.
import { ENVIRONMENTS, environmentOf, type Environment } from "./environment";
import { kubeType, nameOfUrn, renderedBy } from "./kube";
import type { Fields, Props } from "./read";
import { RULES, type Level, type Rule, type StackResource, type StackRule } from "./rules";

/**
 * Lets a policy skip objects that a yaml, helm or kustomize component rendered from a manifest or
 * chart this project does not author (or a Helm Release itself, for visible-objects). Nothing the
 * program registers itself can be exempt.
 */
export interface Exemption {
  /** The rendering component (the object's parent): its resource name, or its whole URN. */
  component: string;
  /** Only objects of these kinds ("Deployment", "CustomResourceDefinition"); every kind when left out. */
  kinds?: string[];
  /** Why: shown in the preview's not-applicable reason. */
  reason: string;
}

/** One policy's entry in `--policy-pack-config` JSON (or the level alone, as a string). */
export interface PolicyConfig {
  enforcementLevel?: Level;
  /** The environments whose objects the policy checks; others are "not applicable". */
  environments?: Environment[];
  /** Rendered objects this policy skips; none by default. */
  exempt?: Exemption[];
  /** availability only: the fewest replicas a serving workload may have. */
  minReplicas?: number;
  /** gateway-tls only: `<namespace>/<gateway>/<listener>` of listeners outside the stack known to serve HTTPS. */
  httpsListeners?: string[];
}

/** `--policy-pack-config` JSON: policy name (or "all") to its config. */
export type PackConfig = Record<string, Level | PolicyConfig>;

export interface RuleSettings {
  enforcementLevel: Level;
  environments: readonly Environment[];
  exempt: readonly Exemption[];
  minReplicas: number;
  httpsListeners: readonly string[];
}

const DEFAULT_MIN_REPLICAS = 2;

/**
 * A rule's effective settings under a pack config, as the CLI resolves them: the policy's own
 * entry over "all" (which carries the level only) over the rule's defaults.
 */
export function settingsFor(rule: Rule, config: PackConfig = {}): RuleSettings {
  const entry = (value: Level | PolicyConfig | undefined): PolicyConfig =>
    typeof value === "string" ? { enforcementLevel: value } : (value ?? {});
  const all = entry(config.all);
  const own = entry(config[rule.name]);
  return {
    enforcementLevel: own.enforcementLevel ?? all.enforcementLevel ?? rule.enforcementLevel,
    environments: own.environments ?? rule.environments,
    exempt: own.exempt ?? [],
    minReplicas: own.minReplicas ?? DEFAULT_MIN_REPLICAS,
    httpsListeners: own.httpsListeners ?? [],
  };
}

export interface Finding {
  policy: string;
  enforcementLevel: Exclude<Level, "disabled">;
  message: string;
  urn?: string;
}

/** The exemption that covers a rendered object, if any. */
function exemptionFor(resource: StackResource, exempt: readonly Exemption[]): Exemption | undefined {
  const component = renderedBy(resource);
  if (component === undefined) {
    return undefined;
  }
  const kind = kubeType(resource.type)?.kind;
  return exempt.find(
    (e) =>
      (e.component === component || e.component === nameOfUrn(component)) &&
      (e.kinds === undefined || (kind !== undefined && e.kinds.includes(kind))),
  );
}

/** Why a rule skips an object, or undefined when it checks it. */
function skipReason(resource: StackResource, settings: RuleSettings): string | undefined {
  const environment = environmentOf(resource.type, resource.props, resource.urn);
  if (!settings.environments.includes(environment)) {
    return `checks ${settings.environments.join(", ")} objects; this one is ${environment}`;
  }
  const exemption = exemptionFor(resource, settings.exempt);
  if (exemption) {
    return `exempt by the policy config as rendered by ${nameOfUrn(renderedBy(resource)!)}: ${exemption.reason}`;
  }
  return undefined;
}

/**
 * A violation's message, and for a rendered object where it comes from: the fix is then in the
 * manifest or chart, which the project's config keys named in the message do not reach.
 */
function describe(message: string, resource: StackResource | undefined): string {
  const component = resource && renderedBy(resource);
  if (!component) {
    return message;
  }
  return (
    `${message} [rendered by ${nameOfUrn(component)}: change its manifest or chart values, ` +
    "or exempt it in this policy's config (docs/policy.md, Exemptions)]"
  );
}

/** A stack rule's violations over the resources in its scope, described. */
function stackFindings(rule: StackRule, resources: StackResource[], settings: RuleSettings) {
  const inScope = resources.filter((resource) => skipReason(resource, settings) === undefined);
  const byUrn = new Map(resources.map((resource) => [resource.urn, resource]));
  return rule
    .check(inScope, { ...settings, registered: resources })
    .map(({ message, urn }) => ({ message: describe(message, byUrn.get(urn)), urn }));
}

/**
 * Every violation the pack would report for these resources, exactly as the engine would: the
 * same scoping, levels and messages. Tests run it over whole stacks.
 */
export function evaluate(resources: StackResource[], config: PackConfig = {}): Finding[] {
  const findings: Finding[] = [];
  for (const rule of RULES) {
    const settings = settingsFor(rule, config);
    if (settings.enforcementLevel === "disabled") {
      continue;
    }
    const enforcementLevel = settings.enforcementLevel;
    if (rule.kind === "resource") {
      for (const resource of resources.filter((r) => skipReason(r, settings) === undefined)) {
        for (const message of rule.check(resource.type, resource.props)) {
          findings.push({
            policy: rule.name,
            enforcementLevel,
            message: describe(message, resource),
            urn: resource.urn,
          });
        }
      }
    } else {
      for (const violation of stackFindings(rule, resources, settings)) {
        findings.push({ policy: rule.name, enforcementLevel, ...violation });
      }
    }
  }
  return findings;
}

// --- the shapes @pulumi/policy calls with (the parts the pack uses) ---------------------------

export interface ResourceValidationArgs {
  type: string;
  props: Props;
  urn: string;
  opts: { parent?: string };
  getConfig<T extends object>(): T;
  notApplicable(reason?: string): never;
}

export interface StackValidationArgs {
  resources: { type: string; props: Props; urn: string; opts: { parent?: string } }[];
  getConfig<T extends object>(): T;
  notApplicable(reason?: string): never;
}

export type ReportViolation = (message: string, urn?: string) => void;

interface PolicyBase {
  name: string;
  description: string;
  enforcementLevel: Exclude<Level, "disabled">;
  configSchema: { properties: Record<string, Fields> };
}

export interface ResourcePolicy extends PolicyBase {
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => void;
}

export interface StackPolicy extends PolicyBase {
  validateStack: (args: StackValidationArgs, report: ReportViolation) => void;
}

const OPTION_SCHEMAS: Record<"minReplicas" | "httpsListeners", Fields> = {
  minReplicas: {
    type: "integer",
    minimum: 1,
    default: DEFAULT_MIN_REPLICAS,
    description: "The fewest replicas (HPA minReplicas, or replicas without an HPA) a serving workload may have.",
  },
  httpsListeners: {
    type: "array",
    items: { type: "string", pattern: "^[^/\\s]+/[^/\\s]+/[^/\\s]+$" },
    uniqueItems: true,
    default: [],
    description:
      "Gateway listeners this stack does not create but routes attach to, known to serve HTTPS with a certificate, " +
      "as <namespace>/<gateway>/<listener>.",
  },
};

function configSchema(rule: Rule): PolicyBase["configSchema"] {
  const properties: Record<string, Fields> = {
    environments: {
      type: "array",
      items: { type: "string", enum: [...ENVIRONMENTS] },
      uniqueItems: true,
      default: [...rule.environments],
      description:
        "Environments whose objects this policy checks. An object's environment is the strictest of its stack's " +
        "(from the stack name; prod when the name says none) and its app.kubernetes.io/instance label's " +
        "(<appName>-<environment>).",
    },
    exempt: {
      type: "array",
      default: [],
      description:
        "Objects rendered by a yaml, helm or kustomize component that this policy skips, " +
        "by the component's name or URN and optionally by kind, each with the reason. Objects the program " +
        "registers itself are never exempt.",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["component", "reason"],
        properties: {
          component: { type: "string", minLength: 1 },
          kinds: { type: "array", items: { type: "string", minLength: 1 }, minItems: 1, uniqueItems: true },
          reason: { type: "string", minLength: 1 },
        },
      },
    },
  };
  if (rule.kind === "stack") {
    for (const option of rule.options) {
      properties[option] = OPTION_SCHEMAS[option];
    }
  }
  return { properties };
}

/** The engine passes a policy its own config without the enforcement level; the level is the engine's. */
function configuredSettings(rule: Rule, config: PolicyConfig): RuleSettings {
  return { ...settingsFor(rule, { [rule.name]: config }), enforcementLevel: rule.enforcementLevel };
}

export function policies(): (ResourcePolicy | StackPolicy)[] {
  return RULES.map((rule): ResourcePolicy | StackPolicy => {
    const base = {
      name: rule.name,
      description: rule.description,
      enforcementLevel: rule.enforcementLevel,
      configSchema: configSchema(rule),
    };
    if (rule.kind === "resource") {
      return {
        ...base,
        validateResource: (args, report) => {
          const settings = configuredSettings(rule, args.getConfig<PolicyConfig>());
          const resource = { type: args.type, props: args.props, urn: args.urn, parent: args.opts.parent };
          const reason = skipReason(resource, settings);
          if (reason) {
            args.notApplicable(reason);
          }
          rule.check(args.type, args.props).forEach((message) => report(describe(message, resource)));
        },
      };
    }
    return {
      ...base,
      validateStack: (args, report) => {
        const settings = configuredSettings(rule, args.getConfig<PolicyConfig>());
        // opts.parent, the URN: the resource's `parent` is filled in only when the parent is in the list too.
        const resources = args.resources.map(({ type, props, urn, opts }) => ({
          type,
          props,
          urn,
          parent: opts.parent,
        }));
        stackFindings(rule, resources, settings).forEach(({ message, urn }) => report(message, urn));
      },
    };
  });
}
