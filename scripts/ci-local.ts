// Rehearses a change to the workflows (or to anything they run) before it is pushed: a local
// GitHub whose main is this checkout's HEAD, the uncommitted changes as pull request 1, and the
// workflows run by a real runner against the local cluster, up to the step asked for:
//   pull-request  ci.yml (every job) and preview.yml on the pull request
//   merge         main's first release, then the pull request merged and deploy.yml run
//   promote       ... then prod's waiting release promoted (promote.yml)
//   rollback      ... then prod rolled back to the release before (promote.yml)
// Each run's log is kept under the printed directory. Started by scripts/ci-local.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { uncommittedChanges, type RunResult } from "../tools/local-github";
import { projectGithub } from "../tools/local-github/project";

const STEPS = ["pull-request", "merge", "promote", "rollback"] as const;

async function main(step: string): Promise<number> {
  if (!(STEPS as readonly string[]).includes(step)) {
    console.error(`usage: npm run ci:local -- ${STEPS.join("|")}`);
    return 2;
  }
  const upTo = (name: (typeof STEPS)[number]) => STEPS.indexOf(step as (typeof STEPS)[number]) >= STEPS.indexOf(name);
  const kubeconfig = process.env.KUBECONFIG!;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "api-stack-ci-local-"));
  console.log(`==> local GitHub in ${dir}`);
  const local = await projectGithub(dir, kubeconfig, "head");
  const { github } = local;
  const report = (what: string, run: RunResult) => {
    console.log(`<== ${what}: ${run.status === 0 ? "succeeded" : "FAILED"} (log: ${run.logFile})`);
    for (const job of run.jobs) {
      console.log(
        `    ${job.job}${Object.keys(job.matrix).length ? ` ${JSON.stringify(job.matrix)}` : ""}: ${job.result}`,
      );
    }
    if (run.status !== 0) {
      throw new Error(`${what} failed:\n${run.log.slice(-4000)}`);
    }
  };
  try {
    const changes = uncommittedChanges();
    console.log(`==> pull request 1: ${Object.keys(changes).length} uncommitted file(s)`);
    github.commit("rehearsal", "The uncommitted changes", changes);
    const refs = github.pullRequest(1, "rehearsal");
    if (upTo("merge")) {
      console.log("==> main's first release (deploy.yml)");
      report(
        "deploy.yml",
        await github.run("deploy.yml", "push", github.pushEvent("0".repeat(40), refs.base), refs.base),
      );
    }
    const event = github.pullRequestEvent(1, "rehearsal", refs);
    console.log("==> ci.yml and preview.yml on pull request 1");
    report("ci.yml", await github.run("ci.yml", "pull_request", event, refs.merge));
    report("preview.yml", await github.run("preview.yml", "pull_request", event, refs.merge));
    for (const comment of github.api.comments) {
      console.log(comment.body);
    }
    if (!upTo("merge")) {
      return 0;
    }
    const { before, after } = github.merge("rehearsal");
    console.log("==> the merge (deploy.yml)");
    report("deploy.yml", await github.run("deploy.yml", "push", github.pushEvent(before, after), after));
    const waiting = await local.release("prod");
    console.log(`    prod: ${JSON.stringify(waiting)}`);
    const dispatch = (inputs: Record<string, string>) =>
      github.run("promote.yml", "workflow_dispatch", github.dispatchEvent(inputs), github.main());
    if (upTo("promote") && waiting.preview) {
      const id = /@sha256:([a-f0-9]{12})/.exec(waiting.preview)![1];
      console.log(`==> promote ${id} (promote.yml)`);
      report("promote.yml", await dispatch({ environment: "prod", action: "promote", release: id }));
    }
    if (upTo("rollback") && waiting.active) {
      console.log(`==> rollback to ${waiting.active} (promote.yml)`);
      report("promote.yml", await dispatch({ environment: "prod", action: "rollback", release: waiting.active }));
    }
    console.log(`    prod: ${JSON.stringify(await local.release("prod"))}`);
    return 0;
  } finally {
    await local.close();
  }
}

main(process.argv[2] ?? "").then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
