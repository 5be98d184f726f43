"""The Python twins of tests/Protocol.Tests/Support/SampleFrames.cs: the same frames, built with the
Python encoder, so both implementations must match the same golden files byte for byte."""

import os
import struct

from hpi_client import protocol as p

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
GOLDEN = os.path.join(REPO, "tests", "Protocol.Tests", "Golden")
CORPUS = os.path.join(REPO, "tests", "Protocol.Tests", "Fuzz", "Corpus")


def read_hex(path):
    """The golden/corpus file format: '#' comment lines, then hex byte pairs."""
    comments, data = [], bytearray()
    with open(path, encoding="utf-8") as file:
        for line in file.read().split("\n"):
            if line.startswith("#"):
                comments.append(line[1:].strip())
            else:
                data += bytes.fromhex(line)
    return comments, bytes(data)


def fp32(name, shape, values):
    return p.Tensor.from_values(name, p.DataType.FP32, shape, values)


def add_sub_request():
    return p.InferRequest("add_sub", [fp32("INPUT0", (1, 16), range(16)), fp32("INPUT1", (1, 16), [1] * 16)])


def add_sub_response():
    return p.InferResponse("add_sub", "1", 12, 9, [
        fp32("OUTPUT0", (1, 16), [i + 1 for i in range(16)]),
        fp32("OUTPUT1", (1, 16), [i - 1 for i in range(16)]),
    ])


def _int64s(*values):
    return struct.pack("<%dq" % len(values), *values)


STRINGS = ["ab", "", "h\u00e9llo"]
MODEL_TENSORS = [p.TensorMetadata("INPUT0", p.DataType.FP32, (-1, 16)), p.TensorMetadata("INPUT1", p.DataType.FP32, (-1, 16))]
MODEL_OUTPUTS = [p.TensorMetadata("OUTPUT0", p.DataType.FP32, (-1, 16)), p.TensorMetadata("OUTPUT1", p.DataType.FP32, (-1, 16))]

# name -> (encoded frame, request id, message type, decoded value)
SAMPLES = {
    "hello": (p.encode_hello(p.Hello(1, 1, "hpi-test", "s3cret")), 0, p.MessageType.HELLO,
              p.Hello(1, 1, "hpi-test", "s3cret")),
    "hello_ack": (p.encode_hello_ack(p.HelloAck(1, 64 * 1024 * 1024, 128, 30000, "HighPerfInference", "1.0.0")), 0,
                  p.MessageType.HELLO_ACK, p.HelloAck(1, 64 * 1024 * 1024, 128, 30000, "HighPerfInference", "1.0.0")),
    "infer_request_add_sub": (p.encode_infer_request(1, add_sub_request()), 1, p.MessageType.INFER_REQUEST,
                              add_sub_request()),
    "infer_response_add_sub": (p.encode_infer_response(1, add_sub_response()), 1, p.MessageType.INFER_RESPONSE,
                               add_sub_response()),
    "infer_request_options": (
        p.encode_infer_request(0x0102030405060708, p.InferRequest(
            "identity_all_types",
            [p.Tensor.from_values("IN_BYTES", "BYTES", (1, 3), STRINGS),
             p.Tensor("IN_INT64", p.DataType.INT64, (1, 2), _int64s(-1, 1 << 40)),
             p.Tensor("IN_BOOL", p.DataType.BOOL, (), b"\x01"),
             p.Tensor("IN_FP16", p.DataType.FP16, (1, 0), b"")],
            "1", 250000, 2, "user-42", ["OUT_BYTES", "OUT_INT64"])),
        0x0102030405060708, p.MessageType.INFER_REQUEST, None),
    "infer_response_bytes": (
        p.encode_infer_response(0x0102030405060708, p.InferResponse(
            "identity_all_types", "1", 0, 0xFFFFFFFF,
            [p.Tensor.from_values("OUT_BYTES", "BYTES", (1, 3), STRINGS),
             p.Tensor("OUT_INT64", p.DataType.INT64, (1, 2), _int64s(-1, 1 << 40))])),
        0x0102030405060708, p.MessageType.INFER_RESPONSE, None),
    "error_not_found": (p.encode_error(7, p.ErrorCode.NOT_FOUND, "model 'nope' is not found"), 7, p.MessageType.ERROR,
                        p.ErrorMessage(p.ErrorCode.NOT_FOUND, "model 'nope' is not found")),
    "error_fatal": (p.encode_error(0, p.ErrorCode.PROTOCOL_ERROR, "Frame does not start with the magic 'HPIB'."), 0,
                    p.MessageType.ERROR,
                    p.ErrorMessage(p.ErrorCode.PROTOCOL_ERROR, "Frame does not start with the magic 'HPIB'.")),
    "goaway": (p.encode_go_away(p.GoAway(41, p.ErrorCode.SHUTTING_DOWN, "server is shutting down")), 0,
               p.MessageType.GO_AWAY, p.GoAway(41, p.ErrorCode.SHUTTING_DOWN, "server is shutting down")),
    "ping": (p.encode_ping(0, 0x1122334455667788), 0, p.MessageType.PING, 0x1122334455667788),
    "pong": (p.encode_ping(5, 0x1122334455667788, pong=True), 5, p.MessageType.PONG, 0x1122334455667788),
    "cancel": (p.encode_empty(p.MessageType.CANCEL, 3), 3, p.MessageType.CANCEL, None),
    "server_ready_request": (p.encode_empty(p.MessageType.SERVER_READY_REQUEST, 9), 9,
                             p.MessageType.SERVER_READY_REQUEST, None),
    "server_ready_response": (p.encode_ready(p.MessageType.SERVER_READY_RESPONSE, 9, True), 9,
                              p.MessageType.SERVER_READY_RESPONSE, True),
    "model_ready_request": (p.encode_model_request(p.MessageType.MODEL_READY_REQUEST, 10, "add_sub"), 10,
                            p.MessageType.MODEL_READY_REQUEST, ("add_sub", "")),
    "model_ready_response": (p.encode_ready(p.MessageType.MODEL_READY_RESPONSE, 10, False), 10,
                             p.MessageType.MODEL_READY_RESPONSE, False),
    "model_metadata_request": (p.encode_model_request(p.MessageType.MODEL_METADATA_REQUEST, 11, "add_sub", "1"), 11,
                               p.MessageType.MODEL_METADATA_REQUEST, ("add_sub", "1")),
    "model_metadata_response": (
        p.encode_model_metadata(11, p.ModelMetadata("add_sub", ["1"], "onnxruntime_onnx", MODEL_TENSORS, MODEL_OUTPUTS)),
        11, p.MessageType.MODEL_METADATA_RESPONSE,
        p.ModelMetadata("add_sub", ["1"], "onnxruntime_onnx", MODEL_TENSORS, MODEL_OUTPUTS)),
}

DECODERS = {
    p.MessageType.HELLO: p.decode_hello,
    p.MessageType.HELLO_ACK: p.decode_hello_ack,
    p.MessageType.PING: p.decode_ping,
    p.MessageType.PONG: p.decode_ping,
    p.MessageType.GO_AWAY: p.decode_go_away,
    p.MessageType.ERROR: p.decode_error,
    p.MessageType.INFER_REQUEST: p.decode_infer_request,
    p.MessageType.INFER_RESPONSE: p.decode_infer_response,
    p.MessageType.CANCEL: p.decode_empty,
    p.MessageType.SERVER_READY_REQUEST: p.decode_empty,
    p.MessageType.MODEL_METADATA_REQUEST: p.decode_model_request,
    p.MessageType.MODEL_READY_REQUEST: p.decode_model_request,
    p.MessageType.MODEL_METADATA_RESPONSE: p.decode_model_metadata,
    p.MessageType.SERVER_READY_RESPONSE: p.decode_ready,
    p.MessageType.MODEL_READY_RESPONSE: p.decode_ready,
}


def decode(header, payload):
    """Decodes a payload by its type, as the C# tests' Frame.Decode does (unknown types: raw)."""
    decoder = DECODERS.get(header.type)
    return decoder(payload) if decoder else bytes(payload)


def _csharp_name(type_):
    try:
        return "".join(part.capitalize() for part in p.MessageType(type_).name.split("_"))
    except ValueError:
        return str(type_)


def run_stream(data, max_payload_length=4096):
    """Mirror of the C# FrameFuzzer.Run: one line per event, so corpus outcomes can be compared."""
    frames = p.FrameBuffer(max_payload_length)
    frames.feed(data)
    lines = []
    while True:
        try:
            got = frames.next_frame()
        except p.ProtocolError as error:
            assert error.fatal
            lines.append("end: fatal %s %s" % (p.error_name(error.code), error))
            return lines
        if got is None:
            lines.append("end: %d bytes left" % len(frames))
            return lines
        header, payload = got
        try:
            decode(header, payload)
            outcome = "ok"
        except p.ProtocolError as error:
            assert not error.fatal
            outcome = "%s %s" % (p.error_name(error.code), error)
        lines.append("%s id=%d: %s" % (_csharp_name(header.type), header.request_id, outcome))
