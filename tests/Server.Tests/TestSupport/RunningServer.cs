using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using HighPerfInference.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace HighPerfInference.Server.Tests.TestSupport;

/// <summary>
/// The real server, built by <see cref="Program.Build"/> exactly as `dotnet run` builds it, listening
/// on 127.0.0.1 with ephemeral ports (HTTP and, when the transport is registered, binary) and serving
/// the repository's own models/ folder. Start one per test class, or share one through
/// <see cref="ServerFixture"/>.
/// </summary>
public sealed class RunningServer : IAsyncDisposable
{
    private RunningServer(WebApplication app, ServerEndpoints endpoints)
    {
        App = app;
        HttpEndPoint = endpoints.HttpEndPoint;
        BinaryEndPoint = endpoints.BinaryEndPoint;
        BaseAddress = new Uri($"http://{HttpEndPoint}/");
        Http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public WebApplication App { get; }

    /// <summary>A client for the REST API (HTTP/1.1 keep-alive by default).</summary>
    public HttpClient Http { get; }

    public Uri BaseAddress { get; }

    public IPEndPoint HttpEndPoint { get; }

    /// <summary>The binary protocol's endpoint, or null when the server runs without the transport.</summary>
    public IPEndPoint? BinaryEndPoint { get; }

    /// <summary>The repository's models/ folder (add_sub, identity_fp32, mlp, ...).</summary>
    public static string ModelsFolder { get; } = FindModels();

    /// <summary>
    /// Builds and starts the server with <paramref name="models"/> loaded, and waits until each of them
    /// is ready (a stand-in repository put in by <paramref name="configure"/> answers for its own models). <paramref name="arguments"/> are extra command-line switches (e.g. "--max-request-body-size", "1024");
    /// <paramref name="configure"/> may replace services before the build.
    /// </summary>
    public static async Task<RunningServer> StartAsync(IEnumerable<string> models, IEnumerable<string>? arguments = null, Action<WebApplicationBuilder>? configure = null)
    {
        string[] args =
        [
            "--host", "127.0.0.1",
            "--http-port", "0",
            "--binary-port", "0",
            "--model-repository", ModelsFolder,
            "--models", string.Join(',', models),
            .. arguments ?? [],
        ];
        var app = Program.Build(args, configure);
        await app.StartAsync();
        var server = new RunningServer(app, app.Services.GetRequiredService<ServerEndpoints>());
        try
        {
            foreach (var model in models)
                await server.WaitUntilReadyAsync(model);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    /// <summary>Waits (up to a minute) until GET /v2/models/{model}/ready answers 200; fails with the repository index otherwise.</summary>
    public async Task WaitUntilReadyAsync(string model)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (DateTime.UtcNow < deadline)
        {
            using var response = await Http.GetAsync($"v2/models/{model}/ready");
            if (response.StatusCode == HttpStatusCode.OK)
                return;
            await Task.Delay(50);
        }
        using var index = await Http.PostAsync("v2/repository/index", null);
        throw new InvalidOperationException($"model {model} did not become ready: {await index.Content.ReadAsStringAsync()}");
    }

    /// <summary>GET and parse a JSON answer, asserting the status.</summary>
    public async Task<JsonElement> GetJsonAsync(string path, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await Http.GetAsync(path);
        Assert.Equal(expected, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }

    private static string FindModels()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "HighPerfInference.sln")))
                return Path.Combine(folder.FullName, "models");
        }
        throw new DirectoryNotFoundException("The repository root (HighPerfInference.sln) is not above " + AppContext.BaseDirectory);
    }
}

/// <summary>
/// One real server shared by every test class in the "Server" collection: add_sub, add_sub_int32,
/// identity_fp32, identity_all_types, fixed_vec4 and mlp, with an 8 MiB request limit. Tests that change the server
/// (unload, limits, fault injection) start their own <see cref="RunningServer"/>.
/// </summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public static readonly string[] Models = ["add_sub", "add_sub_int32", "identity_fp32", "identity_all_types", "fixed_vec4", "mlp"];

    public const int MaxRequestBodySize = 8 * 1024 * 1024;

    private RunningServer? _server;

    public RunningServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    public async Task InitializeAsync() =>
        _server = await RunningServer.StartAsync(Models, ["--max-request-body-size", MaxRequestBodySize.ToString(System.Globalization.CultureInfo.InvariantCulture)]);

    public async Task DisposeAsync()
    {
        if (_server is not null)
            await _server.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "Server";
}
