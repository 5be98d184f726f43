using HighPerfInference.NativeEngine.Tests.Models;

namespace HighPerfInference.NativeEngine.Tests;

public sealed class SessionTests
{
    [Fact]
    public void Environment_reports_the_pinned_runtime_and_the_cpu_provider()
    {
        Assert.Equal("1.29.0", OrtEnvironment.Shared.Version);
        Assert.Contains("CPUExecutionProvider", OrtEnvironment.Shared.GetAvailableProviders());
    }

    [Fact]
    public void Metadata_reports_names_types_symbolic_shapes_and_model_fields()
    {
        byte[] model = new OnnxModelBuilder
        {
            ProducerName = "metadata-test",
            Domain = "ai.example",
            Description = "a model that describes itself",
            ModelVersion = 42,
            GraphName = "described",
            GraphDescription = "the graph's own doc string",
        }
            .Input("tokens", TensorElementType.Int64, "batch", "sequence")
            .Input("scale", TensorElementType.Float, 1)
            .Output("ids", TensorElementType.Int64, "batch", "sequence")
            .Output("scaled", TensorElementType.Float, 1)
            .Node("Identity", ["tokens"], ["ids"])
            .Node("Identity", ["scale"], ["scaled"])
            .Metadata("author", "tests")
            .Metadata("license", "MIT")
            .Build();

        using var session = InferenceSession.FromBytes(model);

        Assert.Equal(["tokens", "scale"], Names(session.Inputs));
        Assert.Equal(["ids", "scaled"], Names(session.Outputs));
        var tokens = session.Inputs[0];
        Assert.Equal(OnnxValueType.Tensor, tokens.ValueType);
        Assert.Equal(TensorElementType.Int64, tokens.ElementType);
        Assert.Equal([-1L, -1L], tokens.Shape);
        Assert.Equal(["batch", "sequence"], tokens.SymbolicDimensions);
        Assert.Equal(TensorElementType.Float, session.Inputs[1].ElementType);
        Assert.Equal([1L], session.Inputs[1].Shape);
        Assert.Equal([""], session.Inputs[1].SymbolicDimensions);

        var metadata = session.Metadata;
        Assert.Equal("metadata-test", metadata.ProducerName);
        Assert.Equal("ai.example", metadata.Domain);
        Assert.Equal("a model that describes itself", metadata.Description);
        Assert.Equal(42, metadata.Version);
        Assert.Equal("described", metadata.GraphName);
        Assert.Equal("the graph's own doc string", metadata.GraphDescription);
        Assert.Equal(2, metadata.CustomMetadata.Count);
        Assert.Equal("tests", metadata.CustomMetadata["author"]);
        Assert.Equal("MIT", metadata.CustomMetadata["license"]);
    }

    [Fact]
    public void Load_from_a_file_matches_load_from_bytes()
    {
        string path = Path.Combine(Path.GetTempPath(), $"hpi-addsub-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, TestModels.AddSub());
        try
        {
            using var fromFile = InferenceSession.Load(path);
            using var fromBytes = InferenceSession.FromBytes(TestModels.AddSub());
            Assert.Equal(Names(fromBytes.Inputs), Names(fromFile.Inputs));
            Assert.Equal(Names(fromBytes.Outputs), Names(fromFile.Outputs));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Session_options_are_applied_and_the_optimized_model_is_written()
    {
        string optimized = Path.Combine(Path.GetTempPath(), $"hpi-optimized-{Guid.NewGuid():N}.onnx");
        try
        {
            using var options = new SessionOptions
            {
                IntraOpNumThreads = 1,
                InterOpNumThreads = 1,
                GraphOptimizationLevel = GraphOptimizationLevel.Extended,
                ExecutionMode = ExecutionMode.Parallel,
                EnableCpuMemArena = false,
                EnableMemoryPattern = false,
                OptimizedModelFilePath = optimized,
                LogId = "options-test",
            };
            options.AddConfigEntry("session.intra_op.allow_spinning", "0");

            Assert.Equal(1, options.IntraOpNumThreads);
            Assert.Equal(GraphOptimizationLevel.Extended, options.GraphOptimizationLevel);
            Assert.Equal(ExecutionMode.Parallel, options.ExecutionMode);
            Assert.False(options.EnableCpuMemArena);
            Assert.False(options.EnableMemoryPattern);
            Assert.Equal("options-test", options.LogId);

            using var session = InferenceSession.FromBytes(TestModels.AddSub(), options);
            Assert.Equal(2, session.Outputs.Count);

            // ORT wrote the optimized graph, and it loads as a model of its own.
            Assert.True(File.Exists(optimized));
            using var reloaded = InferenceSession.Load(optimized);
            Assert.Equal(["OUTPUT0", "OUTPUT1"], Names(reloaded.Outputs));
        }
        finally
        {
            File.Delete(optimized);
        }
    }

    [Fact]
    public void Bad_model_bytes_throw_OrtException_with_ORT_code_and_message()
    {
        var error = Assert.Throws<OrtException>(() => InferenceSession.FromBytes("this is not a model"u8));
        Assert.Equal(OrtErrorCode.InvalidProtobuf, error.Code);
        Assert.Contains("protobuf", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_graph_with_an_unknown_operator_is_rejected_with_ORT_code()
    {
        byte[] model = new OnnxModelBuilder()
            .Input("X", TensorElementType.Float, 1)
            .Output("Y", TensorElementType.Float, 1)
            .Node("NoSuchOperator", ["X"], ["Y"])
            .Build();

        var error = Assert.Throws<OrtException>(() => InferenceSession.FromBytes(model));
        Assert.NotEqual(OrtErrorCode.Ok, error.Code);
        Assert.Contains("NoSuchOperator", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_model_file_throws_OrtException_naming_the_file()
    {
        string path = Path.Combine(Path.GetTempPath(), $"hpi-missing-{Guid.NewGuid():N}.onnx");
        var error = Assert.Throws<OrtException>(() => InferenceSession.Load(path));
        Assert.Equal(OrtErrorCode.NoSuchFile, error.Code);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Disposed_objects_refuse_further_use()
    {
        var options = new SessionOptions();
        options.Dispose();
        Assert.Throws<ObjectDisposedException>(() => options.IntraOpNumThreads = 1);
        Assert.Throws<ObjectDisposedException>(() => InferenceSession.FromBytes(TestModels.AddSub(), options));

        var session = InferenceSession.FromBytes(TestModels.AddSub());
        session.Dispose();
        Assert.Throws<ObjectDisposedException>(() => session.CreateIoBinding());
    }

    private static string[] Names(IReadOnlyList<TensorInfo> infos) => infos.Select(info => info.Name).ToArray();
}
