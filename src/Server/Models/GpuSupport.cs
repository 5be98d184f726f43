using System.Globalization;
using System.Text;
using HighPerfInference.NativeEngine;
using HighPerfInference.NativeEngine.Gpu;
using HighPerfInference.Server.Scheduling;

namespace HighPerfInference.Server.Models;

/// <summary>TensorRT's optimization profile for a model's inputs, in ORT's <c>trt_profile_*_shapes</c> format.</summary>
public sealed record TensorRTProfile(string MinShapes, string OptShapes, string MaxShapes);

/// <summary>What a model placed on a GPU needs from this process, checked at load, and how TensorRT sees its batch dimension.</summary>
internal static class GpuSupport
{
    /// <summary>
    /// Why <paramref name="provider"/> cannot run on GPU <paramref name="deviceId"/>, or null when it can as far as
    /// can be told before a session opens: the CUDA runtime and the device, then ONNX Runtime's provider, tried by
    /// appending it (the CPU package has none; the GPU package's libraries need CUDA 13, and TensorRT 10 for
    /// TensorRT). cuDNN is loaded only when the session opens, which then fails with ORT's message naming the file.
    /// </summary>
    public static string? UnavailableReason(ExecutionProviderKind provider, int deviceId)
    {
        if (CudaRuntime.UnavailableReason is { } reason)
            return reason;
        var count = CudaRuntime.DeviceCount;
        if (deviceId >= count)
            return $"GPU {deviceId} does not exist (this machine has {count}).";
        return ExecutionProviders.UnavailableReason(provider) is { } missing
            ? $"{missing} (scripts/setup-gpu builds the server with the GPU package and says what it needs)."
            : null;
    }

    /// <summary>
    /// The profile that covers the batch dimension: batch 1 at least, the largest preferred batch size (or
    /// <paramref name="maxBatchSize"/>) as the size TensorRT tunes for, <paramref name="maxBatchSize"/> at most;
    /// the other dimensions as the model fixes them. Null when the model does not batch or an input has another
    /// variable dimension (no range is known for it; TensorRT then profiles the shapes it meets).
    /// </summary>
    public static TensorRTProfile? TensorRTProfile(IReadOnlyList<TensorSpec> inputs, int maxBatchSize, IReadOnlyList<int> preferredBatchSizes)
    {
        if (maxBatchSize <= 0 || inputs.Count == 0)
            return null;
        var opt = maxBatchSize;
        if (preferredBatchSizes.Count > 0)
        {
            opt = 0;
            foreach (var size in preferredBatchSizes)
            {
                if (size <= maxBatchSize)
                    opt = Math.Max(opt, size);
            }
            opt = opt == 0 ? maxBatchSize : opt;
        }
        foreach (var input in inputs)
        {
            for (var d = 1; d < input.Shape.Length; d++)
            {
                if (input.Shape[d] < 0)
                    return null;
            }
        }
        return new TensorRTProfile(Shapes(inputs, 1), Shapes(inputs, opt), Shapes(inputs, maxBatchSize));
    }

    /// <summary><c>name:BxD1xD2,other:BxD1</c> with batch dimension <paramref name="batch"/>.</summary>
    private static string Shapes(IReadOnlyList<TensorSpec> inputs, int batch)
    {
        var text = new StringBuilder();
        foreach (var input in inputs)
        {
            if (text.Length > 0)
                text.Append(',');
            text.Append(input.Name).Append(':').Append(batch.ToString(CultureInfo.InvariantCulture));
            for (var d = 1; d < input.Shape.Length; d++)
                text.Append('x').Append(input.Shape[d].ToString(CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }
}
