import type { ServiceImpl } from "@connectrpc/connect";
import type { HelloService } from "../../../gen/tutorial/hello/hello_pb.js";
import { helloInJapanese } from "../../domain/greeter.js";

/** The Japanese tutorial's hello contract, answered by the same greeter. */
export const helloService: ServiceImpl<typeof HelloService> = {
  sayHello: ({ name }) => ({ message: helloInJapanese(name) }),
};
