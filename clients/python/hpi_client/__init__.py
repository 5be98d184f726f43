"""Python client for the HighPerfInference binary protocol (docs/protocol.md). Standard library only;
numpy is used when present for ``Tensor.from_numpy`` / ``to_numpy``."""

from .client import Client, ConnectionLost, InferResult, ServerError, infer_many
from .protocol import DataType, ErrorCode, ModelMetadata, ProtocolError, Tensor

__all__ = [
    "Client", "ConnectionLost", "DataType", "ErrorCode", "InferResult", "ModelMetadata",
    "ProtocolError", "ServerError", "Tensor", "infer_many",
]
