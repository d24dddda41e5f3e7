import type { ServiceImpl } from "@connectrpc/connect";
import type { CalculatorService } from "../../gen/calculator/v1/calculator_pb.js";
import { add, divide, multiply, squareRoot, subtract } from "../domain/calculator.js";

export const calculatorService: ServiceImpl<typeof CalculatorService> = {
  squareRoot: ({ number }) => ({ result: squareRoot(number) }),
  add: ({ a, b }) => ({ result: add(a, b) }),
  subtract: ({ a, b }) => ({ result: subtract(a, b) }),
  multiply: ({ a, b }) => ({ result: multiply(a, b) }),
  divide: ({ a, b }) => ({ result: divide(a, b) }),
};
