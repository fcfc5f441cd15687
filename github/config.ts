// The GitHub project's config: every key, parsed and validated before any resource exists.
// Pure: the caller says how to wrap a secret (pulumi.secret in the program, anything in tests).
// Each problem names the full key, the value (never a secret's) and what is allowed; all are
// reported at once.
import { z } from "zod";
import {
  describeProblem,
  githubRepositoryProblems,
  type EnvironmentArgs,
  type GithubRepositoryArgs,
  type SecretsProvider,
} from "./spec";
import type { StackConfig } from "../config/load";

/** Config as Pulumi passes it to a program (the stack name is not needed here). */
export type RawConfig = Omit<StackConfig, "stack">;

export type ParseResult<S> = { ok: true; args: GithubRepositoryArgs<S> } | { ok: false; errors: string[] };

const positiveIds = z.array(z.number().int().positive());
const environmentSchema = z
  .object({
    name: z.string(),
    stack: z.string().optional(),
    url: z.string().optional(),
    reviewers: z.object({ teams: positiveIds.optional(), users: positiveIds.optional() }).strict().optional(),
    waitTimerMinutes: z.number().int().optional(),
    deployBranches: z.array(z.string()).optional(),
    pulumiTeams: z
      .object({ deploy: z.string(), preview: z.string(), pullRequest: z.string() })
      .partial()
      .strict()
      .optional(),
    secretsProvider: z.enum(["service", "awskms", "passphrase"]),
    awsRoleArn: z.string().optional(),
    awsRegion: z.string().optional(),
    pullRequestPreview: z.boolean().optional(),
  })
  .strict();
type EnvironmentEntry = z.infer<typeof environmentSchema>;

/** Plain keys, and the secret ones that must be stored encrypted. */
const PLAIN_KEYS = [
  "owner",
  "repository",
  "defaultBranch",
  "requiredApprovals",
  "enforceAdmins",
  "pulumiOrganization",
  "pulumiBackendUrl",
  "imageRepository",
  "baseImage",
  "app",
  "registryUsername",
  "registryReadUsername",
  "signingPublicKey",
  "environments",
] as const;
const SECRET_KEYS = [
  "token",
  "registryPassword",
  "registryReadPassword",
  "notifyWebhookUrl",
  "signingKey",
  "signingKeyPassword",
] as const;
/** Secret keys per environment, `<kind>-<environment name>`. */
const ENVIRONMENT_SECRETS = ["kubeconfig", "previewKubeconfig", "pullRequestKubeconfig", "configPassphrase"] as const;
type EnvironmentSecret = (typeof ENVIRONMENT_SECRETS)[number];

/** Where a problem the component finds lives in this project's config. */
function configKeyOf(path: string, environments: readonly { name: string }[]): string {
  const simple: Record<string, string> = {
    "pulumi.organization": "pulumiOrganization",
    "pulumi.backendUrl": "pulumiBackendUrl",
    "build.imageRepository": "imageRepository",
    "build.baseImage": "baseImage",
    "build.app": "app",
    "build.registryPassword": "registryPassword",
    "build.signingKey.publicKey": "signingPublicKey",
    "build.signingKey.privateKey": "signingKey",
    "build.signingKey.password": "signingKeyPassword",
    "registryRead.username": "registryReadUsername",
    "registryRead.password": "registryReadPassword",
  };
  if (path in simple) {
    return simple[path];
  }
  const match = /^environments\[(\d+)\]\.(.+)$/.exec(path);
  if (!match) {
    return path;
  }
  const [, index, field] = match;
  const name = environments[Number(index)]?.name;
  const perEnvironment: Record<string, EnvironmentSecret> = {
    kubeconfig: "kubeconfig",
    previewKubeconfig: "previewKubeconfig",
    configPassphrase: "configPassphrase",
    "pullRequestPreview.kubeconfig": "pullRequestKubeconfig",
  };
  if (field in perEnvironment) {
    return `${perEnvironment[field]}-${name}`;
  }
  const renamed: Record<string, string> = {
    "secretsProvider.kind": "secretsProvider",
    "secretsProvider.roleArn": "awsRoleArn",
    "secretsProvider.region": "awsRegion",
  };
  return `environments[${index}].${renamed[field] ?? field}`;
}

export function parseGithubConfig<S>(raw: RawConfig, secret: (value: string) => S): ParseResult<S> {
  const errors: string[] = [];
  const full = (key: string) => `${raw.project}:${key}`;
  const plain: Record<string, string> = {};
  const secrets: Record<string, S> = {};
  const given: { key: string; text: string }[] = [];

  for (const [fullKey, text] of Object.entries(raw.values)) {
    const [namespace, ...rest] = fullKey.split(":");
    if (namespace === raw.project) {
      given.push({ key: rest.join(":"), text });
    }
  }

  // The environments come first: they decide which per-environment secret keys exist.
  let entries: EnvironmentEntry[] = [];
  const environmentsText = given.find((g) => g.key === "environments")?.text;
  if (environmentsText === undefined) {
    errors.push(
      `${full("environments")}: missing is not allowed; expected a list of environments in promotion order, ` +
        'such as [{"name": "dev", "secretsProvider": "passphrase"}, ' +
        '{"name": "prod", "secretsProvider": "service", "reviewers": {"teams": [4321]}}].',
    );
  } else {
    const value = parseJson(environmentsText);
    const parsed = z.array(environmentSchema).min(1).safeParse(value);
    if (parsed.success) {
      entries = parsed.data;
    } else {
      errors.push(...parsed.error.issues.flatMap((issue) => describeIssue(full("environments"), value, issue)));
    }
  }
  const environmentSecretKeys = new Set(
    entries.flatMap((entry) => ENVIRONMENT_SECRETS.map((kind) => `${kind}-${entry.name}`)),
  );
  // With the environments unreadable, any well-formed per-environment key is taken at its word.
  const isEnvironmentSecret = (key: string) =>
    environmentSecretKeys.has(key) ||
    (entries.length === 0 && ENVIRONMENT_SECRETS.some((kind) => key.startsWith(`${kind}-`)));

  for (const { key, text } of given) {
    const isSecretKey = (SECRET_KEYS as readonly string[]).includes(key) || isEnvironmentSecret(key);
    if (isSecretKey) {
      if (!raw.secretKeys.has(full(key))) {
        errors.push(
          `${full(key)}: the value is stored in plaintext; it must be a secret. ` +
            `Run \`pulumi config set --secret ${key} <value>\`.`,
        );
      } else if (text.trim() === "") {
        errors.push(`${full(key)}: an empty secret is not allowed; expected a non-empty value.`);
      } else {
        secrets[key] = secret(text);
      }
    } else if ((PLAIN_KEYS as readonly string[]).includes(key)) {
      plain[key] = text;
    } else {
      const perEnvironment = /^([A-Za-z]+)-(.+)$/.exec(key);
      const hint =
        perEnvironment && (ENVIRONMENT_SECRETS as readonly string[]).includes(perEnvironment[1])
          ? `there is no environment named ${JSON.stringify(perEnvironment[2])} in ${full("environments")}`
          : `one of ${[...PLAIN_KEYS, ...SECRET_KEYS].join(", ")}, ` +
            `or ${ENVIRONMENT_SECRETS.map((k) => `${k}-<environment>`).join(", ")}`;
      errors.push(`${full(key)} is not a known key; expected ${hint}.`);
    }
  }

  const typed = <T>(key: string, schema: z.ZodType<T>, allowed: string): T | undefined => {
    if (plain[key] === undefined) {
      return undefined;
    }
    const result = schema.safeParse(parseJson(plain[key]));
    if (!result.success) {
      errors.push(`${full(key)}: ${JSON.stringify(plain[key])} is not allowed; expected ${allowed}.`);
      return undefined;
    }
    return result.data;
  };
  const requiredApprovals = typed("requiredApprovals", z.number(), "an integer from 1 to 6");
  const enforceAdmins = typed("enforceAdmins", z.boolean(), "true or false");
  if (secrets.notifyWebhookUrl !== undefined && !/^https:\/\/\S+$/.test(raw.values[full("notifyWebhookUrl")])) {
    errors.push(`${full("notifyWebhookUrl")}: [secret] is not allowed; expected an https:// webhook URL.`);
  }

  const secretOf = (kind: EnvironmentSecret, environment: string) => secrets[`${kind}-${environment}`];
  const environments: EnvironmentArgs<S>[] = entries.map((entry) => {
    const secretsProvider: SecretsProvider =
      entry.secretsProvider === "awskms"
        ? { kind: "awskms", roleArn: entry.awsRoleArn!, region: entry.awsRegion! }
        : { kind: entry.secretsProvider };
    if (entry.secretsProvider !== "awskms") {
      for (const field of ["awsRoleArn", "awsRegion"] as const) {
        if (entry[field] !== undefined) {
          errors.push(
            `${full(`environments[${entries.indexOf(entry)}].${field}`)}: ${JSON.stringify(entry[field])} ` +
              "is not allowed; expected it only with secretsProvider awskms.",
          );
        }
      }
    }
    const pullRequestKubeconfig = secretOf("pullRequestKubeconfig", entry.name);
    if (pullRequestKubeconfig !== undefined && !entry.pullRequestPreview) {
      errors.push(
        `${full(`pullRequestKubeconfig-${entry.name}`)}: [secret] is not allowed; ` +
          `expected it only with pullRequestPreview: true on ${entry.name}.`,
      );
    }
    return {
      name: entry.name,
      stack: entry.stack,
      url: entry.url,
      reviewers: entry.reviewers,
      waitTimerMinutes: entry.waitTimerMinutes,
      deployBranches: entry.deployBranches,
      pulumiTeams: entry.pulumiTeams,
      secretsProvider,
      kubeconfig: secretOf("kubeconfig", entry.name),
      previewKubeconfig: secretOf("previewKubeconfig", entry.name),
      configPassphrase: secretOf("configPassphrase", entry.name),
      pullRequestPreview: entry.pullRequestPreview ? { kubeconfig: pullRequestKubeconfig } : undefined,
    };
  });

  const args: GithubRepositoryArgs<S> = {
    owner: plain.owner,
    repository: plain.repository,
    defaultBranch: plain.defaultBranch,
    token: secrets.token,
    requiredApprovals,
    enforceAdmins,
    pulumi: { organization: plain.pulumiOrganization, backendUrl: plain.pulumiBackendUrl },
    build: {
      imageRepository: plain.imageRepository,
      baseImage: plain.baseImage,
      app: plain.app,
      registryUsername: plain.registryUsername,
      registryPassword: secrets.registryPassword,
      signingKey:
        plain.signingPublicKey !== undefined || secrets.signingKey !== undefined
          ? {
              publicKey: plain.signingPublicKey,
              privateKey: secrets.signingKey,
              password: secrets.signingKeyPassword,
            }
          : undefined,
    },
    registryRead:
      plain.registryReadUsername !== undefined || secrets.registryReadPassword !== undefined
        ? { username: plain.registryReadUsername, password: secrets.registryReadPassword }
        : undefined,
    notifyWebhookUrl: secrets.notifyWebhookUrl,
    environments,
  };
  // A key already reported as malformed is not reported again as missing.
  const reported = new Set(errors.map((e) => e.split(":").slice(0, 2).join(":").replace(/\[.*$/, "")));
  for (const problem of githubRepositoryProblems(args)) {
    const key = full(configKeyOf(problem.path, entries));
    if (problem.value === undefined && reported.has(key)) {
      continue;
    }
    errors.push(describeProblem(problem, () => key));
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, args };
}

/** One schema issue of the environments list: the full key path, the value there, and what is allowed. */
function describeIssue(key: string, value: unknown, issue: z.core.$ZodIssue): string[] {
  const at = (path: PropertyKey[]) =>
    key + path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
  const valueAt = (path: PropertyKey[]) =>
    path.reduce<unknown>((v, p) => (v as Record<PropertyKey, unknown> | undefined)?.[p], value);
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map(
      (field) =>
        `${at([...issue.path, field])}: ${JSON.stringify(valueAt([...issue.path, field]))} is not allowed; ` +
        "expected only the fields " +
        (issue.path.length === 1 ? `${Object.keys(environmentSchema.shape).join(", ")}.` : "docs/github.md lists."),
    );
  }
  const found = valueAt(issue.path);
  const shown = found === undefined ? "missing" : JSON.stringify(found);
  return [
    `${at(issue.path)}: ${shown} is not allowed; ${issue.message.replace(/^Invalid (input|option): /, "")} ` +
      "(docs/github.md lists each field).",
  ];
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
