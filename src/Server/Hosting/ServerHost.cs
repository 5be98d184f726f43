using System.Net;
using HighPerfInference.Server.Models;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace HighPerfInference.Server.Hosting;

/// <summary>
/// Builds the host: configuration sources, <see cref="ServerOptions"/>, logging, Kestrel with the
/// HTTP endpoint (HTTP/1.1 + h2c) and, when the transport registered one, the binary-protocol endpoint.
/// </summary>
public static class ServerHost
{
    public static WebApplicationBuilder CreateBuilder(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = args,
            // appsettings.json lives beside the binaries, wherever `dotnet run` is started from.
            ContentRootPath = AppContext.BaseDirectory,
        });
        ServerConfiguration.AddServerSources(builder.Configuration, args);

        var options = builder.Configuration.GetSection(ServerOptions.Section).Get<ServerOptions>() ?? new ServerOptions();
        options.Validate();
        options.ModelRepository = ServerConfiguration.ResolveModelRepository(options.ModelRepository);

        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss.fff ";
        });

        var endpoints = new ServerEndpoints();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(endpoints);
        builder.Services.AddSingleton<ServerLifecycle>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ServerLifecycle>());
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownTimeout + options.DrainDelay);

        builder.WebHost.ConfigureKestrel(kestrel => ConfigureKestrel(kestrel, options, endpoints));
        return builder;
    }

    /// <summary>
    /// Registers the model repository and its scheduler: Server:ModelRepository (resolved) and
    /// Server:Models choose the folder and the models to load; the "ModelRepository" section holds
    /// the repository's other settings (polling, unload timeout).
    /// </summary>
    public static WebApplicationBuilder AddModels(this WebApplicationBuilder builder)
    {
        builder.Services.AddModelRepository(builder.Configuration.GetSection(ModelRepositoryOptions.Section));
        builder.Services.AddOptions<ModelRepositoryOptions>().Configure<ServerOptions>(static (repository, server) =>
        {
            repository.Path = server.ModelRepository;
            if (server.ModelNames.Count > 0)
                repository.Models = [.. server.ModelNames];
        });
        return builder;
    }

    /// <summary>
    /// Opens the binary-protocol port with the given connection handler setup, e.g.
    /// <c>listen => listen.UseConnectionHandler&lt;T&gt;()</c>.
    /// </summary>
    public static WebApplicationBuilder UseBinaryProtocol(this WebApplicationBuilder builder, Action<ListenOptions> configure)
    {
        builder.Services.AddSingleton(new BinaryProtocolEndpoint(configure));
        return builder;
    }

    private static void ConfigureKestrel(KestrelServerOptions kestrel, ServerOptions options, ServerEndpoints endpoints)
    {
        kestrel.AddServerHeader = false;
        // h2c connections look like TLS to Kestrel (see CleartextHttp2); their :scheme is "http".
        kestrel.AllowAlternateSchemes = true;
        kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodySize;
        // The infer endpoint keeps a whole HTTP/1.1 body in Kestrel's receive buffer and hands the
        // scheduler slices of it, so that buffer must be able to hold the largest body we accept.
        kestrel.Limits.MaxRequestBufferSize = Math.Max(1024 * 1024, options.MaxRequestBodySize + 64 * 1024);

        var address = options.Host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(options.Host);
        kestrel.Listen(address, options.HttpPort, listen =>
        {
            listen.UseCleartextHttp2Detection(kestrel.Limits.RequestHeadersTimeout);
            endpoints.Http = listen;
        });

        if (kestrel.ApplicationServices.GetService<BinaryProtocolEndpoint>() is { } binary)
        {
            kestrel.Listen(address, options.BinaryPort, listen =>
            {
                binary.Configure(listen);
                endpoints.Binary = listen;
            });
        }
    }
}
