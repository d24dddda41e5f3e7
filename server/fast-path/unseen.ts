import type { ConnectError } from "@connectrpc/connect";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";
import { type UnseenCallReport, unseenCallFacts, withRequestId } from "../pipeline/unseen-calls.js";
import { errorAnswer } from "../wire/early-answers.js";
import type { CallPlan } from "./plan.js";

/**
 * A call that ended before any interceptor ran (its deadline passed, or the
 * client left, while the request was being read), answered and logged as
 * answerUnseenCalls answers such calls on connect-node's path: one log line,
 * a request id, and the error in the call's protocol.
 */
export function unseenCallAnswer(
  plan: CallPlan,
  error: ConnectError,
  facts: { readonly headers: Headers; readonly httpVersion: string; readonly started: number },
  reportUnseen: UnseenCallReport,
): UniversalServerResponse {
  const callFacts = unseenCallFacts(
    `/${plan.entry.service.typeName}/${plan.entry.method.name}`,
    plan.protocol,
    { httpVersion: facts.httpVersion, method: plan.requestMethod, header: facts.headers },
    facts.started,
  );
  reportUnseen({
    facts: callFacts,
    service: plan.entry.service.typeName,
    method: plan.entry.method.name,
    streaming: false,
    header: facts.headers,
    error,
  });
  const header = new Headers();
  if (plan.protocol === "connect") {
    header.set("content-type", plan.binary ? "application/proto" : "application/json");
  } else {
    header.set("content-type", `application/${plan.protocol}+proto`);
    if (plan.responseCompression !== null) header.set("grpc-encoding", plan.responseCompression.name);
  }
  return errorAnswer(plan.protocol, error, withRequestId(header, callFacts));
}
