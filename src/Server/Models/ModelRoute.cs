using HighPerfInference.Protocol;
using HighPerfInference.Server.Scheduling;

namespace HighPerfInference.Server.Models;

/// <summary>A loaded, ready model version: its configuration, backend and scheduler, and what the APIs report about it.</summary>
internal sealed class LoadedVersion(long number, ModelConfig config, IModelBackend backend, DynamicBatcher batcher)
{
    public long Number { get; } = number;
    public string Name { get; } = batcher.Version;
    public ModelConfig Config { get; } = config;
    public IModelBackend Backend { get; } = backend;
    public DynamicBatcher Batcher { get; } = batcher;
    public string ConfigJson { get; } = ModelConfigJson.Write(config, backend.Signature);
    public TensorMetadata[] Inputs { get; } = Metadata(backend.Signature.Inputs);
    public TensorMetadata[] Outputs { get; } = Metadata(backend.Signature.Outputs);

    private static TensorMetadata[] Metadata(IReadOnlyList<TensorSpec> specs)
    {
        var tensors = new TensorMetadata[specs.Count];
        for (var i = 0; i < tensors.Length; i++)
            tensors[i] = new TensorMetadata(specs[i].Name, specs[i].DataType, (long[])specs[i].Shape.Clone());
        return tensors;
    }
}

/// <summary>
/// How requests for one model reach its ready versions; immutable, replaced as a whole when a
/// version becomes ready or goes away. A request that names a version gets it; otherwise the
/// traffic split picks one by weight (randomly, or by a stable hash of the routing key so the same
/// key keeps reaching the same version), and without a split the highest ready version answers.
/// </summary>
internal sealed class ModelRoute
{
    private readonly LoadedVersion[] _splitVersions;
    private readonly long[] _splitBounds;

    /// <param name="name">The model's name.</param>
    /// <param name="versions">Ready versions, highest first (at least one).</param>
    /// <param name="split">Weights by version number; versions not ready are left out and the rest keep their proportions.</param>
    public ModelRoute(string name, LoadedVersion[] versions, IReadOnlyDictionary<long, int> split)
    {
        Name = name;
        Versions = versions;
        var chosen = new List<LoadedVersion>();
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
    }

    public string Name { get; }

    /// <summary>Ready versions, highest first.</summary>
    public LoadedVersion[] Versions { get; }

    public LoadedVersion Latest => Versions[0];

    public string[] VersionNames => Array.ConvertAll(Versions, version => version.Name);

    public LoadedVersion? Find(string version)
    {
        foreach (var candidate in Versions)
        {
            if (string.Equals(candidate.Name, version, StringComparison.Ordinal))
                return candidate;
        }
        return null;
    }

    /// <summary>The version for a request that names none.</summary>
    public LoadedVersion Choose(string? routingKey)
    {
        if (_splitVersions.Length == 0)
            return Latest;
        var total = _splitBounds[^1];
        var point = routingKey is null ? Random.Shared.NextInt64(total) : (long)(StableHash(routingKey) % (ulong)total);
        for (var i = 0; i < _splitBounds.Length; i++)
        {
            if (point < _splitBounds[i])
                return _splitVersions[i];
        }
        return _splitVersions[^1];
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
