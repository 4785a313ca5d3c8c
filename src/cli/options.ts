/**
 * Option parsers shared by the commands (commander's argParser functions): a value they
 * refuse becomes commander's usage error, exit 2, naming the flag.
 */
import { InvalidArgumentError } from "commander";

/**
 * A parser of whole numbers in [min, max], written in decimal digits only (no sign, no
 * exponent, no fraction: `1e3` or `10.0` is refused rather than read as something else).
 * @throws InvalidArgumentError (from the parser) for anything else.
 */
export function intOption(min: number, max: number): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}.`);
    }
    return n;
  };
}
