// The command the deploy workflows run before every preview and update of a release
// (.github/actions/release-config): verify that an image carries the expected signature, with the
// program's own check (components/image/signature.ts). Exit 0 when verified, 1 when not, 2 on
// usage errors.
//
//   npx ts-node scripts/supply-chain/verify.ts --image REF --key cosign.pub
//   npx ts-node scripts/supply-chain/verify.ts --image REF --identity URI --issuer URL
import { GITHUB_ACTIONS_ISSUER, verifyImageSignature, type Signer } from "../../components/image/signature";

function main(argv: string[]): number {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith("--") || argv[i + 1] === undefined) {
      process.stderr.write(`usage: verify.ts --image REF (--key FILE | --identity URI --issuer URL)\n`);
      return 2;
    }
    flags.set(argv[i].slice(2), argv[i + 1]);
  }
  const signer: Signer = flags.has("key")
    ? { publicKey: flags.get("key")! }
    : { identity: flags.get("identity") ?? "", issuer: flags.get("issuer") ?? GITHUB_ACTIONS_ISSUER };
  try {
    const verified = verifyImageSignature({ image: flags.get("image") ?? "", signer });
    process.stdout.write(`verified ${verified.image}: ${verified.signatures} signature(s) by ${verified.signer}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
