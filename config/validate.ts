// Turns the raw stack config (strings keyed "project:key", as Pulumi hands them to a program)
// into the program's typed config, or into every problem found at once: each key on its own
// (config/keys.ts), then the cross-field rules (config/rules.ts). Pure: no Pulumi runtime, so
// tests and the CLI entry point share it.
import { isDeepStrictEqual } from "node:util";
import { programConfig, type ProgramConfig } from "./args";
import type { StackConfig } from "./load";
import { KEYS, type KeyName, type KeySpec, type Values } from "./keys";
import { RULES } from "./rules";
import type { RuleContext } from "./rule";

export interface RawConfig extends StackConfig {
  /** Directory that relative paths in config are resolved against (the project root). */
  projectDir: string;
}

/** The config, or every problem; `warnings` are what the rules let pass but the operator should know. */
export type ValidationResult =
  { ok: true; config: ProgramConfig; warnings: string[] } | { ok: false; errors: string[]; warnings: string[] };

export function validateConfig(raw: RawConfig): ValidationResult {
  const errors: string[] = [];
  const full = (key: string) => `${raw.project}:${key}`;
  const values: Partial<Values> = {};
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

  const context: RuleContext = {
    v: values,
    given: (key) => given.has(key),
    usable: (...keys) => keys.every((k) => !invalid.has(k)),
    full,
    need: (key, why) => {
      if (values[key] !== undefined || invalid.has(key)) {
        return [];
      }
      const spec: KeySpec = KEYS[key];
      const how = spec.secret ? `pulumi config set --secret ${key} <value>` : `pulumi config set ${key} <value>`;
      return [`${full(key)} is required ${why}: expected ${spec.allowed}. Run \`${how}\`.`];
    },
    refuse: (key, why) =>
      given.has(key) ? [`${full(key)} must not be set ${why}. Run \`pulumi config rm ${key}\`.`] : [],
    projectDir: raw.projectDir,
    stack: raw.stack,
  };
  const warnings: string[] = [];
  for (const rule of RULES) {
    errors.push(...rule.check(context));
    warnings.push(...(rule.warn?.(context) ?? []));
  }

  if (errors.length > 0) {
    return { ok: false, errors, warnings };
  }
  return { ok: true, config: programConfig(values as Values, raw), warnings };
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
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(key.length / 4))
    ? ` (did you mean ${best}?)`
    : "";
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
