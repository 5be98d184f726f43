using HighPerfInference.NativeEngine.Tests.Models;

namespace HighPerfInference.NativeEngine.Tests;

/// <summary>
/// This machine has no GPU provider libraries beside libonnxruntime.so.1, so CUDA and TensorRT must fail
/// with an error naming the missing file, or fall back to CPU with a logged warning.
/// </summary>
[Collection(LoggingCollection.Name)]
public sealed class ExecutionProviderTests
{
    public static TheoryData<ExecutionProviderKind> GpuProviders() => [ExecutionProviderKind.Cuda, ExecutionProviderKind.TensorRT];

    [Theory]
    [MemberData(nameof(GpuProviders))]
    public void A_missing_provider_library_is_named_in_the_error(ExecutionProviderKind kind)
    {
        Assert.NotNull(ExecutionProviders.FindMissingLibrary(kind, AppContext.BaseDirectory)); // the premise of this test
        using var options = new SessionOptions();

        var error = Assert.Throws<ExecutionProviderUnavailableException>(() =>
            options.AppendExecutionProvider(new ExecutionProviderOptions { Kind = kind, DeviceId = 0, Fp16 = true, EngineCachePath = "/tmp/engines" }));

        Assert.Equal(kind, error.Provider);
        Assert.Equal("libonnxruntime_providers_shared.so", error.MissingFile);
        Assert.Equal(OrtErrorCode.NoSuchFile, error.Code);
        Assert.Contains(kind.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains("libonnxruntime_providers_shared.so", error.Message, StringComparison.Ordinal);
        Assert.Contains(AppContext.BaseDirectory, error.Message, StringComparison.Ordinal);
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
        Assert.Contains("libonnxruntime_providers_shared.so", warning.Message, StringComparison.Ordinal);
        Assert.Contains("CPU", warning.Message, StringComparison.Ordinal);

        // The session still loads and runs, on the CPU.
        using var session = InferenceSession.FromBytes(TestModels.Identity(TensorElementType.Float), options);
        using var input = OrtValue.CreateTensor(TensorElementType.Float, [1, 1]);
        input.GetTensorData<float>()[0] = 7f;
        var outputs = new OrtValue?[1];
        session.Run([input], outputs);
        using var output = outputs[0]!;
        Assert.Equal(7f, output.GetTensorData<float>()[0]);
    }

    [Fact]
    public void Cpu_is_always_available()
    {
        using var options = new SessionOptions();
        Assert.True(options.AppendExecutionProvider(new ExecutionProviderOptions { Kind = ExecutionProviderKind.Cpu }));
    }

    [Fact]
    public void Each_gpu_provider_needs_the_shared_bridge_and_its_own_library()
    {
        string directory = Directory.CreateTempSubdirectory("hpi-providers-").FullName;
        try
        {
            Assert.Equal("libonnxruntime_providers_shared.so", ExecutionProviders.FindMissingLibrary(ExecutionProviderKind.Cuda, directory));

            File.WriteAllBytes(Path.Combine(directory, "libonnxruntime_providers_shared.so"), []);
            Assert.Equal("libonnxruntime_providers_cuda.so", ExecutionProviders.FindMissingLibrary(ExecutionProviderKind.Cuda, directory));
            Assert.Equal("libonnxruntime_providers_tensorrt.so", ExecutionProviders.FindMissingLibrary(ExecutionProviderKind.TensorRT, directory));

            File.WriteAllBytes(Path.Combine(directory, "libonnxruntime_providers_cuda.so"), []);
            Assert.Null(ExecutionProviders.FindMissingLibrary(ExecutionProviderKind.Cuda, directory));
            Assert.Null(ExecutionProviders.FindMissingLibrary(ExecutionProviderKind.Cpu, directory));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void When_the_files_are_present_but_ORT_cannot_load_them_its_error_is_wrapped()
    {
        // The check passes on a directory with the files, but ORT loads from its own directory, where they
        // are absent: ORT's failure comes back as ExecutionProviderUnavailableException with ORT's code.
        string directory = Directory.CreateTempSubdirectory("hpi-providers-").FullName;
        try
        {
            foreach (string library in ExecutionProviders.RequiredLibraries(ExecutionProviderKind.Cuda))
                File.WriteAllBytes(Path.Combine(directory, library), []);
            using var options = new SessionOptions();

            var error = Assert.Throws<ExecutionProviderUnavailableException>(() =>
                ExecutionProviders.Append(options.Pointer, new ExecutionProviderOptions { Kind = ExecutionProviderKind.Cuda }, directory));

            Assert.Equal(ExecutionProviderKind.Cuda, error.Provider);
            Assert.Null(error.MissingFile);
            Assert.Equal(OrtErrorCode.Fail, error.Code);
            Assert.IsType<OrtException>(error.InnerException);
            Assert.Contains("Cuda", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
