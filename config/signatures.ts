// The program's own check that prebuilt images are signed, before any resource is registered:
// the deploy workflows verify too, but a `pulumi up` from a laptop or a modified workflow must
// not reach a prod cluster with an image nobody signed (docs/supply-chain.md).
import { verifyImageSignature, type Signer } from "../components/image/signature";
import type { ProgramConfig } from "./args";

/** Verifies one image or throws why not (components/image/signature.ts runs cosign; tests pass a stand-in). */
export type ImageVerifier = (options: { image: string; signer: Signer }) => unknown;

export const cosignVerifier: ImageVerifier = verifyImageSignature;

/** One problem per image that is not verified, naming its key, the image, the signer and why. */
export function signatureProblems(
  config: Pick<ProgramConfig, "signatures">,
  project: string,
  verify: ImageVerifier,
): string[] {
  const { signatures } = config;
  if (!signatures) {
    return [];
  }
  return signatures.images.flatMap(({ key, ref }) => {
    try {
      verify({ image: ref, signer: signatures.signer });
      return [];
    } catch (error) {
      return [`${project}:${key}: ${(error as Error).message}`];
    }
  });
}
