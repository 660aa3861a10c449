/** Compile-time exhaustiveness for `switch` statements over unions. */
export function assertUnreachable(value: never): never {
  throw new Error(`Unreachable: ${String(value)}`);
}
