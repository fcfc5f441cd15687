// Which environment an object belongs to, which decides the rules that check it: the strictest of
// its stack's (from the stack's name) and its `app.kubernetes.io/instance` label's.
import { podViews } from "./pods";
import { at, text } from "./read";

/** From the least to the most strict. */
export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** The program labels every object `app.kubernetes.io/instance: <appName>-<environment>`. */
export const INSTANCE_LABEL = "app.kubernetes.io/instance";

/** The stack a URN belongs to: `urn:pulumi:<stack>::<project>::<type>::<name>`. */
export function stackOf(urn: string | undefined): string | undefined {
  return urn ? /^urn:pulumi:([^:]+)::/.exec(urn)?.[1] : undefined;
}

/**
 * The environment a stack's name places it in: `dev`, `staging`, `prod` or `production`, alone
 * or as the last word (`eu-prod`). A stack whose name places it nowhere is prod.
 */
export function stackEnvironment(urn: string | undefined): Environment {
  const stack = stackOf(urn)?.toLowerCase();
  const match = stack ? /(?:^|[-_.])(dev|staging|prod|production)$/.exec(stack) : null;
  if (!match) {
    return "prod";
  }
  return match[1] === "production" ? "prod" : (match[1] as Environment);
}

/**
 * The environment an object is judged by: the strictest of
 * 1. its stack's, from the stack name in its URN (prod when the name says none), and
 * 2. its `app.kubernetes.io/instance` label, or that of a pod it describes, `<appName>-<environment>`,
 *    which the program writes from the stack's `environment` config key.
 * A label can make an object stricter than its stack, never laxer: `api-dev` in a prod stack is
 * prod, `api-prod` in a dev stack is prod too.
 */
export function environmentOf(type: string, props: object, urn?: string): Environment {
  let strictest = ENVIRONMENTS.indexOf(stackEnvironment(urn));
  const metadata = [at(props, "metadata"), ...podViews(type, props).map((pod) => pod.metadata)];
  for (const instance of metadata.map((meta) => text(at(meta, "labels", INSTANCE_LABEL)))) {
    const match = instance ? /-(dev|staging|prod)$/.exec(instance) : null;
    if (match) {
      strictest = Math.max(strictest, ENVIRONMENTS.indexOf(match[1] as Environment));
    }
  }
  return ENVIRONMENTS[strictest];
}
