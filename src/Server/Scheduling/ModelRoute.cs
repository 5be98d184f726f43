namespace HighPerfInference.Server.Scheduling;

/// <summary>
/// A ready version as the data plane sees it: its number, name and scheduler. The control plane
/// derives its own record from it (configuration, backend) and reads it back from the route table.
/// </summary>
public class RoutedVersion(long number, DynamicBatcher batcher)
{
    public long Number { get; } = number;
    public string Name { get; } = batcher.Version;
    public DynamicBatcher Batcher { get; } = batcher;
    public ModelSignature Signature => Batcher.Signature;
}

/// <summary>
/// How requests for one model reach its ready versions; immutable, replaced as a whole when a
/// version becomes ready or goes away. A request that names a version gets it; otherwise the
/// traffic split picks one by weight (randomly, or by a stable hash of the routing key so the same
/// key keeps reaching the same version), and without a split the highest ready version answers.
/// </summary>
/// <remarks>
/// The rule for a split whose versions differ in their tensors (names, datatypes, shapes) or batch size:
/// a request that states its inputs (V2 JSON, the binary protocol) is routed only among the split's
/// versions it fits, by their weights; one that fits none is refused with each version's reason.
/// A request whose datatypes and shapes come from the model (predict, a raw binary body) is routed
/// by the split first and parsed against the version chosen (<see cref="InferenceRouter.Route"/>).
/// </remarks>
public sealed class ModelRoute
{
    private readonly RoutedVersion[] _splitVersions;
    private readonly long[] _splitBounds;

    /// <param name="name">The model's name.</param>
    /// <param name="versions">Ready versions, highest first (at least one).</param>
    /// <param name="split">Weights by version number; versions not ready are left out and the rest keep their proportions.</param>
    public ModelRoute(string name, RoutedVersion[] versions, IReadOnlyDictionary<long, int> split)
    {
        Name = name;
        Versions = versions;
        var chosen = new List<RoutedVersion>();
        var bounds = new List<long>();
        long total = 0;
        foreach (var version in versions)
        {
            if (split.TryGetValue(version.Number, out var weight) && weight > 0)
            {
                total += weight;
                chosen.Add(version);
                bounds.Add(total);
            }
        }
        _splitVersions = [.. chosen];
        _splitBounds = [.. bounds];
        SplitTakesOneSignature = chosen.TrueForAll(version => SameTensors(version.Signature, chosen[0].Signature));
    }

    public string Name { get; }

    /// <summary>Ready versions, highest first.</summary>
    public RoutedVersion[] Versions { get; }

    public RoutedVersion Latest => Versions[0];

    public string[] VersionNames => Array.ConvertAll(Versions, version => version.Name);

    /// <summary>False when the split's versions take different inputs: requests then go only to the versions they fit.</summary>
    public bool SplitTakesOneSignature { get; }

    public RoutedVersion? Find(string version)
    {
        foreach (var candidate in Versions)
        {
            if (string.Equals(candidate.Name, version, StringComparison.Ordinal))
                return candidate;
        }
        return null;
    }

    /// <summary>The version for a request that names none, chosen without looking at its inputs.</summary>
    public RoutedVersion Choose(string? routingKey)
    {
        if (_splitVersions.Length == 0)
            return Latest;
        var point = Point(routingKey, _splitBounds[^1]);
        for (var i = 0; i < _splitBounds.Length; i++)
        {
            if (point < _splitBounds[i])
                return _splitVersions[i];
        }
        return _splitVersions[^1];
    }

    /// <summary>
    /// The version for a request that names none and states its inputs: <see cref="Choose(string?)"/>, unless the
    /// split's versions differ, in which case the weights count only the versions the request fits.
    /// Null, with every version's reason in <paramref name="misfits"/>, when it fits none.
    /// </summary>
    public RoutedVersion? Choose(InferenceRequest request, out string? misfits)
    {
        misfits = null;
        if (SplitTakesOneSignature)
            return Choose(request.RoutingKey);
        Span<long> bounds = stackalloc long[_splitVersions.Length];
        long total = 0;
        List<string>? reasons = null;
        for (var i = 0; i < _splitVersions.Length; i++)
        {
            var reason = _splitVersions[i].Batcher.Misfit(request);
            if (reason is not null)
                (reasons ??= []).Add($"version {_splitVersions[i].Name}: {reason}");
            else
                total += _splitBounds[i] - (i == 0 ? 0 : _splitBounds[i - 1]);
            bounds[i] = total;
        }
        if (total == 0)
        {
            misfits = $"model '{Name}': the request fits none of the versions its traffic split routes to ({string.Join("; ", reasons!)})";
            return null;
        }
        var point = Point(request.RoutingKey, total);
        for (var i = 0; i < bounds.Length; i++)
        {
            if (point < bounds[i])
                return _splitVersions[i];
        }
        return _splitVersions[^1];
    }

    private static long Point(string? routingKey, long total) =>
        routingKey is null ? Random.Shared.NextInt64(total) : (long)(StableHash(routingKey) % (ulong)total);

    /// <summary>Same batch size, and the same inputs and outputs (names, datatypes, shapes) in the same order.</summary>
    private static bool SameTensors(ModelSignature a, ModelSignature b) =>
        a.MaxBatchSize == b.MaxBatchSize && SameTensors(a.Inputs, b.Inputs) && SameTensors(a.Outputs, b.Outputs);

    private static bool SameTensors(IReadOnlyList<TensorSpec> a, IReadOnlyList<TensorSpec> b)
    {
        if (a.Count != b.Count)
            return false;
        for (var i = 0; i < a.Count; i++)
        {
            if (a[i].Name != b[i].Name || a[i].DataType != b[i].DataType || !a[i].Shape.AsSpan().SequenceEqual(b[i].Shape))
                return false;
        }
        return true;
    }

    /// <summary>FNV-1a over the key's UTF-16 units with a final avalanche: the same in every process, unlike string.GetHashCode.</summary>
    internal static ulong StableHash(string key)
    {
        var hash = 0xcbf29ce484222325UL;
        foreach (var c in key)
            hash = (hash ^ c) * 0x100000001b3UL;
        hash ^= hash >> 33;
        hash *= 0xff51afd7ed558ccdUL;
        hash ^= hash >> 33;
        return hash;
    }
}
