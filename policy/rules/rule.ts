// What a rule is: a plain function from a resource's type and properties (or a whole stack's
// resources) to violation messages, with the name, level and environments the pack registers it
// under. Each message says what to change and, where this project has one, which stack config key
// changes it (config/keys.ts), so a failed preview reads as a to-do list.
//
// Kinds are matched by API group and kind, whatever the version, and Patch resources are checked
// like the objects they patch, for what they set: a field a patch leaves out keeps the value of
// the object it patches (whose creator the rules judged), one it sets to null asks for its
// removal, and one it sets to a weaker value weakens it. So a rule that requires a field blames a
// patch only for removing or weakening it, never for leaving it out, except where leaving it out
// cannot be told from adding something new (a container, a webhook: see pods.ts and cluster.ts).
import type { Environment } from "../environment";
import type { Props } from "../read";

export type Level = "mandatory" | "advisory" | "disabled";

interface RuleBase {
  /** Policy name, as configured with --policy-pack-config. */
  name: string;
  description: string;
  /** The level this rule enforces at unless the stack's policy config says otherwise. */
  enforcementLevel: Exclude<Level, "disabled">;
  /** Environments whose objects the rule checks, unless the policy config's `environments` says otherwise. */
  environments: readonly Environment[];
}

export interface ResourceRule extends RuleBase {
  kind: "resource";
  check(type: string, props: Props): string[];
}

export interface StackResource {
  type: string;
  props: Props;
  urn?: string;
  /** The URN of the resource's parent (a component), which tells what rendered it. */
  parent?: string;
}

export interface StackViolation {
  message: string;
  /** The object at fault; none for a problem of the stack as a whole. */
  urn?: string;
}

/** What a stack rule may be configured with (policy config) and look things up in. */
export interface StackContext {
  /** availability: the fewest replicas a serving workload may have. */
  minReplicas: number;
  /** gateway-tls: `<namespace>/<gateway>/<listener>` of listeners, outside the stack, known to serve HTTPS. */
  httpsListeners: readonly string[];
  /** Every resource the stack registers, in the rule's scope or not: facts to look things up in. */
  registered?: readonly StackResource[];
}

export interface StackRule extends RuleBase {
  kind: "stack";
  /** The policy config this rule takes beyond `environments` and `exempt`. */
  options: readonly ("minReplicas" | "httpsListeners")[];
  check(resources: StackResource[], context: StackContext): StackViolation[];
}

export type Rule = ResourceRule | StackRule;

export const ALL: readonly Environment[] = ["dev", "staging", "prod"];
export const PROD: readonly Environment[] = ["prod"];

/** A stack config key as messages name it: `api-stack:replicas`. */
export const key = (name: string): string => `api-stack:${name}`;

/**
 * Whether a field that must hold a strong value fails: missing from a whole object, or, in what
 * is judged for what it sets (a patch), set to null (removed) or to a weaker value. Leaving it
 * out of a partial object passes.
 */
export function fails(partial: boolean, value: unknown, strong: (value: unknown) => boolean): boolean {
  if (value === undefined) {
    return !partial;
  }
  return value === null || !strong(value);
}
