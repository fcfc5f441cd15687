// The Pulumi Kubernetes Operator's Stack for one stack of this project (tools/operator-stack.ts):
// examples/operator/stack.yaml is what the function renders; the ServiceAccount and its bindings
// pass the Kubernetes schemas; the Stack has the shape of the Operator's v2 CRD (pulumi.com/v1).
// That CRD is not available offline (the Go module proxy does not serve
// github.com/pulumi/pulumi-kubernetes-operator/v2), so STACK_SCHEMA below holds what this test
// relies on: the names of every spec field of the CRD (so a misspelt field fails), and the types
// and required fields of those the function sets, as the CRD of the Operator's v2.9.0 declares them.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";
import { loadAll } from "js-yaml";
import { KEYS, type KeyName } from "../../config/keys";
import {
  IN_CLUSTER_KUBECONFIG,
  OPERATOR_STACK_EXAMPLE,
  operatorStack,
  operatorStackYaml,
  type OperatorStackArgs,
} from "../../tools/operator-stack";
import { PROJECT, PROJECT_DIR } from "../../tools/program";
import { validateManifest } from "../support/k8s-schema";

const string = { type: "string" };
/** A value from a Secret, a file, an env var or a literal (the CRD's ResourceRef). */
const resourceRef = {
  type: "object",
  required: ["type"],
  properties: {
    type: { enum: ["Env", "FS", "Secret", "Literal"] },
    secret: { type: "object", required: ["key", "name"], properties: { key: string, name: string, namespace: string } },
    env: { type: "object", required: ["name"], properties: { name: string } },
    filesystem: { type: "object", required: ["path"], properties: { path: string } },
    literal: { type: "object", required: ["value"], properties: { value: string } },
  },
  additionalProperties: false,
};
const SPEC_FIELDS = [
  "accessTokenSecret",
  "backend",
  "branch",
  "commit",
  "config",
  "configRef",
  "continueResyncOnCommitMatch",
  "destroyOnFinalize",
  "envRefs",
  "envSecrets",
  "environment",
  "envs",
  "expectNoRefreshChanges",
  "fluxSource",
  "gitAuth",
  "gitAuthSecret",
  "prerequisites",
  "preview",
  "programRef",
  "projectRepo",
  "refresh",
  "repoDir",
  "resyncFrequencySeconds",
  "retryMaxBackoffDurationSeconds",
  "retryOnUpdateConflict",
  "runProgram",
  "secrets",
  "secretsProvider",
  "secretsRef",
  "serviceAccountName",
  "shallow",
  "stack",
  "targetDependents",
  "targets",
  "updateTemplate",
  "useLocalStackOnly",
  "workspaceReclaimPolicy",
  "workspaceTemplate",
];
const STACK_SCHEMA = {
  type: "object",
  required: ["apiVersion", "kind", "metadata", "spec"],
  properties: {
    apiVersion: { const: "pulumi.com/v1" },
    kind: { const: "Stack" },
    metadata: { type: "object", required: ["name", "namespace"], properties: { name: string, namespace: string } },
    spec: {
      type: "object",
      required: ["stack"],
      propertyNames: { enum: SPEC_FIELDS },
      properties: {
        stack: string,
        projectRepo: string,
        branch: string,
        commit: string,
        repoDir: string,
        backend: string,
        serviceAccountName: string,
        destroyOnFinalize: { type: "boolean" },
        gitAuth: {
          type: "object",
          propertyNames: { enum: ["accessToken", "basicAuth", "githubApp", "sshAuth"] },
          properties: { accessToken: resourceRef },
        },
        fluxSource: {
          type: "object",
          required: ["sourceRef"],
          properties: {
            dir: string,
            sourceRef: {
              type: "object",
              required: ["apiVersion", "kind", "name"],
              properties: { apiVersion: string, kind: string, name: string },
            },
          },
        },
        envRefs: { type: "object", additionalProperties: resourceRef },
        secretsRef: { type: "object", additionalProperties: resourceRef },
        // x-kubernetes-preserve-unknown-fields: strings or structured values.
        config: { type: "object" },
        workspaceTemplate: {
          type: "object",
          properties: {
            spec: {
              type: "object",
              properties: {
                image: string,
                securityProfile: { enum: ["baseline", "restricted"] },
                resources: {
                  type: "object",
                  properties: {
                    requests: { type: "object", additionalProperties: string },
                    limits: { type: "object", additionalProperties: string },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};
const validateStack = new Ajv({ strict: false, allErrors: true }).compile(STACK_SCHEMA);
/** The schema's complaints about `object`, none when it passes. */
const stackProblems = (object: unknown): string | undefined =>
  validateStack(object) ? undefined : JSON.stringify(validateStack.errors);

type Manifest = Record<string, any>;
const stackOf = (objects: Manifest[]) => objects.find((object) => object.kind === "Stack")!;

describe("the Pulumi Kubernetes Operator's Stack (tools/operator-stack.ts)", () => {
  const objects: Manifest[] = operatorStack(OPERATOR_STACK_EXAMPLE);
  const stack = stackOf(objects);

  it("is what examples/operator/stack.yaml holds", () => {
    const file = path.join(PROJECT_DIR, "examples/operator/stack.yaml");
    assert.equal(
      fs.readFileSync(file, "utf8"),
      operatorStackYaml(OPERATOR_STACK_EXAMPLE),
      "regenerate it: npx ts-node tools/operator-stack.ts > examples/operator/stack.yaml",
    );
    assert.deepEqual(loadAll(fs.readFileSync(file, "utf8")), objects);
  });

  it("has the shape of the Operator's v2 Stack, and a misspelt field fails it", () => {
    assert.equal(stackProblems(stack), undefined);
    const misspelt = { ...stack, spec: { ...stack.spec, envRef: stack.spec.envRefs } };
    assert.match(stackProblems(misspelt) ?? "", /propertyNames/);
    const { stack: _name, ...unnamed } = stack.spec;
    assert.match(stackProblems({ ...stack, spec: unnamed }) ?? "", /required property 'stack'/);
  });

  it("gives the workspace a ServiceAccount the operator's agent can authenticate and that deploys", async () => {
    const [account, delegator, deployer] = objects;
    for (const object of [account, delegator, deployer]) {
      await validateManifest(object);
    }
    assert.deepEqual(account.metadata, { name: stack.metadata.name, namespace: stack.metadata.namespace });
    assert.equal(stack.spec.serviceAccountName, account.metadata.name);
    assert.deepEqual(
      [delegator.roleRef.name, deployer.roleRef.name],
      ["system:auth-delegator", OPERATOR_STACK_EXAMPLE.deployerClusterRole],
    );
    for (const binding of [delegator, deployer]) {
      assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", ...account.metadata }]);
    }
  });

  it("holds no secret: the environment and secret config come from Secrets", () => {
    const refs = [...Object.values(stack.spec.envRefs), ...Object.values(stack.spec.secretsRef)] as Manifest[];
    assert.ok(refs.length > 0);
    for (const ref of refs) {
      assert.deepEqual(Object.keys(ref).sort(), ["secret", "type"]);
      assert.equal(ref.type, "Secret");
    }
    assert.deepEqual(stack.spec.gitAuth, {
      accessToken: { type: "Secret", secret: { name: "git-token", key: "token" } },
    });
  });

  it("sets only keys of this project's key table, secret ones as secrets", () => {
    const project = (key: string) => {
      assert.ok(key.startsWith(`${PROJECT}:`), key);
      const short = key.slice(PROJECT.length + 1);
      assert.ok(short in KEYS, `${short} is not a key of config/keys.ts`);
      return KEYS[short as KeyName];
    };
    for (const key of Object.keys(stack.spec.secretsRef)) {
      assert.equal((project(key) as { secret?: boolean }).secret, true, `${key} is a secret key`);
    }
    for (const key of Object.keys(stack.spec.config).filter((key) => !key.startsWith("kubernetes:"))) {
      assert.notEqual((project(key) as { secret?: boolean }).secret, true, `${key} is not a secret key`);
    }
  });

  it("hands the program and the provider the pod's own identity as a kubeconfig", () => {
    assert.equal(stack.spec.config["kubernetes:kubeconfig"], IN_CLUSTER_KUBECONFIG);
    const [kubeconfig] = loadAll(IN_CLUSTER_KUBECONFIG) as Manifest[];
    const context = kubeconfig.contexts.find((c: Manifest) => c.name === kubeconfig["current-context"]).context;
    const cluster = kubeconfig.clusters.find((c: Manifest) => c.name === context.cluster).cluster;
    const user = kubeconfig.users.find((u: Manifest) => u.name === context.user).user;
    assert.equal(cluster.server, "https://kubernetes.default.svc");
    assert.equal(cluster["certificate-authority"], "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt");
    assert.deepEqual(user, { tokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token" });
  });

  it("takes the program from a Flux source, or from git by commit", () => {
    const flux: OperatorStackArgs = {
      ...OPERATOR_STACK_EXAMPLE,
      source: { flux: { kind: "GitRepository", name: "api-stack", dir: "deploy" } },
    };
    const fromFlux = stackOf(operatorStack(flux));
    assert.equal(stackProblems(fromFlux), undefined);
    assert.deepEqual(fromFlux.spec.fluxSource, {
      sourceRef: { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", name: "api-stack" },
      dir: "deploy",
    });
    assert.equal(fromFlux.spec.projectRepo, undefined);

    const commit = "0123456789abcdef0123456789abcdef01234567";
    const pinned = stackOf(
      operatorStack({ ...OPERATOR_STACK_EXAMPLE, source: { git: { url: "https://example.com/api.git", commit } } }),
    );
    assert.equal(stackProblems(pinned), undefined);
    assert.deepEqual([pinned.spec.commit, pinned.spec.branch, pinned.spec.gitAuth], [commit, undefined, undefined]);
    assert.throws(
      () => operatorStack({ ...OPERATOR_STACK_EXAMPLE, source: { git: { url: "https://example.com/api.git" } } }),
      /a branch or a commit/,
    );
  });
});
