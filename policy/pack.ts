// Wires the rules into policies: which environments each checks, at which enforcement level,
// and what the stack's policy config may change. index.ts hands `policies()` to the PolicyPack.
//
// This module deliberately does not import @pulumi/policy, not even its types: the unit tests
// (run from the repository root, without the pack's own node_modules) load it to check the
// wiring, and index.ts, compiled with the pack's tsconfig, checks that these shapes are the
// ones @pulumi/policy expects.
import { ENVIRONMENTS, environmentOf, fromThirdPartyManifest, type Environment, type Props } from "./kube";
import { RULES, type Level, type Rule, type StackResource } from "./rules";

/** One policy's entry in `--policy-pack-config` JSON (or the level alone, as a string). */
export interface PolicyConfig {
  enforcementLevel?: Level;
  /** The environments whose objects the policy checks; others are "not applicable". */
  environments?: Environment[];
  /** availability only: the fewest replicas a serving workload may have. */
  minReplicas?: number;
}

/** `--policy-pack-config` JSON: policy name (or "all") to its config. */
export type PackConfig = Record<string, Level | PolicyConfig>;

export interface RuleSettings {
  enforcementLevel: Level;
  environments: readonly Environment[];
  minReplicas: number;
}

const DEFAULT_MIN_REPLICAS = 2;

/**
 * A rule's effective settings under a pack config, as the CLI resolves them: the policy's own
 * entry over "all" over the rule's defaults.
 */
export function settingsFor(rule: Rule, config: PackConfig = {}): RuleSettings {
  const entry = (value: Level | PolicyConfig | undefined): PolicyConfig =>
    typeof value === "string" ? { enforcementLevel: value } : (value ?? {});
  const all = entry(config.all);
  const own = entry(config[rule.name]);
  return {
    enforcementLevel: own.enforcementLevel ?? all.enforcementLevel ?? rule.enforcementLevel,
    environments: own.environments ?? rule.environments,
    minReplicas: own.minReplicas ?? DEFAULT_MIN_REPLICAS,
  };
}

export interface Finding {
  policy: string;
  enforcementLevel: Exclude<Level, "disabled">;
  message: string;
  urn?: string;
}

/** Why a rule skips an object, or undefined when it checks it. */
function skipReason(resource: StackResource, environments: readonly Environment[]): string | undefined {
  if (fromThirdPartyManifest(resource.urn)) {
    return "rendered from a third-party manifest";
  }
  const environment = environmentOf(resource.type, resource.props, resource.urn);
  if (!environments.includes(environment)) {
    return `checks ${environments.join(", ")} objects; this one is ${environment}`;
  }
  return undefined;
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
    const inScope = resources.filter((resource) => skipReason(resource, settings.environments) === undefined);
    if (rule.kind === "resource") {
      for (const resource of inScope) {
        for (const message of rule.check(resource.type, resource.props)) {
          findings.push({ policy: rule.name, enforcementLevel, message, urn: resource.urn });
        }
      }
    } else {
      for (const violation of rule.check(inScope, settings)) {
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
  getConfig<T extends object>(): T;
  notApplicable(reason?: string): never;
}

export interface StackValidationArgs {
  resources: { type: string; props: Props; urn: string }[];
  getConfig<T extends object>(): T;
  notApplicable(reason?: string): never;
}

export type ReportViolation = (message: string, urn?: string) => void;

interface PolicyBase {
  name: string;
  description: string;
  enforcementLevel: Exclude<Level, "disabled">;
  configSchema: { properties: Record<string, Props> };
}

export interface ResourcePolicy extends PolicyBase {
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => void;
}

export interface StackPolicy extends PolicyBase {
  validateStack: (args: StackValidationArgs, report: ReportViolation) => void;
}

function configSchema(rule: Rule): PolicyBase["configSchema"] {
  const properties: Record<string, Props> = {
    environments: {
      type: "array",
      items: { type: "string", enum: [...ENVIRONMENTS] },
      uniqueItems: true,
      default: [...rule.environments],
      description:
        "Environments whose objects this policy checks. An object's environment comes from its " +
        "app.kubernetes.io/instance label (<appName>-<environment>), else the stack name, else prod.",
    },
  };
  if (rule.kind === "stack") {
    properties.minReplicas = {
      type: "integer",
      minimum: 1,
      default: DEFAULT_MIN_REPLICAS,
      description: "The fewest replicas (HPA minReplicas, or replicas without an HPA) a serving workload may have.",
    };
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
          const reason = skipReason(args, settings.environments);
          if (reason) {
            args.notApplicable(reason);
          }
          rule.check(args.type, args.props).forEach((message) => report(message));
        },
      };
    }
    return {
      ...base,
      validateStack: (args, report) => {
        const settings = configuredSettings(rule, args.getConfig<PolicyConfig>());
        const inScope = args.resources.filter((resource) => skipReason(resource, settings.environments) === undefined);
        rule.check(inScope, settings).forEach(({ message, urn }) => report(message, urn));
      },
    };
  });
}
