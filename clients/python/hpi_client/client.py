"""A pipelined client for the HPIB binary protocol: many requests in flight on one connection,
answers matched by request id, as docs/protocol.md describes. Standard library only."""

import itertools
import socket
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional

from . import protocol as p


class ServerError(Exception):
    """The server answered a request (or the connection) with an error code."""

    def __init__(self, code: int, message: str, request_id: int = 0):
        super().__init__("%s: %s" % (p.error_name(code), message))
        self.code = code
        self.message = message
        self.request_id = request_id

    @property
    def retryable(self) -> bool:
        """True when the same request may succeed if sent again later."""
        return self.code in p.RETRYABLE


class ConnectionLost(ConnectionError):
    """The connection closed before the request was answered."""


@dataclass
class InferResult:
    model_name: str
    model_version: str
    queue_us: int
    compute_us: int
    outputs: Dict[str, p.Tensor]

    def output(self, name: str) -> p.Tensor:
        return self.outputs[name]

    def as_numpy(self, name: str):
        return self.outputs[name].to_numpy()


class Client:
    """One connection to the server's binary port.

    Thread-safe: any number of threads may call it at once. ``infer_async`` returns a
    ``concurrent.futures.Future`` right after sending, so one thread can keep many requests in
    flight; it blocks only while the connection already has the server's ``max in flight``.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 8001, *, api_key: str = "",
                 client_name: str = "hpi-python", connect_timeout: float = 10.0):
        self._sock = socket.create_connection((host, port), timeout=connect_timeout)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._send_lock = threading.Lock()
        self._pending_lock = threading.Lock()
        self._pending: Dict[int, tuple] = {}
        self._ids = itertools.count(1)
        self._closed: Optional[BaseException] = None
        self._go_away: Optional[p.GoAway] = None
        # One buffer for the whole connection: frames that follow the HelloAck may arrive with it.
        self._frames = p.FrameBuffer(max_payload_length=128 * 1024)
        try:
            self.server = self._handshake(p.Hello(client_name=client_name, api_key=api_key))
        except BaseException:
            self._sock.close()
            raise
        self._sock.settimeout(None)
        self._slots = threading.BoundedSemaphore(self.server.max_in_flight)
        self._reader = threading.Thread(target=self._read_loop, name="hpi-client-reader", daemon=True)
        self._reader.start()

    # -- requests --------------------------------------------------------------------------------

    def infer_async(self, model: str, inputs: Iterable[p.Tensor], *, outputs: Iterable[str] = (),
                    version: str = "", timeout_us: int = 0, priority: int = 0,
                    routing_key: str = "") -> Future:
        """Sends an infer request; the future resolves to an InferResult or raises ServerError.
        The future's ``request_id`` attribute names it for ``cancel``."""
        request = p.InferRequest(model, list(inputs), version, timeout_us, priority, routing_key, list(outputs))
        return self._submit(p.MessageType.INFER_RESPONSE, _infer_result,
                            lambda request_id: p.encode_infer_request(request_id, request))

    def infer(self, model: str, inputs: Iterable[p.Tensor], *, timeout: Optional[float] = None,
              **options) -> InferResult:
        """Runs one inference and waits for it (``timeout`` seconds; None waits for ever)."""
        return self.infer_async(model, inputs, **options).result(timeout)

    def cancel(self, future: Future) -> None:
        """Asks the server to drop a queued request; it is then answered CANCELLED."""
        self._send(p.encode_empty(p.MessageType.CANCEL, future.request_id))

    def model_metadata(self, model: str, version: str = "", timeout: Optional[float] = None) -> p.ModelMetadata:
        return self._submit(
            p.MessageType.MODEL_METADATA_RESPONSE, p.decode_model_metadata,
            lambda request_id: p.encode_model_request(p.MessageType.MODEL_METADATA_REQUEST, request_id, model, version),
        ).result(timeout)

    def server_ready(self, timeout: Optional[float] = None) -> bool:
        return self._submit(
            p.MessageType.SERVER_READY_RESPONSE, p.decode_ready,
            lambda request_id: p.encode_empty(p.MessageType.SERVER_READY_REQUEST, request_id),
        ).result(timeout)

    def model_ready(self, model: str, version: str = "", timeout: Optional[float] = None) -> bool:
        return self._submit(
            p.MessageType.MODEL_READY_RESPONSE, p.decode_ready,
            lambda request_id: p.encode_model_request(p.MessageType.MODEL_READY_REQUEST, request_id, model, version),
        ).result(timeout)

    def ping(self, timeout: Optional[float] = None) -> float:
        """The round trip of a Ping, in seconds."""
        started = time.perf_counter_ns()
        echoed = self._submit(p.MessageType.PONG, p.decode_ping,
                              lambda request_id: p.encode_ping(request_id, started),
                              counts_in_flight=False).result(timeout)
        if echoed != started:
            raise p.ProtocolError(p.ErrorCode.PROTOCOL_ERROR, "Pong does not echo the Ping.", fatal=False)
        return (time.perf_counter_ns() - started) / 1e9

    def close(self) -> None:
        self._fail_all(ConnectionLost("the client closed the connection"))
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        if self._reader is not threading.current_thread():
            self._reader.join(timeout=5)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------------

    def _handshake(self, hello: p.Hello) -> p.HelloAck:
        self._sock.sendall(p.encode_hello(hello))
        while True:
            got = self._frames.next_frame()
            if got is not None:
                break
            data = self._sock.recv(65536)
            if not data:
                raise ConnectionLost("the server closed the connection during the handshake")
            self._frames.feed(data)
        header, payload = got
        if header.type == p.MessageType.ERROR:
            error = p.decode_error(payload)
            raise ServerError(error.code, error.message)
        if header.type != p.MessageType.HELLO_ACK:
            raise p.ProtocolError(p.ErrorCode.PROTOCOL_ERROR, "The server did not answer the Hello with a HelloAck.", True)
        ack = p.decode_hello_ack(payload)
        if not hello.min_version <= ack.version <= hello.max_version:
            raise p.ProtocolError(p.ErrorCode.PROTOCOL_ERROR, "The server chose version %d." % ack.version, True)
        self._version = ack.version
        self._frames.max_payload_length = ack.max_payload_length
        return ack

    def _submit(self, response_type: int, decode, encode, counts_in_flight: bool = True) -> Future:
        if self._go_away is not None:
            raise ServerError(p.ErrorCode.SHUTTING_DOWN, "the server is draining: " + self._go_away.message)
        if self._closed is not None:
            raise ConnectionLost(str(self._closed))
        if counts_in_flight:
            self._slots.acquire()
        future: Future = Future()
        request_id = next(self._ids)
        future.request_id = request_id
        registered = False
        try:
            data = encode(request_id)
            if len(data) - p.HEADER_SIZE > self.server.max_payload_length:
                raise ValueError("the request is %d bytes, over the server's limit of %d"
                                 % (len(data) - p.HEADER_SIZE, self.server.max_payload_length))
            with self._pending_lock:
                self._pending[request_id] = (future, response_type, decode, counts_in_flight)
            registered = True
            self._send(data)
        except BaseException:
            # Give the slot back unless the reader already answered (and released) this request.
            with self._pending_lock:
                still_mine = not registered or self._pending.pop(request_id, None) is not None
            if still_mine and counts_in_flight:
                self._slots.release()
            raise
        return future

    def _send(self, data: bytes) -> None:
        with self._send_lock:
            self._sock.sendall(data)

    def _finish(self, request_id: int, result=None, error: Optional[BaseException] = None) -> bool:
        with self._pending_lock:
            entry = self._pending.pop(request_id, None)
        if entry is None:
            return False
        future, _, _, counts_in_flight = entry
        if counts_in_flight:
            self._slots.release()
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
        return True

    def _fail_all(self, error: BaseException) -> None:
        if self._closed is None:
            self._closed = error
        with self._pending_lock:
            ids = list(self._pending)
        for request_id in ids:
            self._finish(request_id, error=error)

    def _read_loop(self) -> None:
        frames = self._frames
        error: BaseException = ConnectionLost("the server closed the connection")
        try:
            while True:
                got = frames.next_frame()
                if got is not None:
                    self._dispatch(*got)
                    continue
                data = self._sock.recv(1 << 16)
                if not data:
                    break
                frames.feed(data)
        except ServerError as fatal:
            error = fatal
        except (OSError, p.ProtocolError) as broken:
            error = ConnectionLost("connection failed: %s" % broken)
        self._fail_all(error)
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _dispatch(self, header: p.FrameHeader, payload: bytes) -> None:
        if header.version != self._version:
            raise p.ProtocolError(p.ErrorCode.PROTOCOL_ERROR, "A frame has version %d." % header.version, True)
        if header.type == p.MessageType.ERROR:
            error = p.decode_error(payload)
            if header.request_id == 0:
                raise ServerError(error.code, error.message)
            self._finish(header.request_id, error=ServerError(error.code, error.message, header.request_id))
        elif header.type == p.MessageType.GO_AWAY:
            self._go_away = p.decode_go_away(payload)
        elif header.type == p.MessageType.PING:
            self._send(p.encode_ping(header.request_id, p.decode_ping(payload), pong=True))
        else:
            with self._pending_lock:
                entry = self._pending.get(header.request_id)
            if entry is None:
                return  # an answer to a request already failed locally (e.g. after cancel)
            _, response_type, decode, _ = entry
            if header.type != response_type:
                self._finish(header.request_id, error=p.ProtocolError(
                    p.ErrorCode.PROTOCOL_ERROR, "Expected message type %d, got %d." % (response_type, header.type), False))
                return
            try:
                result = decode(payload)
            except p.ProtocolError as malformed:
                self._finish(header.request_id, error=malformed)
                return
            self._finish(header.request_id, result=result)


def _infer_result(payload: bytes) -> InferResult:
    response = p.decode_infer_response(payload)
    return InferResult(response.model_name, response.model_version, response.queue_us, response.compute_us,
                       {tensor.name: tensor for tensor in response.outputs})


def infer_many(client: Client, model: str, batches: List[List[p.Tensor]], **options) -> List[InferResult]:
    """Sends every request before waiting for any: the pipelined pattern."""
    futures = [client.infer_async(model, inputs, **options) for inputs in batches]
    return [future.result() for future in futures]
