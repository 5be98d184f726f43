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
            using (var session = ModelSession.FromBytes(s_model, options))
            using (var runner = new BatchRunner(session))
            {
                // Bound over the caller's memory, ORT-allocated outputs: 2 x 64 KiB, twice.
                for (int run = 0; run < 2; run++)
                {
                    runner.SetInput(0, TensorElementType.Float, [Rows, Width], memory.Pointer, (long)memory.ByteLength);
                    runner.SetInput(1, TensorElementType.Float, [Rows, Width], memory.Pointer, (long)memory.ByteLength);
                    runner.SetOutputAllocated(0);
                    runner.SetOutputAllocated(1);
                    runner.Run();
                }
            }

            using (var strings = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, [4]))
            {
                strings.StringTensorSetElementAt("a string long enough to leave the small-string buffer"u8, 2);
                Assert.Equal(53, strings.GetStringElementAsSpan(2).Length);
            }

            using (var runOptions = new RunOptions { LogId = "leak" })
            {
            }

            // 256 KiB that ORT allocates; every other one is left to the finalizer instead of Dispose.
            var large = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, [64 * 1024]);
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
