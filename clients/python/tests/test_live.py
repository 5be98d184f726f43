"""Against a running server: set HPI_TEST_BINARY_ADDR=host:port (the server's binary port, with the
repository's models loaded). Skipped otherwise."""

import os
import socket
import unittest

from hpi_client import Client, ServerError, Tensor
from hpi_client import protocol as p

ADDRESS = os.environ.get("HPI_TEST_BINARY_ADDR", "")
API_KEY = os.environ.get("HPI_TEST_API_KEY", "")


def address():
    host, _, port = ADDRESS.rpartition(":")
    return host or "127.0.0.1", int(port)


def add_sub_inputs(offset):
    return [Tensor.from_values("INPUT0", "FP32", (1, 16), [i + offset for i in range(16)]),
            Tensor.from_values("INPUT1", "FP32", (1, 16), [1.0] * 16)]


@unittest.skipUnless(ADDRESS, "no live server: set HPI_TEST_BINARY_ADDR=host:port to run these")
class LiveServerTests(unittest.TestCase):
    def setUp(self):
        host, port = address()
        self.client = Client(host, port, api_key=API_KEY)
        self.addCleanup(self.client.close)

    def test_server_and_model_are_ready(self):
        self.assertTrue(self.client.server_ready(timeout=10))
        self.assertTrue(self.client.model_ready("add_sub", timeout=10))

    def test_add_sub_metadata(self):
        metadata = self.client.model_metadata("add_sub", timeout=10)
        self.assertEqual(["INPUT0", "INPUT1"], sorted(t.name for t in metadata.inputs))
        self.assertEqual(p.DataType.FP32, metadata.inputs[0].datatype)

    def test_pipelined_add_sub(self):
        futures = [self.client.infer_async("add_sub", add_sub_inputs(n)) for n in range(64)]
        for n, future in enumerate(futures):
            result = future.result(30)
            self.assertEqual([i + n + 1.0 for i in range(16)], result.output("OUTPUT0").to_list())
            self.assertEqual([i + n - 1.0 for i in range(16)], result.output("OUTPUT1").to_list())

    def test_unknown_model_is_not_found(self):
        with self.assertRaises(ServerError) as caught:
            self.client.infer("no_such_model", add_sub_inputs(0), timeout=10)
        self.assertEqual(p.ErrorCode.NOT_FOUND, caught.exception.code)

    def test_malformed_request_gets_its_error_and_the_connection_stays(self):
        host, port = address()
        with socket.create_connection((host, port), timeout=10) as sock:
            frames = p.FrameBuffer()
            sock.sendall(p.encode_hello(p.Hello(client_name="hpi-live-test", api_key=API_KEY)))
            header, _ = self._next(sock, frames)
            self.assertEqual(p.MessageType.HELLO_ACK, header.type)
            good = p.encode_infer_request(2, p.InferRequest("add_sub", add_sub_inputs(0)))
            bad = bytearray(good)
            bad[8] = 1  # request id 1
            datatype_at = p.HEADER_SIZE + 19 + 1 + len("INPUT0")
            bad[datatype_at] = 99  # no such datatype
            sock.sendall(bytes(bad) + good)
            answers = {}
            while len(answers) < 2:
                header, payload = self._next(sock, frames)
                answers[header.request_id] = (header.type, payload)
            self.assertEqual(p.MessageType.ERROR, answers[1][0])
            self.assertEqual(p.ErrorCode.INVALID_ARGUMENT, p.decode_error(answers[1][1]).code)
            self.assertEqual(p.MessageType.INFER_RESPONSE, answers[2][0])

    def test_bad_magic_is_fatal(self):
        host, port = address()
        with socket.create_connection((host, port), timeout=10) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + bytes(24))
            frames = p.FrameBuffer()
            header, payload = self._next(sock, frames)
            self.assertEqual((p.MessageType.ERROR, 0), (header.type, header.request_id))
            self.assertEqual(p.ErrorCode.PROTOCOL_ERROR, p.decode_error(payload).code)
            self.assertEqual(b"", sock.recv(1))

    @staticmethod
    def _next(sock, frames):
        while True:
            got = frames.next_frame()
            if got is not None:
                return got
            data = sock.recv(65536)
            if not data:
                raise ConnectionError("the server closed the connection")
            frames.feed(data)


if __name__ == "__main__":
    unittest.main()
