using HighPerfInference.Server.Hosting;
using HighPerfInference.Server.Http;

namespace HighPerfInference.Server;

/// <summary>The composition root: every part of the server is registered here, in one place.</summary>
public static class Program
{
    public static Task Main(string[] args) => Build(args).RunAsync();

    /// <summary>Builds the server without starting it; tests run the real thing on ephemeral ports with it.</summary>
    public static WebApplication Build(string[] args)
    {
        var builder = ServerHost.CreateBuilder(args);

        // Front doors. The binary protocol (Transport) registers its connection handler here:
        //   builder.UseBinaryProtocol(listen => listen.UseConnectionHandler<...>());
        builder.Services.AddHttpApi();

        var app = builder.Build();
        app.MapHttpApi();
        return app;
    }
}
