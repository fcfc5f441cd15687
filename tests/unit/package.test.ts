// The component package without the engine (Pulumi's mocks): its schema, rendered from the key
// table and kept in package/schema.json; its flat inputs, checked by the program's own rules
// before anything is registered; and `construct`, which must build exactly what the program
// builds from the same values given as stack config. The real engine, the launcher and the YAML
// language host run the package in tests/e2e/package.test.ts.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { KEYS, type KeyName, type KeySpec } from "../../config/keys";
import { componentConfig, PROPERTIES, type ResolvedInput } from "../../package/args";
import { packageSchema, TOKEN } from "../../package/package-schema";
import { ApiStackArgsError, ApiStackProvider, resolveInput } from "../../package/provider";
import { UNSIGNED, withCosign } from "../support/cosign";
import {
  devInput,
  execute,
  PROD_IMAGE,
  prodInput,
  PROJECT,
  PROJECT_DIR,
  TEST_SECRETS,
  withConfig,
  type StackInput,
} from "../support/harness";

const schema = packageSchema() as {
  resources: Record<
    string,
    { inputProperties: Record<string, any>; requiredInputs: string[]; properties: Record<string, unknown> }
  >;
  types: Record<string, any>;
};
const inputProperties = schema.resources[TOKEN].inputProperties;

/** A stack's config as typed values: strings as they are; numbers, booleans, lists and objects are JSON there. */
const typedConfig = (input: StackInput) =>
  Object.entries(input.values).map(([full, text]) => {
    const key = full.slice(PROJECT.length + 1) as KeyName;
    const value: unknown = (KEYS[key] as KeySpec).kind === "string" ? text : JSON.parse(text);
    return { key, value, secret: input.secretKeys.includes(full) };
  });

/** A stack's config as the package's inputs, its secrets Pulumi secrets. */
const flatInputs = (input: StackInput): Record<string, pulumi.Input<unknown>> =>
  Object.fromEntries(typedConfig(input).map(({ key, value, secret }) => [key, secret ? pulumi.secret(value) : value]));

/** A stack's config as the provider hands the inputs to the rules. */
const resolvedInputs = (input: StackInput): Record<string, ResolvedInput> =>
  Object.fromEntries(typedConfig(input).map(({ key, value, secret }) => [key, { value, known: true, secret }]));

// Prod releases blue-green, with an analysis after the promotion that queries this Prometheus.
const prodBlueGreen = () => withConfig(prodInput(), { prometheusAddress: "http://prometheus.monitoring.svc:9090" });

/** What a refused construct leaves: nothing but the mocked stack itself. */
const registeredBesidesTheStack = (resources: { type: string }[]) =>
  resources.filter((resource) => resource.type !== "pulumi:pulumi:Stack");

/** Runs the provider's construct under the mocks, with the harness's fake cluster as the live release. */
const construct = (inputs: Record<string, pulumi.Input<unknown>>, stack = "unit") =>
  execute(
    { values: {}, secretKeys: [] },
    {
      stack,
      program: async (readRelease) => {
        const provider = new ApiStackProvider({ projectDir: PROJECT_DIR, releaseReader: () => readRelease });
        return (await provider.construct("api", TOKEN, inputs, {})).state;
      },
    },
  );

const known = (value: unknown, secret = false): ResolvedInput => ({ value, known: true, secret });
const checked = (inputs: Record<string, ResolvedInput>) =>
  componentConfig(inputs, { values: {}, project: "consumer", stack: "dev", projectDir: PROJECT_DIR });
const problemsOf = (inputs: Record<string, ResolvedInput>) => {
  const result = checked(inputs);
  assert.ok(!result.ok, "the inputs are refused");
  return result.problems;
};
/** The smallest valid dev inputs: what every ApiStack needs, and where dev's database comes from. */
const MINIMAL = {
  environment: known("dev"),
  secretKey: known(TEST_SECRETS.secretKey, true),
  apiTokens: known(TEST_SECRETS.apiTokens, true),
  imageRef: known(PROD_IMAGE),
  devServicesEnabled: known(true),
  devPostgresPassword: known(TEST_SECRETS.devPostgresPassword, true),
};

describe("component package: schema", () => {
  it("package/schema.json is what the key table renders (npm run gen:project)", () => {
    const committed = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "package", "schema.json"), "utf8"));
    assert.deepEqual(committed, packageSchema());
  });

  it("has every stack config key but renderYamlTo as a property, described, its secrets marked", () => {
    assert.deepEqual(Object.keys(inputProperties), PROPERTIES);
    assert.deepEqual(
      (Object.keys(KEYS) as KeyName[]).filter((key) => !PROPERTIES.includes(key as never)),
      ["renderYamlTo"],
    );
    for (const name of PROPERTIES) {
      const spec: KeySpec = KEYS[name];
      assert.ok(inputProperties[name].description.startsWith(spec.description), name);
      assert.equal(inputProperties[name].secret ?? false, spec.secret ?? false, name);
    }
    assert.deepEqual(
      schema.resources[TOKEN].requiredInputs,
      PROPERTIES.filter((name) => (KEYS[name] as KeySpec).required),
    );
  });

  it("gives the unions of ApiStackArgs as enums and optional properties", () => {
    const enumOf = (name: string) =>
      schema.types[inputProperties[name].$ref.replace("#/types/", "")].enum.map((e: { value: string }) => e.value);
    assert.deepEqual(enumOf("strategy"), ["rolling", "blueGreen", "canary"]);
    assert.deepEqual(enumOf("exposure"), ["ingress", "gateway"]);
    // The image: a prebuilt digest, or the build's properties; neither is required by the schema.
    for (const name of ["imageRef", "imageRepository", "imageContext", "imageDockerfile", "imageTarget"]) {
      assert.equal(inputProperties[name].type, "string", name);
      assert.ok(!schema.resources[TOKEN].requiredInputs.includes(name), name);
    }
    assert.equal(inputProperties.canarySteps.items.$ref, "#/types/api-stack:index:CanaryStep");
  });
});

describe("component package: inputs", () => {
  it("maps valid inputs onto the ApiStackArgs the program builds from the same stack config", () => {
    const result = checked(MINIMAL);
    assert.ok(result.ok);
    assert.equal(result.config.args.image.kind, "prebuilt");
    assert.equal(result.config.args.secrets.secretKey.reveal(), TEST_SECRETS.secretKey);
    assert.equal(result.config.args.delivery.strategy, "rolling");
  });

  it("reports every problem at once, naming the property and what is allowed, never a secret", () => {
    const problems = problemsOf({
      ...MINIMAL,
      environment: known("qa"),
      replicas: known(0),
      secretKey: known("too-short-a-secret", true),
      ingressEnabled: known(true),
      renderYamlTo: known("rendered"),
    });
    const expected = [
      /^environment: "qa" is not allowed; expected one of dev, staging, prod\.$/,
      /^replicas: 0 is not allowed; expected an integer from 1 to 100\.$/,
      /^secretKey: \[secret\] is not allowed; expected a secret of at least 50 characters/,
      /^ingressHost is required/,
      /^renderYamlTo is not a property of ApiStack: render mode is a Kubernetes provider's setting/,
    ];
    for (const pattern of expected) {
      assert.ok(
        problems.some((problem) => pattern.test(problem)),
        `${pattern} in:\n${problems.join("\n")}`,
      );
    }
    assert.ok(!problems.join("\n").includes("too-short-a-secret"));
  });

  it("keeps secrets secret: a secret property must be one, and a plain one must not", () => {
    const problems = problemsOf({
      ...MINIMAL,
      secretKey: known(TEST_SECRETS.secretKey),
      imageRef: known(PROD_IMAGE, true),
    });
    assert.equal(problems.length, 2);
    assert.match(problems[0], /^secretKey must reach ApiStack as a Pulumi secret/);
    assert.match(problems[1], /^imageRef is a Pulumi secret, but ApiStack writes it in plain text/);
    assert.ok(!problems.join("\n").includes(TEST_SECRETS.secretKey));
  });

  it("refuses an input not known before the update: nothing may be registered on a guess", () => {
    const problems = problemsOf({ ...MINIMAL, imageRef: { value: undefined, known: false, secret: false } });
    assert.match(problems[0], /^imageRef is not known before the update/);
  });

  it("applies prod's rules, and counts a value equal to its default as unset, as for stack config", () => {
    const prod = resolvedInputs(prodBlueGreen());
    assert.ok(checked(prod).ok);
    const refused = problemsOf({ ...prod, devServicesEnabled: known(true) });
    assert.ok(refused.some((problem) => problem.startsWith("devServicesEnabled: true is refused in prod")));
    // A default an SDK sends is not a build key, which prod refuses; a changed one is.
    assert.ok(checked({ ...prod, imageContext: known(KEYS.imageContext.default) }).ok);
    assert.ok(problemsOf({ ...prod, imageContext: known("apps/django") }).some((p) => p.startsWith("imageContext")));
  });

  it("resolves Outputs in inputs: secret if any part is, known only if all of it is", async () => {
    assert.deepEqual(await resolveInput({ a: [pulumi.secret("x"), "y"], b: pulumi.output(1) }), {
      value: { a: ["x", "y"], b: 1 },
      known: true,
      secret: true,
    });
    assert.deepEqual(await resolveInput([pulumi.output(pulumi.unknown), "y"]), {
      value: undefined,
      known: false,
      secret: false,
    });
  });
});

for (const [stack, input] of [
  ["dev", devInput],
  ["prod", prodBlueGreen],
] as const) {
  describe(`component package: construct of the ${stack} stack's values (mocks)`, () => {
    // Prod verifies its prebuilt image as signed before registering anything.
    withCosign();

    it("registers exactly what the program registers, secrets as secrets, with the same outputs", async () => {
      const program = await execute(input(), { stack });
      const component = await construct(flatInputs(input()), stack);
      assert.equal(program.error, undefined);
      assert.equal(component.error, undefined);
      // Registrations settle asynchronously, so their order may differ between two runs: compare by key.
      const shape = (run: typeof program) =>
        run.resources
          .map(({ key, inputs, parent, dependsOn }) => ({ key, inputs, parent, dependsOn }))
          .sort((a, b) => a.key.localeCompare(b.key));
      assert.deepEqual(shape(component), shape(program));
      assert.deepEqual(component.outputs, program.outputs);
      // The schema declares every output the SDKs read, the release's fields too.
      const declared = schema.resources[TOKEN].properties;
      assert.deepEqual(
        Object.keys(component.outputs!).filter((key) => !(key in declared)),
        [],
      );
      const release = Object.keys(component.outputs!.release as object);
      const releaseType = schema.types["api-stack:index:Release"].properties as Record<string, unknown>;
      assert.deepEqual(
        release.filter((key) => !(key in releaseType)),
        [],
      );
    });
  });
}

describe("component package: construct refuses before registering anything (mocks)", () => {
  withCosign(UNSIGNED);

  it("invalid inputs: one error listing every problem, no resource", async () => {
    const { resources, error } = await construct({ ...flatInputs(devInput()), replicas: 0, cpuLimit: "lots" });
    assert.ok(error instanceof ApiStackArgsError, String(error));
    assert.deepEqual(
      error.problems.map((problem) => problem.split(":")[0]),
      ["replicas", "cpuLimit"],
    );
    assert.deepEqual(registeredBesidesTheStack(resources), []);
  });

  it("a prebuilt image cosign does not verify against the signer the inputs name: no resource", async () => {
    const { resources, error } = await construct(flatInputs(prodBlueGreen()));
    assert.ok(error instanceof ApiStackArgsError, String(error));
    assert.match(error.problems[0], /^api:imageRef: /);
    assert.deepEqual(registeredBesidesTheStack(resources), []);
  });
});
