// The component package's inputs, and how they become ApiStackArgs. Its properties are the
// program's stack config keys (config/keys.ts), under the same names and with the same meaning,
// so the flat surface the stack config already is (enums for the strategy and the exposure,
// imageRef or the build keys for the image) is the package's too. They are checked by the
// program's own rules: each key's schema, then the cross-field rules (config/rules.ts), then the
// mapping onto ApiStackArgs (config/args.ts); nothing is written twice.
import { isDeepStrictEqual } from "node:util";
import { programConfig, type ConfigSource, type ProgramConfig } from "../config/args";
import { KEYS, type KeyName, type KeySpec, type Values } from "../config/keys";
import type { RuleContext } from "../config/rule";
import { RULES } from "../config/rules";

/** Keys that are the program's business, not a component's, and what a component takes instead. */
const PROGRAM_ONLY = {
  renderYamlTo: "render mode is a Kubernetes provider's setting: pass ApiStack a provider with renderYamlToDirectory",
} as const satisfies Partial<Record<KeyName, string>>;

export type PropertyName = Exclude<KeyName, keyof typeof PROGRAM_ONLY>;

/** The input properties of the component, in the key table's order. */
export const PROPERTIES = (Object.keys(KEYS) as KeyName[]).filter((key): key is PropertyName => !(key in PROGRAM_ONLY));

/** One input as the provider host handed it over, its Outputs resolved. */
export interface ResolvedInput {
  /** Undefined when not known. */
  value: unknown;
  /** Known now: false for a value another resource computes, in a preview. */
  known: boolean;
  /** The value, or any part of it, is a Pulumi secret. */
  secret: boolean;
}

export type ArgsResult = { ok: true; config: ProgramConfig } | { ok: false; problems: string[] };

const isProperty = (name: string): name is PropertyName => PROPERTIES.includes(name as PropertyName);
const SECRET_PROPERTIES = PROPERTIES.filter((name) => (KEYS[name] as KeySpec).secret);

/**
 * Checks every input, then the rules between them, and maps them onto the program's config;
 * reports every problem at once, each naming the property, the value (never a secret's) and
 * what is allowed. `source` is the consuming stack: its project, stack and directory (relative
 * paths resolve against it) and its config (kubernetes:kubeconfig and kubernetes:context say
 * which cluster the live release is read from, as for the program).
 */
export function componentConfig(inputs: Record<string, ResolvedInput>, source: ConfigSource): ArgsResult {
  const problems: string[] = [];
  const values: Partial<Values> = {};
  const given = new Set<KeyName>();
  const invalid = new Set<KeyName>();

  for (const [name, input] of Object.entries(inputs)) {
    if (!isProperty(name)) {
      const instead = PROGRAM_ONLY[name as keyof typeof PROGRAM_ONLY];
      problems.push(`${name} is not a property of ApiStack${instead ? `: ${instead}` : ""}.`);
      continue;
    }
    const spec: KeySpec = KEYS[name];
    if (input.known && input.value === undefined) {
      continue;
    }
    given.add(name);
    const checked = checkInput(name, spec, input);
    if ("problem" in checked) {
      problems.push(checked.problem);
      invalid.add(name);
      continue;
    }
    (values as Record<string, unknown>)[name] = checked.value;
  }

  // As for stack config: a value equal to its default counts as unset in the rules between keys,
  // because the generated SDKs, like the CLI, may send a default the user never wrote.
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

  const context: RuleContext = {
    v: values,
    given: (key) => given.has(key),
    usable: (...keys) => keys.every((key) => !invalid.has(key)),
    full: (key) => key,
    need: (key, why) =>
      values[key] !== undefined || invalid.has(key)
        ? []
        : [`${key} is required ${why}: expected ${(KEYS[key] as KeySpec).allowed}.`],
    refuse: (key, why) => (given.has(key) ? [`${key} must not be set ${why}.`] : []),
    projectDir: source.projectDir,
    stack: source.stack,
  };
  for (const rule of RULES) {
    problems.push(...rule.check(context));
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config: programConfig(values as Values, source) };
}

function checkInput(name: PropertyName, spec: KeySpec, input: ResolvedInput): { value: unknown } | { problem: string } {
  const problem = (text: string) => ({ problem: text });
  if (!input.known) {
    return problem(
      `${name} is not known before the update (another resource computes it): ApiStack checks every ` +
        "input before it registers anything, so pass a value known at preview, such as stack config.",
    );
  }
  // YAML and the generated SDKs send these as secrets on their own; a program that registers the
  // component by its type name, without an SDK, might not.
  if (spec.secret && !input.secret) {
    return problem(
      `${name} must reach ApiStack as a Pulumi secret, or the state would hold it unencrypted: ` +
        "wrap it in pulumi.secret where the component is registered without a generated SDK.",
    );
  }
  if (!spec.secret && input.secret) {
    return problem(
      `${name} is a Pulumi secret, but ApiStack writes it in plain text (object names, labels, ConfigMaps, ` +
        `the state): pass it unencrypted; only ${SECRET_PROPERTIES.join(", ")} are secrets.`,
    );
  }
  const parsed = spec.schema.safeParse(input.value);
  if (!parsed.success) {
    const shown = spec.secret ? "[secret]" : JSON.stringify(input.value);
    return problem(`${name}: ${shown} is not allowed; expected ${spec.allowed}.`);
  }
  return { value: parsed.data };
}
