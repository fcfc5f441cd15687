// The GitHub Actions workflows: valid against the workflow JSON schema (SchemaStore's, through
// @action-validator/core, offline), and shaped the way delivery depends on: a preview per stack
// on every pull request, prod behind its environment, one update per stack at a time, actions
// pinned by commit, least privilege, no secret in a shell script, and names that match what
// the GithubRepository component creates.
import { validateWorkflow } from "@action-validator/core";
import { load } from "js-yaml";
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  CI_CHECK,
  deployEnvironment,
  previewCheck,
  previewEnvironment,
  REQUIRED_CHECKS,
  SECRET_NAMES,
  STACKS,
  VARIABLE_NAMES,
} from "../../components/github/spec";
import { PROJECT_DIR } from "./harness";

const WORKFLOW_DIR = path.join(PROJECT_DIR, ".github/workflows");
const EXPECTED = ["ci.yml", "deploy.yml", "preview.yml", "promote.yml"];

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  "working-directory"?: string;
}
interface Job {
  name?: string;
  needs?: string | string[];
  if?: string;
  environment?: string | { name: string };
  permissions?: Record<string, string>;
  concurrency?: { group: string; "cancel-in-progress"?: boolean | string };
  strategy?: { matrix?: Record<string, unknown> };
  services?: Record<string, { image: string }>;
  env?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  name: string;
  on: Record<string, any>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const text = (file: string) => fs.readFileSync(path.join(WORKFLOW_DIR, file), "utf8");
const parse = (file: string) => load(text(file)) as Workflow;
const workflows = () => EXPECTED.map((file) => ({ file, workflow: parse(file) }));
const allSteps = () =>
  workflows().flatMap(({ file, workflow }) =>
    Object.entries(workflow.jobs).flatMap(([jobId, job]) => job.steps.map((step) => ({ file, jobId, job, step }))),
  );
const pulumiSteps = (job: Job) => job.steps.filter((s) => s.uses?.startsWith("pulumi/actions@") && s.with?.command);
const schemaErrors = (source: string) => JSON.stringify(validateWorkflow(source).errors, null, 1);

/** Expands `${{ matrix.x }}` / `${{ inputs.x }}` in a job field over the values the job can take. */
function expand(template: string, values: Record<string, string[]>): string[] {
  const match = /\$\{\{\s*(matrix|inputs)\.(\w+)\s*\}\}/.exec(template);
  if (!match) {
    return [template];
  }
  const options = values[match[2]];
  assert.ok(options, `no values known for ${match[0]}`);
  return options.flatMap((value) => expand(template.replace(match[0], value), values));
}

describe("GitHub Actions workflows", () => {
  it("are exactly ci, preview, deploy and promote (a new file must be added to these tests)", () => {
    assert.deepEqual(fs.readdirSync(WORKFLOW_DIR).sort(), EXPECTED);
  });

  for (const file of EXPECTED) {
    it(`${file} validates against the GitHub workflow JSON schema`, () => {
      const result = validateWorkflow(text(file));
      assert.equal(result.actionType, "workflow");
      assert.deepEqual(result.errors, [], schemaErrors(text(file)));
    });
  }

  it("the schema validator rejects what GitHub would reject", () => {
    // A misspelt job key and a step that is neither `run` nor `uses`: if these passed, the
    // checks above would prove nothing.
    const broken = "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    permisions: {}\n    steps:\n      - name: nothing\n";
    assert.notDeepEqual(validateWorkflow(broken).errors, []);
    const badTrigger = text("deploy.yml").replace("  push:\n", "  pushed:\n");
    assert.notDeepEqual(validateWorkflow(badTrigger).errors, []);
  });

  it("pin every action to a full commit SHA with a `# vX.Y.Z` comment, one SHA per action", () => {
    const shaOf = new Map<string, string>();
    let count = 0;
    for (const file of EXPECTED) {
      for (const line of text(file).split("\n")) {
        const uses = /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(line);
        if (!uses) {
          continue;
        }
        count++;
        const [, ref, rest] = uses;
        const pinned = /^([\w.-]+\/[\w.-]+(?:\/[\w./-]+)?)@([0-9a-f]{40})$/.exec(ref);
        assert.ok(pinned, `${file}: "${ref}" is not pinned to a 40-hex commit SHA`);
        const tag = /^\s+# (v\d+\.\d+\.\d+)\s*$/.exec(rest);
        assert.ok(tag, `${file}: "${ref}" lacks a trailing "# vX.Y.Z" comment`);
        const pin = `${pinned[2]} ${tag[1]}`;
        const seen = shaOf.get(pinned[1]);
        assert.ok(seen === undefined || seen === pin, `${file}: ${pinned[1]} pinned as ${pin} here but ${seen} elsewhere`);
        shaOf.set(pinned[1], pin);
      }
    }
    // Every parsed `uses:` was seen by the line scan above (no flow-style or quoted escapes).
    const parsed = allSteps().filter(({ step }) => step.uses).length;
    assert.equal(count, parsed);
    assert.ok(count >= 15);
  });

  it("declare permissions at the top (nothing) and per job (read, plus only what a job needs)", () => {
    // The only writes any job may have: the preview job comments on its pull request.
    const allowedWrites: Record<string, string[]> = { "preview.yml/preview": ["pull-requests"] };
    for (const { file, workflow } of workflows()) {
      assert.deepEqual(workflow.permissions, {}, `${file}: top-level permissions must be {}`);
      for (const [jobId, job] of Object.entries(workflow.jobs)) {
        assert.ok(job.permissions !== undefined, `${file}: job ${jobId} declares no permissions`);
        assert.equal(typeof job.permissions, "object", `${file}: job ${jobId} uses a permissions shorthand`);
        for (const [scope, level] of Object.entries(job.permissions)) {
          if (level === "write") {
            assert.ok(allowedWrites[`${file}/${jobId}`]?.includes(scope), `${file}: job ${jobId} may not write ${scope}`);
          } else {
            assert.ok(["read", "none"].includes(level), `${file}: job ${jobId}: ${scope}: ${level}`);
          }
        }
        assert.equal(job.permissions["id-token"], undefined, `${file}: ${jobId} asks for an OIDC token it does not use`);
      }
    }
    assert.equal(parse("preview.yml").jobs.preview.permissions!["pull-requests"], "write");
  });

  it("never expand secrets, inputs or event text inside shell scripts (env: only)", () => {
    for (const { file, jobId, step } of allSteps()) {
      if (step.run) {
        assert.doesNotMatch(step.run, /\$\{\{[^}]*\b(secrets|inputs|github\.event)\./, `${file}/${jobId}: ${step.name ?? step.run}`);
      }
    }
  });

  it("write the kubeconfig from a secret to a private file, never into the log", () => {
    let writers = 0;
    for (const { file, jobId, step } of allSteps()) {
      if (step.env && Object.values(step.env).some((v) => v.includes(`secrets.${SECRET_NAMES.kubeconfig}`))) {
        writers++;
        assert.match(step.run!, /^umask 077\n/, `${file}/${jobId}: umask 077 must come first`);
        assert.match(step.run!, /> "\$RUNNER_TEMP\/kubeconfig"/);
        assert.doesNotMatch(step.run!, /set -x|echo "\$KUBE_CONFIG"|cat "\$RUNNER_TEMP\/kubeconfig"/);
      }
    }
    // preview (one job, matrix), deploy dev and prod, promote.
    assert.equal(writers, 4);
  });

  it("use only the secrets, variables and environments the GithubRepository component creates", () => {
    const secrets = new Set<string>([...Object.values(SECRET_NAMES), "GITHUB_TOKEN"]);
    const variables = new Set<string>(Object.values(VARIABLE_NAMES));
    const environments = new Set(STACKS.flatMap((s) => [deployEnvironment(s), previewEnvironment(s)]));
    const used = { secrets: new Set<string>(), vars: new Set<string>() };
    for (const file of EXPECTED) {
      for (const [, kind, name] of text(file).matchAll(/\b(secrets|vars)\.(\w+)/g)) {
        assert.ok((kind === "secrets" ? secrets : variables).has(name), `${file}: ${kind}.${name} is not created by the component`);
        used[kind as "secrets" | "vars"].add(name);
      }
    }
    assert.deepEqual([...used.secrets].sort(), Object.values(SECRET_NAMES).sort());
    assert.deepEqual([...used.vars].sort(), Object.values(VARIABLE_NAMES).sort());

    const inputStacks = parse("promote.yml").on.workflow_dispatch.inputs.stack.options as string[];
    for (const { file, workflow } of workflows()) {
      for (const [jobId, job] of Object.entries(workflow.jobs)) {
        if (job.environment === undefined) {
          continue;
        }
        const name = typeof job.environment === "string" ? job.environment : job.environment.name;
        const matrix = (job.strategy?.matrix ?? {}) as Record<string, string[]>;
        for (const env of expand(name, { ...matrix, stack: (matrix.stack as string[]) ?? inputStacks })) {
          assert.ok(environments.has(env), `${file}/${jobId}: environment ${env} is not created by the component`);
        }
      }
    }
  });

  describe("ci.yml", () => {
    const ci = () => parse("ci.yml");

    it("runs on pushes to main and on pull requests", () => {
      assert.deepEqual(ci().on.push, { branches: ["main"] });
      assert.ok("pull_request" in ci().on);
    });

    it("typechecks and runs the unit suite on Node 24 with the npm cache", () => {
      const job = ci().jobs.program;
      const node = job.steps.find((s) => s.uses?.startsWith("actions/setup-node@"))!;
      assert.equal(String(node.with!["node-version"]), "24");
      assert.equal(node.with!.cache, "npm");
      const runs = job.steps.map((s) => s.run);
      assert.ok(runs.indexOf("npm ci") < runs.indexOf("npx tsc -p ."));
      assert.ok(runs.includes("npm test"));
    });

    it("tests every app under apps/ with uv on Python 3.12 against postgres:16 and redis:7", () => {
      const job = ci().jobs.apps;
      const apps = fs
        .readdirSync(path.join(PROJECT_DIR, "apps"))
        .filter((app) => fs.existsSync(path.join(PROJECT_DIR, "apps", app, "uv.lock")))
        .sort();
      assert.deepEqual([...(job.strategy!.matrix!.app as string[])].sort(), apps);
      assert.equal(job.services!.postgres.image, "postgres:16");
      assert.equal(job.services!.redis.image, "redis:7");
      const python = job.steps.find((s) => s.uses?.startsWith("actions/setup-python@"))!;
      assert.equal(python.with!["python-version"], "3.12");
      const uv = job.steps.find((s) => s.uses?.startsWith("astral-sh/setup-uv@"))!;
      assert.equal(uv.with!["enable-cache"], true);
      assert.equal(uv.with!["cache-dependency-glob"], "apps/${{ matrix.app }}/uv.lock");
      assert.ok(job.steps.some((s) => s.run === "uv sync --frozen"));
      assert.ok(job.steps.some((s) => s.run?.includes("-m pytest")));
      // What the apps' conftest/testenv read, pointing at the service containers.
      assert.match(job.env!.TEST_DATABASE_URL, /^postgresql:\/\/api:[^@]+@127\.0\.0\.1:5432\/\w+$/);
      assert.equal(job.env!.TEST_REDIS_URL, "redis://127.0.0.1:6379/0");
    });

    it("ends in the required `ci` job, which needs every other job and fails unless all succeeded", () => {
      const jobs = ci().jobs;
      const gate = Object.values(jobs).find((job) => job.name === CI_CHECK)!;
      assert.ok(gate, `no job named ${CI_CHECK}`);
      const others = Object.keys(jobs).filter((id) => jobs[id] !== gate);
      assert.deepEqual([...(gate.needs as string[])].sort(), others.sort());
      assert.equal(gate.if, "${{ always() }}");
      const script = gate.steps[0].run!;
      const run = (results: string) => spawnSync("bash", ["-c", script], { env: { ...process.env, RESULTS: results } }).status;
      assert.equal(run("success success"), 0);
      assert.equal(run("success failure"), 1);
      assert.equal(run("success skipped"), 1);
      assert.equal(run("cancelled success"), 1);
    });
  });

  describe("preview.yml", () => {
    const job = () => parse("preview.yml").jobs.preview;

    it("runs on pull requests, one job per stack, named as branch protection requires", () => {
      assert.deepEqual(Object.keys(parse("preview.yml").on), ["pull_request"]);
      assert.deepEqual(job().strategy!.matrix!.stack, [...STACKS]);
      const names = expand(job().name!, { stack: [...STACKS] });
      assert.deepEqual(names, STACKS.map(previewCheck));
      const checks = [CI_CHECK, ...names];
      assert.deepEqual(checks, [...REQUIRED_CHECKS]);
    });

    it("previews from each stack's preview environment, not the gated deploy one", () => {
      assert.deepEqual(expand(job().environment as string, { stack: [...STACKS] }), STACKS.map(previewEnvironment));
      assert.ok(!expand(job().environment as string, { stack: [...STACKS] }).includes(deployEnvironment("prod")));
    });

    it("runs pulumi preview through pulumi/actions with one edited comment per stack and the policy pack", () => {
      const [step] = pulumiSteps(job());
      assert.equal(step.with!.command, "preview");
      assert.equal(step.with!["stack-name"], `\${{ vars.${VARIABLE_NAMES.stack} }}`);
      assert.equal(step.with!["comment-on-pr"], true);
      assert.equal(step.with!["edit-pr-comment"], true);
      assert.equal(step.with!.policyPacks, "${{ hashFiles('policy/package.json') != '' && 'policy' || '' }}");
      const install = job().steps.find((s) => s["working-directory"] === "policy")!;
      assert.equal(install.if, "${{ hashFiles('policy/package.json') != '' }}");
      assert.match(install.run!, /^npm ci$/m);
      assert.deepEqual(Object.keys(step.env!).sort(), [SECRET_NAMES.configPassphrase, SECRET_NAMES.pulumiAccessToken].sort());
    });

    it("skips pull requests from forks, which get no secrets", () => {
      assert.equal(job().if, "${{ github.event.pull_request.head.repo.full_name == github.repository }}");
    });
  });

  describe("deploy.yml", () => {
    const deploy = () => parse("deploy.yml");

    it("runs on pushes to main only", () => {
      assert.deepEqual(deploy().on, { push: { branches: ["main"] } });
    });

    it("updates dev, then prod behind the prod environment, one update per stack at a time", () => {
      const { dev, prod } = deploy().jobs;
      assert.deepEqual(Object.keys(deploy().jobs), [...STACKS]);
      assert.equal(dev.environment, deployEnvironment("dev"));
      assert.equal(prod.environment, deployEnvironment("prod"));
      assert.equal(prod.needs, "dev");
      for (const [stack, job] of Object.entries(deploy().jobs)) {
        assert.deepEqual(job.concurrency, { group: `deploy-${stack}`, "cancel-in-progress": false });
        const [step] = pulumiSteps(job);
        assert.equal(step.with!.command, "up");
        assert.equal(step.with!["stack-name"], `\${{ vars.${VARIABLE_NAMES.stack} }}`);
      }
    });
  });

  describe("promote.yml", () => {
    const promote = () => parse("promote.yml");
    const validate = (action: string, release: string) => {
      const script = promote().jobs.validate.steps[0].run!;
      return spawnSync("bash", ["-c", script], { env: { ...process.env, ACTION: action, RELEASE: release } }).status;
    };
    const digest = "a".repeat(64);

    it("is started by hand with a stack, an action and a release", () => {
      const inputs = promote().on.workflow_dispatch.inputs;
      assert.deepEqual(Object.keys(promote().on), ["workflow_dispatch"]);
      assert.equal(inputs.stack.type, "choice");
      assert.deepEqual(inputs.stack.options, [...STACKS]);
      assert.deepEqual(inputs.action.options, ["promote", "rollback"]);
      assert.equal(inputs.release.type, "string");
    });

    it("validates the release format before any environment is entered", () => {
      assert.equal(promote().jobs.validate.environment, undefined);
      assert.equal(promote().jobs.apply.needs, "validate");
      assert.equal(validate("promote", "0123456789ab"), 0);
      assert.equal(validate("promote", "0123456789a"), 1);
      assert.equal(validate("promote", "0123456789AB"), 1);
      assert.equal(validate("promote", "0123456789abc"), 1);
      assert.equal(validate("promote", "0123456789ab; rm -rf /"), 1);
      assert.equal(validate("rollback", `registry.example.com/platform/api@sha256:${digest}`), 0);
      assert.equal(validate("rollback", "registry.example.com/platform/api:v1"), 1);
      assert.equal(validate("rollback", `api@sha256:${digest.slice(1)}`), 1);
      assert.equal(validate("rollback", "0123456789ab"), 1);
      assert.equal(validate("deploy", "0123456789ab"), 1);
    });

    it("sets promote or rollbackTo, then runs pulumi up in the stack's environment and deploy group", () => {
      const job = promote().jobs.apply;
      assert.equal(job.environment, "${{ inputs.stack }}");
      assert.deepEqual(job.concurrency, { group: "deploy-${{ inputs.stack }}", "cancel-in-progress": false });
      const set = job.steps.find((s) => s.run?.includes("pulumi config set"))!;
      assert.match(set.run!, /promote\) pulumi config set promote "\$RELEASE" --stack "\$STACK"/);
      assert.match(set.run!, /rollback\) pulumi config set rollbackTo "\$RELEASE" --stack "\$STACK"/);
      const [up] = pulumiSteps(job);
      assert.ok(job.steps.indexOf(set) < job.steps.indexOf(up));
      assert.equal(up.with!.command, "up");
      // It records nothing in git: no write access, no push.
      assert.equal(job.permissions!.contents, "read");
      assert.ok(!job.steps.some((s) => /git (commit|push)/.test(s.run ?? "")));
    });
  });
});
