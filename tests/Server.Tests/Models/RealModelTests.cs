using HighPerfInference.NativeEngine;
using HighPerfInference.Protocol;
using HighPerfInference.Server.Models;
using HighPerfInference.Server.Scheduling;
using HighPerfInference.Server.Tests.Scheduling;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace HighPerfInference.Server.Tests.Models;

/// <summary>The generated models under models/, with their committed configs, through ONNX Runtime.</summary>
public sealed class RealModelTests : IAsyncLifetime
{
    private ModelRepository _repository = null!;

    public async Task InitializeAsync()
    {
        _repository = new ModelRepository(new ModelRepositoryOptions
        {
            Path = TestRepository.GeneratedModels,
            Models = ["add_sub", "identity_fp32", "mlp", "fixed_vec4", "add_sub_int32"],
        });
        await _repository.StartAsync();
    }

    public async Task DisposeAsync() => await _repository.DisposeAsync();

    [Fact]
    public void The_committed_configs_load_and_report_the_models_shapes()
    {
        Assert.True(_repository.IsReady, string.Join("\n", _repository.GetIndex().Select(e => e.ToString())));
        var mlp = _repository.GetMetadata("mlp");
        Assert.Equal([-1L, 256], mlp.Inputs.Single().Shape);
        Assert.Equal([-1L, 16], mlp.Outputs.Single().Shape);
        Assert.Equal([-1L, -1], _repository.GetMetadata("identity_fp32").Inputs[0].Shape);
        Assert.Equal([4L], _repository.GetMetadata("fixed_vec4").Inputs[0].Shape);
        Assert.Equal(DataType.Int32, _repository.GetMetadata("add_sub_int32").Inputs[0].DataType);
        Assert.Equal(0, _repository.GetMaxBatchSize("fixed_vec4"));
        Assert.Contains("\"dims\": [\n        256\n      ]", _repository.GetConfigJson("mlp"));
    }

    [Fact]
    public async Task Batched_outputs_equal_per_request_outputs_for_thousands_of_mixed_requests_from_256_callers()
    {
        const int Callers = 256, PerCaller = 16;
        var completion = new CollectingCompletion();
        var requests = new InferenceRequest[Callers * PerCaller];
        // 256 callers, each with one request in flight at a time.
        await Task.WhenAll(Enumerable.Range(0, Callers).Select(caller => Task.Run(async () =>
        {
            var random = new Random(caller);
            for (var i = 0; i < PerCaller; i++)
            {
                var id = (ulong)(caller * PerCaller + i);
                var rows = random.Next(1, 5);
                var request = requests[id] = (id % 3) switch
                {
                    0 => TestRequests.AddSub(id, completion, rows),
                    1 => Identity(id, completion, rows, width: random.Next(1, 9), random),
                    _ => Mlp(id, completion, rows, random),
                };
                _repository.Router.Submit(request);
                await completion.WaitAsync(id);
            }
        })));
        Assert.Equal(0, completion.Duplicates);

        using var mlp = ModelSession.Load(Path.Combine(TestRepository.GeneratedModels, "mlp", "1", "model.onnx"));
        foreach (var request in requests)
        {
            var answer = completion.Answers[request.Id];
            Assert.Equal(ErrorCode.Ok, answer.Error);
            switch (request.ModelName)
            {
                case "add_sub":
                    TestRequests.AssertAddSub(request, answer);
                    break;
                case "identity_fp32":
                    Assert.Equal(request.Input(0).Shape, answer.Outputs["OUTPUT0"].Shape);
                    Assert.Equal(TestRequests.Floats(request, 0), answer.Outputs["OUTPUT0"].Data);
                    break;
                default:
                    var expected = RunAlone(mlp, request);
                    var (shape, actual) = answer.Outputs["OUTPUT0"];
                    Assert.Equal([request.Input(0).Shape[0], 16], shape);
                    for (var i = 0; i < expected.Length; i++)
                        Assert.Equal(expected[i], actual[i], 1e-5);
                    break;
            }
        }
        var statistics = _repository.GetStatistics();
        Assert.Contains(statistics, s => s.Name == "add_sub" && s.ExecutionCount < s.SuccessCount); // some batches held several requests
    }

    [Fact]
    public void A_model_without_a_batch_dimension_runs_each_request_as_given()
    {
        var completion = new CollectingCompletion();
        _repository.Router.Submit(TestRequests.Create(1, "fixed_vec4", completion, ("INPUT0", [4], [1, 2, 3, 4])));
        Assert.Equal([2f, 4, 6, 8], completion.Wait(1).Outputs["OUTPUT0"].Data);
        _repository.Router.Submit(TestRequests.Create(2, "fixed_vec4", completion, ("INPUT0", [1, 4], [1, 2, 3, 4])));
        Assert.Equal(ErrorCode.InvalidArgument, completion.Wait(2).Error);
    }

    private static InferenceRequest Identity(ulong id, CollectingCompletion completion, int rows, int width, Random random)
    {
        var data = new float[rows * width];
        for (var i = 0; i < data.Length; i++)
            data[i] = random.NextSingle();
        return TestRequests.Create(id, "identity_fp32", completion, ("INPUT0", [rows, width], data));
    }

    private static InferenceRequest Mlp(ulong id, CollectingCompletion completion, int rows, Random random)
    {
        var data = new float[rows * 256];
        for (var i = 0; i < data.Length; i++)
            data[i] = random.NextSingle() * 2 - 1;
        return TestRequests.Create(id, "mlp", completion, ("INPUT0", [rows, 256], data));
    }

    /// <summary>The request run on its own, straight through NativeEngine: the reference for its rows of a batch.</summary>
    private static unsafe float[] RunAlone(ModelSession session, InferenceRequest request)
    {
        var input = TestRequests.Floats(request, 0);
        using var runner = new BatchRunner(session);
        fixed (float* data = input)
        {
            runner.SetInput(0, TensorElementType.Float, request.Input(0).Shape, (nint)data, input.Length * sizeof(float));
            runner.SetOutputAllocated(0);
            runner.Run();
            return runner.GetOutput(0).GetTensorDataAsSpan<float>().ToArray();
        }
    }
}

/// <summary>Every datatype of the protocol, BYTES included, through identity_all_types.</summary>
public sealed class AllDatatypesTests : IAsyncLifetime
{
    private static readonly DataType[] s_types =
    [
        DataType.Bool, DataType.UInt8, DataType.UInt16, DataType.UInt32, DataType.UInt64, DataType.Int8, DataType.Int16,
        DataType.Int32, DataType.Int64, DataType.Fp16, DataType.Fp32, DataType.Fp64, DataType.Bf16, DataType.Bytes,
    ];

    private ModelRepository _repository = null!;

    public async Task InitializeAsync()
    {
        _repository = new ModelRepository(new ModelRepositoryOptions { Path = TestRepository.GeneratedModels, Models = ["identity_all_types"] });
        await _repository.StartAsync();
    }

    public async Task DisposeAsync() => await _repository.DisposeAsync();

    [Fact]
    public void Each_datatype_comes_back_as_it_went_in()
    {
        Assert.True(_repository.IsReady, string.Join("\n", _repository.GetIndex().Select(e => e.ToString())));
        var completion = new CollectingCompletion();
        var random = new Random(7);
        var request = new InferenceRequest { Id = 1, ModelName = "identity_all_types", Completion = completion };
        var sent = new Dictionary<string, byte[]>();
        foreach (var type in s_types)
        {
            var name = type == DataType.Bytes ? "BYTES" : type.WireName();
            byte[] data;
            if (type == DataType.Bytes)
            {
                using var stream = new MemoryStream();
                foreach (var text in (string[])["", "a", "héllo", "with\0nul", "x", new string('z', 300)])
                {
                    var utf8 = System.Text.Encoding.UTF8.GetBytes(text);
                    stream.Write(BitConverter.GetBytes(utf8.Length));
                    stream.Write(utf8);
                }
                data = stream.ToArray();
            }
            else
            {
                data = new byte[6 * type.ElementSize()];
                random.NextBytes(data);
                if (type == DataType.Bool)
                    data = Array.ConvertAll(data, b => (byte)(b & 1));
            }
            sent[$"OUT_{name}"] = data;
            ref var input = ref request.AddInput();
            input.Name = $"IN_{name}";
            input.DataType = type;
            input.Shape = [2, 3];
            input.Data = new System.Buffers.ReadOnlySequence<byte>(data);
        }
        _repository.Router.Submit(request);
        var answer = completion.Wait(1);
        Assert.Equal(ErrorCode.Ok, answer.Error);
        foreach (var (name, data) in sent)
        {
            Assert.Equal(data, answer.Raw[name]);
            Assert.Equal([2L, 3], answer.Outputs[name].Shape);
        }
    }

    [Fact]
    public void Bytes_data_that_does_not_match_the_shape_is_refused_naming_the_input()
    {
        var completion = new CollectingCompletion();
        var request = new InferenceRequest { Id = 2, ModelName = "identity_all_types", Completion = completion };
        foreach (var type in s_types)
        {
            var name = type == DataType.Bytes ? "BYTES" : type.WireName();
            ref var input = ref request.AddInput();
            input.Name = $"IN_{name}";
            input.DataType = type;
            input.Shape = [1, 1];
            input.Data = new System.Buffers.ReadOnlySequence<byte>(type == DataType.Bytes ? [5, 0, 0, 0, (byte)'a'] : new byte[type.ElementSize()]);
        }
        _repository.Router.Submit(request);
        var answer = completion.Wait(2);
        Assert.Equal(ErrorCode.InvalidArgument, answer.Error);
        Assert.Contains("input 'IN_BYTES': 5 bytes of data do not hold the 1 length-prefixed BYTES elements", answer.Message);
    }
}

/// <summary>Configs that disagree with their model file.</summary>
public sealed class ModelFileMismatchTests
{
    [Fact]
    public async Task Batching_a_model_without_a_batch_dimension_or_a_missing_model_file_fails_naming_the_field()
    {
        using var folder = new TestRepository()
            .Add("fixed", """{ "max_batch_size": 8 }""", [1], onnxFrom: "fixed_vec4")
            .Add("declared", """{ "max_batch_size": 8, "input": [{ "name": "INPUT0", "data_type": "TYPE_INT32", "dims": [16] }] }""", [1], onnxFrom: "add_sub");
        Directory.CreateDirectory(Path.Combine(folder.Path, "missing", "1"));
        await using var repository = new ModelRepository(new ModelRepositoryOptions { Path = folder.Path });
        await repository.StartAsync();
        var index = repository.GetIndex().ToDictionary(e => e.Name);
        Assert.EndsWith("fixed/config.json: max_batch_size: is 8, but input 'INPUT0' of the model has no variable first (batch) dimension (shape [4]); set max_batch_size to 0", index["fixed"].Reason);
        Assert.EndsWith("declared/config.json: input: declares 'INPUT0' as TYPE_INT32 [16], the model has TYPE_FP32 [16]", index["declared"].Reason);
        Assert.EndsWith("missing/1/model.onnx: default_model_filename: the model file does not exist", index["missing"].Reason);
        Assert.All(index.Values, e => Assert.Equal(ModelState.Unavailable, e.State));
        Assert.False(repository.IsReady);
    }
}
