import { strict as assert } from "node:assert";
import { parseQuantity } from "./quantity";

describe("parseQuantity", () => {
  const cases: Array<[string, number | undefined]> = [
    ["250m", 0.25],
    ["0.5", 0.5],
    ["2", 2],
    ["512Mi", 512 * 2 ** 20],
    ["1Gi", 2 ** 30],
    ["1G", 1e9],
    ["1e3", 1000],
    [".5", 0.5],
    ["256MB", undefined],
    ["half", undefined],
    ["", undefined],
    ["1.5.2", undefined],
  ];
  for (const [text, expected] of cases) {
    it(`${JSON.stringify(text)} -> ${expected}`, () => assert.equal(parseQuantity(text), expected));
  }

  it("orders mixed units correctly", () => {
    assert.ok(parseQuantity("1Gi")! > parseQuantity("1000Mi")!);
    assert.ok(parseQuantity("1")! > parseQuantity("999m")!);
  });
});
