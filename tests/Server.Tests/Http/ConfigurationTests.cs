using HighPerfInference.Server.Hosting;
using Microsoft.Extensions.Configuration;

namespace HighPerfInference.Server.Tests.Http;

/// <summary>Where the server's settings come from and which source wins.</summary>
public sealed class ConfigurationTests
{
    private static ServerOptions Bind(Dictionary<string, string?> appsettings, Dictionary<string, string> environment, params string[] args)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(appsettings);
        ServerConfiguration.AddServerSources(configuration, args, name => environment.GetValueOrDefault(name));
        return configuration.Build().GetSection(ServerOptions.Section).Get<ServerOptions>() ?? new ServerOptions();
    }

    [Fact]
    public void Defaults_are_the_documented_ports_and_limits()
    {
        var options = Bind([], []);
        Assert.Equal(8000, options.HttpPort);
        Assert.Equal(8001, options.BinaryPort);
        Assert.Equal("models", options.ModelRepository);
        Assert.Equal(64L * 1024 * 1024, options.MaxRequestBodySize);
        Assert.Empty(options.ModelNames);
    }

    [Fact]
    public void Command_line_beats_short_variables_which_beat_appsettings()
    {
        var appsettings = new Dictionary<string, string?> { ["Server:HttpPort"] = "1000", ["Server:BinaryPort"] = "1001", ["Server:Models"] = "mlp" };
        var environment = new Dictionary<string, string> { ["HPI_HTTP_PORT"] = "2000", ["HPI_BINARY_PORT"] = "2001", ["HPI_DRAIN_DELAY"] = "2.5" };
        var options = Bind(appsettings, environment, "--http-port", "3000", "--models", "add_sub, identity_fp32", "--max-request-body-size", "1024");

        Assert.Equal(3000, options.HttpPort);
        Assert.Equal(2001, options.BinaryPort);
        Assert.Equal(["add_sub", "identity_fp32"], options.ModelNames);
        Assert.Equal(1024, options.MaxRequestBodySize);
        Assert.Equal(TimeSpan.FromSeconds(2.5), options.DrainDelay);
    }

    [Fact]
    public void Short_variables_are_the_switches_in_upper_snake_case() =>
        Assert.Equal("HPI_MODEL_REPOSITORY", ServerConfiguration.EnvironmentVariable("--model-repository"));

    [Theory]
    [InlineData("Server:HttpPort", "70000", "HttpPort")]
    [InlineData("Server:MaxRequestBodySize", "0", "MaxRequestBodySize")]
    [InlineData("Server:Host", "my-host", "Host")]
    [InlineData("Server:ShutdownTimeoutSeconds", "-1", "ShutdownTimeoutSeconds")]
    public void Impossible_values_are_refused_naming_the_key(string key, string value, string named)
    {
        var options = Bind(new Dictionary<string, string?> { [key] = value }, []);
        var error = Assert.Throws<InvalidOperationException>(options.Validate);
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_port_twice_is_refused() =>
        Assert.Throws<InvalidOperationException>(new ServerOptions { HttpPort = 9000, BinaryPort = 9000 }.Validate);

    [Fact]
    public void A_relative_model_repository_is_found_above_the_binaries()
    {
        var resolved = ServerConfiguration.ResolveModelRepository("models");
        Assert.True(File.Exists(Path.Combine(resolved, "add_sub", "1", "model.onnx")), resolved);
        Assert.Equal("/srv/models", ServerConfiguration.ResolveModelRepository("/srv/models"));
    }
}
