using HighPerfInference.NativeEngine.Tests.Models;

namespace HighPerfInference.NativeEngine.Tests;

/// <summary>
/// On this machine no GPU provider can run: the default build carries ONNX Runtime's CPU package, which has
/// none ("not enabled in this build"), and the GPU package's providers cannot load without CUDA 13 (ORT names
/// the missing library). Appending one fails with ORT's own words, or falls back to the CPU with a warning.
/// </summary>
[Collection(LoggingCollection.Name)]
public sealed class ExecutionProviderTests
{
    public static TheoryData<ExecutionProviderKind> GpuProviders() => [ExecutionProviderKind.Cuda, ExecutionProviderKind.TensorRT];

    /// <summary>What ORT says of a provider it cannot use: the CPU package lacks it, the GPU package lacks its libraries.</summary>
    private static string ExpectedReason(ExecutionProviderKind kind) =>
        OrtEnvironment.Shared.GetAvailableProviders().Contains(kind == ExecutionProviderKind.Cuda ? "CUDAExecutionProvider" : "TensorrtExecutionProvider")
            ? "cannot open shared object file"
            : "not enabled in this build";

    [Theory]
    [MemberData(nameof(GpuProviders))]
    public void A_provider_the_package_lacks_fails_with_ORT_reason(ExecutionProviderKind kind)
    {
        using var options = new SessionOptions();

        var error = Assert.Throws<ExecutionProviderUnavailableException>(() =>
            options.AppendExecutionProvider(new ExecutionProviderOptions { Kind = kind, DeviceId = 0, Fp16 = true, EngineCachePath = "/tmp/engines", MemoryLimit = 1 << 30 }));

        Assert.Equal(kind, error.Provider);
        Assert.Contains(kind.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains(ExpectedReason(kind), error.Message, StringComparison.Ordinal);
        Assert.IsType<OnnxRuntimeException>(error.InnerException);
    }

    [Theory]
    [MemberData(nameof(GpuProviders))]
    public void The_unavailable_reason_is_found_by_appending(ExecutionProviderKind kind)
    {
        var reason = ExecutionProviders.UnavailableReason(kind);
        Assert.NotNull(reason);
        Assert.Contains(ExpectedReason(kind), reason, StringComparison.Ordinal);
        Assert.Same(reason, ExecutionProviders.UnavailableReason(kind)); // found once, then remembered
    }

    [Theory]
    [MemberData(nameof(GpuProviders))]
    public void Fallback_to_cpu_skips_the_provider_and_logs_a_warning(ExecutionProviderKind kind)
    {
        using var log = new CapturedLog();
        using var options = new SessionOptions();

        bool appended = options.AppendExecutionProvider(new ExecutionProviderOptions { Kind = kind, FallbackToCpu = true, UserComputeStream = 0x1234 });

        Assert.False(appended);
        var warning = Assert.Single(log.Messages, m => m.Level == OrtLogLevel.Warning && m.Source == OrtEnvironment.LogSource);
        Assert.Contains(kind.ToString(), warning.Message, StringComparison.Ordinal);
        Assert.Contains("CPU", warning.Message, StringComparison.Ordinal);

        // The session still loads and runs, on the CPU.
        using var session = ModelSession.FromBytes(TestModels.Identity(TensorElementType.Float), options);
        using var runner = new BatchRunner(session);
        float[] input = [7f];
        float[] output = [0f];
        using var inputBuffer = new PinnedArray<float>(input);
        using var outputBuffer = new PinnedArray<float>(output);
        runner.SetInput(0, TensorElementType.Float, [1, 1], inputBuffer.Pointer, sizeof(float));
        runner.SetOutput(0, TensorElementType.Float, [1, 1], outputBuffer.Pointer, sizeof(float));
        runner.Run();
        Assert.Equal(7f, output[0]);
    }

    [Fact]
    public void Cpu_is_always_available()
    {
        using var options = new SessionOptions();
        Assert.True(options.AppendExecutionProvider(new ExecutionProviderOptions { Kind = ExecutionProviderKind.Cpu }));
        Assert.Null(ExecutionProviders.UnavailableReason(ExecutionProviderKind.Cpu));
    }
}
