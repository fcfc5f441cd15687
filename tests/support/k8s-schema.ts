// Validates manifests: built-in kinds against the Kubernetes OpenAPI schemas shipped by
// kubernetes-models, custom resources against their own CRDs (crd-schema.ts).
import { isCustomResource, validateCustomResource } from "./crd-schema";

// kubernetes-models is ESM-only; the compiled-to-CommonJS tests must not turn import() into require().
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- a constant body, only to keep import() as written
const importModule = new Function("specifier", "return import(specifier)") as (s: string) => Promise<any>;

/** Throws with the schema's complaint when the object is not a valid Kubernetes object (or custom resource). */
export async function validateManifest(manifest: Record<string, any>): Promise<void> {
  if (isCustomResource(manifest)) {
    validateCustomResource(manifest);
    return;
  }
  const { apiVersion, kind } = manifest;
  const groupVersion = String(apiVersion).includes("/") ? apiVersion : `v1`;
  const module = await importModule(`kubernetes-models/${groupVersion}/${kind}`);
  const Model = module[kind];
  if (!Model) {
    throw new Error(`kubernetes-models has no schema for ${apiVersion} ${kind}`);
  }
  try {
    new Model(manifest).validate();
  } catch (error) {
    throw new Error(`${apiVersion} ${kind} ${manifest.metadata?.name}: ${(error as Error).message}`, { cause: error });
  }
}
