using HighPerfInference.NativeEngine.Gpu;

namespace HighPerfInference.NativeEngine.Tests.Gpu;

/// <summary>
/// The pool's bookkeeping, on plain host memory (device -1) so it runs everywhere; the pinned variant is the
/// same code with cudaHostAlloc underneath (<see cref="GpuTests"/>).
/// </summary>
public sealed class PinnedMemoryPoolTests
{
    private const ulong Unbounded = ulong.MaxValue;

    [Theory]
    [InlineData(1, 4096)]
    [InlineData(4096, 4096)]
    [InlineData(4097, 5120)]
    [InlineData(8192, 8192)]
    [InlineData(8193, 10240)]
    [InlineData(3_000_000, 3_145_728)]
    [InlineData(64 << 20, 64 << 20)]
    [InlineData((64 << 20) + 1, 80 << 20)]
    public void Blocks_come_in_size_classes_that_waste_at_most_a_quarter(int size, int expectedCapacity)
    {
        using var pool = PinnedMemoryPool.Create(deviceId: -1, Unbounded);
        using var buffer = pool.Rent((nuint)size);

        Assert.Equal((nuint)size, buffer.ByteLength);
        Assert.Equal((nuint)expectedCapacity, buffer.Capacity);
        Assert.Equal(0, buffer.Pointer % 4096);
        buffer.AsSpan<byte>().Fill(0xAB); // every requested byte is writable
        Assert.Equal(0xAB, buffer.AsSpan<byte>()[size - 1]);
    }

    [Fact]
    public void A_returned_block_is_reused_and_counted_as_a_cache_hit()
    {
        using var pool = PinnedMemoryPool.Create(deviceId: -1, Unbounded);
        var first = pool.Rent(100_000);
        nint address = first.Pointer;
        nuint capacity = first.Capacity;
        first.Dispose();

        using var second = pool.Rent(110_000); // the same size class: 7 x 16 KiB
        Assert.Equal(address, second.Pointer);

        PinnedPoolStatistics stats = pool.Statistics;
        Assert.Equal(1ul, stats.Allocations);
        Assert.Equal(2ul, stats.Rents);
        Assert.Equal(1ul, stats.CacheHits);
        Assert.Equal((ulong)capacity, stats.UsedBytes);
        Assert.Equal((ulong)capacity, stats.TotalBytes);
        Assert.Equal(0ul, stats.CachedBytes);
        Assert.False(stats.IsPinned);
    }

    [Fact]
    public void Statistics_follow_rents_returns_and_trim()
    {
        using var pool = PinnedMemoryPool.Create(deviceId: -1, Unbounded);
        var small = pool.Rent(4096);
        var large = pool.Rent(1 << 20);
        Assert.Equal(4096ul + (1 << 20), pool.Statistics.UsedBytes);

        large.Dispose();
        PinnedPoolStatistics afterReturn = pool.Statistics;
        Assert.Equal(4096ul, afterReturn.UsedBytes);
        Assert.Equal(1ul << 20, afterReturn.CachedBytes);

        pool.Trim();
        PinnedPoolStatistics afterTrim = pool.Statistics;
        Assert.Equal(4096ul, afterTrim.TotalBytes);
        Assert.Equal(0ul, afterTrim.CachedBytes);

        small.Dispose();
        Assert.Equal(0ul, pool.Statistics.UsedBytes);
        Assert.Equal(2ul, pool.Statistics.Allocations);
    }

    [Fact]
    public void Returned_blocks_beyond_the_cache_bound_go_back_to_the_system()
    {
        using var pool = PinnedMemoryPool.Create(deviceId: -1, maxCachedBytes: 8192);
        var a = pool.Rent(8192);
        var b = pool.Rent(8192);

        a.Dispose(); // cached: 8 KiB fits the bound
        b.Dispose(); // over the bound: freed
        PinnedPoolStatistics stats = pool.Statistics;
        Assert.Equal(8192ul, stats.TotalBytes);
        Assert.Equal(8192ul, stats.CachedBytes);
    }

    [Fact]
    public void A_block_returned_after_the_pool_is_disposed_is_freed_safely()
    {
        var pool = PinnedMemoryPool.Create(deviceId: -1, Unbounded);
        var cached = pool.Rent(4096);
        var outstanding = pool.Rent(1 << 16);
        cached.Dispose();

        pool.Dispose();
        outstanding.AsSpan<byte>().Fill(1); // still valid: the native pool lives until its last block is back
        outstanding.Dispose();

        Assert.Throws<ObjectDisposedException>(() => pool.Rent(4096));
    }

    [Fact]
    public void Invalid_sizes_are_rejected()
    {
        using var pool = PinnedMemoryPool.Create(deviceId: -1);
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(0));
        ulong tooLarge = PinnedMemoryPool.MaxBlockBytes + 1;
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent((nuint)tooLarge));
        Assert.Throws<ArgumentOutOfRangeException>(() => PinnedMemoryPool.Create(deviceId: -2));
    }

    [Fact]
    public void Concurrent_renters_never_share_a_block_and_the_books_balance()
    {
        using var pool = PinnedMemoryPool.Create(deviceId: -1, Unbounded);
        const int threads = 4;
        const int rounds = 500;
        var failures = 0;

        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, worker =>
        {
            for (int round = 0; round < rounds; round++)
            {
                using PinnedBuffer buffer = pool.Rent((nuint)(4096 + 1024 * (round % 8)));
                Span<int> words = buffer.AsSpan<int>();
                words.Fill(worker);
                Thread.Yield();
                if (words.IndexOfAnyExcept(worker) >= 0)
                    Interlocked.Increment(ref failures);
            }
        });

        Assert.Equal(0, failures);
        PinnedPoolStatistics stats = pool.Statistics;
        Assert.Equal(0ul, stats.UsedBytes);
        Assert.Equal((ulong)(threads * rounds), stats.Rents);
        Assert.Equal(stats.Rents, stats.Allocations + stats.CacheHits);
        Assert.True(stats.Allocations <= threads * 8); // at most one block per thread per size class
    }
}
