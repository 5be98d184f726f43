using HighPerfInference.Client.Tests.Support;
using HighPerfInference.Server.Tests.Transport.Support;

namespace HighPerfInference.Client.Tests;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationCollection
{
    public const string Name = "Allocations";
}

/// <summary>
/// Allocation budget of the whole binary path in one process: client call, transport, scheduler
/// and back. Runs alone, so the process-wide count is this traffic's.
/// </summary>
[Collection(AllocationCollection.Name)]
public sealed class AllocationTests
{
    /// <summary>
    /// Measured ~250 bytes per call, almost all of it the <see cref="InferResult"/> object (its
    /// buffers are pooled); per-request tasks, closures or buffers would blow the budget.
    /// </summary>
    [Fact]
    public async Task A_steady_stream_of_calls_allocates_little_more_than_each_result()
    {
        using var repository = new TestRepository();
        await using var host = await TransportHost.StartAsync(repository);
        await using var client = new InferenceClient(host.EndPoint);
        var request = AddSub.Request(seed: 1);
        for (var i = 0; i < 3000; i++)
            (await client.InferAsync(request)).Dispose();

        const int calls = 5000;
        var before = GC.GetTotalAllocatedBytes(precise: true);
        for (var i = 0; i < calls; i++)
            (await client.InferAsync(request)).Dispose();
        var perCall = (GC.GetTotalAllocatedBytes(precise: true) - before) / calls;

        Assert.True(perCall < 512, $"{perCall} bytes allocated per call through client, transport and scheduler");
    }
}
