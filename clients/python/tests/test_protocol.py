import os
import struct
import unittest

from hpi_client import protocol as p

from .samples import CORPUS, GOLDEN, SAMPLES, add_sub_request, decode, read_hex, run_stream


def tensors_equal(test, expected, actual):
    test.assertEqual([t.name for t in expected], [t.name for t in actual])
    for want, got in zip(expected, actual):
        test.assertEqual((want.datatype, tuple(want.shape), bytes(want.data)),
                         (got.datatype, tuple(got.shape), bytes(got.data)))


class GoldenFrameTests(unittest.TestCase):
    """The golden files the C# writer produced: the Python encoder must match them byte for byte."""

    def test_every_golden_file_has_a_python_sample(self):
        names = sorted(f[:-4] for f in os.listdir(GOLDEN) if f.endswith(".hex"))
        self.assertEqual(sorted(SAMPLES), names)

    def test_encoder_matches_golden_bytes(self):
        for name, (encoded, _, _, _) in SAMPLES.items():
            with self.subTest(name):
                _, golden = read_hex(os.path.join(GOLDEN, name + ".hex"))
                self.assertEqual(golden.hex(), encoded.hex())

    def test_decoder_reads_golden_frames(self):
        for name, (_, request_id, type_, expected) in SAMPLES.items():
            with self.subTest(name):
                _, golden = read_hex(os.path.join(GOLDEN, name + ".hex"))
                frames = p.FrameBuffer()
                frames.feed(golden)
                header, payload = frames.next_frame()
                self.assertEqual((type_, request_id), (header.type, header.request_id))
                self.assertEqual(0, len(frames))
                value = decode(header, payload)
                if isinstance(expected, (p.InferRequest, p.InferResponse)):
                    tensors = "inputs" if isinstance(expected, p.InferRequest) else "outputs"
                    tensors_equal(self, getattr(expected, tensors), getattr(value, tensors))
                    self.assertEqual(expected.model_name, value.model_name)
                elif expected is not None:
                    self.assertEqual(expected, value)

    def test_options_request_decodes_every_field(self):
        _, golden = read_hex(os.path.join(GOLDEN, "infer_request_options.hex"))
        frames = p.FrameBuffer()
        frames.feed(golden)
        _, payload = frames.next_frame()
        request = p.decode_infer_request(payload)
        self.assertEqual(("identity_all_types", "1", 250000, 2, "user-42", ["OUT_BYTES", "OUT_INT64"]),
                         (request.model_name, request.model_version, request.timeout_us, request.priority,
                          request.routing_key, request.requested_outputs))
        self.assertEqual([b"ab", b"", "h\u00e9llo".encode()], request.inputs[0].to_list())
        self.assertEqual([-1, 1 << 40], request.inputs[1].to_list())
        self.assertEqual([True], request.inputs[2].to_list())
        self.assertEqual((1, 0), request.inputs[3].shape)

    def test_frames_fed_one_byte_at_a_time(self):
        stream = b"".join(encoded for encoded, _, _, _ in SAMPLES.values())
        frames = p.FrameBuffer()
        seen = []
        for i in range(len(stream)):
            frames.feed(stream[i:i + 1])
            got = frames.next_frame()
            if got is not None:
                seen.append((got[0].type, got[0].request_id))
        self.assertEqual([(t, r) for _, r, t, _ in SAMPLES.values()], seen)


class CorpusTests(unittest.TestCase):
    """The C# fuzzer's regression corpus: the Python decoder must tell the same story, message for message."""

    def test_corpus_outcomes_match_the_csharp_reader(self):
        files = sorted(f for f in os.listdir(CORPUS) if f.endswith(".hex"))
        self.assertTrue(files)
        for name in files:
            with self.subTest(name):
                comments, data = read_hex(os.path.join(CORPUS, name))
                self.assertEqual(comments, run_stream(data))


class ErrorDecodingTests(unittest.TestCase):
    def test_error_frame_decodes_code_message_and_retryability(self):
        frames = p.FrameBuffer()
        frames.feed(p.encode_error(42, p.ErrorCode.OVERLOADED, "too many requests in flight"))
        header, payload = frames.next_frame()
        error = p.decode_error(payload)
        self.assertEqual((p.MessageType.ERROR, 42), (header.type, header.request_id))
        self.assertEqual(p.ErrorCode.OVERLOADED, error.code)
        self.assertIn(error.code, p.RETRYABLE)
        self.assertNotIn(p.ErrorCode.INVALID_ARGUMENT, p.RETRYABLE)

    def test_unknown_error_code_keeps_its_number(self):
        error = p.decode_error(struct.pack("<HH", 999, 2) + b"hi")
        self.assertEqual((999, "hi"), (error.code, error.message))
        self.assertEqual("UNKNOWN(999)", p.error_name(999))

    def test_long_message_is_cut_at_a_character_boundary(self):
        message = "a" * 65534 + "\u00e9\u00e9"
        error = p.decode_error(p.encode_error(1, p.ErrorCode.INTERNAL, message)[p.HEADER_SIZE:])
        self.assertEqual("a" * 65534, error.message)

    def test_invalid_headers_are_fatal(self):
        good = p.encode_ping(1, 0)
        cases = {
            "bad magic": b"HPI1" + good[4:],
            "version 2": good[:4] + b"\x02" + good[5:],
            "reserved not zero": good[:20] + b"\x01\x00\x00\x00" + good[24:],
            "oversize": p.encode_header(p.FrameHeader(p.MessageType.PING, 1, 1025)),
        }
        for why, data in cases.items():
            with self.subTest(why):
                frames = p.FrameBuffer(max_payload_length=1024)
                frames.feed(data)
                with self.assertRaises(p.ProtocolError) as caught:
                    frames.next_frame()
                self.assertTrue(caught.exception.fatal)

    def test_oversize_length_is_refused_before_the_payload_arrives(self):
        frames = p.FrameBuffer(max_payload_length=1024)
        frames.feed(p.encode_header(p.FrameHeader(p.MessageType.INFER_REQUEST, 1, 1 << 30)))
        with self.assertRaises(p.ProtocolError) as caught:
            frames.next_frame()
        self.assertEqual(p.ErrorCode.PAYLOAD_TOO_LARGE, caught.exception.code)

    def test_malformed_payloads_are_per_request_errors(self):
        head = struct.pack("<B", 1) + b"m" + b"\x00" + struct.pack("<IB", 0, 0) + b"\x00" + struct.pack("<HH", 0, 1)

        def tensor(name, datatype, shape, byte_length, data):
            out = bytearray(head)
            out += bytes((len(name),)) + name + bytes((datatype, len(shape))) + struct.pack("<%dq" % len(shape), *shape)
            out += struct.pack("<I", byte_length)
            out += bytes(-len(out) % 8) + data
            return bytes(out)

        cases = {
            "empty": b"",
            "datatype 15": tensor(b"x", 15, [1], 4, bytes(4)),
            "rank 17": tensor(b"x", 2, [0] * 17, 0, b""),
            "negative dim": tensor(b"x", 2, [-1], 0, b""),
            "length mismatch": tensor(b"x", 12, [2], 7, bytes(7)),
            "trailing bytes": tensor(b"x", 12, [1], 4, bytes(5)),
            "bytes element past the data": tensor(b"s", 14, [1], 8, struct.pack("<I", 5) + bytes(4)),
        }
        for why, payload in cases.items():
            with self.subTest(why):
                with self.assertRaises(p.ProtocolError) as caught:
                    p.decode_infer_request(payload)
                self.assertFalse(caught.exception.fatal)
                self.assertEqual(p.ErrorCode.INVALID_ARGUMENT, caught.exception.code)

    def test_encoder_refuses_bad_tensors(self):
        with self.assertRaises(ValueError):
            p.encode_infer_request(1, p.InferRequest("m", [p.Tensor("x", p.DataType.FP32, (2,), bytes(7))]))
        with self.assertRaises(ValueError):
            p.encode_model_request(p.MessageType.MODEL_READY_REQUEST, 1, "\u00e9" * 128)


class TensorTests(unittest.TestCase):
    def test_values_round_trip_for_every_datatype(self):
        values = {
            "BOOL": [True, False], "UINT8": [0, 255], "UINT16": [0, 65535], "UINT32": [0, 2 ** 32 - 1],
            "UINT64": [0, 2 ** 64 - 1], "INT8": [-128, 127], "INT16": [-1, 2], "INT32": [-1, 2],
            "INT64": [-(2 ** 63), 2 ** 63 - 1], "FP16": [0.5, -2.0], "BF16": [1.0, -0.5],
            "FP32": [0.25, -1.5], "FP64": [1e300, -0.0], "BYTES": [b"x", b""],
        }
        for name, items in values.items():
            with self.subTest(name):
                tensor = p.Tensor.from_values("t", name, (2,), items)
                request = p.InferRequest("m", [tensor])
                decoded = p.decode_infer_request(p.encode_infer_request(1, request)[p.HEADER_SIZE:]).inputs[0]
                self.assertEqual(items, decoded.to_list())

    def test_numpy_views_tensor_bytes_in_place(self):
        try:
            import numpy
        except ImportError:
            self.skipTest("numpy is not installed (it is optional)")
        array = numpy.arange(32, dtype=numpy.float32).reshape(2, 16)
        tensor = p.Tensor.from_numpy("INPUT0", array)
        self.assertEqual((p.DataType.FP32, (2, 16)), (tensor.datatype, tensor.shape))
        request = p.decode_infer_request(
            p.encode_infer_request(1, p.InferRequest("m", [tensor]))[p.HEADER_SIZE:])
        numpy.testing.assert_array_equal(array, request.inputs[0].to_numpy())
        self.assertFalse(request.inputs[0].to_numpy().flags.owndata)

    def test_add_sub_sample_is_what_the_docs_describe(self):
        encoded = p.encode_infer_request(1, add_sub_request())
        self.assertEqual(24 + 208, len(encoded))


if __name__ == "__main__":
    unittest.main()
