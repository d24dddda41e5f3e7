import type { ServiceImpl } from "@connectrpc/connect";
import type { Greeter } from "../../../gen/tutorial/helloworld/helloworld_pb.js";
import { hello, helloAgain } from "../../domain/greeter.js";

/** gRPC's helloworld contract, answered by the same greeter. */
export const helloworldGreeterService: ServiceImpl<typeof Greeter> = {
  sayHello: ({ name }) => ({ message: hello(name) }),
  sayHelloAgain: ({ name }) => ({ message: helloAgain(name) }),
};
