// The GitHub Actions workflows and their local actions: valid against the workflow and action
// JSON schemas (SchemaStore's, through @action-validator/core, offline), and shaped the way
// delivery's security depends on: no environment's secret or identity reaches a pull request's
// code unless that environment is made for it, OIDC only where a job uses it, actions pinned by
// commit, the image built once and released by digest after its signature is verified, a
// promotion that runs the recorded commit, and names that match what the GithubRepository
// component creates. The helper scripts run here for real (bash, with stand-ins for pulumi, gh
// and a webhook on loopback).
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

const ROOT = path.resolve(__dirname, "../..");
const GITHUB_DIR = path.join(ROOT, ".github");
const WORKFLOWS = ["ci.yml", "deploy.yml", "preview.yml", "promote.yml", "release.yml"];
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
const pulumiCommands = (job: Job) =>
  stepsOf(job).filter((s) => s.uses?.startsWith("pulumi/actions@") && s.with?.command);
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
  options: { stdin?: string; fakes?: Record<string, string> } = {},
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
      cwd: ROOT,
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

describe("GitHub Actions workflows", () => {
  it("are exactly ci, deploy, preview, promote and release, with the pulumi-stack and release-config actions", () => {
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
        shaOf.has("google/osv-scanner-action/osv-scanner-action"),
    );
  });

  it("declare no permission at the top and the least per job", () => {
    // Every write any job may have, and every read beyond contents.
    const allowed: Record<string, Record<string, string>> = {
      "preview.yml/preview": { contents: "read", "pull-requests": "write", "id-token": "write" },
      "deploy.yml/build": { contents: "read", "id-token": "write" },
      "deploy.yml/release": { contents: "read", "id-token": "write", deployments: "read" },
      "release.yml/preview": { contents: "read", "id-token": "write" },
      "release.yml/deploy": { contents: "read", "id-token": "write", deployments: "read" },
      "promote.yml/recorded": { contents: "read", "id-token": "write" },
      "promote.yml/apply": { contents: "read", "id-token": "write", deployments: "read" },
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

  it("ask for an OIDC token exactly in the jobs that exchange one (Pulumi, keyless signing, or a release that does)", () => {
    for (const { file, id, job } of jobs()) {
      const exchanges =
        uses(job, "pulumi/auth-actions@") ||
        stepsOf(job).some((s) => /^scripts\/supply-chain\/sign "/.test(s.run ?? "")) ||
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

    it("no workflow runs on pull_request_target or workflow_run, which would hand secrets to a pull request's code", () => {
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
      assert.deepEqual(Object.keys(workflow("preview.yml").jobs), ["preview"]);
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
      const [preview] = pulumiCommands(job);
      assert.equal(preview.with!.command, "preview");
      assert.equal(preview.with!["comment-on-pr"], true);
      assert.equal(preview.with!.policyPacks, "policy");
    });
  });

  describe("ci.yml", () => {
    const ci = () => workflow("ci.yml");

    it("runs on pushes to main and on pull requests", () => {
      assert.deepEqual(ci().on.push, { branches: ["main"] });
      assert.ok("pull_request" in ci().on);
    });

    it("typechecks and runs the unit suite on Node 24 with the npm cache", () => {
      const job = ci().jobs.program;
      const node = job.steps!.find((s) => s.uses?.startsWith("actions/setup-node@"))!;
      assert.equal(String(node.with!["node-version"]), "24");
      assert.equal(node.with!.cache, "npm");
      const runs = job.steps!.map((s) => s.run);
      assert.ok(runs.indexOf("npm ci") < runs.indexOf("npx tsc -p ."));
      assert.ok(runs.includes("npm test"));
    });

    it("tests every app under apps/ with uv on Python 3.12 against postgres:16 and redis:7", () => {
      const job = ci().jobs.apps as Job & { services: Record<string, { image: string }> };
      const apps = fs
        .readdirSync(path.join(ROOT, "apps"))
        .filter((app) => fs.existsSync(path.join(ROOT, "apps", app, "uv.lock")))
        .sort();
      assert.deepEqual([...(job.strategy!.matrix!.app as string[])].sort(), apps);
      assert.equal(job.services.postgres.image, "postgres:16");
      assert.equal(job.services.redis.image, "redis:7");
      assert.ok(job.steps!.some((s) => s.run === "uv sync --frozen"));
      assert.match(job.env!.TEST_DATABASE_URL, /^postgresql:\/\/api:[^@]+@127\.0\.0\.1:5432\/\w+$/);
    });

    it("scans every app's uv.lock with the allow-list, as scripts/supply-chain/scan does", () => {
      const step = ci().jobs.scan.steps!.find((s) => s.uses?.startsWith("google/osv-scanner-action/"))!;
      const args = String(step.with!["scan-args"]).split("\n");
      const lockfiles = fs
        .readdirSync(path.join(ROOT, "apps"))
        .filter((app) => fs.existsSync(path.join(ROOT, "apps", app, "uv.lock")))
        .map((app) => `--lockfile=apps/${app}/uv.lock`)
        .sort();
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

    it("builds and pushes in one job only, from a base image pinned by digest, and nothing else builds", () => {
      const builds = allSteps().filter(({ step }) => /\bdocker (build|buildx)\b/.test(step.run ?? ""));
      assert.deepEqual(
        builds.map((b) => b.where),
        ["deploy.yml/build"],
      );
      const build = deploy().jobs.build;
      assert.equal(build.environment, BUILD_ENVIRONMENT);
      const push = build.steps!.find((s) => s.id === "push")!;
      assert.match(push.run!, /--build-arg "BASE_IMAGE=\$BASE_IMAGE"/);
      const guard = (base: string) =>
        runScript(
          push.run!,
          {
            BASE_IMAGE: base,
            IMAGE_REPOSITORY: "r.example.com/a",
            APP: "fastapi",
            COMMIT: "c",
            GITHUB_OUTPUT: "/dev/null",
          },
          { fakes: { docker: "exit 0" } },
        );
      assert.equal(guard("python:3.12-slim").status, 1);
      assert.match(guard("python:3.12-slim").output, /not pinned by digest/);
      assert.equal(guard(`python@sha256:${"c".repeat(64)}`).status, 0);
      assert.equal(build.outputs!.image, "${{ steps.push.outputs.image }}");
    });

    it("makes the SBOM, scans it, then signs and attests before any release", () => {
      const steps = deploy().jobs.build.steps!;
      const at = (test: (s: Step) => boolean) => steps.findIndex(test);
      const push = at((s) => s.id === "push");
      const sbom = at((s) => /^scripts\/supply-chain\/sbom "\$IMAGE" sbom\.spdx\.json$/.test(s.run ?? ""));
      const scan = at((s) => s.uses?.startsWith("google/osv-scanner-action/") === true);
      const sign = at((s) => /^scripts\/supply-chain\/sign "\$IMAGE" sbom\.spdx\.json$/.test(s.run ?? ""));
      assert.ok(
        push < sbom && sbom < scan && scan < sign,
        `order: push ${push}, sbom ${sbom}, scan ${scan}, sign ${sign}`,
      );
      assert.deepEqual(String(steps[scan].with!["scan-args"]).split("\n"), [
        "--config=osv-scanner.toml",
        "--lockfile=sbom.spdx.json",
      ]);
      assert.ok(deploy().jobs.release.needs === "build");
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
      assert.deepEqual(
        pulumiCommands(preview).map((s) => s.with!.command),
        ["preview"],
      );
      assert.deepEqual(
        pulumiCommands(deploy).map((s) => s.with!.command),
        ["up"],
      );
      assert.equal(pulumiCommands(preview)[0].with!["comment-on-summary"], true);
      for (const job of [preview, deploy]) {
        assert.equal(pulumiCommands(job)[0].with!.policyPacks, "policy");
      }
    });

    it("checks out the released commit and verifies the image's signature before Pulumi sees it", () => {
      assert.match(
        release().env!.SIGNER_IDENTITY,
        /\/\.github\/workflows\/deploy\.yml@refs\/heads\/\$\{\{ github\.event\.repository\.default_branch \}\}$/,
      );
      for (const [id, job] of Object.entries(release().jobs)) {
        const steps = stepsOf(job);
        const checkout = steps.find((s) => s.uses?.startsWith("actions/checkout@"))!;
        assert.equal(checkout.with!.ref, "${{ inputs.commit }}", id);
        const verify = steps.findIndex((s) =>
          /scripts\/supply-chain\/verify\.ts --image "\$IMAGE" --identity "\$SIGNER_IDENTITY"/.test(s.run ?? ""),
        );
        const config = steps.findIndex((s) => s.run === ".github/scripts/set-release");
        const pulumi = steps.findIndex((s) => s.uses?.startsWith("pulumi/actions@") && s.with?.command);
        assert.ok(
          verify >= 0 && verify < config && config < pulumi,
          `${id}: verify ${verify}, config ${config}, pulumi ${pulumi}`,
        );
      }
    });

    it("deploys only a commit the environment before it ran, and tells the webhook whatever happened", () => {
      const steps = release().jobs.deploy.steps!;
      const order = steps.findIndex((s) => s.run === ".github/scripts/require-previous-environment");
      assert.ok(order >= 0 && order < steps.findIndex((s) => s.uses?.startsWith("pulumi/actions@")));
      assert.equal(steps[order].if, "${{ inputs.operation == 'deploy' }}");
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
      assert.match(
        recorded.steps!.at(-1)!.run!,
        /pulumi stack history --stack "\$STACK" --json .*\| \.github\/scripts\/recorded-release/,
      );
      assert.equal(apply.uses, "./.github/workflows/release.yml");
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
      const update = (version: number, result: string, environment: Record<string, string>, imageRef?: string) => ({
        version,
        kind: "update",
        result,
        environment,
        config: imageRef ? { "api-stack:imageRef": { value: imageRef, secret: false } } : {},
      });
      const recorded = (history: unknown[]) =>
        runScript(script("recorded-release"), {}, { stdin: JSON.stringify(history) });

      it("answers the commit and image of the last successful update, skipping failed ones and previews", () => {
        const result = recorded([
          { version: 0, kind: "preview", result: "succeeded", environment: {}, config: {} },
          update(7, "failed", { "git.head": "2".repeat(40) }, image.replace("d", "e")),
          update(6, "succeeded", { "git.head": commit, "git.dirty": "false" }, image),
          update(5, "succeeded", { "git.head": "3".repeat(40) }, image),
        ]);
        assert.equal(result.status, 0, result.output);
        assert.equal(result.stdout, `commit=${commit}\nimage=${image}\n`);
      });

      it("refuses an update from a dirty tree, one without a commit or an image, and an empty history", () => {
        const cases: [unknown[], RegExp][] = [
          [[update(3, "succeeded", { "git.head": commit, "git.dirty": "true" }, image)], /uncommitted changes/],
          [[update(3, "succeeded", {}, image)], /recorded no commit/],
          [[update(3, "succeeded", { "git.head": commit })], /recorded no imageRef/],
          [[update(3, "failed", { "git.head": commit }, image)], /no successful update/],
        ];
        for (const [history, message] of cases) {
          const result = recorded(history);
          assert.notEqual(result.status, 0);
          assert.match(result.output, message);
        }
      });
    });

    describe("set-release", () => {
      const fakes = { pulumi: 'echo "pulumi $*" >> "$CALLS"' };
      const setRelease = (operation: string, release = "") => {
        const calls = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "set-release-")), "calls");
        const result = runScript(
          script("set-release"),
          { OPERATION: operation, IMAGE: image, RELEASE: release, STACK: "prod", CALLS: calls },
          { fakes },
        );
        return { ...result, calls: fs.existsSync(calls) ? fs.readFileSync(calls, "utf8").trim().split("\n") : [] };
      };

      // A stack whose file builds locally (dev) deploys the CI build: its build keys go first.
      const BUILD_KEYS = [
        "imageRepository",
        "imageContext",
        "imageDockerfile",
        "imageTarget",
        "imagePlatform",
        "imageBuildArgs",
        "registryUsername",
        "registryPassword",
      ];
      const removals = BUILD_KEYS.map((key) => `pulumi config rm ${key} --stack prod`);

      it("deploys by imageRef instead of the build keys, and adds promote or rollbackTo for those operations", () => {
        assert.deepEqual(setRelease("deploy").calls, [...removals, `pulumi config set imageRef ${image} --stack prod`]);
        assert.deepEqual(setRelease("promote", "0123456789ab").calls, [
          ...removals,
          `pulumi config set imageRef ${image} --stack prod`,
          "pulumi config set promote 0123456789ab --stack prod",
        ]);
        assert.equal(setRelease("rollback", image).calls.at(-1), `pulumi config set rollbackTo ${image} --stack prod`);
        assert.equal(setRelease("rebuild").status, 1);
      });

      it("refuses an image that is not pinned by digest before touching the config", () => {
        const result = runScript(
          script("set-release"),
          { OPERATION: "deploy", IMAGE: "registry.example.com/api:latest", STACK: "prod", CALLS: "/dev/null" },
          { fakes: { pulumi: "exit 99" } },
        );
        assert.equal(result.status, 1);
        assert.match(result.output, /not pinned by digest/);
      });
    });

    describe("require-previous-environment", () => {
      // A stand-in for `gh api`: answers DEPLOYMENT (the deployment found, if any) and STATE (its
      // latest status), and records what was asked.
      const fakes = {
        gh: `echo "$2" >> "$ASKED"
          case "$2" in
            *statuses*) echo "$STATE" ;;
            *) echo "$DEPLOYMENT" ;;
          esac`,
      };
      const check = (environment: string, state?: string) => {
        const asked = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "previous-")), "asked");
        const result = runScript(
          script("require-previous-environment"),
          {
            ENVIRONMENT: environment,
            COMMIT: commit,
            DEPLOY_ENVIRONMENTS: '["dev","staging","prod"]',
            GITHUB_REPOSITORY: "example-org/api-stack",
            GH_TOKEN: "unused",
            DEPLOYMENT: state === undefined ? "" : "42",
            STATE: state ?? "",
            ASKED: asked,
          },
          { fakes },
        );
        return { ...result, asked: fs.existsSync(asked) ? fs.readFileSync(asked, "utf8") : "" };
      };

      it("lets the first environment deploy, and the next one only after the one before ran the commit", () => {
        assert.equal(check("dev").status, 0);
        assert.equal(check("dev").asked, "");
        const staging = check("staging", "success");
        assert.equal(staging.status, 0, staging.output);
        assert.match(
          staging.asked,
          new RegExp(`^repos/example-org/api-stack/deployments\\?environment=dev&sha=${commit}&per_page=1\n`),
        );
        assert.match(staging.asked, /deployments\/42\/statuses/);
        assert.equal(check("prod", "inactive").status, 0);
        for (const state of ["failure", "error", "in_progress", ""]) {
          const result = check("prod", state);
          assert.equal(result.status, 1, state);
          assert.match(result.output, /staging has not run 1{40} successfully/);
        }
        const never = check("prod");
        assert.equal(never.status, 1);
        assert.match(never.output, /deployment: none/);
        assert.notEqual(check("qa").status, 0);
        assert.match(check("qa").output, /qa is not in DEPLOY_ENVIRONMENTS/);
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

      it("posts a Slack-compatible message with the outcome, the image, the commit and the URL, and never prints the webhook", async () => {
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
            /^deploy of 111111111111 to prod: success\nimage: registry\.example\.com\/platform\/api@sha256:d{64}\nserving: https:\/\/api\.example\.com\nrun: https:\/\/github\.com\//,
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

  it("CODEOWNERS owns the workflows, the policy pack, every stack file, the GitHub project and the supply chain", () => {
    const owned = fs
      .readFileSync(path.join(GITHUB_DIR, "CODEOWNERS"), "utf8")
      .split("\n")
      .filter((line) => line.trim() !== "" && !line.startsWith("#"))
      .map((line) => line.split(/\s+/));
    for (const [pattern, ...owners] of owned) {
      assert.ok(
        owners.length > 0 && owners.every((o) => /^@[\w-]+(\/[\w-]+)?$/.test(o)),
        `${pattern} has no valid owner`,
      );
    }
    assert.deepEqual(
      owned.map(([pattern]) => pattern),
      [
        "/.github/",
        "/policy/",
        "Pulumi.*.yaml",
        "Pulumi.yaml",
        "/github/",
        "/scripts/supply-chain/",
        "/osv-scanner.toml",
      ],
    );
  });
});
