// Kubernetes resource quantities ("250m", "0.5", "512Mi", "1G", "1e3") as plain numbers, so
// config validation can compare limits with requests before anything reaches the API server.

const SUFFIXES: Record<string, number> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

// The grammar from k8s.io/apimachinery/pkg/api/resource: a signed decimal, then either a
// binary/decimal SI suffix or a decimal exponent.
const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/;

/** Returns the quantity's value in base units (cores, bytes), or undefined when it does not parse. */
export function parseQuantity(text: string): number | undefined {
  const match = QUANTITY.exec(text);
  if (!match) {
    return undefined;
  }
  const [, number, suffix = "", exponent] = match;
  const value = Number(number);
  return exponent !== undefined ? value * 10 ** Number(exponent) : value * SUFFIXES[suffix];
}
