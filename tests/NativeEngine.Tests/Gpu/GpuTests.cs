using System.Globalization;
using System.Runtime.InteropServices;
using HighPerfInference.NativeEngine.Gpu;
using HighPerfInference.NativeEngine.Tests.Models;
using Xunit.Abstractions;

namespace HighPerfInference.NativeEngine.Tests.Gpu;

/// <summary>
/// The GPU path on a real device; every test skips itself without one (see docs/gpu.md for how to run them).
/// Tests assert results, never speed: the timings they take with CUDA events go to the test output, which
/// is where docs/gpu.md's figures come from (<c>--logger "console;verbosity=detailed"</c>).
/// </summary>
[Trait("Category", "Gpu")]
public sealed class GpuTests(ITestOutputHelper output)
{
    private const int Device = 0;

    [GpuFact]
    public void The_device_and_the_runtime_describe_themselves()
    {
        DeviceInfo device = CudaRuntime.GetDevice(Device);

        Assert.NotEmpty(device.Name);
        Assert.True(device.TotalMemoryBytes > 0);
        Assert.InRange(device.FreeMemoryBytes, 1ul, device.TotalMemoryBytes);
        Assert.True(device.ComputeCapability >= new Version(7, 5));
        Assert.True(device.MultiprocessorCount > 0);
        Assert.True(CudaRuntime.DriverVersion >= CudaRuntime.RuntimeVersion);
        output.WriteLine($"{device.Name}: compute {device.ComputeCapability}, {device.MultiprocessorCount} SMs, {device.TotalMemoryBytes >> 20} MiB; CUDA runtime {CudaRuntime.RuntimeVersion}, driver {CudaRuntime.DriverVersion}");
    }

    [GpuFact]
    public void The_pool_pins_its_blocks_and_reuses_them()
    {
        using var pool = PinnedMemoryPool.Create(Device);
        var first = pool.Rent(1 << 20);
        nint address = first.Pointer;
        first.Dispose();
        using var second = pool.Rent(1 << 20);

        Assert.True(pool.IsPinned);
        Assert.Equal(address, second.Pointer);
        Assert.Equal(1ul, pool.Statistics.Allocations);
        Assert.Equal(1ul, pool.Statistics.CacheHits);
    }

    [GpuFact]
    public void Bytes_make_the_round_trip_through_the_device_on_a_stream()
    {
        const int size = 8 << 20;
        using var pool = PinnedMemoryPool.Create(Device);
        using var source = pool.Rent(size);
        using var result = pool.Rent(size);
        using var device = DeviceBuffer.Allocate(size, Device);
        using var stream = CudaStream.Create(Device);
        new Random(1).NextBytes(source.AsSpan<byte>());
        result.AsSpan<byte>().Clear();

        stream.CopyHostToDeviceAsync(device.Pointer, source.Pointer, size);
        stream.CopyDeviceToHostAsync(result.Pointer, device.Pointer, size);
        stream.Synchronize();

        Assert.True(source.AsSpan<byte>().SequenceEqual(result.AsSpan<byte>()));
    }

    [GpuFact]
    public void The_preprocessing_kernel_matches_the_cpu_reference_bit_for_bit()
    {
        using var stream = CudaStream.Create(Device);
        foreach (int channels in (int[])[1, 3, 4])
        {
            // Odd sizes, so no thread block lines up with an image or a row.
            using var job = new PreprocessJob(channels, batch: 4, height: 37, width: 53, seed: channels);
            job.Enqueue(stream);
            stream.Synchronize();
            job.AssertMatchesCpu();
        }
    }

    [GpuFact]
    public void Two_streams_work_side_by_side_and_both_results_are_right()
    {
        const int batch = 32, height = 224, width = 224;
        using var first = CudaStream.Create(Device);
        using var second = CudaStream.Create(Device);
        using var start = CudaEvent.Create(Device);
        using var end = CudaEvent.Create(Device);
        using var startSecond = CudaEvent.Create(Device);
        using var endSecond = CudaEvent.Create(Device);
        using var oneStream = new PreprocessJob(3, batch, height, width, seed: 1);
        using var twoStreams = new PreprocessJob(3, batch, height, width, seed: 2);

        // Warm up, so the timings leave out module loading.
        oneStream.Enqueue(first);
        first.Synchronize();

        start.Record(first);
        oneStream.Enqueue(first);
        twoStreams.Enqueue(first);
        end.Record(first);
        end.Synchronize();
        float serial = CudaEvent.ElapsedMilliseconds(start, end);

        start.Record(first);
        startSecond.Record(second);
        oneStream.Enqueue(first);
        twoStreams.Enqueue(second);
        end.Record(first);
        endSecond.Record(second);
        end.Synchronize();
        endSecond.Synchronize();
        float overlapped = Math.Max(CudaEvent.ElapsedMilliseconds(start, end), CudaEvent.ElapsedMilliseconds(startSecond, endSecond));

        oneStream.AssertMatchesCpu();
        twoStreams.AssertMatchesCpu();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"two {batch}x{height}x{width}x3 preprocess jobs (copy in, kernel, copy out): one stream {serial:F3} ms, two streams {overlapped:F3} ms"));
    }

    [GpuFact]
    public unsafe void Copies_from_pinned_and_pageable_memory_both_arrive()
    {
        const int size = 64 << 20;
        using var pool = PinnedMemoryPool.Create(Device);
        using var pinned = pool.Rent(size);
        void* pageable = NativeMemory.AlignedAlloc(size, 4096);
        try
        {
            using var device = DeviceBuffer.Allocate(size, Device);
            using var stream = CudaStream.Create(Device);
            using var start = CudaEvent.Create(Device);
            using var end = CudaEvent.Create(Device);
            var bytes = new Span<byte>(pageable, size);
            new Random(3).NextBytes(bytes);
            bytes.CopyTo(pinned.AsSpan<byte>());

            float pinnedMs = TimedCopy(pinned.Pointer);
            float pageableMs = TimedCopy((nint)pageable);

            pinned.AsSpan<byte>().Clear();
            stream.CopyDeviceToHostAsync(pinned.Pointer, device.Pointer, size);
            stream.Synchronize();
            Assert.True(bytes.SequenceEqual(pinned.AsSpan<byte>()));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"64 MiB host to device: pinned {pinnedMs:F3} ms ({size / pinnedMs / 1e6:F1} GB/s), pageable {pageableMs:F3} ms ({size / pageableMs / 1e6:F1} GB/s), {pageableMs / pinnedMs:F1}x"));

            float TimedCopy(nint source)
            {
                stream.CopyHostToDeviceAsync(device.Pointer, source, size); // warm-up
                start.Record(stream);
                stream.CopyHostToDeviceAsync(device.Pointer, source, size);
                end.Record(stream);
                end.Synchronize();
                return CudaEvent.ElapsedMilliseconds(start, end);
            }
        }
        finally
        {
            NativeMemory.AlignedFree(pageable);
        }
    }

    [GpuFact(RequiresCudaProvider = true)]
    public void Ort_runs_on_the_cuda_provider_with_pinned_inputs_and_device_outputs_copied_back()
    {
        const int width = 16;
        using var stream = CudaStream.Create(Device);
        using var options = new SessionOptions();
        Assert.True(options.AppendExecutionProvider(new ExecutionProviderOptions
        {
            Kind = ExecutionProviderKind.Cuda,
            DeviceId = Device,
            UserComputeStream = stream.NativeHandle,
        }));
        using var session = ModelSession.FromBytes(TestModels.AddSub(), options);
        using var pool = PinnedMemoryPool.Create(Device);
        using var a = pool.Rent(width * sizeof(float));
        using var b = pool.Rent(width * sizeof(float));
        using var sum = pool.Rent(width * sizeof(float));
        using var difference = pool.Rent(width * sizeof(float));
        for (int i = 0; i < width; i++)
        {
            a.AsSpan<float>()[i] = i;
            b.AsSpan<float>()[i] = 10 * i;
        }

        // As the server runs a batch: pinned host buffers bound once, ORT copies to and from the device on the instance's stream.
        using var runner = new BatchRunner(session);
        for (int run = 0; run < 3; run++)
        {
            runner.SetInput(0, TensorElementType.Float, [1, width], a.Pointer, (long)a.ByteLength);
            runner.SetInput(1, TensorElementType.Float, [1, width], b.Pointer, (long)b.ByteLength);
            runner.SetOutput(0, TensorElementType.Float, [1, width], sum.Pointer, (long)sum.ByteLength);
            runner.SetOutput(1, TensorElementType.Float, [1, width], difference.Pointer, (long)difference.ByteLength);
            runner.Run();
        }

        Assert.Equal(1, runner.BindingCount);
        for (int i = 0; i < width; i++)
        {
            Assert.Equal(11f * i, sum.AsSpan<float>()[i]);
            Assert.Equal(-9f * i, difference.AsSpan<float>()[i]);
        }
    }

    /// <summary>A batch of random images in pinned memory, its device buffers and pinned result: copy in, kernel, copy out.</summary>
    private sealed class PreprocessJob : IDisposable
    {
        private static readonly float[] s_mean = [123.675f, 116.28f, 103.53f, 127.5f];
        private static readonly float[] s_scale = [1 / 58.395f, 1 / 57.12f, 1 / 57.375f, 1 / 127.5f];

        private readonly ImagePreprocessor _preprocessor;
        private readonly PinnedMemoryPool _pool = PinnedMemoryPool.Create(Device);
        private readonly int _batch, _height, _width;
        private readonly PinnedBuffer _image;
        private readonly PinnedBuffer _result;
        private readonly DeviceBuffer _deviceImage;
        private readonly DeviceBuffer _deviceResult;

        public PreprocessJob(int channels, int batch, int height, int width, int seed)
        {
            _preprocessor = new ImagePreprocessor(s_mean.AsSpan(0, channels), s_scale.AsSpan(0, channels));
            (_batch, _height, _width) = (batch, height, width);
            _image = _pool.Rent((nuint)_preprocessor.InputBytes(batch, height, width));
            _result = _pool.Rent((nuint)(_preprocessor.OutputElements(batch, height, width) * sizeof(float)));
            _deviceImage = DeviceBuffer.Allocate(_image.ByteLength, Device);
            _deviceResult = DeviceBuffer.Allocate(_result.ByteLength, Device);
            new Random(seed).NextBytes(_image.AsSpan<byte>());
        }

        public void Enqueue(CudaStream stream)
        {
            stream.CopyHostToDeviceAsync(_deviceImage.Pointer, _image.Pointer, _image.ByteLength);
            _preprocessor.Launch(_deviceImage, _deviceResult, _batch, _height, _width, stream);
            stream.CopyDeviceToHostAsync(_result.Pointer, _deviceResult.Pointer, _result.ByteLength);
        }

        public void AssertMatchesCpu()
        {
            var expected = new float[_result.ByteLength / sizeof(float)];
            _preprocessor.RunOnCpu(_image.AsSpan<byte>(), expected, _batch, _height, _width);
            Assert.True(expected.AsSpan().SequenceEqual(_result.AsSpan<float>()), $"The kernel's {_preprocessor.Channels}-channel output differs from the CPU reference.");
        }

        public void Dispose()
        {
            _deviceResult.Dispose();
            _deviceImage.Dispose();
            _result.Dispose();
            _image.Dispose();
            _pool.Dispose();
        }
    }
}
