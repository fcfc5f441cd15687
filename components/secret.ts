// A neutral module: config produces these values and components consume them.
import { inspect } from "node:util";

/**
 * A secret config value held as plain data. It prints as `[secret]` everywhere (string
 * conversion, JSON, console.log, error messages), so it cannot leak by accident; components
 * call `reveal()` only to hand it to `pulumi.secret(...)`.
 */
export class SecretValue {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return "[secret]";
  }

  toJSON(): string {
    return "[secret]";
  }

  [inspect.custom](): string {
    return "[secret]";
  }
}
