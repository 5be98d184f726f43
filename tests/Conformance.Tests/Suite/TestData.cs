namespace HighPerfInference.Conformance.Tests.Suite;

/// <summary>One case of the ONNX backend test suite: a model.onnx and its test_data_set_* folders.</summary>
internal sealed record ConformanceCase(string Folder, string Name, string Directory)
{
    public string Id => $"{Folder}/{Name}";

    public string ModelPath => Path.Combine(Directory, "model.onnx");

    /// <summary>test_data_set_0, test_data_set_1, ... in numeric order.</summary>
    public IEnumerable<string> DataSets => NumberedEntries(System.IO.Directory.EnumerateDirectories(Directory, "test_data_set_*"), "test_data_set_");

    /// <summary>input_0.pb, input_1.pb, ... (or output_N.pb) of a data set, in numeric order.</summary>
    public static IEnumerable<string> TensorFiles(string dataSet, string prefix) =>
        NumberedEntries(System.IO.Directory.EnumerateFiles(dataSet, prefix + "*.pb"), prefix);

    private static IEnumerable<string> NumberedEntries(IEnumerable<string> paths, string prefix) =>
        paths.OrderBy(path => int.Parse(Path.GetFileNameWithoutExtension(path.AsSpan())[prefix.Length..], provider: null));
}

/// <summary>
/// Where Debian's libonnx-testdata puts the ONNX backend test suite, and the cases it holds. Its
/// `real` folder only names models to download, so the suite covers the other four.
/// </summary>
internal static class TestData
{
    public const string NotInstalled =
        "The ONNX backend test data is not installed. Run: apt-get install libonnx-testdata " +
        "(or point HPI_ONNX_TESTDATA at a copy of its data folder).";

    public static readonly string[] Folders = ["node", "pytorch-converted", "pytorch-operator", "simple"];

    public static string Root { get; } =
        Environment.GetEnvironmentVariable("HPI_ONNX_TESTDATA") ?? "/usr/share/libonnx-testdata/data";

    public static bool Installed => Folders.All(folder => System.IO.Directory.Exists(Path.Combine(Root, folder)));

    public static IReadOnlyList<ConformanceCase> Cases { get; } = Discover();

    public static ConformanceCase Find(string id) =>
        Cases.FirstOrDefault(c => c.Id == id) ?? throw new ArgumentException($"no conformance case {id} under {Root}", nameof(id));

    private static ConformanceCase[] Discover()
    {
        if (!Installed)
            return [];
        return
        [
            .. from folder in Folders
               from directory in System.IO.Directory.EnumerateDirectories(Path.Combine(Root, folder))
               where File.Exists(Path.Combine(directory, "model.onnx"))
               let name = Path.GetFileName(directory)
               orderby folder, name
               select new ConformanceCase(folder, name, directory),
        ];
    }
}
