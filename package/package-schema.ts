// The Pulumi package schema of the component, rendered from the key table: every property's type,
// description, what it accepts and its default come from config/keys.ts, so the schema, the stack
// config, Pulumi.yaml and docs/config.md cannot drift apart. `package/schema.json` is this output,
// written with them by `npm run gen:project`; a unit test keeps it current.
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { KEYS, type KeySpec } from "../config/keys";
import { PROPERTIES, type PropertyName } from "./args";

export const PACKAGE = "api-stack";
export const TOKEN = `${PACKAGE}:index:ApiStack`;
/** The package is versioned with the project. */
export const VERSION = (
  JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8")) as { version: string }
).version;

type TypeSpec =
  | { type: "string" | "integer" | "boolean" }
  | { type: "array"; items: TypeSpec }
  | { type: "object"; additionalProperties: TypeSpec }
  | { $ref: string };
interface PropertySpec {
  description: string;
  secret?: boolean;
}
interface ObjectTypeSpec {
  type: "object";
  description: string;
  properties: Record<string, TypeSpec & PropertySpec>;
  required?: string[];
}
interface EnumTypeSpec {
  type: "string";
  description: string;
  enum: { value: string }[];
}

const ref = (type: string): TypeSpec => ({ $ref: `#/types/${PACKAGE}:index:${type}` });
const STRING = { type: "string" } as const;
const STRING_MAP = { type: "object", additionalProperties: STRING } as const;

/** Object types of the keys whose values are structures: the shapes their config schemas accept. */
const OBJECT_TYPES: Record<string, ObjectTypeSpec> = {
  PeerPods: {
    type: "object",
    description: "Pods in another namespace, as a NetworkPolicy peer.",
    properties: {
      namespace: { ...STRING, description: "The pods' namespace." },
      podLabels: { ...STRING_MAP, description: "Labels the pods carry (at least one)." },
    },
    required: ["namespace", "podLabels"],
  },
  CanaryStep: {
    type: "object",
    description: "One step of a canary release: either setWeight or pause.",
    properties: {
      setWeight: { type: "integer", description: "Percent of the traffic the canary gets, 1 to 100." },
      pause: { ...ref("CanaryPause"), description: "Wait before the next step." },
    },
  },
  CanaryPause: {
    type: "object",
    description: "A pause of a canary release.",
    properties: { duration: { ...STRING, description: "How long: seconds, minutes or hours, such as 5m." } },
    required: ["duration"],
  },
  EgressRule: {
    type: "object",
    description: "Where app pods may connect: a CIDR and TCP ports.",
    properties: {
      cidr: { ...STRING, description: "An IPv4 or IPv6 CIDR." },
      ports: { type: "array", items: { type: "integer" }, description: "TCP ports, 1 to 65535." },
    },
    required: ["cidr", "ports"],
  },
};

/** The keys whose values are structures other than a map of strings, by the type of their values. */
const STRUCTURED: Partial<Record<PropertyName, TypeSpec>> = {
  ingressControllerPeer: ref("PeerPods"),
  metricsScraperPeer: ref("PeerPods"),
  releaseAnalysisPeer: ref("PeerPods"),
  canarySteps: { type: "array", items: ref("CanaryStep") },
  networkEgress: { type: "array", items: ref("EgressRule") },
};

const typeName = (key: string) => key[0].toUpperCase() + key.slice(1);

/** The schema type of a key: an enum of its own, a structure above, or what its kind says. */
function propertyType(name: PropertyName, spec: KeySpec): TypeSpec {
  const structured = STRUCTURED[name];
  if (structured) {
    return structured;
  }
  if (spec.schema instanceof z.ZodEnum) {
    return ref(typeName(name));
  }
  switch (spec.kind) {
    case "string":
    case "integer":
    case "boolean":
      return { type: spec.kind };
    case "array":
      // Every list key holds strings, as Pulumi.yaml declares them too (config/project-file.ts).
      return { type: "array", items: STRING };
    case "object":
      if (spec.schema instanceof z.ZodRecord) {
        return STRING_MAP;
      }
      throw new Error(`${name} holds a structure package/schema.ts has no type for: add it to STRUCTURED`);
  }
}

/** A key's description as docs/config.md gives it: meaning, what it accepts, its default. */
function describe(spec: KeySpec): string {
  const shown = "default" in spec ? ` Default: \`${JSON.stringify(spec.default)}\`.` : "";
  return `${spec.description} Accepts ${spec.allowed}.${shown}`;
}

const RELEASE: ObjectTypeSpec = {
  type: "object",
  description: "Which release serves, which waits in preview, and the commands for the next step.",
  properties: {
    strategy: { ...ref("Strategy"), description: "The delivery strategy of the release." },
    active: {
      ...STRING,
      description: "The image that serves all traffic once this update settles; unset when the live state is unknown.",
    },
    preview: { ...STRING, description: "blueGreen: the image deployed beside active, waiting for promote." },
    previous: { ...STRING, description: "The release before active, the one rollbackTo returns to." },
    promoteCommand: { ...STRING, description: "The command that promotes the preview." },
    rollbackCommand: { ...STRING, description: "The command that returns to previous." },
    promotedBy: {
      ...STRING,
      description: "blueGreen: why active took traffic without waiting (active, rollbackTo, promote or autoPromote).",
    },
    note: {
      ...STRING,
      description: "Said when the state is not what it seems: the live state was unknown, or the release was aborted.",
    },
  },
  required: ["strategy"],
};

export function packageSchema(): object {
  const enums: Record<string, EnumTypeSpec> = {};
  const inputProperties: Record<string, TypeSpec & PropertySpec> = {};
  for (const name of PROPERTIES) {
    const spec: KeySpec = KEYS[name];
    if (spec.schema instanceof z.ZodEnum) {
      enums[`${PACKAGE}:index:${typeName(name)}`] = {
        type: "string",
        description: `The values of ${name}.`,
        enum: (spec.schema.options as string[]).map((value) => ({ value })),
      };
    }
    inputProperties[name] = {
      ...propertyType(name, spec),
      description: describe(spec),
      ...(spec.secret ? { secret: true } : {}),
    };
  }
  const types = Object.fromEntries(
    Object.entries({ ...OBJECT_TYPES, Release: RELEASE }).map(([type, spec]) => [`${PACKAGE}:index:${type}`, spec]),
  );
  return {
    name: PACKAGE,
    version: VERSION,
    description: "ApiStack: a containerized Python API (FastAPI or Django) in production on Kubernetes.",
    language: {
      // The SDK's version is the package's, and it installs from a pyproject.toml.
      python: { respectSchemaVersion: true, pyproject: { enabled: true } },
    },
    resources: {
      [TOKEN]: {
        isComponent: true,
        description:
          "One API, production-shaped: namespace, image, settings and secrets, release gates (backup, migration), " +
          "worker, the API with its delivery (rolling, blue-green, canary), networking and scaling, and for dev its " +
          "own Postgres and Redis. Every input is checked before anything is registered.",
        inputProperties,
        requiredInputs: PROPERTIES.filter((name) => (KEYS[name] as KeySpec).required),
        properties: {
          namespace: { ...STRING, description: "The namespace everything of this API lives in." },
          image: { ...STRING, description: "The image this update deploys, repository@sha256:...." },
          serviceName: { ...STRING, description: "The Service in-cluster clients reach the API by." },
          url: {
            ...STRING,
            description: "Where users reach the API: its public URL, or the Service's in-cluster one.",
          },
          migrationJob: { ...STRING, description: "The name of this release's migration Job, when migrations run." },
          release: { ...ref("Release"), description: RELEASE.description },
        },
        required: ["namespace", "image", "serviceName", "url", "release"],
      },
    },
    types: { ...enums, ...types },
  };
}

if (require.main === module) {
  process.stdout.write(`${JSON.stringify(packageSchema(), null, 2)}\n`);
}
