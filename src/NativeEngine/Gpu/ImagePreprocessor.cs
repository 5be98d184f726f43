using HighPerfInference.NativeEngine.Interop;

namespace HighPerfInference.NativeEngine.Gpu;

/// <summary>
/// The image input transform a model config can name: a batch of uint8 HWC images (height, width, channels
/// interleaved, as decoders produce them) becomes the normalized fp32 NCHW tensor vision models take,
/// <c>out[n, c, y, x] = (in[n, y, x, c] - mean[c]) * scale[c]</c>. For ImageNet-style normalisation pass
/// mean = 255 * m and scale = 1 / (255 * s). <see cref="RunOnCpu"/> is the reference; <see cref="Launch"/> runs
/// the same arithmetic as a CUDA kernel, with bit-identical results.
/// </summary>
public sealed unsafe class ImagePreprocessor
{
    /// <summary>The most channels the transform takes (RGBA).</summary>
    public const int MaxChannels = CudaNative.MaxChannels;

    private readonly float[] _mean;
    private readonly float[] _scale;

    public ImagePreprocessor(ReadOnlySpan<float> mean, ReadOnlySpan<float> scale)
    {
        if (mean.Length is < 1 or > MaxChannels)
            throw new ArgumentException($"One mean per channel, 1 to {MaxChannels} channels.", nameof(mean));
        if (scale.Length != mean.Length)
            throw new ArgumentException("One scale per channel: as many as means.", nameof(scale));
        _mean = mean.ToArray();
        _scale = scale.ToArray();
    }

    public int Channels => _mean.Length;

    /// <summary>The input size of a batch: batch * height * width * channels bytes.</summary>
    public long InputBytes(int batch, int height, int width) => (long)batch * height * width * Channels;

    /// <summary>The output size of a batch: batch * channels * height * width floats.</summary>
    public long OutputElements(int batch, int height, int width) => (long)batch * height * width * Channels;

    /// <summary>Runs the transform on the calling thread.</summary>
    public void RunOnCpu(ReadOnlySpan<byte> images, Span<float> output, int batch, int height, int width)
    {
        CudaNative.PreprocessParams parameters = Parameters(batch, height, width);
        CheckLength(images.Length, InputBytes(batch, height, width), nameof(images));
        CheckLength(output.Length, OutputElements(batch, height, width), nameof(output));
        fixed (byte* source = images)
        fixed (float* destination = output)
        {
            HpiStatus status = CudaNative.PreprocessHwcToNchwCpu(source, destination, &parameters);
            if (status != HpiStatus.Ok)
                throw new ArgumentException($"HpiNative_PreprocessHwcToNchwCpu rejected a {batch}x{height}x{width}x{Channels} batch: {status}.");
        }
    }

    /// <summary>
    /// Queues the transform on <paramref name="stream"/>: <paramref name="images"/> and <paramref name="output"/>
    /// are device memory on the stream's device. Synchronize the stream (or an event recorded after it) before
    /// reading the output.
    /// </summary>
    public void Launch(DeviceBuffer images, DeviceBuffer output, int batch, int height, int width, CudaStream stream)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(stream);
        CudaNative.PreprocessParams parameters = Parameters(batch, height, width);
        CheckLength((long)images.ByteLength, InputBytes(batch, height, width), nameof(images));
        CheckLength((long)output.ByteLength / sizeof(float), OutputElements(batch, height, width), nameof(output));
        CudaRuntime.Check(CudaNative.PreprocessHwcToNchw(images, output, &parameters, stream.DeviceId, stream), "hwc_to_nchw kernel launch", stream.DeviceId);
    }

    private CudaNative.PreprocessParams Parameters(int batch, int height, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        var parameters = new CudaNative.PreprocessParams { Batch = batch, Height = height, Width = width, Channels = Channels };
        for (int c = 0; c < Channels; c++)
        {
            parameters.Mean[c] = _mean[c];
            parameters.Scale[c] = _scale[c];
        }
        return parameters;
    }

    private static void CheckLength(long actual, long required, string name)
    {
        if (actual < required)
            throw new ArgumentException($"{name} holds {actual} elements; the batch needs {required}.", name);
    }
}
