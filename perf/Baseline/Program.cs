using System.Collections.Concurrent;
using System.Text.Json.Serialization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

// The naive baseline: the inference server a .NET developer writes first, kept that way on purpose.
// One ASP.NET Core minimal API endpoint in the Open Inference Protocol's JSON shape; the body is
// deserialized into plain objects (float[] per input); every request runs the model on its own (one
// Run per request, no batching, no queue); outputs are copied into arrays and serialized back.
// ONNX Runtime's C# binding used as its README shows (DenseTensor, NamedOnnxValue, session.Run): the
// same ONNX Runtime build as the real server, so the difference is the serving.
//
//   dotnet run --project perf/Baseline -c Release -- --port 8090 --models models
//
// FP32 inputs and outputs with flat "data" arrays only: the models it serves (add_sub, mlp, the
// PP-OCR classifier) need nothing more.

var builder = WebApplication.CreateBuilder(args);
var port = builder.Configuration.GetValue("port", 8090);
var modelsRoot = builder.Configuration.GetValue("models", "models")!;
builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
// The project template's appsettings.json quietens ASP.NET Core's per-request logs; do the same.
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

var app = builder.Build();
var sessions = new ConcurrentDictionary<string, InferenceSession>();

app.MapGet("/v2/health/ready", () => Results.Ok());

app.MapPost("/v2/models/{model}/infer", (string model, InferRequest request) =>
{
    var path = Path.Combine(modelsRoot, model, "1", "model.onnx");
    if (!File.Exists(path))
        return Results.NotFound(new ErrorResponse($"unknown model '{model}'"));
    var session = sessions.GetOrAdd(model, _ => new InferenceSession(path));

    var inputs = new List<NamedOnnxValue>();
    foreach (var name in session.InputNames)
    {
        var input = request.Inputs.FirstOrDefault(i => i.Name == name);
        if (input is null)
            return Results.BadRequest(new ErrorResponse($"missing input '{name}'"));
        if (input.Datatype != "FP32" || input.Shape.Aggregate(1L, (a, b) => a * b) != input.Data.Length)
            return Results.BadRequest(new ErrorResponse($"input '{name}' must be FP32 with as many values as its shape"));
        var tensor = new DenseTensor<float>(input.Data, input.Shape.Select(d => (int)d).ToArray());
        inputs.Add(NamedOnnxValue.CreateFromTensor(name, tensor));
    }

    using var results = session.Run(inputs);
    var response = new InferResponse(model, "1", results.Select(result =>
    {
        var tensor = result.AsTensor<float>();
        return new OutputTensor(result.Name, "FP32", tensor.Dimensions.ToArray().Select(d => (long)d).ToArray(), tensor.ToArray());
    }).ToList());
    return Results.Ok(response);
});

app.Run();

internal sealed record InferRequest(
    [property: JsonPropertyName("inputs")] List<InputTensor> Inputs);

internal sealed record InputTensor(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("shape")] long[] Shape,
    [property: JsonPropertyName("datatype")] string Datatype,
    [property: JsonPropertyName("data")] float[] Data);

internal sealed record InferResponse(
    [property: JsonPropertyName("model_name")] string ModelName,
    [property: JsonPropertyName("model_version")] string ModelVersion,
    [property: JsonPropertyName("outputs")] List<OutputTensor> Outputs);

internal sealed record OutputTensor(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("datatype")] string Datatype,
    [property: JsonPropertyName("shape")] long[] Shape,
    [property: JsonPropertyName("data")] float[] Data);

internal sealed record ErrorResponse([property: JsonPropertyName("error")] string Error);
