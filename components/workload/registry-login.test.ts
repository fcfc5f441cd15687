import { strict as assert } from "node:assert";
import { SecretValue } from "../secret";
import { dockerConfigJson } from "./registry-login";

describe("dockerConfigJson", () => {
  it("holds one login for the registry, with the user and password the kubelet sends", () => {
    const config = JSON.parse(
      dockerConfigJson({ registry: "127.0.0.1:5001", username: "puller", password: new SecretValue("s3cr:et") }),
    );
    assert.deepEqual(Object.keys(config.auths), ["127.0.0.1:5001"]);
    const entry = config.auths["127.0.0.1:5001"];
    assert.equal(entry.username, "puller");
    assert.equal(entry.password, "s3cr:et");
    // Only the first colon separates the user from the password.
    assert.equal(Buffer.from(entry.auth, "base64").toString(), "puller:s3cr:et");
  });
});
