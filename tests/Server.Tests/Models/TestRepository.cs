using System.Collections.Concurrent;
using HighPerfInference.Server.Models;
using HighPerfInference.Server.Scheduling;
using HighPerfInference.Server.Tests.Scheduling;

namespace HighPerfInference.Server.Tests.Models;

/// <summary>A model repository folder in a temporary directory, removed on dispose.</summary>
internal sealed class TestRepository : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("hpi-repository-");

    public string Path => _directory.FullName;

    /// <summary>The checkout's models/ folder (the generated ONNX models).</summary>
    public static string GeneratedModels { get; } = FindModels();

    /// <summary>Adds a model folder with a config and version folders; model.onnx is copied from models/ when <paramref name="onnxFrom"/> is given, else an empty file.</summary>
    public TestRepository Add(string name, string configJson, long[] versions, string? onnxFrom = null)
    {
        var directory = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(directory);
        File.WriteAllText(System.IO.Path.Combine(directory, "config.json"), configJson);
        foreach (var version in versions)
            AddVersion(name, version, onnxFrom);
        return this;
    }

    public void AddVersion(string name, long version, string? onnxFrom = null)
    {
        var folder = System.IO.Path.Combine(Path, name, version.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(folder);
        var target = System.IO.Path.Combine(folder, "model.onnx");
        if (onnxFrom is null)
            File.WriteAllBytes(target, []);
        else
            File.Copy(System.IO.Path.Combine(GeneratedModels, onnxFrom, "1", "model.onnx"), target, overwrite: true);
    }

    /// <summary>Adds a version folder holding the given model.onnx bytes.</summary>
    public TestRepository AddVersion(string name, long version, byte[] onnx)
    {
        var folder = System.IO.Path.Combine(Path, name, version.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(System.IO.Path.Combine(folder, "model.onnx"), onnx);
        return this;
    }

    public void Dispose() => _directory.Delete(recursive: true);

    private static string FindModels()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var models = System.IO.Path.Combine(directory.FullName, "models");
            if (File.Exists(System.IO.Path.Combine(models, "add_sub", "1", "model.onnx")))
                return models;
        }
        throw new DirectoryNotFoundException("models/ with the generated models was not found above the test binaries");
    }
}

/// <summary>Hands the repository in-memory models by model folder name, and remembers every backend it made.</summary>
internal sealed class FakeBackendFactory(Func<ModelConfig, FakeBackend> create) : IModelBackendFactory
{
    public ConcurrentQueue<(string Path, FakeBackend Backend)> Loaded { get; } = new();

    public IModelBackend Load(string modelPath, ModelConfig config)
    {
        var backend = create(config);
        Loaded.Enqueue((modelPath, backend));
        return backend;
    }
}
