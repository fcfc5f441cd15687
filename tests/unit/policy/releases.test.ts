// image-digest and blue-green-promotion: what runs is exactly the release that was built and
// promoted by config.
import { strict as assert } from "node:assert";
import { blueGreenPromotion, imageDigest } from "../../../policy/rules/releases";
import { apiContainer, deployment, IMAGE, patchOf, POD_BEARING, podPatch, rollout, T, type Manifest } from "./fixtures";

describe("policy rules: releases", () => {
  describe("image-digest", () => {
    it("passes images pinned by digest", () => {
      assert.deepEqual(imageDigest(T.deployment, deployment()), []);
      const object = deployment();
      apiContainer(object).image = `127.0.0.1:5000/api-stack/fastapi:dev@sha256:${"e".repeat(64)}`;
      assert.deepEqual(imageDigest(T.deployment, object), []);
    });

    it("refuses latest, a missing tag, a bare tag and a malformed digest, naming the key that sets the image", () => {
      const fix = (key: string) =>
        `pin it by digest, as repository@sha256:<digest> (api-stack:${key}; the app's image is pinned when the ` +
        "program builds it)";
      const cases: [string, string, string][] = [
        [
          "api",
          "registry.example.com/platform/api:latest",
          'container "api" image "registry.example.com/platform/api:latest" uses the mutable tag latest: ' +
            `${fix("imageRef")}`,
        ],
        [
          "api",
          "127.0.0.1:5000/api-stack/fastapi",
          'container "api" image "127.0.0.1:5000/api-stack/fastapi" has neither tag nor digest, ' +
            `so it is whatever latest is at pull time: ${fix("imageRef")}`,
        ],
        [
          "backup",
          "postgres:16-alpine",
          'container "backup" image "postgres:16-alpine" is pinned only by the tag 16-alpine, which can be moved: ' +
            `${fix("backupImage")}`,
        ],
        [
          "api",
          "registry.example.com/platform/api@sha256:abc",
          'container "api" image "registry.example.com/platform/api@sha256:abc" has no valid sha256 digest: ' +
            `${fix("imageRef")}`,
        ],
      ];
      for (const [name, image, message] of cases) {
        const object = deployment();
        Object.assign(apiContainer(object), { name, image });
        assert.deepEqual(imageDigest(T.deployment, object), [message]);
      }
    });

    it("refuses an image volume pinned by a tag, and passes one pinned by digest", () => {
      const object = deployment();
      object.spec.template.spec.volumes.push(
        { name: "model", image: { reference: "registry.example.com/platform/model:v3" } },
        { name: "pinned", image: { reference: IMAGE } },
      );
      assert.deepEqual(imageDigest(T.deployment, object), [
        'volume "model" image "registry.example.com/platform/model:v3" is pinned only by the tag v3, ' +
          "which can be moved: pin it by digest, as repository@sha256:<digest>",
      ]);
    });

    it("checks the images a patch sets, on every pod-bearing kind", () => {
      for (const [type] of POD_BEARING) {
        assert.deepEqual(
          imageDigest(...podPatch(type, { containers: [{ name: "api", resources: { limits: { cpu: "2" } } }] })),
          [],
          type,
        );
        assert.deepEqual(imageDigest(...podPatch(type, { containers: [{ name: "api", image: IMAGE }] })), [], type);
        assert.deepEqual(
          imageDigest(
            ...podPatch(type, { containers: [{ name: "api", image: "registry.example.com/platform/api:v2" }] }),
          ),
          [
            'container "api" image "registry.example.com/platform/api:v2" is pinned only by the tag v2, ' +
              "which can be moved: pin it by digest, as repository@sha256:<digest> (api-stack:imageRef; the app's " +
              "image is pinned when the program builds it)",
          ],
          type,
        );
      }
    });
  });

  describe("blue-green-promotion", () => {
    it("passes a release that waits in preview, and canary Rollouts", () => {
      assert.deepEqual(blueGreenPromotion(T.rollout, rollout(false)), []);
      const canary = rollout(false);
      canary.spec.strategy = {
        canary: { stableService: "api", canaryService: "api-canary", steps: [{ setWeight: 10 }] },
      };
      assert.deepEqual(blueGreenPromotion(T.rollout, canary), []);
    });

    it("passes a promotion recorded by config for exactly this release", () => {
      for (const source of ["promote", "rollbackTo", "active"]) {
        assert.deepEqual(
          blueGreenPromotion(T.rollout, rollout(true, { "api-stack.io/promotion": `${source}:222222222222` })),
          [],
        );
      }
    });

    it("refuses an auto-promotion that no config recorded (unset autoPromotionEnabled means true)", () => {
      const message =
        "Rollout auto-promotes release 222222222222 without a promotion by config (no api-stack.io/promotion " +
        "annotation): set spec.strategy.blueGreen.autoPromotionEnabled: false so the release waits in preview, " +
        "then promote it with `pulumi config set promote 222222222222` (api-stack:promote)";
      assert.deepEqual(blueGreenPromotion(T.rollout, rollout(true)), [message]);
      const unset = rollout(true);
      delete unset.spec.strategy.blueGreen.autoPromotionEnabled;
      assert.deepEqual(blueGreenPromotion(T.rollout, unset), [message]);
    });

    it("refuses a promotion of another release: promote is not sticky", () => {
      const wait =
        "set spec.strategy.blueGreen.autoPromotionEnabled: false so the release waits in preview, " +
        "then promote it with `pulumi config set promote 222222222222` (api-stack:promote)";
      assert.deepEqual(
        blueGreenPromotion(T.rollout, rollout(true, { "api-stack.io/promotion": "promote:111111111111" })),
        [
          "Rollout auto-promotes release 222222222222 but api-stack:promote names release 111111111111: " +
            `a promotion applies to exactly one release; ${wait}`,
        ],
      );
      assert.deepEqual(
        blueGreenPromotion(T.rollout, rollout(true, { "api-stack.io/promotion": "rollbackTo:111111111111" })),
        [
          "Rollout auto-promotes release 222222222222 but api-stack:rollbackTo names release 111111111111: " +
            `a promotion applies to exactly one release; ${wait}`,
        ],
      );
      assert.deepEqual(
        blueGreenPromotion(T.rollout, rollout(true, { "api-stack.io/promotion": "active:111111111111" })),
        [
          "Rollout auto-promotes release 222222222222 but the active release is 111111111111: " +
            `a promotion applies to exactly one release; ${wait}`,
        ],
      );
    });

    it("refuses autoPromote, unreadable records and images without a digest", () => {
      assert.deepEqual(
        blueGreenPromotion(T.rollout, rollout(true, { "api-stack.io/promotion": "autoPromote:222222222222" })),
        [
          "Rollout auto-promotes release 222222222222 because api-stack:autoPromote is true, " +
            "which is refused in prod: unset it (pulumi config rm autoPromote) and promote each release with " +
            "`pulumi config set promote 222222222222` (api-stack:promote)",
        ],
      );
      assert.deepEqual(blueGreenPromotion(T.rollout, rollout(true, { "api-stack.io/promotion": "yes" })), [
        'Rollout auto-promotes release 222222222222 with an unreadable api-stack.io/promotion annotation "yes" ' +
          "(expected promote|rollbackTo|active|autoPromote:<release id>): " +
          "set spec.strategy.blueGreen.autoPromotionEnabled: false so the release waits in preview, " +
          "then promote it with `pulumi config set promote 222222222222` (api-stack:promote)",
      ]);
      const tagged = rollout(true, { "api-stack.io/promotion": "promote:222222222222" });
      apiContainer(tagged).image = "registry.example.com/platform/api:v2";
      assert.deepEqual(blueGreenPromotion(T.rollout, tagged), [
        'Rollout auto-promotes image "registry.example.com/platform/api:v2", which has no digest, ' +
          "so no promotion by config can name it: deploy a digest-pinned image and promote it with api-stack:promote",
      ]);
    });

    it("judges a RolloutPatch that turns auto-promotion on like a Rollout, and wants the image it promotes", () => {
      const patch = patchOf(T.rollout);
      const wait = "set spec.strategy.blueGreen.autoPromotionEnabled: false so the release waits in preview, then";
      const bluePatch = (
        autoPromotionEnabled: boolean | null | undefined,
        image?: string,
        annotations?: Record<string, string>,
      ): Manifest => ({
        metadata: { name: "api", ...(annotations ? { annotations } : {}) },
        spec: {
          strategy: {
            blueGreen: autoPromotionEnabled === undefined ? { scaleDownDelaySeconds: 30 } : { autoPromotionEnabled },
          },
          ...(image ? { template: { spec: { containers: [{ name: "api", image }] } } } : {}),
        },
      });
      assert.deepEqual(blueGreenPromotion(patch, bluePatch(undefined, IMAGE)), []);
      assert.deepEqual(blueGreenPromotion(patch, bluePatch(false, IMAGE)), []);
      assert.deepEqual(
        blueGreenPromotion(patch, bluePatch(true, IMAGE, { "api-stack.io/promotion": "promote:222222222222" })),
        [],
      );
      assert.deepEqual(blueGreenPromotion(patch, bluePatch(true)), [
        "RolloutPatch turns on auto-promotion without setting the image it promotes, so no promotion by config can " +
          `name the release: ${wait} promote it with api-stack:promote`,
      ]);
      // null removes the setting, and Argo's default is to promote.
      assert.deepEqual(blueGreenPromotion(patch, bluePatch(null, IMAGE)), [
        "RolloutPatch auto-promotes release 222222222222 without a promotion by config (no api-stack.io/promotion " +
          `annotation): ${wait} promote it with \`pulumi config set promote 222222222222\` (api-stack:promote)`,
      ]);
    });
  });
});
