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

import grpc
from grpc_tools import protoc


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


# One entry per tutorial contract in proto/tutorial/: the folder to generate
# from and the calls its client.py makes. Movie and order join when they exist.
TUTORIALS = [
    ("calculator", calculator),
    ("helloworld", helloworld),
    ("hello", hello),
]


def main():
    target, proto_root = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="tutorial-stubs-") as out_dir:
        sys.path.insert(0, out_dir)
        for tutorial, _ in TUTORIALS:
            generate(proto_root, tutorial, out_dir)
        importlib.invalidate_caches()
        with grpc.insecure_channel(target) as channel:
            for _, run in TUTORIALS:
                run(channel)


if __name__ == "__main__":
    main()
