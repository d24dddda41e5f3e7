import type { ConnectRouter } from "@connectrpc/connect";
import { CalculatorService } from "../gen/calculator/v1/calculator_pb.js";
import { GreeterService } from "../gen/greeter/v1/greeter_pb.js";
import { HelloService } from "../gen/tutorial/hello/hello_pb.js";
import { Greeter } from "../gen/tutorial/helloworld/helloworld_pb.js";
import { Calculator } from "../gen/tutorial/calculator/calculator_pb.js";
import { calculatorService } from "./services/calculator.js";
import { greeterService } from "./services/greeter.js";
import { tutorialCalculatorService } from "./services/tutorial/calculator.js";
import { helloService } from "./services/tutorial/hello.js";
import { helloworldGreeterService } from "./services/tutorial/helloworld.js";

/** Every service the server answers, canonical contracts first, then the tutorials'. */
export function routes(router: ConnectRouter): void {
  router.service(CalculatorService, calculatorService);
  router.service(GreeterService, greeterService);

  router.service(Calculator, tutorialCalculatorService);
  router.service(Greeter, helloworldGreeterService);
  router.service(HelloService, helloService);
}
