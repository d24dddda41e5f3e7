import type { CompiledQuery } from "kysely";

/**
 * A statement Kysely builds and compiles once, whose parameters each call
 * fills in: on a write as small as CreateOrder, building and compiling the
 * query every time cost about as much CPU as the rest of its database work
 * (see movie-repository.ts for the same with GetMovie).
 *
 * The statement is built with a marker in place of each value a call gives;
 * the compiled parameters that are markers are the holes, any other stays
 * as compiled (a constant of the statement, such as a channel name).
 */
export class StatementTemplate<Values extends object, Row> {
  private readonly compiled: CompiledQuery<Row>;
  /** For each compiled parameter, the value that fills it, or undefined to keep it. */
  private readonly holes: ReadonlyArray<keyof Values | undefined>;

  constructor(names: ReadonlyArray<keyof Values>, build: (values: Values) => { compile(): CompiledQuery<Row> }) {
    const markers = new Map(names.map((name) => [`\u0000hole ${String(name)}\u0000`, name]));
    // The markers stand in for values of any type: Kysely only carries them to the parameters.
    const values = Object.fromEntries([...markers].map(([marker, name]) => [name, marker])) as Values;
    this.compiled = build(values).compile();
    this.holes = this.compiled.parameters.map((parameter) => (typeof parameter === "string" ? markers.get(parameter) : undefined));
    const missing = names.filter((name) => !this.holes.includes(name));
    if (missing.length > 0) throw new Error(`the statement does not use ${missing.map(String).join(", ")}: ${this.compiled.sql}`);
  }

  /** The compiled statement with `values` in its holes. */
  with(values: Values): CompiledQuery<Row> {
    const constants = this.compiled.parameters;
    return { ...this.compiled, parameters: this.holes.map((name, index) => (name === undefined ? constants[index] : values[name])) };
  }
}
