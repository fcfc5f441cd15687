// Runs the independent manifest checkers, kube-score and Checkov, on the prod stack's manifests:
// what the program registers for Pulumi.prod.yaml (with its secrets' stand-ins and a signed image
// stand-in, under the unit tests' mocks: no engine, no cluster), written as YAML. Fails on any
// finding the objects do not explain (components/checkers.ts). Run through scripts/check-manifests,
// which installs both checkers first.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { dump } from "js-yaml";
import { EXPLAINED } from "../components/checkers";
import { SIGNED } from "../tests/support/cosign";
import { asManifest, prodInput, runProgram } from "../tests/support/harness";

function run(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    // Both exit non-zero when they report something: their output is the answer.
    return String((error as { stdout?: string }).stdout ?? "");
  }
}

async function main(): Promise<void> {
  const [kubeScore, checkov] = process.argv.slice(2);
  process.env.COSIGN_BINARY = SIGNED();
  const program = await runProgram(prodInput(), { stack: "prod" });
  const manifests = program.resources.filter((r) => r.type.startsWith("kubernetes:")).map(asManifest);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "api-stack-manifests-"));
  const file = path.join(dir, "prod.yaml");
  fs.writeFileSync(file, manifests.map((m) => dump(m, { noRefs: true })).join("---\n"));
  console.log(`==> ${manifests.length} objects of the prod stack in ${file}`);

  const scored = run(kubeScore, ["score", file, "--output-format", "ci"]).split("\n");
  const kubeScoreFindings = scored.filter((line) => /^\[(CRITICAL|WARNING)\]/.test(line));
  const explained = Object.values(EXPLAINED).map(({ check }) => `Skipped because ${check} is ignored`);
  const skipped = scored.filter((line) => explained.some((text) => line.endsWith(text)));
  console.log(`==> kube-score: ${kubeScoreFindings.length} findings; ${skipped.length} checks the objects explain:`);
  skipped.forEach((line) => console.log(`    ${line}`));
  kubeScoreFindings.forEach((line) => console.log(`    ${line}`));

  const report = JSON.parse(
    run(checkov, ["-f", file, "--framework", "kubernetes", "--quiet", "-o", "json"]) || "{}",
  ) as {
    summary?: { passed: number; failed: number; skipped: number };
    results?: { failed_checks: { check_id: string; resource: string; check_name: string }[] };
  };
  const checkovFindings = report.results?.failed_checks ?? [];
  console.log(`==> Checkov: ${JSON.stringify(report.summary ?? {})}`);
  checkovFindings.forEach((f) => console.log(`    ${f.check_id} ${f.resource}: ${f.check_name}`));
  fs.rmSync(dir, { recursive: true, force: true });
  if (kubeScoreFindings.length + checkovFindings.length > 0) {
    process.exitCode = 1;
  }
}

void main();
