using HighPerfInference.Server.Hosting;
using HighPerfInference.Server.Http;
using HighPerfInference.Server.Http.Docs;
using HighPerfInference.Server.Observability;
using HighPerfInference.Server.Transport;

namespace HighPerfInference.Server;

/// <summary>The composition root: every part of the server is registered here, in one place.</summary>
public static class Program
{
    private const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    public static Task Main(string[] args)
    {
        // Socket completions run on the socket engine's thread instead of being queued to the thread
        // pool: one thread wake less per read, which on a small machine is CPU the model instances
        // keep (docs/configuration.md, "Runtime settings"). Set before the first socket; an explicit
        // setting wins.
        if (Environment.GetEnvironmentVariable(InlineCompletions) is null)
            Environment.SetEnvironmentVariable(InlineCompletions, "1");
        return Build(args).RunAsync();
    }

    /// <summary>
    /// Builds the server without starting it. Tests run the real thing with it (on ephemeral ports);
    /// <paramref name="configure"/> lets them replace services before the build.
    /// </summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = ServerHost.CreateBuilder(args);
        builder.AddModels();

        // Front doors.
        builder.AddBinaryTransport();
        builder.Services.AddHttpApi();
        builder.Services.AddPrometheusMetrics();

        configure?.Invoke(builder);
        var app = builder.Build();
        app.MapHttpApi();
        app.MapPrometheusMetrics();
        app.MapDocs();
        return app;
    }
}
