import { strict as assert } from "node:assert";
import { SecretValue } from "../secret";
import { settingsChecksum, type SettingsData } from "./spec";

const data = (secretKey: string, plain: Record<string, string> = { A: "1", B: "2" }): SettingsData => ({
  plain,
  secret: { SECRET_KEY: new SecretValue(secretKey) },
});

describe("settingsChecksum", () => {
  it("does not depend on key order", () => {
    assert.equal(settingsChecksum(data("s", { A: "1", B: "2" })), settingsChecksum(data("s", { B: "2", A: "1" })));
  });

  it("changes with any plain or secret value", () => {
    const base = settingsChecksum(data("s"));
    assert.notEqual(settingsChecksum(data("t")), base);
    assert.notEqual(settingsChecksum(data("s", { A: "1", B: "3" })), base);
  });

  it("tells a value moved between ConfigMap and Secret from one that stayed", () => {
    const asPlain: SettingsData = { plain: { K: "v" }, secret: {} };
    const asSecret: SettingsData = { plain: {}, secret: { K: new SecretValue("v") } };
    assert.notEqual(settingsChecksum(asPlain), settingsChecksum(asSecret));
  });
});

describe("SecretValue", () => {
  it("prints as [secret] however it is printed", () => {
    const value = new SecretValue("hunter2");
    assert.equal(`${value}`, "[secret]");
    assert.equal(JSON.stringify({ value }), '{"value":"[secret]"}');
    assert.equal(require("node:util").inspect(value), "[secret]");
    assert.equal(value.reveal(), "hunter2");
  });
});
