import time
import unittest

from hpi_client import Client, ConnectionLost, ServerError, Tensor
from hpi_client import protocol as p

from .fake_server import MAX_IN_FLIGHT, FakeServer


def add_sub_inputs(offset=0.0):
    return [Tensor.from_values("INPUT0", "FP32", (1, 16), [i + offset for i in range(16)]),
            Tensor.from_values("INPUT1", "FP32", (1, 16), [1.0] * 16)]


class ClientTests(unittest.TestCase):
    """The client against a scripted server: pipelining, matching by id, errors, limits."""

    def setUp(self):
        self.server = FakeServer(api_key="key")
        self.addCleanup(self.server.close)

    def connect(self):
        client = Client("127.0.0.1", self.server.port, api_key="key")
        self.addCleanup(client.close)
        return client

    def test_handshake_reports_the_server_limits(self):
        client = self.connect()
        self.assertEqual((1, MAX_IN_FLIGHT, "fake"), (client.server.version, client.server.max_in_flight,
                                                       client.server.server_name))

    def test_wrong_api_key_fails_the_handshake(self):
        with self.assertRaises(ServerError) as caught:
            Client("127.0.0.1", self.server.port, api_key="nope")
        self.assertEqual(p.ErrorCode.UNAUTHENTICATED, caught.exception.code)
        self.assertFalse(caught.exception.retryable)

    def test_infer_add_sub(self):
        result = self.connect().infer("add_sub", add_sub_inputs(), timeout=10)
        self.assertEqual(("add_sub", "1", 3, 4), (result.model_name, result.model_version, result.queue_us,
                                                  result.compute_us))
        self.assertEqual([i + 1.0 for i in range(16)], result.output("OUTPUT0").to_list())
        self.assertEqual([i - 1.0 for i in range(16)], result.output("OUTPUT1").to_list())

    def test_pipelined_answers_in_any_order_reach_their_own_request(self):
        client = self.connect()
        futures = [client.infer_async("echo", [Tensor.from_values("INPUT0", "INT32", (1, 2), [i, -i])])
                   for i in range(5 * MAX_IN_FLIGHT)]
        for i, future in enumerate(futures):
            self.assertEqual([i, -i], future.result(10).output("OUTPUT0").to_list())
        self.assertEqual(MAX_IN_FLIGHT, self.server.max_outstanding)

    def test_request_error_fails_only_that_request(self):
        client = self.connect()
        failing = client.infer_async("missing", add_sub_inputs())
        working = client.infer_async("add_sub", add_sub_inputs())
        with self.assertRaises(ServerError) as caught:
            failing.result(10)
        self.assertEqual((p.ErrorCode.NOT_FOUND, failing.request_id), (caught.exception.code, caught.exception.request_id))
        self.assertEqual(2.0, working.result(10).output("OUTPUT0").to_list()[1])
        self.assertTrue(client.server_ready(timeout=10))

    def test_fatal_error_fails_everything_in_flight_and_closes(self):
        client = self.connect()
        held = client.infer_async("echo", add_sub_inputs()[:1])
        with self.assertRaises(ServerError) as caught:
            client.infer("fatal", add_sub_inputs(), timeout=10)
        self.assertEqual(p.ErrorCode.PROTOCOL_ERROR, caught.exception.code)
        with self.assertRaises(ServerError):
            held.result(10)
        with self.assertRaises(ConnectionLost):
            client.infer("add_sub", add_sub_inputs(), timeout=10)

    def test_go_away_answers_accepted_requests_and_refuses_new_ones(self):
        client = self.connect()
        result = client.infer("drain", add_sub_inputs(), timeout=10)
        self.assertEqual("drain", result.model_name)
        with self.assertRaises(ServerError) as caught:
            client.infer("add_sub", add_sub_inputs(), timeout=10)
        self.assertEqual(p.ErrorCode.SHUTTING_DOWN, caught.exception.code)
        self.assertTrue(caught.exception.retryable)

    def test_metadata_readiness_ping_and_cancel(self):
        client = self.connect()
        metadata = client.model_metadata("add_sub", timeout=10)
        self.assertEqual(("add_sub", ["1"], "INPUT0"), (metadata.name, metadata.versions, metadata.inputs[0].name))
        self.assertTrue(client.model_ready("add_sub", timeout=10))
        self.assertFalse(client.model_ready("other", timeout=10))
        self.assertGreater(client.ping(timeout=10), 0)
        held = client.infer_async("echo", add_sub_inputs()[:1])
        client.cancel(held)
        client.ping(timeout=10)
        self.assertIn(held.request_id, self.server.cancelled)

    def test_client_answers_the_server_ping(self):
        client = self.connect()
        client.ping(timeout=10)
        deadline = time.monotonic() + 10
        while not self.server.pongs and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual([77], self.server.pongs)

    def test_request_over_the_payload_limit_is_refused_locally(self):
        client = self.connect()
        big = Tensor("INPUT0", p.DataType.UINT8, (2 << 20,), bytes(2 << 20))
        with self.assertRaises(ValueError):
            client.infer_async("echo", [big])
        self.assertTrue(client.server_ready(timeout=10))

    def test_cli_infer(self):
        import contextlib
        import io

        from hpi_client.__main__ import main
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(["--port", str(self.server.port), "--api-key", "key", "infer", "add_sub",
                         "--input", "INPUT0:FP32:1x16=2", "--input", "INPUT1:FP32:1x16=0.5", "--count", "3"])
        self.assertEqual(0, code)
        self.assertEqual(3, out.getvalue().count("OUTPUT0 FP32 [1, 16] [2.5,"))


if __name__ == "__main__":
    unittest.main()
