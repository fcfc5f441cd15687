// Reading the objects the policy engine hands over: a Kubernetes object's properties as plain
// JSON whose shape nothing guarantees (a patch may set any field to null, a manifest may hold a
// string where a list belongs). The rules read them only through these accessors, which say what
// type they return and never throw on a missing or mistyped field. Nothing here imports a Pulumi
// package, so the rules run the same under the engine and in unit tests.
//
// During a preview some values are not known yet (the digest of an image that is built later,
// names derived from it). The engine's property proxy throws when a policy reads one, and
// reports "can't run during preview" as advisory; that is why the accessors read only the path
// they are asked for and never walk a whole object.

/** A Kubernetes object as the engine hands it over, read only through the accessors below. */
export type Props = object;

/** An object inside a Kubernetes object (or the object itself), its fields not read yet. */
export type Fields = Readonly<Record<string, unknown>>;

export const isFields = (value: unknown): value is Fields =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The value at a path of field names: undefined where a step is missing or not an object, and
 * null once a step is null, because a patch that removes a field removes everything below it.
 */
export function at(value: unknown, ...path: readonly string[]): unknown {
  let current = value;
  for (const name of path) {
    if (current === null) {
      return null;
    }
    current = isFields(current) ? current[name] : undefined;
  }
  return current;
}

/** The items of a list; none for anything else. */
export const list = (value: unknown): readonly unknown[] => (Array.isArray(value) ? (value as unknown[]) : []);

/** The objects of a list, skipping whatever else it holds. */
export const objects = (value: unknown): Fields[] => list(value).filter(isFields);

/** A string, or undefined for anything else. */
export const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

/** The strings of a list. */
export const texts = (value: unknown): string[] =>
  list(value).filter((item): item is string => typeof item === "string");

/** The field names of an object (a map such as labels or a ConfigMap's data); none for anything else. */
export const keys = (value: unknown): string[] => (isFields(value) ? Object.keys(value) : []);

/** A value as a message prints it: a string as it is, anything else as JSON. */
export const show = (value: unknown): string =>
  typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
