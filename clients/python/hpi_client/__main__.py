"""Command line: python3 -m hpi_client [--host H] [--port P] COMMAND ...

  infer MODEL --input NAME:DATATYPE:SHAPE=VALUES ...   e.g. --input INPUT0:FP32:1x16=1,2,3,...
        (one value fills the whole tensor; SHAPE is dims joined by 'x', empty for a scalar)
  metadata MODEL
  ready [MODEL]
  ping
"""

import argparse
import sys

from .client import Client, ServerError, infer_many
from .protocol import DataType, Tensor


def parse_input(spec: str) -> Tensor:
    """NAME:DATATYPE:SHAPE=VALUES into a tensor."""
    try:
        head, values_text = spec.split("=", 1)
        name, datatype_name, shape_text = head.split(":")
    except ValueError:
        raise argparse.ArgumentTypeError("expected NAME:DATATYPE:SHAPE=VALUES, got %r" % spec) from None
    datatype = DataType.parse(datatype_name)
    shape = tuple(int(dim) for dim in shape_text.split("x")) if shape_text else ()
    count = 1
    for dim in shape:
        count *= dim
    values = [_parse_value(datatype, text) for text in values_text.split(",")] if values_text else []
    if len(values) == 1 and count != 1:
        values = values * count
    if len(values) != count:
        raise argparse.ArgumentTypeError("%s: %d values for shape %s" % (name, len(values), shape))
    return Tensor.from_values(name, datatype, shape, values)


def _parse_value(datatype: DataType, text: str):
    if datatype == DataType.BYTES:
        return text.encode("utf-8")
    if datatype == DataType.BOOL:
        return text.lower() in ("1", "true", "yes")
    if datatype in (DataType.FP16, DataType.BF16, DataType.FP32, DataType.FP64):
        return float(text)
    return int(text, 0)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m hpi_client", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--api-key", default="")
    commands = parser.add_subparsers(dest="command", required=True)

    infer = commands.add_parser("infer", help="run an inference")
    infer.add_argument("model")
    infer.add_argument("--input", dest="inputs", action="append", type=parse_input, required=True,
                       metavar="NAME:DATATYPE:SHAPE=VALUES")
    infer.add_argument("--output", dest="outputs", action="append", default=[], help="outputs to return (default all)")
    infer.add_argument("--model-version", default="")
    infer.add_argument("--timeout-us", type=int, default=0)
    infer.add_argument("--priority", type=int, default=0)
    infer.add_argument("--routing-key", default="")
    infer.add_argument("--count", type=int, default=1, help="send the request this many times, pipelined")

    metadata = commands.add_parser("metadata", help="show a model's inputs and outputs")
    metadata.add_argument("model")
    metadata.add_argument("--model-version", default="")

    ready = commands.add_parser("ready", help="server readiness, or a model's")
    ready.add_argument("model", nargs="?")
    ready.add_argument("--model-version", default="")

    commands.add_parser("ping", help="measure a round trip")

    args = parser.parse_args(argv)
    try:
        with Client(args.host, args.port, api_key=args.api_key) as client:
            return _run(client, args)
    except ServerError as error:
        print("error: %s" % error, file=sys.stderr)
        return 2
    except OSError as error:
        print("error: %s" % error, file=sys.stderr)
        return 3


def _run(client: Client, args) -> int:
    if args.command == "infer":
        results = infer_many(client, args.model, [args.inputs] * args.count, outputs=args.outputs,
                             version=args.model_version, timeout_us=args.timeout_us,
                             priority=args.priority, routing_key=args.routing_key)
        for result in results:
            print("model %s version %s  queue %d us  compute %d us"
                  % (result.model_name, result.model_version, result.queue_us, result.compute_us))
            for tensor in result.outputs.values():
                print("  %s %s %s %s" % (tensor.name, tensor.datatype.name, list(tensor.shape), tensor.to_list()))
    elif args.command == "metadata":
        meta = client.model_metadata(args.model, args.model_version)
        print("model %s  versions %s  platform %s" % (meta.name, ",".join(meta.versions), meta.platform))
        for kind, tensors in (("input", meta.inputs), ("output", meta.outputs)):
            for tensor in tensors:
                print("  %s %s %s %s" % (kind, tensor.name, tensor.datatype.name, list(tensor.shape)))
    elif args.command == "ready":
        ready = client.model_ready(args.model, args.model_version) if args.model else client.server_ready()
        print("ready" if ready else "not ready")
        return 0 if ready else 1
    else:
        print("pong in %.1f us from %s %s" % (client.ping() * 1e6, client.server.server_name, client.server.server_version))
    return 0


if __name__ == "__main__":
    sys.exit(main())
