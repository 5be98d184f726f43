namespace HighPerfInference.Conformance.Tests.Suite;

/// <summary>Paths in the repository the tests run from: the folder above the output holding HighPerfInference.sln.</summary>
internal static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    public static string Model(string name, int version = 1) =>
        Path.Combine(Root, "models", name, version.ToString(System.Globalization.CultureInfo.InvariantCulture), "model.onnx");

    public static string Artifacts => Path.Combine(Root, "artifacts");

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "HighPerfInference.sln")))
                return directory.FullName;
        }

        throw new DirectoryNotFoundException($"no HighPerfInference.sln above {AppContext.BaseDirectory}");
    }
}
