// Moved to tests/support/harness.ts; kept while tests/unit/policy.test.ts and
// tests/unit/workflows.test.ts import it from here.
export * from "../support/harness";
