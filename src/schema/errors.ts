/**
 * A schema that declares streams or events wrongly. The message names the proto file, the
 * message (when there is one) and the option, so codegen and gateway start-up point straight
 * at the line to fix.
 */
export class SchemaError extends Error {
  constructor(
    readonly file: string,
    readonly option: string,
    problem: string,
    readonly message_?: string,
  ) {
    super(`${file}${message_ ? `: message ${message_}` : ""}: option (${option}): ${problem}`);
    this.name = "SchemaError";
  }
}
