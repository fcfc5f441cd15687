// How users reach the API, under Pulumi's mocks (unit tests): an Ingress (exposure ingress, the
// default) or HTTPRoutes attached to the platform's Gateway (exposure gateway), each with the
// blue-green preview on a host of its own; every object checked against its schema, and the
// policy pack treating a route like an Ingress.
import { strict as assert } from "node:assert";
import { evaluate, type Finding } from "../../policy/pack";
import type { StackResource } from "../../policy/rules";
import {
  asManifest,
  devInput,
  isKubernetes,
  prodInput,
  runProgram,
  withConfig,
  type RunResult,
  type StackInput,
} from "../support/harness";
import { validateCustomResource } from "../support/crd-schema";
import { validateManifest } from "../support/k8s-schema";
import { withCosign } from "../support/cosign";

const ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute";
const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";
/** The local cluster's Gateway (testbed/addons): listeners http and https in namespace ingress. */
const PLATFORM = { exposure: "gateway", gatewayName: "platform", gatewayNamespace: "ingress" };
/** The policy config that tells the pack the platform's https listener terminates TLS (docs/policy.md). */
const HTTPS_LISTENER = { "gateway-tls": { httpsListeners: ["ingress/platform/https"] } };

const onGateway = (base: () => StackInput, extra: Record<string, string> = {}) =>
  // A Gateway's listener has its own certificate: clusterIssuer is the Ingress' key.
  withConfig(base(), { ...PLATFORM, clusterIssuer: undefined, ...extra });
const route = (run: RunResult, name: string) =>
  asManifest(run.all(ROUTE).find((r) => asManifest(r).metadata.name === name)!);
const names = (run: RunResult, type: string) =>
  run
    .all(type)
    .map((r) => asManifest(r).metadata.name)
    .sort();
const asStack = (run: RunResult, stack: string): StackResource[] =>
  run.resources.map((r) => ({
    type: r.type,
    props: asManifest(r),
    urn: `urn:pulumi:${stack}::api-stack::${r.type}::${r.name}`,
  }));
const mandatory = (findings: Finding[]) =>
  findings.filter((f) => f.enforcementLevel === "mandatory").map((f) => `${f.policy}: ${f.message}`);

async function validateAll(run: RunResult) {
  for (const resource of run.resources.filter(isKubernetes)) {
    await validateManifest(asManifest(resource));
  }
}

describe("exposure gateway: prod's host on the platform's Gateway (mocks)", () => {
  // Prod verifies its prebuilt image as signed before registering anything.
  withCosign();
  let run: RunResult;
  before(async () => {
    run = await runProgram(onGateway(prodInput), { stack: "prod" });
  });

  it("serves the host through an HTTPRoute on the HTTPS listener, and no Ingress", () => {
    assert.deepEqual(run.all(INGRESS), []);
    const api = route(run, "api");
    assert.deepEqual(api.spec.parentRefs, [
      {
        group: "gateway.networking.k8s.io",
        kind: "Gateway",
        name: "platform",
        namespace: "ingress",
        sectionName: "https",
      },
    ]);
    assert.deepEqual(api.spec.hostnames, ["api.example.com"]);
    assert.deepEqual(api.spec.rules[0].backendRefs, [{ name: "api", port: 80 }]);
    assert.equal(run.outputs.url, "https://api.example.com");
  });

  it("redirects plain HTTP to https on the HTTP listener", () => {
    const redirect = route(run, "api-redirect");
    assert.equal(redirect.spec.parentRefs[0].sectionName, "http");
    assert.deepEqual(redirect.spec.rules[0].filters, [
      { type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } },
    ]);
    assert.equal(redirect.spec.rules[0].backendRefs, undefined);
  });

  it("waits until the Gateway accepts each route", () => {
    for (const name of ["api", "api-redirect"]) {
      assert.match(route(run, name).metadata.annotations["pulumi.com/waitFor"], /type=="Accepted"/);
    }
  });

  it("emits objects valid for the Kubernetes, Gateway API and Argo Rollouts schemas", async () => {
    await validateAll(run);
  });

  it("would notice a malformed route (the schema check can fail)", () => {
    const broken = route(run, "api");
    broken.spec.parentRefs[0].sectionName = "Not A Listener";
    assert.throws(() => validateCustomResource(broken), /fails the Gateway API CRD schema/);
  });

  it("passes the policy pack once its config names the platform's listener HTTPS, as an Ingress with TLS would", () => {
    assert.deepEqual(mandatory(evaluate(asStack(run, "prod"), HTTPS_LISTENER)), []);
    // Without that, the pack cannot see that the listener terminates TLS, and says so.
    assert.deepEqual(
      mandatory(evaluate(asStack(run, "prod"))).map((finding) => finding.split(":")[0]),
      ["gateway-tls"],
    );
  });
});

describe("exposure gateway without TLS (dev, mocks)", () => {
  it("serves plain HTTP on the HTTP listener, with nothing to redirect", async () => {
    const run = await runProgram(onGateway(devInput), { stack: "dev" });
    assert.deepEqual(names(run, ROUTE), ["api"]);
    assert.equal(route(run, "api").spec.parentRefs[0].sectionName, "http");
    assert.equal(run.outputs.url, "http://api.dev.localhost");
    await validateAll(run);
  });
});

describe("the blue-green preview on its own host (mocks)", () => {
  withCosign();
  const previewHost = "api-preview.example.com";
  const allowedHosts = (run: RunResult) =>
    asManifest(run.one("kubernetes:core/v1:ConfigMap")).data.ALLOWED_HOSTS.split(",");

  it("lets the apps answer the preview's host (ALLOWED_HOSTS), for an Ingress and a route alike", async () => {
    for (const input of [
      withConfig(prodInput(), { strategy: "blueGreen", previewHost }),
      onGateway(prodInput, { strategy: "blueGreen", previewHost }),
    ]) {
      const hosts = allowedHosts(await runProgram(input, { stack: "prod" }));
      assert.deepEqual(hosts.slice(0, 2), ["api.example.com", previewHost]);
    }
    // Without a preview host the apps refuse it.
    assert.ok(
      !allowedHosts(await runProgram(withConfig(prodInput(), { strategy: "blueGreen" }), { stack: "prod" })).includes(
        previewHost,
      ),
    );
  });

  it("exposure ingress: an Ingress of its own to the preview Service, with its own certificate", async () => {
    const run = await runProgram(withConfig(prodInput(), { strategy: "blueGreen", previewHost }), { stack: "prod" });
    assert.deepEqual(names(run, INGRESS), ["api", "api-preview"]);
    const preview = asManifest(run.all(INGRESS).find((r) => asManifest(r).metadata.name === "api-preview")!);
    assert.deepEqual(preview.spec.rules[0].host, previewHost);
    assert.equal(preview.spec.rules[0].http.paths[0].backend.service.name, "api-preview");
    assert.deepEqual(preview.spec.tls, [{ hosts: [previewHost], secretName: "api-preview-tls" }]);
    assert.equal(preview.metadata.annotations["cert-manager.io/cluster-issuer"], "letsencrypt-prod");
    await validateAll(run);
    assert.deepEqual(mandatory(evaluate(asStack(run, "prod"))), []);
  });

  it("exposure gateway: a route of its own to the preview Service, redirected to https with the API host", async () => {
    const run = await runProgram(onGateway(prodInput, { strategy: "blueGreen", previewHost }), { stack: "prod" });
    assert.deepEqual(names(run, ROUTE), ["api", "api-preview", "api-redirect"]);
    const preview = route(run, "api-preview");
    assert.deepEqual(preview.spec.hostnames, [previewHost]);
    assert.deepEqual(preview.spec.rules[0].backendRefs, [{ name: "api-preview", port: 80 }]);
    assert.deepEqual(route(run, "api-redirect").spec.hostnames, ["api.example.com", previewHost]);
    await validateAll(run);
    assert.deepEqual(mandatory(evaluate(asStack(run, "prod"), HTTPS_LISTENER)), []);
  });
});
