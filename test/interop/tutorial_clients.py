"""Calls the server the way the tutorials' client.py files do, with Python grpcio.

Stubs are generated at run time from the tutorials' contracts (proto/tutorial/)
with grpc_tools.protoc, into a temporary folder. Prints one JSON line per call
describing what came back, for the interop suite to check.

Usage: tutorial_clients.py HOST:PORT PROTO_TUTORIAL_DIR
"""

import importlib
import json
import os
import sys
import tempfile
import warnings

import grpc
from grpc_tools import protoc
from datetime import datetime


def generate(proto_root, tutorial, out_dir):
    """protoc -I<tutorial dir> --python_out --grpc_python_out, as the tutorials build their stubs."""
    source_dir = os.path.join(proto_root, tutorial)
    protos = [name for name in os.listdir(source_dir) if name.endswith(".proto")]
    for proto in protos:
        status = protoc.main([
            "grpc_tools.protoc",
            "-I" + source_dir,
            "--python_out=" + out_dir,
            "--grpc_python_out=" + out_dir,
            proto,
        ])
        if status != 0:
            raise SystemExit("protoc failed for %s/%s" % (tutorial, proto))


def report(call, **outcome):
    print(json.dumps(dict(call=call, **outcome), ensure_ascii=False), flush=True)


def attempt(call, rpc):
    """Runs one call and reports its answer, or its status code and message."""
    try:
        report(call, ok=True, response=rpc())
    except grpc.RpcError as error:
        report(call, ok=False, code=error.code().name, details=error.details())


def calculator(channel):
    import calculator_pb2
    import calculator_pb2_grpc

    stub = calculator_pb2_grpc.CalculatorStub(channel)
    attempt("Calculator.SquareRoot(16)", lambda: stub.SquareRoot(calculator_pb2.Number(value=16)).value)
    attempt("Calculator.SquareRoot(2)", lambda: stub.SquareRoot(calculator_pb2.Number(value=2)).value)
    attempt("Calculator.SquareRoot(-1)", lambda: stub.SquareRoot(calculator_pb2.Number(value=-1)).value)


def helloworld(channel):
    import helloworld_pb2
    import helloworld_pb2_grpc

    stub = helloworld_pb2_grpc.GreeterStub(channel)
    attempt("Greeter.SayHello(you)", lambda: stub.SayHello(helloworld_pb2.HelloRequest(name="you")).message)
    attempt("Greeter.SayHelloAgain(you)", lambda: stub.SayHelloAgain(helloworld_pb2.HelloRequest(name="you")).message)
    attempt("Greeter.SayHello(too long)", lambda: stub.SayHello(helloworld_pb2.HelloRequest(name="x" * 11)).message)


def hello(channel):
    import hello_pb2
    import hello_pb2_grpc

    stub = hello_pb2_grpc.HelloServiceStub(channel)
    attempt("HelloService.SayHello(なんしー)", lambda: stub.SayHello(hello_pb2.HelloRequest(name="なんしー")).message)


def movie(channel):
    import movie_pb2
    import movie_pb2_grpc

    stub = movie_pb2_grpc.MovieStub(channel)

    def show(movie):
        return dict(id=movie.id, title=movie.title, director=movie.director, rating=movie.rating)

    attempt("Movie.GetMovieByID(The Martian)", lambda: show(stub.GetMovieByID(movie_pb2.MovieID(id="a8034f44-aee4-44cf-b32c-74cf452aaaae"))))
    attempt("Movie.GetMovieByID(unknown)", lambda: show(stub.GetMovieByID(movie_pb2.MovieID(id="no-such-movie"))))
    attempt("Movie.GetListMovies()", lambda: [show(movie) for movie in stub.GetListMovies(movie_pb2.Empty())])


def order(channel):
    import order_pb2
    import order_pb2_grpc

    stub = order_pb2_grpc.OrderServiceStub(channel)

    def show(response):
        shown = dict(notification_type=order_pb2.OrderNotificationTypeEnum.Name(response.notification_type))
        if response.HasField("order"):
            shown["order"] = dict(uuid=response.order.uuid, name=response.order.name, completed=response.order.completed, date=response.order.date)
        return shown

    # The tutorial's client sends this when no date is given: a space, microseconds, and a Z.
    sent = f"{datetime.utcnow()}Z"
    created = stub.CreateOrder(order_pb2.CreateOrderRequest(name="Python order", completed=False, date=sent))
    report("OrderService.CreateOrder", ok=True, response=dict(show(created), sent=sent))
    uuid = created.order.uuid
    attempt("OrderService.ReadOrder", lambda: show(stub.ReadOrder(order_pb2.ReadOrderRequest(uuid=uuid))))
    attempt(
        "OrderService.UpdateOrder",
        lambda: show(stub.UpdateOrder(order_pb2.UpdateOrderRequest(uuid=uuid, name="Python order", completed=True, date=created.order.date))),
    )
    attempt("OrderService.ListOrders", lambda: [o.uuid for o in stub.ListOrders(order_pb2.ListOrdersRequest()).orders])
    attempt("OrderService.DeleteOrder", lambda: stub.DeleteOrder(order_pb2.DeleteOrderRequest(uuid=uuid)).success)
    attempt("OrderService.ReadOrder(deleted)", lambda: show(stub.ReadOrder(order_pb2.ReadOrderRequest(uuid=uuid))))


# The client of each tutorial contract in proto/tutorial/, by folder name: the
# calls its client.py makes. A folder without a client here is an error, so no
# contract goes untested.
TUTORIALS = {
    "calculator": calculator,
    "helloworld": helloworld,
    "hello": hello,
    "movie": movie,
    "order": order,
}


def main():
    # datetime.utcnow() is deprecated from Python 3.12 on; the tutorial's client still calls it.
    warnings.simplefilter("ignore", DeprecationWarning)
    target, proto_root = sys.argv[1], sys.argv[2]
    present = sorted(name for name in os.listdir(proto_root) if os.path.isdir(os.path.join(proto_root, name)))
    missing = [name for name in present if name not in TUTORIALS]
    if missing:
        raise SystemExit("no Python client for the tutorial contract(s): " + ", ".join(missing))
    with tempfile.TemporaryDirectory(prefix="tutorial-stubs-") as out_dir:
        sys.path.insert(0, out_dir)
        for tutorial in present:
            generate(proto_root, tutorial, out_dir)
        importlib.invalidate_caches()
        with grpc.insecure_channel(target) as channel:
            for tutorial in present:
                TUTORIALS[tutorial](channel)


if __name__ == "__main__":
    main()
