using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using HighPerfInference.Protocol;
using HighPerfInference.Server.Hosting;
using HighPerfInference.Server.Models;

namespace HighPerfInference.Server.Http;

/// <summary>
/// The Open Inference Protocol's non-inference endpoints and Triton's extensions over them: health,
/// server and model metadata, model readiness, configuration, statistics, and the repository
/// index / load / unload. Each answers from <see cref="IModelRepository"/>.
/// </summary>
internal sealed class ModelEndpoints(IModelRepository repository, ServerLifecycle lifecycle)
{
    public const string ServerName = "HighPerfInference";

    /// <summary>The extensions the server implements, as Triton names them in its server metadata.</summary>
    private static readonly string[] s_extensions =
        ["binary_tensor_data", "model_repository", "schedule_policy", "model_configuration", "statistics"];

    private static readonly string s_version =
        typeof(ModelEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public bool IsReady => !lifecycle.IsDraining && repository.IsReady;

    public static Task LiveAsync(HttpContext context) =>
        WriteAsync(context, StatusCodes.Status200OK, new LiveDocument(true), HttpJson.Relaxed.LiveDocument);

    public Task ReadyAsync(HttpContext context)
    {
        var ready = IsReady;
        return WriteAsync(context, ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable, new ReadyDocument(ready), HttpJson.Relaxed.ReadyDocument);
    }

    public static Task ServerMetadataAsync(HttpContext context) =>
        WriteAsync(context, StatusCodes.Status200OK, new ServerMetadataDocument(ServerName, s_version, s_extensions), HttpJson.Relaxed.ServerMetadataDocument);

    /// <summary>The inputs and outputs are those of versions[0], the version named in X-Model-Version (the default one, or the one asked for).</summary>
    public Task ModelMetadataAsync(HttpContext context) => AnswerAsync(context, static (repository, context, model, version) =>
    {
        var metadata = repository.GetMetadata(model, version);
        context.Response.Headers[HttpErrors.ModelVersionHeader] = metadata.Versions[0];
        return WriteAsync(context, StatusCodes.Status200OK, ModelMetadataDocument.From(metadata), HttpJson.Relaxed.ModelMetadataDocument);
    });

    public Task ModelReadyAsync(HttpContext context) => AnswerAsync(context, static (repository, context, model, version) =>
    {
        var ready = repository.IsModelReady(model, version);
        if (!ready)
        {
            try
            {
                repository.GetMetadata(model, version); // NotFound for a model or version that does not exist
            }
            catch (InferenceException e) when (e.Code == ErrorCode.Unavailable)
            {
                // Known, not ready: answered below.
            }
        }
        return WriteAsync(context, ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable, new ModelReadyDocument(model, version, ready), HttpJson.Relaxed.ModelReadyDocument);
    });

    public Task ModelConfigAsync(HttpContext context) => AnswerAsync(context, static (repository, context, model, version) =>
    {
        var config = repository.GetConfigJson(model, version);
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(config, context.RequestAborted);
    });

    public Task StatisticsAsync(HttpContext context) => AnswerAsync(context, static (repository, context, model, version) =>
    {
        var statistics = repository.GetStatistics(model.Length == 0 ? null : model, version);
        var models = new ModelStatsDocument[statistics.Count];
        for (var i = 0; i < models.Length; i++)
            models[i] = ModelStatsDocument.From(statistics[i]);
        return WriteAsync(context, StatusCodes.Status200OK, new StatisticsDocument(models), HttpJson.Relaxed.StatisticsDocument);
    });

    /// <summary>TensorFlow Serving's model status: each version and its state.</summary>
    public Task ModelStatusAsync(HttpContext context) => AnswerAsync(context, static (repository, context, model, _) =>
    {
        var versions = new List<TfVersionStatus>();
        foreach (var entry in repository.GetIndex())
        {
            if (entry.Name != model || entry.Version is null)
                continue;
            var state = entry.State switch
            {
                ModelState.Ready => "AVAILABLE",
                ModelState.Loading => "LOADING",
                ModelState.Unloading => "UNLOADING",
                _ => "END",
            };
            versions.Add(new TfVersionStatus(entry.Version, state, new TfStatus("OK", entry.Reason)));
        }
        if (versions.Count == 0)
            repository.GetMetadata(model); // NotFound for an unknown model
        return WriteAsync(context, StatusCodes.Status200OK, new TfModelStatusDocument(versions), HttpJson.Relaxed.TfModelStatusDocument);
    });

    public async Task RepositoryIndexAsync(HttpContext context)
    {
        try
        {
            var request = await ReadBodyAsync(context, HttpJson.Relaxed.RepositoryIndexRequest).ConfigureAwait(false);
            var index = repository.GetIndex(request?.Ready ?? false);
            var rows = new RepositoryIndexEntryDocument[index.Count];
            for (var i = 0; i < rows.Length; i++)
                rows[i] = new RepositoryIndexEntryDocument(index[i].Name, index[i].Version, index[i].State.Name(), index[i].Reason);
            await WriteAsync(context, StatusCodes.Status200OK, rows, HttpJson.Relaxed.IReadOnlyListRepositoryIndexEntryDocument).ConfigureAwait(false);
        }
        catch (InferenceException e)
        {
            await HttpErrors.WriteAsync(context, e.Code, e.Message).ConfigureAwait(false);
        }
    }

    public async Task LoadAsync(HttpContext context)
    {
        var model = (string)context.Request.RouteValues["model"]!;
        try
        {
            var request = await ReadBodyAsync(context, HttpJson.Relaxed.RepositoryActionRequest).ConfigureAwait(false);
            await repository.LoadAsync(model, request?.Parameters?.Config, context.RequestAborted).ConfigureAwait(false);
            context.Response.StatusCode = StatusCodes.Status200OK;
        }
        catch (InferenceException e)
        {
            await HttpErrors.WriteAsync(context, e.Code, e.Message).ConfigureAwait(false);
        }
    }

    public async Task UnloadAsync(HttpContext context)
    {
        var model = (string)context.Request.RouteValues["model"]!;
        try
        {
            // "unload_dependents" is accepted and has nothing to act on: there are no ensembles.
            await ReadBodyAsync(context, HttpJson.Relaxed.RepositoryActionRequest).ConfigureAwait(false);
            await repository.UnloadAsync(model, context.RequestAborted).ConfigureAwait(false);
            context.Response.StatusCode = StatusCodes.Status200OK;
        }
        catch (InferenceException e)
        {
            await HttpErrors.WriteAsync(context, e.Code, e.Message).ConfigureAwait(false);
        }
    }

    /// <summary>Runs a model-scoped answer with the route's model and version; lookup failures become their error answers.</summary>
    private Task AnswerAsync(HttpContext context, Func<IModelRepository, HttpContext, string, string?, Task> answer)
    {
        var routes = context.Request.RouteValues;
        var model = routes["model"] as string ?? "";
        var version = routes["version"] as string;
        try
        {
            return answer(repository, context, model, version);
        }
        catch (InferenceException e)
        {
            return HttpErrors.WriteAsync(context, e.Code, e.Message);
        }
    }

    /// <summary>An optional small JSON body: null when empty.</summary>
    private static async ValueTask<T?> ReadBodyAsync<T>(HttpContext context, JsonTypeInfo<T> type)
        where T : class
    {
        if (context.Request.ContentLength == 0)
            return null;
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
        if (buffer.Length == 0)
            return null;
        try
        {
            return JsonSerializer.Deserialize(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), type);
        }
        catch (JsonException e)
        {
            throw new InferenceException(ErrorCode.InvalidArgument, "malformed JSON: " + e.Message);
        }
    }

    private static Task WriteAsync<T>(HttpContext context, int status, T document, JsonTypeInfo<T> type)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(document, type, contentType: null, context.RequestAborted);
    }
}
