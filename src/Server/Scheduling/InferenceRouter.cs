using HighPerfInference.Protocol;
using Microsoft.Extensions.Logging.Abstractions;

namespace HighPerfInference.Server.Scheduling;

/// <summary>What the router asks the control plane about a model, or a version of it, that has no route.</summary>
public interface IUnroutedModels
{
    /// <summary>NotFound for a name or version the repository does not know, Unavailable (with the state) for one that is not ready.</summary>
    (ErrorCode Code, string Message) Explain(string model, string? version);
}

/// <summary>The version a request was routed to before its body was parsed, and that version's signature.</summary>
public readonly record struct RoutedModel(string Version, ModelSignature Signature);

/// <summary>
/// The data plane's entry: routes each request to a version's <see cref="DynamicBatcher"/>. It reads
/// an immutable routing table (model name → <see cref="ModelRoute"/>) with one volatile read; the
/// control plane publishes a new table when versions become ready or go away, always before it
/// drains what it replaces, so a request that finds its version draining is routed again.
/// </summary>
public sealed class InferenceRouter(IUnroutedModels unrouted, ILogger? logger = null) : IInferenceScheduler
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;
    private Dictionary<string, ModelRoute> _routes = [];

    /// <summary>The routes now: one per model with a ready version.</summary>
    public IReadOnlyCollection<ModelRoute> Routes => Volatile.Read(ref _routes).Values;

    public bool TryGetRoute(string model, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out ModelRoute route) =>
        Volatile.Read(ref _routes).TryGetValue(model, out route);

    /// <summary>Replaces the model's route (null removes it). The control plane calls this one at a time.</summary>
    public void Publish(string model, ModelRoute? route)
    {
        var routes = new Dictionary<string, ModelRoute>(Volatile.Read(ref _routes));
        if (route is null)
            routes.Remove(model);
        else
            routes[model] = route;
        Volatile.Write(ref _routes, routes);
    }

    /// <summary>Removes every route and returns what was there (shutdown).</summary>
    public IReadOnlyCollection<ModelRoute> Clear() => Interlocked.Exchange(ref _routes, []).Values;

    public RoutedModel Route(InferenceRequest request)
    {
        if (!TryGetRoute(request.ModelName, out var route))
            throw Unrouted(request);
        var version = request.ModelVersion is { } asked ? route.Find(asked) : route.Choose(request.RoutingKey);
        if (version is null)
            throw Unrouted(request);
        request.Target = version;
        return new RoutedModel(version.Name, version.Signature);
    }

    public void Submit(InferenceRequest request)
    {
        var target = request.Target;
        request.Target = null;
        if (target is not null && target.Batcher.TrySubmit(request))
            return;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (!TryGetRoute(request.ModelName, out var route))
            {
                Answer(request, Unrouted(request));
                return;
            }
            RoutedVersion? version;
            if (request.ModelVersion is { } asked)
            {
                version = route.Find(asked);
                if (version is null)
                {
                    Answer(request, Unrouted(request));
                    return;
                }
            }
            else
            {
                version = route.Choose(request, out var misfits);
                if (version is null)
                {
                    Answer(request, new InferenceException(ErrorCode.InvalidArgument, misfits!));
                    return;
                }
            }
            if (version.Batcher.TrySubmit(request))
                return;
            // The version started draining after we read the table; the control plane publishes the
            // new table before it drains, so the table read now routes elsewhere.
        }
        Answer(request, new InferenceException(ErrorCode.Unavailable, $"model '{request.ModelName}' is being unloaded"));
    }

    public void Cancel(InferenceRequest request) => request.Batcher?.Cancel(request);

    private InferenceException Unrouted(InferenceRequest request)
    {
        var (code, message) = unrouted.Explain(request.ModelName, request.ModelVersion);
        return new InferenceException(code, message);
    }

    private void Answer(InferenceRequest request, InferenceException error) =>
        DynamicBatcher.Complete(request, InferenceResponse.Failure(error.Code, error.Message), _logger);
}
