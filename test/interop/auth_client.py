"""Calls the tutorial's order.OrderService with bearer tokens, as a Python grpcio client would.

Over TLS (tokens must not travel in clear text), once with the token as call
metadata on each call and once with grpc.access_token_call_credentials, which
sends the same header. Stubs are generated at run time from
proto/tutorial/order/order.proto. Prints one JSON line per call.

Usage: auth_client.py HOST:PORT CA_PEM PROTO_TUTORIAL_DIR TOKEN TOKEN_WITHOUT_SCOPE
"""

import json
import sys
import tempfile

import grpc
from grpc_tools import protoc


def report(call, **outcome):
    print(json.dumps(dict(call=call, **outcome)), flush=True)


def attempt(call, rpc):
    try:
        report(call, ok=True, response=rpc())
    except grpc.RpcError as error:
        report(call, ok=False, code=error.code().name, details=error.details())


def main():
    target, ca_file, proto_root, token, scopeless = sys.argv[1:6]
    with open(ca_file, "rb") as pem:
        tls = grpc.ssl_channel_credentials(root_certificates=pem.read())
    with tempfile.TemporaryDirectory() as out_dir:
        source_dir = proto_root + "/order"
        if protoc.main(["grpc_tools.protoc", "-I" + source_dir, "--python_out=" + out_dir, "--grpc_python_out=" + out_dir, "order.proto"]) != 0:
            raise SystemExit("protoc failed for order.proto")
        sys.path.insert(0, out_dir)
        import order_pb2
        import order_pb2_grpc

        with grpc.secure_channel(target, tls) as channel:
            stub = order_pb2_grpc.OrderServiceStub(channel)
            create = order_pb2.CreateOrderRequest(name="Python order with a token")
            attempt("CreateOrder(no token)", lambda: stub.CreateOrder(create).order.uuid)
            attempt("CreateOrder(no scope)", lambda: stub.CreateOrder(create, metadata=[("authorization", "Bearer " + scopeless)]).order.uuid)

            metadata = [("authorization", "Bearer " + token)]
            created = stub.CreateOrder(create, metadata=metadata)
            report("CreateOrder(metadata)", ok=True, response=created.order.uuid)
            uuid = created.order.uuid
            attempt("ReadOrder(no token)", lambda: stub.ReadOrder(order_pb2.ReadOrderRequest(uuid=uuid)).order.name)
            attempt("ReadOrder(metadata)", lambda: stub.ReadOrder(order_pb2.ReadOrderRequest(uuid=uuid), metadata=metadata).order.name)
            attempt("DeleteOrder(no token)", lambda: stub.DeleteOrder(order_pb2.DeleteOrderRequest(uuid=uuid)).success)
            attempt("DeleteOrder(metadata)", lambda: stub.DeleteOrder(order_pb2.DeleteOrderRequest(uuid=uuid), metadata=metadata).success)
            attempt("ReadOrder(deleted)", lambda: stub.ReadOrder(order_pb2.ReadOrderRequest(uuid=uuid)).order.name)

        # The same token as call credentials: grpcio adds the header to every call.
        credentials = grpc.composite_channel_credentials(tls, grpc.access_token_call_credentials(token))
        with grpc.secure_channel(target, credentials) as channel:
            stub = order_pb2_grpc.OrderServiceStub(channel)
            created = stub.CreateOrder(order_pb2.CreateOrderRequest(name="Python order with call credentials"))
            report("CreateOrder(call credentials)", ok=True, response=created.order.uuid)
            attempt(
                "DeleteOrder(call credentials)",
                lambda: stub.DeleteOrder(order_pb2.DeleteOrderRequest(uuid=created.order.uuid)).success,
            )


if __name__ == "__main__":
    main()
