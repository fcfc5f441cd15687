// Delivery configs and image references the pure delivery specs' tests share (no Pulumi).
import type { DeliveryConfig } from "../../components/api/delivery";

/** A digest-pinned reference whose digest is 64 copies of `c`. */
export const ref = (c: string) => `registry.example.com/api@sha256:${c.repeat(64)}`;

export type BlueGreen = Extract<DeliveryConfig, { strategy: "blueGreen" }>;
export type Canary = Extract<DeliveryConfig, { strategy: "canary" }>;

/** blueGreen with the keys' defaults, and `extra` on top. */
export const blueGreen = (extra: Partial<BlueGreen> = {}): BlueGreen => ({
  strategy: "blueGreen",
  autoPromote: false,
  scaleDownDelaySeconds: 30,
  prePromotionAnalysis: { command: ["python", "-m", "app.smoke"] },
  releaseTimeoutSeconds: 1800,
  ...extra,
});
