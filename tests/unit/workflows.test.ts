// The GitHub Actions workflows and their local actions: valid against the workflow and action
// JSON schemas (SchemaStore's, through @action-validator/core, offline), and shaped the way
// delivery's security depends on: no environment's secret or identity reaches a pull request's
// code unless that environment is made for it, OIDC only where a job uses it, actions pinned by
// commit, the image built once and released by digest after its signature is verified, a
// promotion that runs the recorded commit, and names that match what the GithubRepository
// component creates. The helper scripts run here for real (bash, with stand-ins for npx, docker
// and kubectl, and the GitHub API and a webhook on loopback). The workflows themselves run end to
// end on a real runner in tests/e2e/delivery-path.test.ts.
import { validateAction, validateWorkflow } from "@action-validator/core";
import { load } from "js-yaml";
import { strict as assert } from "node:assert";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import {
  BUILD_ENVIRONMENT,
  CI_CHECK,
  deployEnvironment,
  previewEnvironment,
  pullRequestCheck,
  pullRequestEnvironment,
  REPOSITORY_VARIABLE_NAMES,
  SECRET_NAMES,
  VARIABLE_NAMES,
} from "../../github/spec";
import { startGithubApi, type GithubApi } from "../../tools/local-github/api";

const ROOT = path.resolve(__dirname, "../..");
const GITHUB_DIR = path.join(ROOT, ".github");
const WORKFLOWS = ["ci.yml", "deploy.yml", "drift.yml", "preview.yml", "promote.yml", "release.yml"];
const ACTIONS = ["pulumi-stack", "release-config"];
const SCRIPTS = path.join(GITHUB_DIR, "scripts");

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, any>;
  env?: Record<string, string>;
  shell?: string;
  "working-directory"?: string;
}
interface Job {
  name?: string;
  needs?: string | string[];
  if?: string;
  uses?: string;
  with?: Record<string, string>;
  environment?: string | { name: string; url?: string };
  permissions?: Record<string, string>;
  concurrency?: { group: string; "cancel-in-progress"?: boolean | string };
  strategy?: { matrix?: Record<string, unknown>; "max-parallel"?: number; "fail-fast"?: boolean };
  outputs?: Record<string, string>;
  env?: Record<string, string>;
  steps?: Step[];
}
interface Workflow {
  name: string;
  on: Record<string, any>;
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}
interface Action {
  inputs: Record<string, { required?: boolean; default?: string }>;
  runs: { using: string; steps: Step[] };
}

const workflowText = (file: string) => fs.readFileSync(path.join(GITHUB_DIR, "workflows", file), "utf8");
const actionText = (name: string) => fs.readFileSync(path.join(GITHUB_DIR, "actions", name, "action.yml"), "utf8");
const workflow = (file: string) => load(workflowText(file)) as Workflow;
const action = (name: string) => load(actionText(name)) as Action;
const workflows = () => WORKFLOWS.map((file) => ({ file, workflow: workflow(file) }));
const jobs = () =>
  workflows().flatMap(({ file, workflow }) => Object.entries(workflow.jobs).map(([id, job]) => ({ file, id, job })));
/** Every step of the workflows and the local actions, with where it is. */
const allSteps = () => [
  ...jobs().flatMap(({ file, id, job }) => (job.steps ?? []).map((step) => ({ where: `${file}/${id}`, step }))),
  ...ACTIONS.flatMap((name) => action(name).runs.steps.map((step) => ({ where: `actions/${name}`, step }))),
];
/** The steps a job runs, its local actions' steps inlined. */
const stepsOf = (job: Job): Step[] =>
  (job.steps ?? []).flatMap((step) => {
    const local = /^\.\/\.github\/actions\/([\w-]+)$/.exec(step.uses ?? "");
    return local ? [step, ...action(local[1]).runs.steps] : [step];
  });
const uses = (job: Job, prefix: string) => stepsOf(job).some((s) => s.uses?.startsWith(prefix));
/** Index of the first step of a job (its local actions inlined) that matches. */
const stepIndex = (job: Job, test: (s: Step) => boolean) => stepsOf(job).findIndex(test);
const runs = (pattern: RegExp) => (s: Step) => pattern.test(s.run ?? "");
const environmentName = (job: Job) => (typeof job.environment === "string" ? job.environment : job.environment?.name);

/** Expands `${{ matrix.x }}` / `${{ inputs.x }}` in a field over the values it can take. */
function expand(template: string, values: Record<string, string[]>): string[] {
  const match = /\$\{\{\s*(?:matrix|inputs)\.(\w+)\s*\}\}/.exec(template);
  if (!match) {
    return [template];
  }
  const options = values[match[1]];
  assert.ok(options, `no values known for ${match[0]}`);
  return options.flatMap((value) => expand(template.replace(match[0], value), values));
}

/** Runs a bash script with the given environment; stand-in commands come first on PATH. */
function runScript(
  script: string,
  env: Record<string, string>,
  options: { stdin?: string; fakes?: Record<string, string>; cwd?: string } = {},
) {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), "workflow-fakes-"));
  for (const [name, body] of Object.entries(options.fakes ?? {})) {
    fs.writeFileSync(path.join(bin, name), `#!/usr/bin/env bash\n${body}\n`, { mode: 0o755 });
  }
  try {
    const result = spawnSync("bash", ["-c", script], {
      env: { ...process.env, ...env, PATH: `${bin}:${process.env.PATH}` },
      input: options.stdin,
      encoding: "utf8",
      cwd: options.cwd ?? ROOT,
    });
    return {
      status: result.status,
      stdout: result.stdout,
      stderr: result.stderr,
      output: result.stdout + result.stderr,
    };
  } finally {
    fs.rmSync(bin, { recursive: true, force: true });
  }
}
const script = (name: string) => `${SCRIPTS}/${name}`;

/** The same for a script that talks to a server of this process, which must keep answering meanwhile. */
function runScriptAsync(command: string, env: Record<string, string>) {
  return new Promise<{ status: number | null; output: string }>((resolve) => {
    const child = spawn("bash", ["-c", command], { env: { ...process.env, ...env }, cwd: ROOT });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("close", (status) => resolve({ status, output }));
  });
}

describe("GitHub Actions workflows", () => {
  it("are exactly ci, deploy, drift, preview, promote and release, with their two actions", () => {
    assert.deepEqual(fs.readdirSync(path.join(GITHUB_DIR, "workflows")).sort(), WORKFLOWS);
    assert.deepEqual(fs.readdirSync(path.join(GITHUB_DIR, "actions")).sort(), ACTIONS);
  });

  for (const file of WORKFLOWS) {
    it(`${file} validates against the GitHub workflow JSON schema`, () => {
      const result = validateWorkflow(workflowText(file));
      assert.equal(result.actionType, "workflow");
      assert.deepEqual(result.errors, [], JSON.stringify(result.errors, null, 1));
    });
  }
  for (const name of ACTIONS) {
    it(`actions/${name} validates against the GitHub action JSON schema`, () => {
      const result = validateAction(actionText(name));
      assert.equal(result.actionType, "action");
      assert.deepEqual(result.errors, [], JSON.stringify(result.errors, null, 1));
    });
  }

  it("the schema validator rejects what GitHub would reject", () => {
    // A misspelt job key, a step that is neither `run` nor `uses`, a bad trigger, a composite
    // step without a shell: if these passed, the checks above would prove nothing.
    const broken =
      "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    permisions: {}\n    steps:\n      - name: nothing\n";
    assert.notDeepEqual(validateWorkflow(broken).errors, []);
    assert.notDeepEqual(validateWorkflow(workflowText("deploy.yml").replace("  push:\n", "  pushed:\n")).errors, []);
    assert.notDeepEqual(
      validateAction(actionText("release-config").replace("runs:\n  using: composite", "runs:\n  using: compost"))
        .errors,
      [],
    );
  });

  it("pin every action to a full commit SHA with a `# vX.Y.Z` comment, one SHA per action; local actions exist", () => {
    const shaOf = new Map<string, string>();
    const texts = [
      ...WORKFLOWS.map((f) => [f, workflowText(f)]),
      ...ACTIONS.map((a) => [`actions/${a}`, actionText(a)]),
    ];
    let count = 0;
    for (const [file, text] of texts) {
      for (const line of text.split("\n")) {
        const found = /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(line);
        if (!found) {
          continue;
        }
        count++;
        const [, ref, rest] = found;
        if (ref.startsWith("./")) {
          const target = path.join(ROOT, ref);
          assert.ok(
            fs.existsSync(target.endsWith(".yml") ? target : path.join(target, "action.yml")),
            `${file}: ${ref} does not exist`,
          );
          continue;
        }
        const pinned = /^([\w.-]+\/[\w.-]+(?:\/[\w./-]+)?)@([0-9a-f]{40})$/.exec(ref);
        assert.ok(pinned, `${file}: "${ref}" is not pinned to a 40-hex commit SHA`);
        const tag = /^\s+# (v\d+\.\d+\.\d+)\s*$/.exec(rest);
        assert.ok(tag, `${file}: "${ref}" lacks a trailing "# vX.Y.Z" comment`);
        const pin = `${pinned[2]} ${tag[1]}`;
        const seen = shaOf.get(pinned[1]);
        assert.ok(
          seen === undefined || seen === pin,
          `${file}: ${pinned[1]} pinned as ${pin} here but ${seen} elsewhere`,
        );
        shaOf.set(pinned[1], pin);
      }
    }
    // Every parsed `uses:` was seen by the line scan above (no flow-style or quoted escapes).
    const parsed = allSteps().filter(({ step }) => step.uses).length + jobs().filter(({ job }) => job.uses).length;
    assert.equal(count, parsed);
    assert.ok(
      shaOf.has("pulumi/auth-actions") &&
        shaOf.has("sigstore/cosign-installer") &&
        shaOf.has("google/osv-scanner-action/osv-scanner-action") &&
        shaOf.has("actions/upload-artifact"),
    );
    // The Pulumi CLI is the version package.json pins (`npx pulumi`), not an action's own.
    assert.ok(!shaOf.has("pulumi/actions"));
  });

  it("declare no permission at the top and the least per job", () => {
    // Every write any job may have, and every read beyond contents.
    const allowed: Record<string, Record<string, string>> = {
      "preview.yml/preview": { contents: "read", "id-token": "write" },
      // Posts the comment; runs none of the pull request's code.
      "preview.yml/comment": { "pull-requests": "write" },
      "deploy.yml/sign": { contents: "read", "id-token": "write" },
      "deploy.yml/release": { contents: "read", "id-token": "write", deployments: "write" },
      "release.yml/preview": { contents: "read", "id-token": "write" },
      "release.yml/deploy": { contents: "read", "id-token": "write", deployments: "write" },
      "promote.yml/recorded": { contents: "read", "id-token": "write" },
      "promote.yml/apply": { contents: "read", "id-token": "write", deployments: "write" },
      "drift.yml/recorded": { contents: "read", "id-token": "write" },
      "drift.yml/drift": { contents: "read", "id-token": "write" },
      // Opens and closes the drift issues; runs no code of the repository.
      "drift.yml/report": { issues: "write" },
    };
    for (const { file, workflow } of workflows()) {
      assert.deepEqual(workflow.permissions, {}, `${file}: top-level permissions must be {}`);
    }
    for (const { file, id, job } of jobs()) {
      assert.equal(typeof job.permissions, "object", `${file}/${id} declares no permissions (or a shorthand)`);
      const expected = allowed[`${file}/${id}`];
      if (expected) {
        assert.deepEqual(job.permissions, expected, `${file}/${id}`);
      } else {
        for (const [scope, level] of Object.entries(job.permissions!)) {
          assert.ok(scope === "contents" && level === "read", `${file}/${id} may not have ${scope}: ${level}`);
        }
      }
    }
  });

  it("ask for an OIDC token only in the jobs that exchange one (Pulumi, keyless signing, a release that does)", () => {
    for (const { file, id, job } of jobs()) {
      const exchanges =
        uses(job, "pulumi/auth-actions@") ||
        stepsOf(job).some(runs(/^\s*scripts\/supply-chain\/sign "\$IMAGE"/m)) ||
        job.uses === "./.github/workflows/release.yml";
      assert.equal(
        job.permissions?.["id-token"] === "write",
        exchanges,
        `${file}/${id}: id-token ${exchanges ? "missing" : "not used"}`,
      );
    }
    // The exchange asks for a token of the environment's own team, never an organization token.
    const auth = action("pulumi-stack").runs.steps.find((s) => s.uses?.startsWith("pulumi/auth-actions@"))!;
    assert.equal(auth.with!["requested-token-type"], "urn:pulumi:token-type:access_token:team");
    assert.equal(auth.with!.scope, "${{ inputs.token-scope }}");
    assert.ok(Number(auth.with!["token-expiration"]) <= 7200);
  });

  it("never expand secrets, inputs or event text inside shell scripts (env: only)", () => {
    for (const { where, step } of allSteps()) {
      if (step.run) {
        assert.doesNotMatch(
          step.run,
          /\$\{\{[^}]*\b(secrets|inputs|github\.event)\./,
          `${where}: ${step.name ?? step.run}`,
        );
      }
    }
  });

  it("write the kubeconfig in one place, to a private file, never into the log", () => {
    const writers = allSteps().filter(
      ({ step }) => step.env && Object.values(step.env).some((v) => v.includes("inputs.kubeconfig")),
    );
    assert.deepEqual(
      writers.map((w) => w.where),
      ["actions/pulumi-stack"],
    );
    const { run } = writers[0].step;
    assert.match(run!, /^umask 077\n/);
    assert.match(run!, /> "\$RUNNER_TEMP\/kubeconfig"/);
    assert.doesNotMatch(run!, /set -x|echo "\$KUBE_CONFIG"|cat "\$RUNNER_TEMP\/kubeconfig"/);
  });

  it("use only the secrets, variables and environments the GithubRepository component creates, and all of them", () => {
    const secrets = new Set<string>([...Object.values(SECRET_NAMES)]);
    const variables = new Set<string>([...Object.values(VARIABLE_NAMES), ...Object.values(REPOSITORY_VARIABLE_NAMES)]);
    const used = { secrets: new Set<string>(), vars: new Set<string>() };
    for (const file of WORKFLOWS) {
      for (const [, kind, name] of workflowText(file).matchAll(/\b(secrets|vars)\.(\w+)/g)) {
        assert.ok(
          (kind === "secrets" ? secrets : variables).has(name),
          `${file}: ${kind}.${name} is not created by the component`,
        );
        used[kind as "secrets" | "vars"].add(name);
      }
    }
    assert.deepEqual([...used.secrets].sort(), [...secrets].sort());
    assert.deepEqual([...used.vars].sort(), [...variables].sort());
    // Local actions get everything through inputs: they cannot read secrets themselves.
    for (const name of ACTIONS) {
      assert.doesNotMatch(actionText(name), /\$\{\{[^}]*\b(secrets|vars)\./, `actions/${name}`);
    }

    const sample = ["dev", "staging", "prod"];
    const environments = new Set([
      BUILD_ENVIRONMENT,
      ...sample.flatMap((e) => [deployEnvironment(e), previewEnvironment(e), pullRequestEnvironment(e)]),
    ]);
    for (const { file, id, job } of jobs()) {
      const name = environmentName(job);
      if (name !== undefined) {
        for (const env of expand(name, { environment: sample })) {
          assert.ok(environments.has(env), `${file}/${id}: environment ${env} is not created by the component`);
        }
      }
    }
  });

  describe("pull requests", () => {
    const pullRequestWorkflows = () => workflows().filter(({ workflow }) => "pull_request" in workflow.on);

    it("no workflow runs on pull_request_target or workflow_run, which hand secrets to a pull request's code", () => {
      for (const { file, workflow } of workflows()) {
        assert.ok(!("pull_request_target" in workflow.on) && !("workflow_run" in workflow.on), file);
      }
      assert.deepEqual(
        pullRequestWorkflows().map((w) => w.file),
        ["ci.yml", "preview.yml"],
      );
    });

    it("ci.yml holds no secret, no environment and no identity", () => {
      assert.doesNotMatch(workflowText("ci.yml"), /\bsecrets\./);
      for (const job of Object.values(workflow("ci.yml").jobs)) {
        assert.equal(job.environment, undefined);
        assert.equal(job.permissions?.["id-token"], undefined);
      }
    });

    it("preview.yml enters only `<name>-pr` environments, of the environments listed for pull-request previews", () => {
      const job = workflow("preview.yml").jobs.preview;
      assert.deepEqual(Object.keys(workflow("preview.yml").jobs), ["preview", "comment"]);
      assert.equal(
        job.strategy!.matrix!.environment,
        `\${{ fromJSON(vars.${REPOSITORY_VARIABLE_NAMES.pullRequestPreviews}) }}`,
      );
      assert.deepEqual(expand(environmentName(job)!, { environment: ["dev"] }), [pullRequestEnvironment("dev")]);
      // Nothing else of the environment: no deploy or preview environment, no release workflow.
      for (const { file, workflow } of pullRequestWorkflows()) {
        for (const [id, j] of Object.entries(workflow.jobs)) {
          assert.equal(j.uses, undefined, `${file}/${id}`);
          const name = environmentName(j);
          assert.ok(name === undefined || /-pr$/.test(name), `${file}/${id} enters ${name}`);
        }
      }
      assert.match(job.if!, /github\.event\.pull_request\.head\.repo\.full_name == github\.repository/);
    });

    it("name each preview as the ruleset requires it, beside ci", () => {
      const job = workflow("preview.yml").jobs.preview;
      assert.deepEqual(expand(job.name!, { environment: ["dev", "qa"] }), [
        pullRequestCheck("dev"),
        pullRequestCheck("qa"),
      ]);
      const gate = Object.values(workflow("ci.yml").jobs).find((j) => j.name === CI_CHECK);
      assert.ok(gate, `no job named ${CI_CHECK}`);
      const preview = stepsOf(job).find(runs(/^\.github\/scripts\/pulumi-preview /))!;
      assert.ok(preview, "the preview job runs no preview");
      assert.equal(preview.env!.PULUMI_CONFIG_PASSPHRASE, `\${{ secrets.${SECRET_NAMES.configPassphrase} }}`);
      assert.match(fs.readFileSync(script("pulumi-preview"), "utf8"), /--policy-pack policy\/run-pack/);
    });

    it("posts the comment from a job that holds the write token but runs none of the pull request's code", () => {
      const { preview, comment } = workflow("preview.yml").jobs;
      // The job with the pull request's code cannot write to the repository.
      assert.equal(preview.permissions!["pull-requests"], undefined);
      assert.deepEqual(comment.permissions, { "pull-requests": "write" });
      assert.equal(comment.needs, "preview");
      assert.equal(comment.environment, undefined);
      const steps = comment.steps!;
      // No checkout, no local action, no script or package of the tree: only the previews' text.
      assert.deepEqual(
        steps.map((s) => s.uses?.replace(/@.*/, "") ?? "run"),
        ["actions/download-artifact", "run"],
      );
      assert.doesNotMatch(steps[1].run!, /\.github\/|scripts\/|\bnpm\b|\bnpx\b|\bnode\b|\bsource\b|\beval\b/);
      const upload = preview.steps!.find((s) => s.uses?.startsWith("actions/upload-artifact@"))!;
      assert.equal(upload.with!.name, "preview-${{ matrix.environment }}");
      assert.equal(steps[0].with!.pattern, "preview-*");
    });
  });

  describe("ci.yml", () => {
    const ci = () => workflow("ci.yml");

    it("runs on pushes to main and on pull requests", () => {
      assert.deepEqual(ci().on.push, { branches: ["main"] });
      assert.ok("pull_request" in ci().on);
    });

    const apps = () =>
      fs
        .readdirSync(path.join(ROOT, "apps"))
        .filter((app) => fs.existsSync(path.join(ROOT, "apps", app, "Dockerfile")))
        .sort();

    it("lints, typechecks and runs the unit suite on Node 24 with the npm cache", () => {
      const job = ci().jobs.program;
      const node = job.steps!.find((s) => s.uses?.startsWith("actions/setup-node@"))!;
      assert.equal(String(node.with!["node-version"]), "24");
      assert.equal(node.with!.cache, "npm");
      const commands = job.steps!.map((s) => s.run);
      assert.ok(commands.indexOf("npm ci") < commands.indexOf("npm run lint"));
      assert.ok(commands.indexOf("npm ci") < commands.indexOf("npx tsc -p ."));
      assert.ok(commands.includes("npm test"));
    });

    it("tests every app with the script a laptop runs, on Python 3.12, against PostgreSQL and Redis packages", () => {
      const job = ci().jobs.apps as Job & { services?: unknown };
      assert.deepEqual([...(job.strategy!.matrix!.app as string[])].sort(), apps());
      // No service containers: nothing is pulled from a registry, and the runner's services are the script's.
      assert.equal(job.services, undefined);
      assert.ok(job.steps!.some((s) => s.run === 'scripts/test-apps "$APP"'));
      const python = job.steps!.find((s) => s.uses?.startsWith("actions/setup-python@"))!;
      assert.equal(python.with!["python-version"], "3.12");
    });

    it("builds every app's image from the pull request's Dockerfile and pushes nothing", () => {
      const job = ci().jobs.image;
      assert.deepEqual([...(job.strategy!.matrix!.app as string[])].sort(), apps());
      assert.deepEqual(
        job.steps!.filter((s) => s.run).map((s) => s.run),
        ['.github/scripts/build-image "$APP" "ci/$APP:$COMMIT"'],
      );
      assert.equal(
        job.steps!.find((s) => s.run)!.env!.BASE_IMAGE,
        `\${{ vars.${REPOSITORY_VARIABLE_NAMES.baseImage} }}`,
      );
      assert.doesNotMatch(workflowText("ci.yml"), /docker (push|login)/);
    });

    it("checks the migrations a change adds against the release still serving", () => {
      const job = ci().jobs.migrations;
      const checkout = job.steps!.find((s) => s.uses?.startsWith("actions/checkout@"))!;
      assert.equal(checkout.with!["fetch-depth"], 0);
      const check = job.steps!.find((s) => s.run)!;
      assert.equal(check.run, 'scripts/check-migrations "$BASE" "$HEAD"');
      assert.match(check.env!.BASE, /github\.event\.pull_request\.base\.sha/);
    });

    it("scans every deployed app's uv.lock with the allow-list, as scripts/supply-chain/scan does", () => {
      const step = ci().jobs.scan.steps!.find((s) => s.uses?.startsWith("google/osv-scanner-action/"))!;
      const args = String(step.with!["scan-args"]).split("\n");
      const lockfiles = apps().map((app) => `--lockfile=apps/${app}/uv.lock`);
      assert.deepEqual(args, ["--config=osv-scanner.toml", ...lockfiles]);
      assert.match(
        fs.readFileSync(path.join(ROOT, "scripts/supply-chain/scan"), "utf8"),
        /config=\$ROOT\/osv-scanner\.toml/,
      );
    });

    it("ends in the required `ci` job, which needs every other job and fails unless all succeeded", () => {
      const all = ci().jobs;
      const gate = Object.values(all).find((job) => job.name === CI_CHECK)!;
      const others = Object.keys(all).filter((id) => all[id] !== gate);
      assert.deepEqual([...(gate.needs as string[])].sort(), others.sort());
      assert.equal(gate.if, "${{ always() }}");
      const check = (results: string) => runScript(gate.steps![0].run!, { RESULTS: results }).status;
      assert.equal(check("success success success"), 0);
      assert.equal(check("success failure success"), 1);
      assert.equal(check("success skipped success"), 1);
      assert.equal(check("cancelled success success"), 1);
    });
  });

  describe("deploy.yml: build once, release the digest", () => {
    const deploy = () => workflow("deploy.yml");

    it("runs on pushes to main only", () => {
      assert.deepEqual(deploy().on, { push: { branches: ["main"] } });
    });

    it("pushes from one job only, an image built from a base image pinned by digest", () => {
      const pushes = allSteps().filter(({ step }) => /\bdocker push\b/.test(step.run ?? ""));
      assert.deepEqual(
        pushes.map((b) => b.where),
        ["deploy.yml/build"],
      );
      const build = deploy().jobs.build;
      assert.equal(build.environment, BUILD_ENVIRONMENT);
      const push = build.steps!.find((s) => s.id === "push")!;
      assert.match(push.run!, /^\.github\/scripts\/build-image "\$APP" "\$IMAGE_REPOSITORY:\$COMMIT"$/m);
      assert.equal(build.outputs!.image, "${{ steps.push.outputs.image }}");
      // The one build definition, for pull requests (ci.yml) and the release.
      const buildImage = (base: string, ca = "") =>
        runScript(
          `${script("build-image")} fastapi r.example.com/a:c`,
          { BASE_IMAGE: base, SSL_CERT_FILE: ca },
          { fakes: { docker: 'echo "docker $*"' } },
        );
      assert.equal(buildImage("python:3.12-slim").status, 1);
      assert.match(buildImage("python:3.12-slim").output, /not pinned by digest/);
      const pinned = buildImage(`python@sha256:${"c".repeat(64)}`);
      assert.equal(pinned.status, 0, pinned.output);
      assert.match(
        pinned.stdout,
        /docker build --build-arg BASE_IMAGE=python@sha256:c{64} --tag r\.example\.com\/a:c apps\/fastapi/,
      );
      assert.match(buildImage("").stdout, /docker build --tag r\.example\.com\/a:c apps\/fastapi/);
      // A runner's CA bundle reaches the build as the Dockerfiles' `ca` secret, not a build argument.
      const ca = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ca-")), "ca.pem");
      fs.writeFileSync(ca, "bundle");
      assert.match(buildImage("", ca).stdout, new RegExp(`docker build --secret id=ca,src=${ca} --tag`));
      assert.equal(runScript(`${script("build-image")} nothing r/a:c`, {}, { fakes: { docker: "exit 0" } }).status, 2);
    });

    it("makes the SBOM where it builds, scans it in a job without credentials, then signs what passed", () => {
      const { build, scan, sign, release } = deploy().jobs;
      assert.ok(
        stepIndex(build, runs(/^scripts\/supply-chain\/sbom "\$IMAGE"/)) > stepIndex(build, (s) => s.id === "push"),
      );
      // The scanner (an action that runs a container image by tag) sees the SBOM and nothing else.
      assert.equal(scan.needs, "build");
      assert.deepEqual(scan.permissions, { contents: "read" });
      assert.equal(scan.environment, undefined);
      assert.doesNotMatch(JSON.stringify(scan), /secrets\.|docker login/);
      const scanner = scan.steps!.find((s) => s.uses?.startsWith("google/osv-scanner-action/"))!;
      assert.deepEqual(String(scanner.with!["scan-args"]).split("\n"), [
        "--config=osv-scanner.toml",
        "--lockfile=${{ runner.temp }}/sbom.spdx.json",
      ]);
      assert.ok(!uses(build, "google/osv-scanner-action") && !uses(sign, "google/osv-scanner-action"));
      // Signing waits for the scan and is the only job with the signing identity.
      assert.deepEqual(sign.needs, ["build", "scan"]);
      assert.equal(sign.environment, BUILD_ENVIRONMENT);
      assert.ok(stepIndex(sign, runs(/scripts\/supply-chain\/sign/)) >= 0);
      assert.equal(build.permissions!["id-token"], undefined);
      assert.deepEqual(release.needs, ["build", "sign"]);
    });

    it("releases the build's digest to each environment in order, one at a time, through release.yml", () => {
      const release = deploy().jobs.release;
      assert.equal(release.uses, "./.github/workflows/release.yml");
      assert.equal(
        release.strategy!.matrix!.environment,
        `\${{ fromJSON(vars.${REPOSITORY_VARIABLE_NAMES.deployEnvironments}) }}`,
      );
      assert.equal(release.strategy!["max-parallel"], 1);
      assert.equal(release.strategy!["fail-fast"], true);
      assert.deepEqual(release.with, {
        environment: "${{ matrix.environment }}",
        commit: "${{ github.sha }}",
        image: "${{ needs.build.outputs.image }}",
        operation: "deploy",
      });
    });
  });

  describe("release.yml", () => {
    const release = () => workflow("release.yml");

    it("is called with an environment, a commit, an image and an operation", () => {
      assert.deepEqual(Object.keys(release().on), ["workflow_call"]);
      assert.deepEqual(Object.keys(release().on.workflow_call.inputs), [
        "environment",
        "commit",
        "image",
        "operation",
        "release",
      ]);
    });

    it("previews in `<env>-preview`, then deploys in `<env>` behind its reviewers, with the environment URL", () => {
      const { preview, deploy } = release().jobs;
      assert.equal(preview.environment, "${{ inputs.environment }}-preview");
      assert.deepEqual(deploy.environment, { name: "${{ inputs.environment }}", url: "${{ steps.url.outputs.url }}" });
      assert.equal(deploy.needs, "preview");
      assert.deepEqual(deploy.concurrency, { group: "deploy-${{ inputs.environment }}", "cancel-in-progress": false });
      assert.ok(stepIndex(preview, runs(/^\.github\/scripts\/pulumi-preview /)) >= 0);
      assert.equal(stepIndex(preview, runs(/pulumi up/)), -1);
      const up = stepsOf(deploy).find(runs(/npx pulumi up /))!;
      // The run's own copy of the stack config, the policy pack, and a message naming what was released.
      assert.match(up.run!, /--config-file "\$CONFIG_FILE"/);
      assert.match(up.run!, /--policy-pack policy\/run-pack/);
      assert.match(up.run!, /--message "\$OPERATION \$COMMIT \$IMAGE"/);
    });

    it("checks out the released commit and verifies every image it can deploy before Pulumi sees it", () => {
      assert.match(
        release().env!.SIGNER_IDENTITY,
        /\/\.github\/workflows\/deploy\.yml@refs\/heads\/\$\{\{ github\.event\.repository\.default_branch \}\}$/,
      );
      for (const [id, job] of Object.entries(release().jobs)) {
        const checkout = stepsOf(job).find((s) => s.uses?.startsWith("actions/checkout@"))!;
        assert.equal(checkout.with!.ref, "${{ inputs.commit }}", id);
        const verify = stepIndex(job, (s) => s.run === ".github/scripts/verify-release");
        const config = stepIndex(job, (s) => s.run === ".github/scripts/set-release");
        const pulumi = stepIndex(job, runs(/pulumi-preview|npx pulumi up/));
        assert.ok(
          verify >= 0 && verify < config && config < pulumi,
          `${id}: verify ${verify}, config ${config}, pulumi ${pulumi}`,
        );
        const releaseConfig = stepsOf(job).find((s) => s.uses === "./.github/actions/release-config")!;
        assert.equal(releaseConfig.with!["signer-key"], `\${{ vars.${REPOSITORY_VARIABLE_NAMES.signerPublicKey} }}`);
      }
    });

    it("deploys only a commit the environment before it ran, records what it deployed, and tells the webhook", () => {
      const { deploy } = release().jobs;
      const steps = deploy.steps!;
      const order = steps.findIndex((s) => s.run === ".github/scripts/require-previous-environment");
      const up = steps.findIndex(runs(/npx pulumi up /));
      assert.ok(order >= 0 && order < up);
      assert.equal(steps[order].if, "${{ inputs.operation == 'deploy' }}");
      // The record names the released commit, not the run's (a promotion runs from main's head).
      const start = steps.findIndex((s) => s.run === ".github/scripts/deployment start");
      const finish = steps.find((s) => s.run === ".github/scripts/deployment finish")!;
      assert.ok(start >= 0 && start < up);
      assert.equal(deploy.env!.COMMIT, "${{ inputs.commit }}");
      assert.match(finish.if!, /always\(\)/);
      assert.equal(steps.find((s) => s.run === ".github/scripts/release-diagnostics")!.if, "${{ failure() }}");
      const notify = steps.at(-1)!;
      assert.equal(notify.run, ".github/scripts/notify");
      assert.equal(notify.if, "${{ always() }}");
      assert.equal(notify.env!.NOTIFY_WEBHOOK_URL, `\${{ secrets.${SECRET_NAMES.notifyWebhookUrl} }}`);
    });
  });

  describe("promote.yml", () => {
    const promote = () => workflow("promote.yml");
    const validate = (action: string, release: string, environment = "prod") =>
      runScript(promote().jobs.validate.steps![0].run!, {
        ACTION: action,
        RELEASE: release,
        ENVIRONMENT: environment,
        DEPLOY_ENVIRONMENTS: '["dev","staging","prod"]',
      }).status;
    const digest = "a".repeat(64);

    it("is started by hand with an environment, an action and a release", () => {
      const inputs = promote().on.workflow_dispatch.inputs;
      assert.deepEqual(Object.keys(promote().on), ["workflow_dispatch"]);
      assert.equal(inputs.environment.type, "string");
      assert.deepEqual(inputs.action.options, ["promote", "rollback"]);
      assert.equal(inputs.release.type, "string");
    });

    it("validates the environment and the release format before any environment is entered", () => {
      assert.equal(promote().jobs.validate.environment, undefined);
      assert.equal(validate("promote", "0123456789ab"), 0);
      assert.equal(validate("promote", "0123456789ab", "staging"), 0);
      assert.equal(validate("promote", "0123456789ab", "qa"), 1);
      assert.equal(validate("promote", "0123456789ab", "prod-preview"), 1);
      assert.equal(validate("promote", "0123456789a"), 1);
      assert.equal(validate("promote", "0123456789AB"), 1);
      assert.equal(validate("promote", "0123456789ab; rm -rf /"), 1);
      assert.equal(validate("rollback", `registry.example.com/platform/api@sha256:${digest}`), 0);
      assert.equal(validate("rollback", "registry.example.com/platform/api:v1"), 1);
      assert.equal(validate("rollback", `api@sha256:${digest.slice(1)}`), 1);
      assert.equal(validate("deploy", "0123456789ab"), 1);
    });

    it("reads the recorded commit and image with the read-only identity, then releases exactly those", () => {
      const { recorded, apply } = promote().jobs;
      assert.equal(recorded.needs, "validate");
      assert.equal(recorded.environment, "${{ inputs.environment }}-preview");
      const checkout = recorded.steps!.find((s) => s.uses?.startsWith("actions/checkout@"))!;
      assert.equal(checkout.with!["fetch-depth"], 0, "the default branch's history, for the ancestry check");
      const history = recorded.steps!.find((s) => s.id === "recorded")!;
      assert.match(
        history.run!,
        /pulumi stack history --stack "\$STACK" --json .*\| \.github\/scripts\/recorded-release/,
      );
      assert.equal(history.env!.DEFAULT_BRANCH, "${{ github.event.repository.default_branch }}");
      const waiting = recorded.steps!.find((s) => s.id === "waiting")!;
      assert.equal(waiting.if, "${{ inputs.action == 'promote' }}");
      assert.match(
        waiting.run!,
        /pulumi stack output release --stack "\$STACK" --json \| \.github\/scripts\/release-waiting/,
      );
      assert.equal(apply.uses, "./.github/workflows/release.yml");
      assert.equal(apply.if, "${{ needs.recorded.outputs.needed == 'true' }}");
      assert.deepEqual(apply.with, {
        environment: "${{ inputs.environment }}",
        commit: "${{ needs.recorded.outputs.commit }}",
        image: "${{ needs.recorded.outputs.image }}",
        operation: "${{ inputs.action }}",
        release: "${{ inputs.release }}",
      });
      // Nothing of main: no checkout of the dispatching ref in the release itself, no push.
      assert.ok(!allSteps().some(({ step }) => /git (commit|push)/.test(step.run ?? "")));
    });
  });

  describe("helper scripts", () => {
    const commit = "1".repeat(40);
    const image = `registry.example.com/platform/api@sha256:${"d".repeat(64)}`;

    describe("recorded-release", () => {
      // A repository whose default branch holds `onMain`, with `offMain` on a branch of its own.
      const repository = fs.mkdtempSync(path.join(os.tmpdir(), "recorded-release-"));
      const git = (...args: string[]) =>
        spawnSync("git", ["-C", repository, "-c", "user.name=t", "-c", "user.email=t@t", ...args], {
          encoding: "utf8",
        }).stdout.trim();
      git("init", "-q", "-b", "main");
      git("commit", "-q", "--allow-empty", "-m", "on main");
      const onMain = git("rev-parse", "HEAD");
      git("checkout", "-q", "-b", "experiment");
      git("commit", "-q", "--allow-empty", "-m", "never merged");
      const offMain = git("rev-parse", "HEAD");
      git("update-ref", "refs/remotes/origin/main", onMain);
      after(() => fs.rmSync(repository, { recursive: true, force: true }));

      const update = (version: number, result: string, environment: Record<string, string>, imageRef?: string) => ({
        version,
        kind: "update",
        result,
        environment,
        config: imageRef ? { "api-stack:imageRef": { value: imageRef, secret: false } } : {},
      });
      const recorded = (history: unknown[]) =>
        runScript(
          `cd ${repository} && ${script("recorded-release")}`,
          { DEFAULT_BRANCH: "main" },
          {
            stdin: JSON.stringify(history),
          },
        );

      it("answers the commit and image of the last successful update, skipping failed ones and previews", () => {
        const result = recorded([
          { version: 0, kind: "preview", result: "succeeded", environment: {}, config: {} },
          update(7, "failed", { "git.head": offMain }, image.replace("d", "e")),
          {
            ...update(0, "succeeded", { "git.head": onMain, "git.dirty": "false" }, image),
            startTime: "2026-12-07T05:15:30.000Z",
          },
          update(5, "succeeded", { "git.head": "3".repeat(40) }, image),
        ]);
        assert.equal(result.status, 0, result.output);
        assert.equal(result.stdout, `commit=${onMain}\nimage=${image}\noperation=deploy\nrelease=\n`);
      });

      it("says what the update released: a promotion's release id, a rollback's image", () => {
        const released = (config: Record<string, string>) => {
          const last = update(9, "succeeded", { "git.head": onMain, "git.dirty": "false" }, image);
          for (const [key, value] of Object.entries(config)) {
            (last.config as Record<string, { value: string; secret: boolean }>)[`api-stack:${key}`] = {
              value,
              secret: false,
            };
          }
          return recorded([last]).stdout.split("\n").slice(2).join("\n");
        };
        assert.equal(released({ promote: "0123456789ab" }), "operation=promote\nrelease=0123456789ab\n");
        const earlier = `registry.example.com/platform/api@sha256:${"e".repeat(64)}`;
        assert.equal(
          released({ rollbackTo: earlier, promote: "0123456789ab" }),
          `operation=rollback\nrelease=${earlier}\n`,
        );
      });

      it("refuses a commit off the default branch, a dirty tree, no commit or image, an empty history", () => {
        const cases: [unknown[], RegExp][] = [
          [
            [update(3, "succeeded", { "git.head": offMain, "git.dirty": "false" }, image)],
            /update 3 ran commit .* not on main/,
          ],
          [[update(3, "succeeded", { "git.head": commit, "git.dirty": "false" }, image)], /which is not on main/],
          [[update(3, "succeeded", { "git.head": onMain, "git.dirty": "true" }, image)], /uncommitted changes/],
          [[update(3, "succeeded", {}, image)], /recorded no commit/],
          [[update(3, "succeeded", { "git.head": onMain })], /recorded no imageRef/],
          [[update(3, "failed", { "git.head": onMain }, image)], /no successful update/],
          // The file backend records version 0 for every update: its start, as the CLI prints it, names it.
          [
            [{ ...update(0, "succeeded", { "git.head": offMain }, image), startTime: "2026-12-07T05:15:30.000Z" }],
            /^recorded-release: the update started 2026-12-07T05:15:30.000Z ran commit [0-9a-f]{40}, which is not on/m,
          ],
        ];
        for (const [history, message] of cases) {
          const result = recorded(history);
          assert.notEqual(result.status, 0, JSON.stringify(history));
          assert.match(result.output, message);
          assert.equal(result.stdout, "", "nothing for the workflow's outputs");
        }
      });
    });

    describe("set-release", () => {
      // Records each `npx pulumi ...` with the file it was asked to change.
      const fakes = { npx: 'echo "$*" >> "$CALLS"' };
      const setRelease = (operation: string, release = "") => {
        const temp = fs.mkdtempSync(path.join(os.tmpdir(), "set-release-"));
        const env = path.join(temp, "env");
        const result = runScript(
          script("set-release"),
          {
            OPERATION: operation,
            IMAGE: image,
            RELEASE: release,
            STACK: "example-org/api-stack/prod",
            CALLS: path.join(temp, "calls"),
            RUNNER_TEMP: temp,
            GITHUB_ENV: env,
          },
          { fakes },
        );
        const read = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "");
        return {
          ...result,
          temp,
          calls: read(path.join(temp, "calls")).trim().split("\n"),
          env: read(env),
          copy: read(path.join(temp, "stack-config", "Pulumi.prod.yaml")),
        };
      };
      const file = (temp: string) => `--config-file ${temp}/stack-config/Pulumi.prod.yaml`;

      it("writes the release into the run's copy of the committed stack file, never the checkout", () => {
        const before = fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8");
        const deploy = setRelease("deploy");
        assert.equal(deploy.status, 0, deploy.output);
        const stack = "--stack example-org/api-stack/prod";
        assert.equal(deploy.calls.at(-1), `pulumi config set ${stack} ${file(deploy.temp)} imageRef ${image}`);
        assert.equal(deploy.calls.length, 1, "prod's file has no build key to remove");
        assert.equal(deploy.copy, before, "the copy starts from the committed file");
        assert.equal(deploy.env, `CONFIG_FILE=${deploy.temp}/stack-config/Pulumi.prod.yaml\n`);
        assert.equal(fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8"), before);

        const promote = setRelease("promote", "0123456789ab");
        assert.equal(promote.calls.at(-1), `pulumi config set ${stack} ${file(promote.temp)} promote 0123456789ab`);
        const rollback = setRelease("rollback", image);
        assert.equal(rollback.calls.at(-1), `pulumi config set ${stack} ${file(rollback.temp)} rollbackTo ${image}`);
      });

      it("removes, from the copy, the build keys a stack file that builds locally holds: the CI build deploys", () => {
        const temp = fs.mkdtempSync(path.join(os.tmpdir(), "set-release-"));
        const project = path.join(temp, "project");
        fs.mkdirSync(project);
        fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: api-stack\nruntime: nodejs\n");
        fs.writeFileSync(
          path.join(project, "Pulumi.laptop.yaml"),
          "config:\n  api-stack:environment: dev\n  api-stack:imageRepository: registry.example.com/team/api\n" +
            "  api-stack:imageBuildArgs:\n    BASE_IMAGE: python@sha256:" +
            "a".repeat(64) +
            "\n",
        );
        const env = { OPERATION: "deploy", IMAGE: image, STACK: "laptop", CALLS: path.join(temp, "calls") };
        const result = runScript(
          script("set-release"),
          { ...env, RUNNER_TEMP: temp, GITHUB_ENV: "/dev/null" },
          { fakes, cwd: project },
        );
        assert.equal(result.status, 0, result.output);
        const copy = `--config-file ${temp}/stack-config/Pulumi.laptop.yaml`;
        assert.deepEqual(fs.readFileSync(path.join(temp, "calls"), "utf8").trim().split("\n"), [
          `pulumi config rm --stack laptop ${copy} imageRepository`,
          `pulumi config rm --stack laptop ${copy} imageBuildArgs`,
          `pulumi config set --stack laptop ${copy} imageRef ${image}`,
        ]);
      });

      it("refuses an unpinned image, a malformed release and an unknown operation before any change", () => {
        for (const [operation, imageRef, release, message] of [
          ["deploy", "registry.example.com/api:latest", "", /IMAGE .* is not pinned by digest/],
          ["promote", image, "0123456789AB", /promote needs a release id/],
          ["rollback", image, "registry.example.com/api:v1", /rollback needs an image pinned by digest/],
          ["rebuild", image, "", /unknown operation 'rebuild'/],
        ] as const) {
          const result = runScript(
            script("set-release"),
            { OPERATION: operation, IMAGE: imageRef, RELEASE: release, STACK: "prod", RUNNER_TEMP: os.tmpdir() },
            { fakes: { npx: "exit 99" } },
          );
          assert.equal(result.status, 1, operation);
          assert.match(result.output, message);
        }
      });
    });

    describe("verify-release", () => {
      const fakes = { npx: 'echo "$*" >> "$CALLS"; [[ $* != *unsigned* ]]' };
      const verify = (env: Record<string, string>) => {
        const calls = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "verify-release-")), "calls");
        const result = runScript(
          script("verify-release"),
          {
            SIGNER_IDENTITY: "https://github.com/o/r/.github/workflows/deploy.yml@refs/heads/main",
            CALLS: calls,
            ...env,
          },
          { fakes },
        );
        return { ...result, calls: fs.existsSync(calls) ? fs.readFileSync(calls, "utf8").trim().split("\n") : [] };
      };
      const earlier = `registry.example.com/platform/api@sha256:${"e".repeat(64)}`;

      it("verifies the release's image, and for a rollback the image it returns to, keyless or with the key", () => {
        const deploy = verify({ IMAGE: image, OPERATION: "deploy", RELEASE: "" });
        assert.equal(deploy.status, 0, deploy.output);
        assert.deepEqual(deploy.calls, [
          `ts-node scripts/supply-chain/verify.ts --image ${image} --identity https://github.com/o/r/.github/workflows/deploy.yml@refs/heads/main --issuer https://token.actions.githubusercontent.com`,
        ]);
        const rollback = verify({ IMAGE: image, OPERATION: "rollback", RELEASE: earlier, SIGNER_KEY: "PEM" });
        assert.equal(rollback.status, 0, rollback.output);
        assert.deepEqual(
          rollback.calls.map((c) => c.replace(/--key \S+/, "--key KEY")),
          [image, earlier].map((i) => `ts-node scripts/supply-chain/verify.ts --image ${i} --key KEY`),
        );
      });

      it("stops at the first image that is not signed, naming it", () => {
        const unsigned = "registry.example.com/unsigned@sha256:" + "f".repeat(64);
        const result = verify({ IMAGE: image, OPERATION: "rollback", RELEASE: unsigned });
        assert.equal(result.status, 1);
        assert.match(result.output, new RegExp(`::error::${unsigned.replace(/[.@]/g, "\\$&")} is not signed`));
      });
    });

    describe("release-waiting", () => {
      const ref = (c: string) => `registry.example.com/platform/api@sha256:${c.repeat(64)}`;
      const waiting = (release: string, outputs: unknown) =>
        runScript(
          script("release-waiting"),
          { RELEASE: release, ENVIRONMENT: "prod" },
          { stdin: JSON.stringify(outputs) },
        );

      it("promotes only the release waiting in preview, and skips one already active", () => {
        const both = { active: ref("a"), preview: ref("b") };
        assert.equal(waiting("bbbbbbbbbbbb", both).stdout, "needed=true\n");
        assert.equal(waiting("aaaaaaaaaaaa", both).stdout, "needed=false\n");
        assert.match(waiting("aaaaaaaaaaaa", both).stderr, /already active on prod: nothing to do/);
        const other = waiting("cccccccccccc", both);
        assert.equal(other.status, 1);
        assert.match(
          other.output,
          /release cccccccccccc is not waiting in preview on prod \(waiting: bbbbbbbbbbbb; active: aaaaaaaaaaaa\)/,
        );
        assert.match(waiting("bbbbbbbbbbbb", { active: ref("a") }).output, /waiting: none/);
      });
    });

    describe("pulumi-preview", () => {
      const preview = (exit: number, printed: string) => {
        const temp = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-preview-"));
        const result = runScript(
          `${script("pulumi-preview")} ${temp}/out/dev.md`,
          {
            STACK: "dev",
            ENVIRONMENT: "dev",
            GITHUB_STEP_SUMMARY: `${temp}/summary`,
            CONFIG_FILE: "",
            PRINTED: printed,
          },
          { fakes: { npx: `echo "args: $*"; printf '%s' "$PRINTED"; exit ${exit}` } },
        );
        const read = (file: string) => fs.readFileSync(path.join(temp, file), "utf8");
        return { ...result, body: read("out/dev.md"), summary: read("summary") };
      };

      it("writes the preview, headed by its environment's marker, to the comment file and the job summary", () => {
        const ok = preview(0, "Resources:\n    31 unchanged\n");
        assert.equal(ok.status, 0, ok.output);
        assert.match(
          ok.body,
          /^<!-- api-stack preview: dev -->\n### `pulumi preview` of `dev` \(dev\): no policy violation\n/,
        );
        assert.match(
          ok.body,
          /args: pulumi preview --stack dev --diff --non-interactive --color never --policy-pack policy\/run-pack\n/,
        );
        assert.match(ok.body, /31 unchanged/);
        assert.equal(ok.summary, ok.body);
      });

      it("reports a failed preview the same way, fails the step, and keeps a long output under GitHub's limit", () => {
        const failed = preview(3, "x".repeat(100_000));
        assert.equal(failed.status, 3);
        assert.match(failed.body, /: FAILED \(exit 3\)/);
        assert.ok(failed.body.length < 65_536, String(failed.body.length));
      });
    });

    describe("release-diagnostics", () => {
      it("names every failed release Job with the end of its log, and never fails the step", () => {
        const jobs = {
          items: [
            {
              metadata: { name: "api-migration-aaaa-1111", labels: { "app.kubernetes.io/component": "migration" } },
              status: { failed: 1 },
            },
            {
              metadata: { name: "api-backup-aaaa-1111", labels: { "app.kubernetes.io/component": "backup" } },
              status: { succeeded: 1 },
            },
          ],
        };
        // Alembic's line for the step, then a traceback longer than the tail that is shown.
        const kubectl =
          `case "$1" in get) echo '${JSON.stringify(jobs)}' ;; ` +
          "logs) echo 'INFO  [alembic.runtime.migration] Running upgrade 0002 -> 0003, add a column'; " +
          'for i in $(seq 60); do echo "  File frame $i"; done; echo "UndefinedTable: boom" ;; esac';
        const result = runScript(script("release-diagnostics"), {}, { fakes: { kubectl } });
        assert.equal(result.status, 0);
        assert.match(
          result.stdout,
          new RegExp(
            '::error::release Job api-migration-aaaa-1111 failed at "Running upgrade 0002 -> 0003, add a column"; ' +
              "the end of its log:\n {4} {2}File frame 22\n",
          ),
        );
        assert.match(result.stdout, / {4}UndefinedTable: boom\n$/);
        assert.doesNotMatch(result.stdout, /api-backup/);
        const quiet = runScript(script("release-diagnostics"), {}, { fakes: { kubectl: "echo '{\"items\": []}'" } });
        assert.match(quiet.stdout, /no release Job failed/);
      });
    });

    describe("deployment and require-previous-environment, against the GitHub API stand-in", () => {
      const TOKEN = "ghs_unit_test_token";
      let api: GithubApi;
      beforeEach(async () => (api = await startGithubApi({ repository: "example-org/api-stack", token: TOKEN })));
      afterEach(() => api.close());
      const run = (name: string, args: string[], env: Record<string, string>) =>
        runScriptAsync(`${script(name)} ${args.join(" ")}`, {
          GITHUB_API_URL: api.url,
          GITHUB_REPOSITORY: "example-org/api-stack",
          GH_TOKEN: TOKEN,
          ...env,
        });
      const deploy = async (environment: string, finish: string) => {
        const outputs = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "deployment-")), "out");
        const env = {
          ENVIRONMENT: environment,
          COMMIT: commit,
          IMAGE: image,
          OPERATION: "deploy",
          GITHUB_OUTPUT: outputs,
        };
        const started = await run("deployment", ["start"], env);
        assert.equal(started.status, 0, started.output);
        const id = /^id=(\d+)$/m.exec(fs.readFileSync(outputs, "utf8"))![1];
        const finished = await run("deployment", ["finish"], { ...env, DEPLOYMENT_ID: id, STATUS: finish });
        assert.equal(finished.status, 0, finished.output);
      };
      const previous = (environment: string) =>
        run("require-previous-environment", [], {
          ENVIRONMENT: environment,
          COMMIT: commit,
          DEPLOY_ENVIRONMENTS: '["dev","staging","prod"]',
        });

      it("records the deployed commit and image, and its outcome", async () => {
        await deploy("dev", "success");
        assert.deepEqual(
          api.deployments.map((d) => [d.environment, d.sha, d.task, d.payload, d.statuses.map((s) => s.state)]),
          [["dev", commit, "api-stack-release", { image, operation: "deploy" }, ["in_progress", "success"]]],
        );
        await deploy("staging", "failure");
        await deploy("staging", "cancelled");
        assert.deepEqual(
          api.deployments.map((d) => d.statuses.at(-1)!.state),
          ["success", "failure", "inactive"],
        );
      });

      it("lets the first environment deploy, and the next one only after the one before ran the commit", async () => {
        assert.equal((await previous("dev")).status, 0);
        const never = await previous("staging");
        assert.equal(never.status, 1);
        assert.match(never.output, /dev has not run 1{40} successfully \(deployment: none, state: none\)/);
        await deploy("dev", "failure");
        assert.match((await previous("staging")).output, /state: failure/);
        await deploy("dev", "success");
        const staging = await previous("staging");
        assert.equal(staging.status, 0, staging.output);
        // It asks only for release records, newest first: GitHub's own records of each job do not count.
        assert.ok(
          api.calls.some(
            (c) =>
              c.path ===
              `/repos/example-org/api-stack/deployments?environment=dev&sha=${commit}` +
                "&task=api-stack-release&per_page=1",
          ),
        );
        const unknown = await previous("qa");
        assert.notEqual(unknown.status, 0);
        assert.match(unknown.output, /qa is not in DEPLOY_ENVIRONMENTS/);
      });

      it("fails when the API refuses the token", async () => {
        const refused = await runScriptAsync(`${script("deployment")} start`, {
          GITHUB_API_URL: api.url,
          GITHUB_REPOSITORY: "example-org/api-stack",
          GH_TOKEN: "wrong",
          ENVIRONMENT: "dev",
          COMMIT: commit,
          IMAGE: image,
          OPERATION: "deploy",
          GITHUB_OUTPUT: "/dev/null",
        });
        assert.notEqual(refused.status, 0);
        assert.deepEqual(api.deployments, []);
      });
    });

    describe("notify", () => {
      const notify = (url: string) =>
        new Promise<{ status: number | null; output: string }>((resolve) => {
          const child = spawn("bash", [script("notify")], {
            env: {
              ...process.env,
              NOTIFY_WEBHOOK_URL: url,
              STATUS: "success",
              OPERATION: "deploy",
              ENVIRONMENT: "prod",
              IMAGE: image,
              COMMIT: commit,
              RUN_URL: "https://github.com/example-org/api-stack/actions/runs/1",
              ENVIRONMENT_URL: "https://api.example.com",
            },
          });
          let output = "";
          child.stdout.on("data", (d) => (output += d));
          child.stderr.on("data", (d) => (output += d));
          child.on("close", (status) => resolve({ status, output }));
        });

      it("posts a Slack-compatible message: outcome, image, commit and URL, and never prints the webhook", async () => {
        const received: { type?: string; body: string }[] = [];
        const server = http.createServer((req, res) => {
          let body = "";
          req.on("data", (d) => (body += d));
          req.on("end", () => {
            received.push({ type: req.headers["content-type"], body });
            res.end(req.url === "/hooks/secret-path" ? "ok" : ((res.statusCode = 404), "no"));
          });
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        const { port } = server.address() as AddressInfo;
        try {
          const sent = await notify(`http://127.0.0.1:${port}/hooks/secret-path`);
          assert.equal(sent.status, 0);
          assert.doesNotMatch(sent.output, /secret-path/);
          assert.equal(received[0].type, "application/json");
          const { text } = JSON.parse(received[0].body) as { text: string };
          assert.match(
            text,
            new RegExp(
              "^deploy of 111111111111 to prod: success\n" +
                "image: registry\\.example\\.com/platform/api@sha256:d{64}\n" +
                "serving: https://api\\.example\\.com\nrun: https://github\\.com/",
            ),
          );
          // A webhook that refuses is a warning: the job's own result stands.
          const refused = await notify(`http://127.0.0.1:${port}/hooks/wrong-secret-path`);
          assert.equal(refused.status, 0);
          assert.match(refused.output, /::warning::/);
          assert.doesNotMatch(refused.output, /wrong-secret-path/);
        } finally {
          server.close();
        }
      });

      it("does nothing without a webhook", async () => {
        const result = await notify("");
        assert.equal(result.status, 0);
        assert.match(result.output, /no webhook configured for prod/);
      });
    });
  });

  describe("drift.yml", () => {
    const drift = () => workflow("drift.yml");

    it("previews each environment's last update daily, with its read-only preview identity", () => {
      assert.ok(drift().on.schedule && "workflow_dispatch" in drift().on);
      const { recorded, drift: preview, report } = drift().jobs;
      for (const job of [recorded, preview]) {
        assert.equal(job.environment, "${{ matrix.environment }}-preview");
        assert.equal(
          job.strategy!.matrix!.environment,
          `\${{ fromJSON(vars.${REPOSITORY_VARIABLE_NAMES.deployEnvironments}) }}`,
        );
      }
      // The commit and config of the last update, not main's: a drift check must not see a release as drift.
      const checkout = preview.steps!.find((s) => s.uses?.startsWith("actions/checkout@"))!;
      assert.equal(checkout.with!.ref, "${{ steps.recorded.outputs.commit }}");
      assert.ok(
        stepIndex(preview, (s) => s.run === ".github/scripts/set-release") < stepIndex(preview, runs(/drift-preview/)),
      );
      assert.match(fs.readFileSync(script("drift-preview"), "utf8"), /--refresh --expect-no-changes --diff/);
      assert.deepEqual(report.permissions, { issues: "write" });
      assert.deepEqual(
        report.steps!.map((s) => s.uses?.replace(/@.*/, "") ?? "run"),
        ["actions/download-artifact", "run"],
      );
    });

    describe("drift-preview", () => {
      const preview = (exit: number, printed: string) => {
        const temp = fs.mkdtempSync(path.join(os.tmpdir(), "drift-preview-"));
        const result = runScript(
          `${script("drift-preview")} ${temp}/out/prod.md`,
          {
            STACK: "prod",
            ENVIRONMENT: "prod",
            CONFIG_FILE: `${temp}/config.yaml`,
            GITHUB_STEP_SUMMARY: "",
            PRINTED: printed,
          },
          { fakes: { npx: `printf '%s\n' "$*"; printf '%s' "$PRINTED"; exit ${exit}` } },
        );
        const out = path.join(temp, "out/prod.md");
        return { ...result, body: fs.existsSync(out) ? fs.readFileSync(out, "utf8") : "" };
      };

      it("reports drift, names what differs, and passes the step", () => {
        const diff = "  ~ kubernetes:core/v1:Service: (update)\n      ~ spec: {\n          ~ ports: [\n";
        // The CLI's own words (3.259.0), as drift.yml's run on the local runner printed them.
        const drifted = preview(255, `${diff}error: no changes were expected for preview but changes were proposed\n`);
        assert.equal(drifted.status, 0, drifted.output);
        assert.match(drifted.body, /^<!-- drift: yes -->\n`prod` \(prod\) differs from its last update/);
        assert.match(
          drifted.body,
          /pulumi preview --stack prod --config-file \S+ --refresh --expect-no-changes --diff/,
        );
        assert.match(drifted.body, /kubernetes:core\/v1:Service: \(update\)[\s\S]*~ ports/);
        assert.match(preview(0, "Resources:\n    31 unchanged\n").body, /^<!-- drift: no -->\n`prod` \(prod\) matches/);
      });

      it("reports a field another manager took over, which stops the server-side dry run, as drift", () => {
        const conflict =
          '  ~ kubernetes:core/v1:Service: (update)\n      ~ targetPort: 8081 => "http"\n' +
          'error: Preview failed: 1 error occurred:\n\tThe resource managed by field manager "pulumi-kubernetes-1" ' +
          'had an apply conflict: Apply failed with 1 conflict: conflict with "kubectl-patch" using v1: ' +
          '.spec.ports[port=80,protocol="TCP"].targetPort\n';
        const drifted = preview(1, conflict);
        assert.equal(drifted.status, 0, drifted.output);
        assert.match(drifted.body, /^<!-- drift: yes -->/);
        assert.match(
          drifted.body,
          /conflict with "kubectl-patch" using v1: \.spec\.ports\[port=80,protocol="TCP"\]\.targetPort/,
        );
      });

      it("fails on any other failure of the preview", () => {
        const failed = preview(1, "error: the cluster is unreachable\n");
        assert.equal(failed.status, 1);
        assert.match(failed.output, /::error::the drift preview of prod failed/);
      });
    });

    it("opens one issue per drifting environment, updates it while it drifts, and closes it after", async () => {
      const TOKEN = "ghs_drift_report";
      const api = await startGithubApi({ repository: "example-org/api-stack", token: TOKEN });
      const reports = fs.mkdtempSync(path.join(os.tmpdir(), "drift-reports-"));
      const report = (files: Record<string, string>) => {
        fs.rmSync(reports, { recursive: true, force: true });
        fs.mkdirSync(reports);
        for (const [name, body] of Object.entries(files)) {
          fs.writeFileSync(path.join(reports, `${name}.md`), body);
        }
        return runScriptAsync(drift().jobs.report.steps![1].run!, {
          GITHUB_API_URL: api.url,
          GITHUB_REPOSITORY: "example-org/api-stack",
          GH_TOKEN: TOKEN,
          REPORTS: reports,
        });
      };
      try {
        const first = await report({ dev: "<!-- drift: no -->\nok\n", prod: "<!-- drift: yes -->\nService port\n" });
        assert.equal(first.status, 0, first.output);
        assert.deepEqual(
          api.issues.map((i) => [i.title, i.state, i.labels, i.body]),
          [["Drift in prod", "open", ["drift"], "<!-- drift: yes -->\nService port\n"]],
        );
        await report({ prod: "<!-- drift: yes -->\nService port and a ConfigMap\n" });
        assert.equal(api.issues.length, 1, "one issue per environment");
        assert.match(api.issues[0].body, /and a ConfigMap/);
        await report({ prod: "<!-- drift: no -->\nmatches\n" });
        assert.equal(api.issues[0].state, "closed");
      } finally {
        await api.close();
      }
    });
  });

  describe("CODEOWNERS", () => {
    const owned = () =>
      fs
        .readFileSync(path.join(GITHUB_DIR, "CODEOWNERS"), "utf8")
        .split("\n")
        .filter((line) => line.trim() !== "" && !line.startsWith("#"))
        .map((line) => line.split(/\s+/));
    /** Whether a CODEOWNERS pattern (anchored `/x`, directory `x/`, or a file glob anywhere) owns a path. */
    const owns = (pattern: string, file: string) => {
      const glob = (text: string) => text.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*");
      const body = glob(pattern.replace(/^\//, "").replace(/\/$/, ""));
      const anchor = pattern.startsWith("/") ? "^" : "(^|/)";
      return new RegExp(`${anchor}${body}${pattern.endsWith("/") ? "/" : "$"}`).test(file);
    };
    /** The repository files a module loads, following its relative imports. */
    const closure = (entry: string, seen = new Set<string>()): Set<string> => {
      if (seen.has(entry)) {
        return seen;
      }
      seen.add(entry);
      const text = fs.readFileSync(path.join(ROOT, entry), "utf8");
      for (const [, spec] of text.matchAll(/(?:from|import|require\()\s*"(\.\.?\/[^"]+)"/g)) {
        const base = path.join(path.dirname(entry), spec);
        const found = [`${base}.ts`, path.join(base, "index.ts"), base].find((f) => fs.existsSync(path.join(ROOT, f)));
        assert.ok(found, `${entry}: cannot resolve ${spec}`);
        if (found.endsWith(".ts")) {
          closure(found, seen);
        }
      }
      return seen;
    };

    it("names valid owners", () => {
      for (const [pattern, ...owners] of owned()) {
        assert.ok(
          owners.length > 0 && owners.every((o) => /^@[\w-]+(\/[\w-]+)?$/.test(o)),
          `${pattern} has no valid owner`,
        );
      }
    });

    it("owns every file a release job runs or installs: the program, its packages, policy pack and scripts", () => {
      const patterns = owned().map(([pattern]) => pattern);
      const released = [
        ...closure("index.ts"),
        ...closure("scripts/supply-chain/verify.ts"),
        "package.json",
        "package-lock.json",
        "tsconfig.json",
        // The program's compiler settings as the CLI runs it (Pulumi.yaml's runtime option).
        (
          load(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as {
            runtime: { options: { tsconfig: string } };
          }
        ).runtime.options.tsconfig,
        "Pulumi.yaml",
        "Pulumi.prod.yaml",
        "osv-scanner.toml",
        ...fs.readdirSync(path.join(ROOT, "scripts/supply-chain")).map((f) => `scripts/supply-chain/${f}`),
        ...fs
          .readdirSync(path.join(ROOT, "policy"))
          .filter((f) => f !== "node_modules")
          .map((f) => `policy/${f}`),
        ...fs.readdirSync(SCRIPTS).map((f) => `.github/scripts/${f}`),
        ...WORKFLOWS.map((f) => `.github/workflows/${f}`),
      ];
      assert.ok(released.includes("components/image/signature.ts") && released.includes("config/keys.ts"));
      const unowned = released.filter((file) => !patterns.some((pattern) => owns(pattern, file)));
      assert.deepEqual(unowned, [], "merged with any approval, then run with an environment's secrets");
      // The matcher itself: anchored, directory and anywhere patterns.
      assert.ok(owns("/components/", "components/api/index.ts") && !owns("/components/", "x/components/a.ts"));
      assert.ok(owns("Pulumi.*.yaml", "github/Pulumi.main.yaml") && !owns("/index.ts", "github/index.ts"));
    });
  });
});
