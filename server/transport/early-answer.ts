import * as http2 from "node:http2";

/**
 * A server may answer before it has read the whole request: an over-size
 * message, or an error before the client half-closes. HTTP/2 then keeps the
 * stream half-open until the client ends its side, which it may never do (its
 * upload waits for flow-control credit the server no longer gives), so the
 * call would count as in flight and hold a graceful shutdown for the whole
 * grace period. RFC 9113 §8.1 provides for this: once the complete response
 * has been sent, the server may end the client's side with
 * RST_STREAM(NO_ERROR), which does not discard the response.
 *
 * The response is complete only with its trailers, which carry a gRPC call's
 * status. Node's compatibility layer sends them from its own 'wantTrailers'
 * listener (registered before this one) via `sendTrailers`, which queues
 * them with setImmediate; queuing the reset after them keeps them ahead of it,
 * and Node writes frames already queued before a reset. Node would then keep
 * the stream until someone reads what the client sent before the reset;
 * nobody will, so the stream is let go at once.
 */
export function endClientSideAfterAnswer(stream: http2.ServerHttp2Stream): void {
  stream.once("wantTrailers", () => {
    setImmediate(() => {
      if (stream.closed || stream.destroyed || stream.state.remoteClose !== 0) return;
      stream.close(http2.constants.NGHTTP2_NO_ERROR);
      stream.destroy();
    });
  });
}
