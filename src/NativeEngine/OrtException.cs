namespace HighPerfInference.NativeEngine;

/// <summary>ONNX Runtime's error codes (<c>OrtErrorCode</c>), with the same values.</summary>
public enum OrtErrorCode
{
    Ok = 0,
    Fail = 1,
    InvalidArgument = 2,
    NoSuchFile = 3,
    NoModel = 4,
    EngineError = 5,
    RuntimeException = 6,
    InvalidProtobuf = 7,
    ModelLoaded = 8,
    NotImplemented = 9,
    InvalidGraph = 10,
    EpFail = 11,
    ModelLoadCanceled = 12,
    ModelRequiresCompilation = 13,
    NotFound = 14,
    DeviceReset = 15,
}

/// <summary>An error ONNX Runtime returned: its code and its message, unchanged.</summary>
public class OrtException : Exception
{
    public OrtException(OrtErrorCode code, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
    }

    public OrtErrorCode Code { get; }
}
