using System.Text.Json;
using HighPerfInference.LoadGen.Cli;
using HighPerfInference.Protocol;

namespace HighPerfInference.LoadGen.Workload;

/// <summary>
/// Which inputs to send: those given with --input, else the model's own metadata from the server's
/// Open Inference Protocol endpoint (GET /v2/models/{model}[/versions/{v}]), like perf_analyzer.
/// A leading dynamic dimension becomes --batch-size; any other dynamic one needs --shape.
/// </summary>
public static class ModelInputs
{
    public static async Task<IReadOnlyList<TensorSpec>> ResolveAsync(RunOptions options, HttpClient http, CancellationToken cancellationToken)
    {
        if (options.Inputs.Count > 0)
            return options.Inputs;
        var path = options.ModelVersion is null
            ? $"v2/models/{options.Model}"
            : $"v2/models/{options.Model}/versions/{options.ModelVersion}";
        var url = new Uri(options.MetadataUrl, path);
        string json;
        try
        {
            json = await http.GetStringAsync(url, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new UsageException($"could not read model metadata from {url} ({ex.Message}); give the inputs with --input NAME:DATATYPE:SHAPE");
        }
        return FromMetadata(json, options.ShapeOverrides, options.BatchSize);
    }

    /// <summary>Inputs from a V2 model metadata document.</summary>
    public static IReadOnlyList<TensorSpec> FromMetadata(string json, IReadOnlyDictionary<string, long[]> shapeOverrides, int batchSize)
    {
        using var document = JsonDocument.Parse(json);
        if (!document.RootElement.TryGetProperty("inputs", out var inputs) || inputs.ValueKind != JsonValueKind.Array)
            throw new UsageException("model metadata has no \"inputs\" array");
        var specs = new List<TensorSpec>();
        foreach (var input in inputs.EnumerateArray())
        {
            var name = input.GetProperty("name").GetString()!;
            var datatype = input.GetProperty("datatype").GetString()!;
            if (!DataTypes.TryParse(datatype, out var type) || type == DataType.Bytes)
                throw new UsageException($"input '{name}' has datatype {datatype}, which the load generator cannot fill");
            if (shapeOverrides.TryGetValue(name, out var overridden))
            {
                specs.Add(new TensorSpec(name, type, overridden));
                continue;
            }
            var dims = input.GetProperty("shape");
            var shape = new long[dims.GetArrayLength()];
            var i = 0;
            foreach (var dim in dims.EnumerateArray())
            {
                var value = dim.GetInt64();
                if (value < 0 && i == 0)
                    value = batchSize;
                else if (value < 0)
                    throw new UsageException($"input '{name}' has dynamic dimension {i}: give its shape with --shape {name}:...");
                shape[i++] = value;
            }
            specs.Add(new TensorSpec(name, type, shape));
        }
        return specs;
    }
}
