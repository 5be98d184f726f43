using System.Globalization;
using HighPerfInference.NativeEngine.Tests.Models;

namespace HighPerfInference.NativeEngine.Tests;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LeakCollection
{
    public const string Name = "Native memory";
}

/// <summary>
/// Creates and releases thousands of sessions and tensors and checks that the process's anonymous resident
/// memory (RssAnon in /proc/self/status: the native heap plus the GC heap, not mapped files) stays flat.
/// Each cycle touches about 0.9 MB of native memory, so a leak of any of it shows up as hundreds of MB;
/// the bound is far above allocator and GC noise. Runs alone, so other tests' memory does not count.
/// </summary>
[Collection(LeakCollection.Name)]
public sealed class LeakTests
{
    private const int Rows = 1024;
    private const int Width = 16;
    private const long AllowedGrowthBytes = 48L * 1024 * 1024;

    private static readonly byte[] s_model = TestModels.AddSub();

    [Fact]
    public void Thousands_of_sessions_and_tensors_leave_native_memory_flat()
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var memory = HostBuffer.Allocate(Rows * Width * sizeof(float));

        // Warm-up: ORT's arenas and caches, glibc's heap and the GC reach their steady size.
        RunCycles(200, options, memory);
        long before = RssAnonBytes();
        RunCycles(2000, options, memory);
        long growth = RssAnonBytes() - before;

        Assert.True(growth < AllowedGrowthBytes, $"RssAnon grew by {growth / 1024} KiB over 2000 cycles (bound {AllowedGrowthBytes / 1024} KiB).");
    }

    private static void RunCycles(int cycles, SessionOptions options, HostBuffer memory)
    {
        for (int cycle = 0; cycle < cycles; cycle++)
        {
            using (var session = InferenceSession.FromBytes(s_model, options))
            using (var input = OrtValue.CreateTensor(TensorElementType.Float, [Rows, Width], memory.Pointer, memory.ByteLength))
            {
                // ORT-allocated outputs: 2 x 64 KiB.
                var outputs = new OrtValue?[2];
                session.Run([input, input], outputs);
                outputs[0]!.Dispose();
                outputs[1]!.Dispose();

                using var binding = session.CreateIoBinding();
                binding.BindInput(0, input);
                binding.BindInput(1, input);
                binding.BindOutput(0, OrtMemoryInfo.Cpu);
                binding.BindOutput(1, OrtMemoryInfo.Cpu);
                binding.Run();
                foreach (var bound in binding.GetOutputValues())
                    bound.Dispose();
            }

            using (var strings = OrtValue.CreateStringTensor([4], ["a", "bb", "a string long enough to leave the small-string buffer", ""]))
                Assert.Equal(4, strings.GetStrings().Length);

            using (var memoryInfo = OrtMemoryInfo.Create("Cpu", OrtAllocatorType.Device, 0, OrtMemType.Default))
            using (var runOptions = new RunOptions { Tag = "leak" })
            {
            }

            // 256 KiB that ORT allocates; every other one is left to the finalizer instead of Dispose.
            var large = OrtValue.CreateTensor(TensorElementType.Float, [64 * 1024]);
            if (cycle % 2 == 0)
                large.Dispose();
            if (cycle % 100 == 99)
                CollectGarbage();
        }
        CollectGarbage();
    }

    private static void CollectGarbage()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private static long RssAnonBytes()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("RssAnon:", StringComparison.Ordinal))
                return long.Parse(line["RssAnon:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        throw new InvalidOperationException("/proc/self/status has no RssAnon line.");
    }
}
