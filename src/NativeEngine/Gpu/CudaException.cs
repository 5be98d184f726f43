namespace HighPerfInference.NativeEngine.Gpu;

/// <summary>A CUDA runtime call failed, or the device it named does not exist.</summary>
public sealed class CudaException : Exception
{
    public CudaException(string message, int cudaError)
        : base(message)
    {
        CudaError = cudaError;
    }

    /// <summary>The <c>cudaError_t</c> value (0 when the failure was not a CUDA error, for example a missing device id).</summary>
    public int CudaError { get; }
}
