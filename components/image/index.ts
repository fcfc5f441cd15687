import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { ImageConfig } from "../../config";

export interface ImageArgs {
  image: ImageConfig;
  /**
   * Mutable tag pushed beside the digest. Workloads never use it; the next build reads its
   * layers as a cache (`cache-from`), so unchanged dependency layers are not rebuilt.
   */
  cacheTag: string;
}

/**
 * The app's image as a digest-pinned reference (`repository@sha256:...`): built from the
 * multi-stage Dockerfile and pushed, or taken as given when the stack deploys a prebuilt image.
 */
export class Image extends pulumi.ComponentResource {
  /** `repository@sha256:<digest>`: the only form workloads reference. */
  readonly ref: pulumi.Output<string>;

  constructor(name: string, args: ImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("api-stack:index:Image", name, {}, opts);
    const config = args.image;
    if (config.kind === "prebuilt") {
      this.ref = pulumi.output(config.ref);
    } else {
      const cacheRef = `${config.repository}:${args.cacheTag}`;
      const image = new docker.Image(
        name,
        {
          imageName: cacheRef,
          build: {
            context: config.context,
            dockerfile: config.dockerfile,
            target: config.target,
            platform: config.platform,
            builderVersion: "BuilderBuildKit",
            // Inline cache metadata is what lets the next build use this image as cache-from.
            args: { ...config.buildArgs, BUILDKIT_INLINE_CACHE: "1" },
            cacheFrom: { images: [cacheRef] },
          },
          registry: config.registry && {
            server: config.registry.server,
            username: config.registry.username,
            password: pulumi.secret(config.registry.password.reveal()),
          },
        },
        { parent: this },
      );
      this.ref = image.repoDigest.apply((ref) => {
        if (!/@sha256:[a-f0-9]{64}$/.test(ref)) {
          throw new Error(`image ${cacheRef} was pushed but the registry returned no digest (got "${ref}")`);
        }
        return ref;
      });
    }
    this.registerOutputs({ ref: this.ref });
  }
}
