"""The HPIB binary protocol, version 1: frame and message encoding and decoding.

Pure functions over bytes, no I/O; docs/protocol.md is the specification. Every integer is
little-endian. A "name" is a u8 length + UTF-8 bytes, a "text" a u16 length + UTF-8 bytes.
"""

import enum
import struct
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

MAGIC = b"HPIB"
HEADER_SIZE = 24
VERSION_MIN = 1
VERSION_MAX = 1
HANDSHAKE_VERSION = 1
DEFAULT_MAX_PAYLOAD_LENGTH = 64 * 1024 * 1024
MAX_NAME_LENGTH = 255
MAX_TEXT_LENGTH = 65535
MAX_RANK = 16
TENSOR_ALIGNMENT = 8

_HEADER = struct.Struct("<4sBBHQII")


class MessageType(enum.IntEnum):
    HELLO = 0x01
    HELLO_ACK = 0x02
    PING = 0x03
    PONG = 0x04
    GO_AWAY = 0x05
    ERROR = 0x06
    INFER_REQUEST = 0x10
    INFER_RESPONSE = 0x11
    CANCEL = 0x12
    MODEL_METADATA_REQUEST = 0x20
    MODEL_METADATA_RESPONSE = 0x21
    SERVER_READY_REQUEST = 0x22
    SERVER_READY_RESPONSE = 0x23
    MODEL_READY_REQUEST = 0x24
    MODEL_READY_RESPONSE = 0x25


class ErrorCode(enum.IntEnum):
    """The error codes the binary protocol and the HTTP API share (src/Protocol/ErrorCode.cs)."""

    OK = 0
    INVALID_ARGUMENT = 1
    NOT_FOUND = 2
    UNAVAILABLE = 3
    OVERLOADED = 4
    TIMEOUT = 5
    CANCELLED = 6
    INTERNAL = 7
    UNSUPPORTED = 8
    PAYLOAD_TOO_LARGE = 9
    UNAUTHENTICATED = 10
    SHUTTING_DOWN = 11
    PROTOCOL_ERROR = 12
    MODEL_ERROR = 13


RETRYABLE = frozenset(
    {ErrorCode.UNAVAILABLE, ErrorCode.OVERLOADED, ErrorCode.TIMEOUT, ErrorCode.SHUTTING_DOWN}
)


def error_name(code: int) -> str:
    try:
        return ErrorCode(code).name
    except ValueError:
        return "UNKNOWN(%d)" % code


class DataType(enum.IntEnum):
    """Tensor datatypes, the Open Inference Protocol's set, with their wire values."""

    BOOL = 1
    UINT8 = 2
    UINT16 = 3
    UINT32 = 4
    UINT64 = 5
    INT8 = 6
    INT16 = 7
    INT32 = 8
    INT64 = 9
    FP16 = 10
    BF16 = 11
    FP32 = 12
    FP64 = 13
    BYTES = 14

    @property
    def element_size(self) -> int:
        """Bytes per element; 0 for BYTES (variable)."""
        return _ELEMENT_SIZE[self]

    @classmethod
    def parse(cls, name: str) -> "DataType":
        try:
            return cls[name.upper()]
        except KeyError:
            raise ValueError("unknown datatype %r" % name) from None


_ELEMENT_SIZE = {
    DataType.BOOL: 1, DataType.UINT8: 1, DataType.INT8: 1,
    DataType.UINT16: 2, DataType.INT16: 2, DataType.FP16: 2, DataType.BF16: 2,
    DataType.UINT32: 4, DataType.INT32: 4, DataType.FP32: 4,
    DataType.UINT64: 8, DataType.INT64: 8, DataType.FP64: 8,
    DataType.BYTES: 0,
}


class ProtocolError(Exception):
    """A frame broke the wire format.

    ``fatal`` errors (bad header, oversize length) leave the stream out of sync: the connection
    must be closed. Other errors concern one payload whose frame was well delimited.
    """

    def __init__(self, code: int, message: str, fatal: bool):
        super().__init__(message)
        self.code = code
        self.fatal = fatal


def _invalid(message: str) -> ProtocolError:
    return ProtocolError(ErrorCode.INVALID_ARGUMENT, message, fatal=False)


# ----------------------------------------------------------------------------------------------
# Frames

@dataclass(frozen=True)
class FrameHeader:
    type: int
    request_id: int
    payload_length: int
    version: int = VERSION_MAX
    flags: int = 0


def encode_header(header: FrameHeader) -> bytes:
    return _HEADER.pack(MAGIC, header.version, header.type, header.flags,
                        header.request_id, header.payload_length, 0)


def decode_header(data, max_payload_length: int = DEFAULT_MAX_PAYLOAD_LENGTH) -> FrameHeader:
    """Validates the 24 header bytes; raises a fatal ProtocolError when the stream is broken."""
    if len(data) < HEADER_SIZE:
        raise ProtocolError(ErrorCode.PROTOCOL_ERROR, "Frame header is shorter than 24 bytes.", True)
    magic, version, type_, flags, request_id, length, reserved = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise ProtocolError(ErrorCode.PROTOCOL_ERROR, "Frame does not start with the magic 'HPIB'.", True)
    if not VERSION_MIN <= version <= VERSION_MAX:
        raise ProtocolError(ErrorCode.PROTOCOL_ERROR, "Frame version %d is not supported." % version, True)
    if reserved != 0:
        raise ProtocolError(ErrorCode.PROTOCOL_ERROR, "Frame header reserved field is not zero.", True)
    if length > max_payload_length:
        raise ProtocolError(
            ErrorCode.PAYLOAD_TOO_LARGE,
            "Frame payload of %d bytes exceeds the limit of %d bytes." % (length, max_payload_length), True)
    return FrameHeader(type_, request_id, length, version, flags)


def frame(type_: int, request_id: int, payload: bytes = b"", version: int = VERSION_MAX) -> bytes:
    return encode_header(FrameHeader(type_, request_id, len(payload), version)) + payload


class FrameBuffer:
    """Splits a byte stream into frames: feed it bytes as they arrive, take whole frames out.

    An oversize length is refused as soon as the header is in, before its payload is buffered.
    """

    def __init__(self, max_payload_length: int = DEFAULT_MAX_PAYLOAD_LENGTH):
        self.max_payload_length = max_payload_length
        self._buffer = bytearray()
        self._start = 0

    def feed(self, data) -> None:
        if self._start and self._start * 2 >= len(self._buffer):
            del self._buffer[:self._start]
            self._start = 0
        self._buffer += data

    def __len__(self) -> int:
        return len(self._buffer) - self._start

    def next_frame(self) -> Optional[Tuple[FrameHeader, bytes]]:
        """The next complete frame as (header, payload), or None when more bytes are needed."""
        start = self._start
        if len(self._buffer) - start < HEADER_SIZE:
            return None
        header = decode_header(bytes(self._buffer[start:start + HEADER_SIZE]), self.max_payload_length)
        end = start + HEADER_SIZE + header.payload_length
        if len(self._buffer) < end:
            return None
        payload = bytes(self._buffer[start + HEADER_SIZE:end])
        self._start = end
        return header, payload


# ----------------------------------------------------------------------------------------------
# Field writing and reading

def _name(value: str) -> bytes:
    data = value.encode("utf-8")
    if len(data) > MAX_NAME_LENGTH:
        raise ValueError("%r is over %d UTF-8 bytes" % (value, MAX_NAME_LENGTH))
    return bytes((len(data),)) + data


def _text(value: str) -> bytes:
    data = value.encode("utf-8")
    if len(data) > MAX_TEXT_LENGTH:
        data = data[:MAX_TEXT_LENGTH].decode("utf-8", errors="ignore").encode("utf-8")
    return struct.pack("<H", len(data)) + data


def _padding(offset: int) -> int:
    return -offset % TENSOR_ALIGNMENT


class _Reader:
    """Reads the fields of one complete payload; running out of bytes is a malformed payload."""

    def __init__(self, payload):
        self.data = memoryview(payload)
        self.offset = 0

    def take(self, count: int) -> memoryview:
        end = self.offset + count
        if end > len(self.data):
            raise _invalid("Payload ends in the middle of a field.")
        view = self.data[self.offset:end]
        self.offset = end
        return view

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return struct.unpack("<H", self.take(2))[0]

    def u32(self) -> int:
        return struct.unpack("<I", self.take(4))[0]

    def u64(self) -> int:
        return struct.unpack("<Q", self.take(8))[0]

    def i64(self) -> int:
        return struct.unpack("<q", self.take(8))[0]

    def name(self) -> str:
        return bytes(self.take(self.u8())).decode("utf-8", errors="replace")

    def text(self) -> str:
        return bytes(self.take(self.u16())).decode("utf-8", errors="replace")

    def end(self) -> None:
        if self.offset != len(self.data):
            raise _invalid("Payload has bytes after its last field.")


# ----------------------------------------------------------------------------------------------
# Tensors

@dataclass
class Tensor:
    """A tensor as it travels: raw little-endian row-major bytes (BYTES: u32 length + bytes each).

    ``data`` may be a memoryview into a received payload (no copy); the payload keeps tensor data
    8-byte aligned, so ``to_numpy`` views it in place.
    """

    name: str
    datatype: DataType
    shape: Tuple[int, ...]
    data: bytes

    @staticmethod
    def from_values(name: str, datatype, shape: Sequence[int], values) -> "Tensor":
        """A tensor from a flat sequence of Python values (str/bytes for BYTES)."""
        datatype = DataType.parse(datatype) if isinstance(datatype, str) else DataType(datatype)
        values = list(values)
        if datatype == DataType.BYTES:
            data = b"".join(
                struct.pack("<I", len(v)) + v
                for v in (x.encode("utf-8") if isinstance(x, str) else bytes(x) for x in values))
        elif datatype == DataType.BF16:
            data = b"".join(struct.pack("<f", float(v))[2:] for v in values)
        else:
            data = struct.pack("<%d%s" % (len(values), _STRUCT_CODE[datatype]), *values)
        return Tensor(name, datatype, tuple(shape), data)

    @staticmethod
    def from_numpy(name: str, array) -> "Tensor":
        import numpy
        array = numpy.ascontiguousarray(array)
        datatype = _NUMPY_TO_DATATYPE.get(array.dtype.str[1:])
        if datatype is None:
            raise ValueError("no wire datatype for numpy dtype %s" % array.dtype)
        return Tensor(name, datatype, tuple(array.shape), array.astype(array.dtype.newbyteorder("<")).tobytes())

    @property
    def element_count(self) -> int:
        count = 1
        for dim in self.shape:
            count *= dim
        return count

    def to_list(self) -> list:
        """The elements as a flat list (bytes objects for BYTES, floats for FP16/BF16)."""
        if self.datatype == DataType.BYTES:
            return _bytes_elements(self.data, self.element_count)
        if self.datatype == DataType.BF16:
            raw = bytes(self.data)
            return [struct.unpack("<f", b"\0\0" + raw[i:i + 2])[0] for i in range(0, len(raw), 2)]
        return list(struct.unpack("<%d%s" % (self.element_count, _STRUCT_CODE[self.datatype]), self.data))

    def to_numpy(self):
        """A numpy array viewing the bytes in place (BYTES: an object array of bytes; BF16: float32)."""
        import numpy
        if self.datatype == DataType.BYTES:
            return numpy.array(self.to_list(), dtype=object).reshape(self.shape)
        if self.datatype == DataType.BF16:
            return numpy.array(self.to_list(), dtype=numpy.float32).reshape(self.shape)
        return numpy.frombuffer(self.data, dtype=_DATATYPE_TO_NUMPY[self.datatype]).reshape(self.shape)


_STRUCT_CODE = {
    DataType.BOOL: "?", DataType.UINT8: "B", DataType.UINT16: "H", DataType.UINT32: "I",
    DataType.UINT64: "Q", DataType.INT8: "b", DataType.INT16: "h", DataType.INT32: "i",
    DataType.INT64: "q", DataType.FP16: "e", DataType.FP32: "f", DataType.FP64: "d",
}
_DATATYPE_TO_NUMPY = {
    DataType.BOOL: "?", DataType.UINT8: "u1", DataType.UINT16: "<u2", DataType.UINT32: "<u4",
    DataType.UINT64: "<u8", DataType.INT8: "i1", DataType.INT16: "<i2", DataType.INT32: "<i4",
    DataType.INT64: "<i8", DataType.FP16: "<f2", DataType.FP32: "<f4", DataType.FP64: "<f8",
}
_NUMPY_TO_DATATYPE = {
    "b1": DataType.BOOL, "u1": DataType.UINT8, "u2": DataType.UINT16, "u4": DataType.UINT32,
    "u8": DataType.UINT64, "i1": DataType.INT8, "i2": DataType.INT16, "i4": DataType.INT32,
    "i8": DataType.INT64, "f2": DataType.FP16, "f4": DataType.FP32, "f8": DataType.FP64,
}


def _bytes_elements(data, count: int) -> List[bytes]:
    elements, offset = [], 0
    for _ in range(count):
        if offset + 4 > len(data):
            raise _invalid("A BYTES tensor element runs past the tensor's data.")
        (length,) = struct.unpack_from("<I", data, offset)
        offset += 4
        if offset + length > len(data):
            raise _invalid("A BYTES tensor element runs past the tensor's data.")
        elements.append(bytes(data[offset:offset + length]))
        offset += length
    if offset != len(data):
        raise _invalid("A BYTES tensor's data is longer than its elements.")
    return elements


def _encode_tensor(out: bytearray, tensor: Tensor) -> None:
    datatype = DataType(tensor.datatype)
    name = tensor.name.encode("utf-8")
    if not 0 < len(name) <= MAX_NAME_LENGTH:
        raise ValueError("a tensor name is 1 to 255 UTF-8 bytes")
    if len(tensor.shape) > MAX_RANK:
        raise ValueError("a tensor's rank is at most 16")
    if any(dim < 0 for dim in tensor.shape):
        raise ValueError("a tensor's dimensions are >= 0")
    if datatype != DataType.BYTES and tensor.element_count * datatype.element_size != len(tensor.data):
        raise ValueError("%s: %d bytes do not match shape %s of %s"
                         % (tensor.name, len(tensor.data), tensor.shape, datatype.name))
    out += bytes((len(name),)) + name + bytes((datatype, len(tensor.shape)))
    out += struct.pack("<%dq" % len(tensor.shape), *tensor.shape)
    out += struct.pack("<I", len(tensor.data))
    out += bytes(_padding(len(out)))
    out += tensor.data


def _decode_tensor(reader: _Reader) -> Tensor:
    name = reader.name()
    if not name:
        raise _invalid("A tensor name is empty.")
    datatype = reader.u8()
    if not DataType.BOOL <= datatype <= DataType.BYTES:
        raise _invalid("A tensor has an unknown datatype.")
    datatype = DataType(datatype)
    rank = reader.u8()
    if rank > MAX_RANK:
        raise _invalid("A tensor has a rank above 16.")
    shape = []
    for _ in range(rank):
        shape.append(reader.i64())
        if shape[-1] < 0:
            raise _invalid("A tensor has a negative dimension.")
    shape = tuple(shape)
    byte_length = reader.u32()
    reader.take(_padding(reader.offset))
    data = reader.take(byte_length)
    tensor = Tensor(name, datatype, shape, data)
    if datatype == DataType.BYTES:
        if tensor.element_count > byte_length // 4:
            raise _invalid("A BYTES tensor has more elements than its data can hold.")
        _bytes_elements(data, tensor.element_count)
    elif tensor.element_count * datatype.element_size != byte_length:
        raise _invalid("A tensor's byte length does not match its shape and datatype.")
    return tensor


# ----------------------------------------------------------------------------------------------
# Messages

@dataclass
class Hello:
    min_version: int = VERSION_MIN
    max_version: int = VERSION_MAX
    client_name: str = "hpi-python"
    api_key: str = ""


@dataclass
class HelloAck:
    version: int
    max_payload_length: int
    max_in_flight: int
    idle_timeout_ms: int
    server_name: str
    server_version: str


@dataclass
class ErrorMessage:
    code: int
    message: str


@dataclass
class GoAway:
    last_accepted_request_id: int
    reason: int
    message: str


@dataclass
class InferRequest:
    model_name: str
    inputs: List[Tensor]
    model_version: str = ""
    timeout_us: int = 0
    priority: int = 0
    routing_key: str = ""
    requested_outputs: List[str] = field(default_factory=list)


@dataclass
class InferResponse:
    model_name: str
    model_version: str
    queue_us: int
    compute_us: int
    outputs: List[Tensor]


@dataclass
class TensorMetadata:
    name: str
    datatype: DataType
    shape: Tuple[int, ...]


@dataclass
class ModelMetadata:
    name: str
    versions: List[str]
    platform: str
    inputs: List[TensorMetadata]
    outputs: List[TensorMetadata]


def encode_hello(hello: Hello) -> bytes:
    payload = bytes((hello.min_version, hello.max_version)) + _name(hello.client_name) + _text(hello.api_key)
    return frame(MessageType.HELLO, 0, payload, HANDSHAKE_VERSION)


def encode_hello_ack(ack: HelloAck) -> bytes:
    payload = struct.pack("<BIII", ack.version, ack.max_payload_length, ack.max_in_flight, ack.idle_timeout_ms)
    payload += _name(ack.server_name) + _name(ack.server_version)
    return frame(MessageType.HELLO_ACK, 0, payload, ack.version)


def encode_error(request_id: int, code: int, message: str) -> bytes:
    return frame(MessageType.ERROR, request_id, struct.pack("<H", code) + _text(message))


def encode_go_away(go_away: GoAway) -> bytes:
    return frame(MessageType.GO_AWAY, 0,
                 struct.pack("<QH", go_away.last_accepted_request_id, go_away.reason) + _text(go_away.message))


def encode_ping(request_id: int, opaque: int, pong: bool = False) -> bytes:
    return frame(MessageType.PONG if pong else MessageType.PING, request_id, struct.pack("<Q", opaque))


def encode_empty(type_: int, request_id: int) -> bytes:
    """Cancel and ServerReadyRequest."""
    return frame(type_, request_id)


def encode_ready(type_: int, request_id: int, ready: bool) -> bytes:
    return frame(type_, request_id, b"\x01" if ready else b"\x00")


def encode_model_request(type_: int, request_id: int, model_name: str, model_version: str = "") -> bytes:
    """ModelMetadataRequest and ModelReadyRequest."""
    if not model_name:
        raise ValueError("the model name is empty")
    return frame(type_, request_id, _name(model_name) + _name(model_version))


def encode_infer_request(request_id: int, request: InferRequest) -> bytes:
    if not request.model_name:
        raise ValueError("the model name is empty")
    out = bytearray()
    out += _name(request.model_name) + _name(request.model_version)
    out += struct.pack("<IB", request.timeout_us, request.priority) + _name(request.routing_key)
    out += struct.pack("<HH", len(request.requested_outputs), len(request.inputs))
    for output in request.requested_outputs:
        if not output:
            raise ValueError("a requested output name is empty")
        out += _name(output)
    for tensor in request.inputs:
        _encode_tensor(out, tensor)
    return frame(MessageType.INFER_REQUEST, request_id, bytes(out))


def encode_infer_response(request_id: int, response: InferResponse) -> bytes:
    out = bytearray()
    out += _name(response.model_name) + _name(response.model_version)
    out += struct.pack("<IIH", response.queue_us, response.compute_us, len(response.outputs))
    for tensor in response.outputs:
        _encode_tensor(out, tensor)
    return frame(MessageType.INFER_RESPONSE, request_id, bytes(out))


def encode_model_metadata(request_id: int, metadata: ModelMetadata) -> bytes:
    out = bytearray(_name(metadata.name))
    out += struct.pack("<H", len(metadata.versions))
    for version in metadata.versions:
        out += _name(version)
    out += _name(metadata.platform)
    for tensors in (metadata.inputs, metadata.outputs):
        out += struct.pack("<H", len(tensors))
        for tensor in tensors:
            out += _name(tensor.name) + bytes((tensor.datatype, len(tensor.shape)))
            out += struct.pack("<%dq" % len(tensor.shape), *tensor.shape)
    return frame(MessageType.MODEL_METADATA_RESPONSE, request_id, bytes(out))


def decode_hello(payload) -> Hello:
    reader = _Reader(payload)
    low, high = reader.u8(), reader.u8()
    if low == 0 or low > high:
        raise _invalid("Hello offers an empty version range.")
    hello = Hello(low, high, reader.name(), reader.text())
    reader.end()
    return hello


def decode_hello_ack(payload) -> HelloAck:
    reader = _Reader(payload)
    version, max_payload, max_in_flight, idle = reader.u8(), reader.u32(), reader.u32(), reader.u32()
    if max_in_flight == 0:
        raise _invalid("HelloAck allows no request in flight.")
    ack = HelloAck(version, max_payload, max_in_flight, idle, reader.name(), reader.name())
    reader.end()
    return ack


def decode_error(payload) -> ErrorMessage:
    reader = _Reader(payload)
    error = ErrorMessage(reader.u16(), reader.text())
    reader.end()
    return error


def decode_go_away(payload) -> GoAway:
    reader = _Reader(payload)
    go_away = GoAway(reader.u64(), reader.u16(), reader.text())
    reader.end()
    return go_away


def decode_ping(payload) -> int:
    reader = _Reader(payload)
    opaque = reader.u64()
    reader.end()
    return opaque


def decode_empty(payload) -> None:
    if len(payload) != 0:
        raise _invalid("This message has no payload.")


def decode_ready(payload) -> bool:
    reader = _Reader(payload)
    ready = reader.u8()
    reader.end()
    if ready > 1:
        raise _invalid("A readiness flag is neither 0 nor 1.")
    return ready == 1


def decode_model_request(payload) -> Tuple[str, str]:
    reader = _Reader(payload)
    name, version = reader.name(), reader.name()
    reader.end()
    if not name:
        raise _invalid("The model name is empty.")
    return name, version


def decode_infer_request(payload) -> InferRequest:
    reader = _Reader(payload)
    model = reader.name()
    if not model:
        raise _invalid("The model name is empty.")
    version, timeout_us, priority, routing_key = reader.name(), reader.u32(), reader.u8(), reader.name()
    output_count, input_count = reader.u16(), reader.u16()
    outputs = []
    for _ in range(output_count):
        output = reader.name()
        if not output:
            raise _invalid("A requested output name is empty.")
        outputs.append(output)
    inputs = [_decode_tensor(reader) for _ in range(input_count)]
    reader.end()
    return InferRequest(model, inputs, version, timeout_us, priority, routing_key, outputs)


def decode_infer_response(payload) -> InferResponse:
    reader = _Reader(payload)
    model, version = reader.name(), reader.name()
    queue_us, compute_us, count = reader.u32(), reader.u32(), reader.u16()
    outputs = [_decode_tensor(reader) for _ in range(count)]
    reader.end()
    return InferResponse(model, version, queue_us, compute_us, outputs)


def decode_model_metadata(payload) -> ModelMetadata:
    reader = _Reader(payload)
    name = reader.name()
    versions = [reader.name() for _ in range(reader.u16())]
    platform = reader.name()
    lists = []
    for _ in range(2):
        tensors = []
        count = reader.u16()
        # Each entry takes at least 3 bytes: refuse a count the payload cannot hold.
        if count * 3 > len(reader.data) - reader.offset:
            raise _invalid("Payload ends in the middle of a field.")
        for _ in range(count):
            tensor_name = reader.name()
            datatype = reader.u8()
            if not DataType.BOOL <= datatype <= DataType.BYTES:
                raise _invalid("A tensor has an unknown datatype.")
            rank = reader.u8()
            if rank > MAX_RANK:
                raise _invalid("A tensor has a rank above 16.")
            shape = []
            for _ in range(rank):
                shape.append(reader.i64())
                if shape[-1] < -1:
                    raise _invalid("A metadata dimension is below -1.")
            tensors.append(TensorMetadata(tensor_name, DataType(datatype), tuple(shape)))
        lists.append(tensors)
    reader.end()
    return ModelMetadata(name, versions, platform, lists[0], lists[1])
