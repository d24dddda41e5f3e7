import type { ServiceImpl } from "@connectrpc/connect";
import type { Calculator } from "../../../gen/tutorial/calculator/calculator_pb.js";
import { squareRoot } from "../../domain/calculator.js";

/** The calculator tutorial's contract, answered by the same arithmetic. */
export const tutorialCalculatorService: ServiceImpl<typeof Calculator> = {
  squareRoot: ({ value }) => ({ value: squareRoot(value) }),
};
