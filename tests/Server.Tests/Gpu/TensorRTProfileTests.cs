using HighPerfInference.Protocol;
using HighPerfInference.Server.Models;
using HighPerfInference.Server.Scheduling;

namespace HighPerfInference.Server.Tests.Gpu;

/// <summary>TensorRT's optimization profile for the batch dimension, and the warmup that builds its engine before READY.</summary>
public sealed class TensorRTProfileTests
{
    private static readonly TensorSpec[] s_addSub = [new("INPUT0", DataType.Fp32, [-1, 16]), new("INPUT1", DataType.Fp32, [-1, 16])];

    [Fact]
    public void The_profile_spans_batch_1_to_max_batch_size_for_every_input()
    {
        var profile = GpuSupport.TensorRTProfile(s_addSub, maxBatchSize: 8, preferredBatchSizes: []);

        Assert.Equal(new TensorRTProfile("INPUT0:1x16,INPUT1:1x16", "INPUT0:8x16,INPUT1:8x16", "INPUT0:8x16,INPUT1:8x16"), profile);
    }

    [Fact]
    public void The_optimum_is_the_largest_preferred_batch_size_that_fits()
    {
        TensorSpec[] image = [new("images", DataType.Fp32, [-1, 3, 224, 224])];

        var profile = GpuSupport.TensorRTProfile(image, maxBatchSize: 32, preferredBatchSizes: [4, 16, 64]);

        Assert.Equal(new TensorRTProfile("images:1x3x224x224", "images:16x3x224x224", "images:32x3x224x224"), profile);
    }

    [Fact]
    public void There_is_no_profile_without_a_batch_dimension_or_with_another_variable_dimension()
    {
        Assert.Null(GpuSupport.TensorRTProfile(s_addSub, maxBatchSize: 0, preferredBatchSizes: []));
        Assert.Null(GpuSupport.TensorRTProfile([new("tokens", DataType.Int64, [-1, -1])], maxBatchSize: 8, preferredBatchSizes: []));
    }

    [Theory]
    [InlineData("""{ "execution_provider": { "kind": "tensorrt" } }""", 1)]
    [InlineData("""{ "execution_provider": { "kind": "tensorrt" }, "model_warmup": { "batches": 0 } }""", 0)]
    [InlineData("""{ "execution_provider": { "kind": "cuda" } }""", 0)]
    public void TensorRT_models_warm_up_once_by_default_so_the_engine_is_built_before_ready(string json, int batches)
    {
        var config = ModelConfigReader.Parse("m", "models/m/config.json", json, yaml: false);

        Assert.Equal(batches, config.Warmup.Batches);
    }
}
