/**
 * Built-ins Espruino has beyond ES5 that shared/ code relies on (checked against Espruino's
 * jswrap sources): Object.setPrototypeOf restores the prototype chain of ProvenantError.
 */
interface ObjectConstructor {
  setPrototypeOf(o: object, proto: object | null): object;
}
