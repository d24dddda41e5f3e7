import { setTimeout as sleep } from "node:timers/promises";
import type { ServiceImpl } from "@connectrpc/connect";
import type { GreeterService } from "../../gen/greeter/v1/greeter_pb.js";
import { ValidationError } from "../domain/errors.js";
import { checkName, greetingsFor, hello, helloAgain, helloEveryone, maxGreetingNames } from "../domain/greeter.js";

export const greeterService: ServiceImpl<typeof GreeterService> = {
  sayHello: ({ name }) => ({ message: hello(name) }),

  sayHelloAgain: ({ name }) => ({ message: helloAgain(name) }),

  async *lotsOfReplies({ name, delayMs }, { signal }) {
    const greetings = greetingsFor(name);
    for (const [index, greeting] of greetings.entries()) {
      // Rejects as soon as the call is cancelled or its deadline passes, so
      // no work continues for a client that is gone.
      if (index > 0 && delayMs > 0) await sleep(delayMs, undefined, { signal });
      yield greeting;
    }
  },

  async lotsOfGreetings(requests) {
    const names: string[] = [];
    for await (const { name } of requests) {
      if (names.length === maxGreetingNames) {
        throw new ValidationError("name", "max_items", `send at most ${maxGreetingNames} names in one stream`);
      }
      names.push(checkName(name));
    }
    return { message: helloEveryone(names), count: names.length };
  },

  async *bidiHello(requests) {
    for await (const { name } of requests) {
      yield { message: hello(name) };
    }
  },
};
