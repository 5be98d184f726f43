"""A scripted in-process server speaking the binary protocol, to test the client's pipelining,
error handling and limits without the real server."""

import socket
import struct
import threading

from hpi_client import protocol as p

MAX_IN_FLIGHT = 4


class FakeServer:
    """Serves one connection at a time on 127.0.0.1. Models:

    - ``add_sub``: INPUT0 + INPUT1 and INPUT0 - INPUT1 (FP32), answered at once;
    - ``echo``: returns INPUT0 as OUTPUT0, answered in reverse order whenever MAX_IN_FLIGHT are waiting;
    - ``missing``: Error NOT_FOUND for that request; ``fatal``: Error with request id 0, then close;
    - ``drain``: GoAway, then the normal answer.
    """

    def __init__(self, api_key=""):
        self.api_key = api_key
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.max_outstanding = 0
        self.pongs = []
        self.cancelled = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self):
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() below on Linux
        except OSError:
            pass
        self._listener.close()
        self._thread.join(timeout=5)

    def _serve(self):
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with conn:
                try:
                    self._connection(conn)
                except (OSError, p.ProtocolError):
                    pass

    def _connection(self, conn):
        frames = p.FrameBuffer(128 * 1024)
        header, payload = self._next(conn, frames)
        hello = p.decode_hello(payload)
        if header.type != p.MessageType.HELLO or hello.api_key != self.api_key:
            conn.sendall(p.encode_error(0, p.ErrorCode.UNAUTHENTICATED, "wrong API key"))
            return
        conn.sendall(p.encode_hello_ack(p.HelloAck(1, 1 << 20, MAX_IN_FLIGHT, 0, "fake", "0.1")))
        conn.sendall(p.encode_ping(0, 77))
        frames.max_payload_length = 1 << 20
        waiting = []
        while True:
            got = self._next(conn, frames)
            if got is None:
                return
            header, payload = got
            if header.type == p.MessageType.PONG:
                self.pongs.append(p.decode_ping(payload))
            elif header.type == p.MessageType.PING:
                conn.sendall(p.encode_ping(header.request_id, p.decode_ping(payload), pong=True))
            elif header.type == p.MessageType.SERVER_READY_REQUEST:
                conn.sendall(p.encode_ready(p.MessageType.SERVER_READY_RESPONSE, header.request_id, True))
            elif header.type == p.MessageType.MODEL_READY_REQUEST:
                name, _ = p.decode_model_request(payload)
                conn.sendall(p.encode_ready(p.MessageType.MODEL_READY_RESPONSE, header.request_id, name == "add_sub"))
            elif header.type == p.MessageType.MODEL_METADATA_REQUEST:
                name, _ = p.decode_model_request(payload)
                tensors = [p.TensorMetadata("INPUT0", p.DataType.FP32, (-1, 16))]
                conn.sendall(p.encode_model_metadata(header.request_id, p.ModelMetadata(name, ["1"], "onnx", tensors, tensors)))
            elif header.type == p.MessageType.CANCEL:
                self.cancelled.append(header.request_id)
            elif header.type == p.MessageType.INFER_REQUEST:
                if not self._infer(conn, header.request_id, p.decode_infer_request(payload), waiting):
                    return
            else:
                conn.sendall(p.encode_error(header.request_id, p.ErrorCode.UNSUPPORTED, "unexpected message"))

    def _infer(self, conn, request_id, request, waiting):
        model = request.model_name
        if model == "fatal":
            conn.sendall(p.encode_error(0, p.ErrorCode.PROTOCOL_ERROR, "scripted fatal error"))
            return False
        if model == "missing":
            conn.sendall(p.encode_error(request_id, p.ErrorCode.NOT_FOUND, "model 'missing' is not found"))
        elif model == "echo":
            waiting.append((request_id, request))
            self.max_outstanding = max(self.max_outstanding, len(waiting))
            if len(waiting) == MAX_IN_FLIGHT:
                for held_id, held in reversed(waiting):
                    tensor = held.inputs[0]
                    output = p.Tensor("OUTPUT0", tensor.datatype, tensor.shape, bytes(tensor.data))
                    conn.sendall(p.encode_infer_response(held_id, p.InferResponse("echo", "1", 0, 0, [output])))
                waiting.clear()
        else:
            if model == "drain":
                conn.sendall(p.encode_go_away(p.GoAway(request_id, p.ErrorCode.SHUTTING_DOWN, "draining")))
            a = struct.unpack("<16f", request.inputs[0].data)
            b = struct.unpack("<16f", request.inputs[1].data)
            outputs = [p.Tensor.from_values("OUTPUT0", "FP32", (1, 16), [x + y for x, y in zip(a, b)]),
                       p.Tensor.from_values("OUTPUT1", "FP32", (1, 16), [x - y for x, y in zip(a, b)])]
            conn.sendall(p.encode_infer_response(request_id, p.InferResponse(model, "1", 3, 4, outputs)))
        return True

    @staticmethod
    def _next(conn, frames):
        while True:
            got = frames.next_frame()
            if got is not None:
                return got
            data = conn.recv(65536)
            if not data:
                return None
            frames.feed(data)
