namespace HighPerfInference.Server.Hosting;

/// <summary>
/// The server's own settings: section "Server" of appsettings.json, overridden by HPI_* environment
/// variables, overridden by command-line switches (see <see cref="ServerConfiguration"/>).
/// docs/configuration.md lists every key.
/// </summary>
public sealed class ServerOptions
{
    public const string Section = "Server";

    /// <summary>IP address both endpoints bind ("0.0.0.0" all IPv4, "::" all IPv4 and IPv6, "127.0.0.1" loopback).</summary>
    public string Host { get; set; } = "0.0.0.0";

    /// <summary>HTTP/1.1 and h2c (HTTP/2 with prior knowledge) port of the REST API; 0 picks a free port.</summary>
    public int HttpPort { get; set; } = 8000;

    /// <summary>Port of the binary protocol; 0 picks a free port.</summary>
    public int BinaryPort { get; set; } = 8001;

    /// <summary>Model repository folder; a relative path is looked up from the working directory, then upwards from the server's binaries (the repository root).</summary>
    public string ModelRepository { get; set; } = "models";

    /// <summary>Comma-separated model names to load at start; empty loads every model in the repository.</summary>
    public string Models { get; set; } = "";

    /// <summary>Largest HTTP request body accepted, after gzip decompression; larger bodies get 413.</summary>
    public long MaxRequestBodySize { get; set; } = 64L * 1024 * 1024;

    /// <summary>How long shutdown waits for in-flight requests before aborting them, in seconds.</summary>
    public double ShutdownTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// Seconds readiness reports false before the server stops accepting connections, so that a load
    /// balancer polling /v2/health/ready sends no new traffic to a server that is about to close.
    /// </summary>
    public double DrainDelaySeconds { get; set; }

    public TimeSpan ShutdownTimeout => TimeSpan.FromSeconds(ShutdownTimeoutSeconds);
    public TimeSpan DrainDelay => TimeSpan.FromSeconds(DrainDelaySeconds);

    /// <summary>The <see cref="Models"/> list split into names.</summary>
    public IReadOnlyList<string> ModelNames =>
        Models.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Throws with the key name when a value cannot work.</summary>
    public void Validate()
    {
        if (HttpPort is < 0 or > 65535)
            throw new InvalidOperationException($"{Section}:HttpPort must be 0..65535, got {HttpPort}.");
        if (BinaryPort is < 0 or > 65535)
            throw new InvalidOperationException($"{Section}:BinaryPort must be 0..65535, got {BinaryPort}.");
        if (HttpPort != 0 && HttpPort == BinaryPort)
            throw new InvalidOperationException($"{Section}:HttpPort and {Section}:BinaryPort are both {HttpPort}.");
        if (MaxRequestBodySize is <= 0 or > int.MaxValue)
            throw new InvalidOperationException($"{Section}:MaxRequestBodySize must be 1..{int.MaxValue} bytes, got {MaxRequestBodySize}.");
        if (!(ShutdownTimeoutSeconds >= 0) || !(DrainDelaySeconds >= 0))
            throw new InvalidOperationException($"{Section}:ShutdownTimeoutSeconds and {Section}:DrainDelaySeconds must be non-negative numbers.");
        if (!System.Net.IPAddress.TryParse(Host, out _) && Host != "localhost")
            throw new InvalidOperationException($"{Section}:Host must be an IP address or \"localhost\", got \"{Host}\".");
    }
}
