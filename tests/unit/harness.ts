// Moved to tests/support/harness.ts; kept while tests/unit/policy.test.ts imports it from here.
export * from "../support/harness";
