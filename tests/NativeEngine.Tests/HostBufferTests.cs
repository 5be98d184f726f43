using System.Globalization;

namespace HighPerfInference.NativeEngine.Tests;

public sealed class HostBufferTests
{
    [Theory]
    [InlineData(64)]
    [InlineData(4096)]
    [InlineData(1 << 21)]
    public void Buffers_are_aligned_zeroed_and_writable(int alignment)
    {
        using var buffer = HostBuffer.Allocate(10_000, (nuint)alignment);

        Assert.Equal(0, buffer.Pointer % alignment);
        Assert.Equal(10_000u, buffer.ByteLength);
        Assert.False(buffer.IsLocked);
        Assert.True(buffer.AsSpan().IndexOfAnyExcept((byte)0) < 0);

        buffer.AsSpan<int>(4, 3).Fill(-1);
        Assert.Equal(-1, buffer.AsSpan<int>(8, 1)[0]);
        Assert.Equal(0, buffer.AsSpan<int>(0, 1)[0]);
    }

    [Fact]
    public void Locking_succeeds_within_the_memlock_limit_and_fails_clearly_beyond_it()
    {
        const int size = 4096;
        if (MemlockLimitBytes() >= 2 * size)
        {
            using var locked = HostBuffer.Allocate(size, 4096, locked: true);
            Assert.True(locked.IsLocked);
            locked.AsSpan()[size - 1] = 1;
        }
        else
        {
            var error = Assert.Throws<InvalidOperationException>(() => HostBuffer.Allocate(size, 4096, locked: true));
            Assert.Contains("RLIMIT_MEMLOCK", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Invalid_requests_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => HostBuffer.Allocate(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => HostBuffer.Allocate(64, alignment: 48));
        Assert.Throws<ArgumentOutOfRangeException>(() => HostBuffer.Allocate(64, alignment: 4));

        using var buffer = HostBuffer.Allocate(64);
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.AsSpan<long>(0, 9));
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.AsSpan<byte>(65, 0));
    }

    [Fact]
    public void A_disposed_buffer_refuses_its_pointer()
    {
        var buffer = HostBuffer.Allocate(64);
        buffer.Dispose();
        Assert.True(buffer.IsClosed);
        Assert.Throws<ObjectDisposedException>(() => buffer.Pointer);
    }

    /// <summary>"Max locked memory" soft limit from /proc/self/limits; long.MaxValue when unlimited.</summary>
    private static long MemlockLimitBytes()
    {
        string line = File.ReadLines("/proc/self/limits").First(l => l.StartsWith("Max locked memory", StringComparison.Ordinal));
        string soft = line["Max locked memory".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
        return soft == "unlimited" ? long.MaxValue : long.Parse(soft, CultureInfo.InvariantCulture);
    }
}
