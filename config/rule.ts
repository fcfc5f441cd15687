// What a cross-field rule of stack config is, and the file checks rules share. The rules
// themselves are lists: config/rules.ts (and, through it, config/hardening-rules.ts).
import * as fs from "node:fs";
import type { KeyName, Values } from "./keys";

// Function properties, not methods: rules take them apart (`check: ({ v, full }) => ...`), so
// they must not depend on `this`.
export interface RuleContext {
  /** Parsed values, defaults filled in; a key that failed to parse is absent. */
  v: Partial<Values>;
  /** Set in the stack with a value other than its default. */
  given: (key: KeyName) => boolean;
  /** Parsed without error (or not set at all). */
  usable: (...keys: KeyName[]) => boolean;
  /** "project:key", as errors name keys. */
  full: (key: KeyName) => string;
  /** A "required" problem when the key has no value (and did not fail to parse). */
  need: (key: KeyName, why: string) => string[];
  /** A "must not be set" problem when the key was given. */
  refuse: (key: KeyName, why: string) => string[];
  projectDir: string;
  /** The stack's name (`pulumi stack`). */
  stack: string;
}

export interface Rule {
  /** What the rule requires, for docs/config.md. */
  rule: string;
  /** Keys the rule reads. */
  keys: KeyName[];
  check(context: RuleContext): string[];
  /**
   * What the rule lets pass but an operator should know (staging's plain-text connections, say):
   * the program prints each once, as a Pulumi warning, and deploys.
   */
  warn?(context: RuleContext): string[];
}

export function isDirectory(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

export function isFile(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
}
