// Verifies that an image, named by digest, carries a cosign signature of the expected signer:
// a public key (local and self-managed signing) or a keyless identity (GitHub Actions: the
// workflow that signed it and GitHub's OIDC issuer). The program calls it before registering any
// resource of a stack that requires signed images (config/signatures.ts); the deploy workflows
// call it before every preview and update through scripts/supply-chain/verify.ts. Either it
// returns what it verified, or it throws a SignatureError whose message says which image, which
// signer, and why not.
import { spawnSync } from "node:child_process";
import { DIGEST_REF_PATTERN } from "./reference";

/** Who must have signed: a key, or a keyless certificate identity issued by an OIDC issuer. */
export type Signer = { publicKey: string } | { identity: string; issuer: string };

export interface VerifyOptions {
  /** `repository@sha256:<64 hex>`: a tag could point elsewhere after it was verified. */
  image: string;
  signer: Signer;
  /** cosign binary; default COSIGN_BINARY, else `cosign` on PATH. */
  cosign?: string;
  /** Seconds before cosign is stopped. Default: 120. */
  timeoutSeconds?: number;
}

export interface Verified {
  image: string;
  /** Signatures that matched the signer. */
  signatures: number;
  signer: string;
}

export class SignatureError extends Error {
  override name = "SignatureError";
}

/** GitHub Actions' OIDC issuer, which keyless signatures made in a workflow carry. */
export const GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com";

export const describeSigner = (signer: Signer) =>
  "publicKey" in signer ? `the key ${signer.publicKey}` : `${signer.identity} (issuer ${signer.issuer})`;

/** cosign's arguments for the signer, apart from the image. */
export function cosignVerifyArgs(signer: Signer): string[] {
  if ("publicKey" in signer) {
    // A key signature is trusted for the key alone; key-signed images are not logged in a
    // public transparency log (the local registry and offline runs have none).
    return ["verify", "--key", signer.publicKey, "--insecure-ignore-tlog=true", "--output", "json"];
  }
  // Exact identity and issuer, never a regexp: any workflow of any repository can get a
  // certificate from the same issuer.
  return [
    "verify",
    "--certificate-identity",
    signer.identity,
    "--certificate-oidc-issuer",
    signer.issuer,
    "--output",
    "json",
  ];
}

export function verifyImageSignature({ image, signer, cosign, timeoutSeconds = 120 }: VerifyOptions): Verified {
  if (!DIGEST_REF_PATTERN.test(image)) {
    throw new SignatureError(
      `image "${image}" is not pinned by digest (repository@sha256:<64 hex digits>); ` +
        "only a digest names what was signed.",
    );
  }
  if ("publicKey" in signer ? signer.publicKey === "" : signer.identity === "" || signer.issuer === "") {
    throw new SignatureError(`no signer given for ${image}: a public key, or a keyless identity and its issuer.`);
  }
  const binary = cosign ?? process.env.COSIGN_BINARY ?? "cosign";
  const result = spawnSync(binary, [...cosignVerifyArgs(signer), image], {
    encoding: "utf8",
    timeout: timeoutSeconds * 1000,
  });
  if (result.error) {
    throw new SignatureError(`could not run cosign (${binary}) to verify ${image}: ${result.error.message}`);
  }
  if (result.status !== 0) {
    const reason =
      result.stderr
        .split("\n")
        .map((line) => line.trim())
        .find((line) => line.startsWith("Error:"))
        ?.replace(/^Error:\s*/, "") ?? `cosign exited with ${result.status}`;
    throw new SignatureError(`image ${image} is not verified as signed by ${describeSigner(signer)}: ${reason}`);
  }
  const signatures = (JSON.parse(result.stdout) as unknown[]).length;
  return { image, signatures, signer: describeSigner(signer) };
}
