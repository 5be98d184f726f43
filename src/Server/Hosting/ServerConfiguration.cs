
namespace HighPerfInference.Server.Hosting;

/// <summary>
/// Where settings come from, lowest precedence first: appsettings.json beside the binaries,
/// environment variables HPI_Section__Key (any setting), the short environment variables
/// HPI_HTTP_PORT etc., and the command-line switches --http-port etc.
/// </summary>
public static class ServerConfiguration
{
    /// <summary>Command-line switch, and the setting it sets. The short environment variable is HPI_ + the switch in upper snake case.</summary>
    private static readonly (string Switch, string Key)[] s_switches =
    [
        ("--host", "Server:Host"),
        ("--http-port", "Server:HttpPort"),
        ("--binary-port", "Server:BinaryPort"),
        ("--model-repository", "Server:ModelRepository"),
        ("--models", "Server:Models"),
        ("--max-request-body-size", "Server:MaxRequestBodySize"),
        ("--shutdown-timeout", "Server:ShutdownTimeoutSeconds"),
        ("--drain-delay", "Server:DrainDelaySeconds"),
    ];

    public const string EnvironmentPrefix = "HPI_";

    /// <summary>Adds the HPI_ environment variables and the command-line switches on top of the builder's sources.</summary>
    public static void AddServerSources(IConfigurationBuilder configuration, string[] args) =>
        AddServerSources(configuration, args, Environment.GetEnvironmentVariable);

    /// <summary>The same, reading the short variables through <paramref name="environment"/> (tests).</summary>
    internal static void AddServerSources(IConfigurationBuilder configuration, string[] args, Func<string, string?> environment)
    {
        configuration.AddEnvironmentVariables(EnvironmentPrefix);

        var shortVariables = new Dictionary<string, string?>();
        var switchMappings = new Dictionary<string, string>();
        foreach (var (name, key) in s_switches)
        {
            switchMappings[name] = key;
            var value = environment(EnvironmentVariable(name));
            if (value is not null)
                shortVariables[key] = value;
        }
        configuration.AddInMemoryCollection(shortVariables);
        configuration.AddCommandLine(args, switchMappings);
    }

    /// <summary>"--http-port" → "HPI_HTTP_PORT".</summary>
    public static string EnvironmentVariable(string commandLineSwitch) =>
        EnvironmentPrefix + commandLineSwitch.TrimStart('-').Replace('-', '_').ToUpperInvariant();

    /// <summary>
    /// Resolves the model repository folder. An absolute path is taken as is; a relative one is tried
    /// from the working directory, then from the folder of the server's binaries and each parent (so
    /// "models" finds the repository root's models/ under `dotnet run` from anywhere in the tree).
    /// When nothing exists the working-directory path is returned, for the repository to report.
    /// </summary>
    public static string ResolveModelRepository(string configured)
    {
        if (Path.IsPathRooted(configured))
            return Path.GetFullPath(configured);
        var fromWorkingDirectory = Path.GetFullPath(configured);
        if (Directory.Exists(fromWorkingDirectory))
            return fromWorkingDirectory;
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, configured);
            if (Directory.Exists(candidate))
                return candidate;
        }
        return fromWorkingDirectory;
    }
}
