using System.Globalization;
using HighPerfInference.Protocol;
using HighPerfInference.Server.Scheduling;
using Microsoft.Extensions.Logging.Abstractions;

namespace HighPerfInference.Server.Models;

/// <summary>Settings of the model repository (configuration section "ModelRepository").</summary>
public sealed class ModelRepositoryOptions
{
    public const string Section = "ModelRepository";

    /// <summary>The repository folder: &lt;Path&gt;/&lt;model&gt;/config.json and &lt;Path&gt;/&lt;model&gt;/&lt;version&gt;/model.onnx.</summary>
    public string Path { get; set; } = "models";

    /// <summary>Models to load at start; empty loads every model folder.</summary>
    public IList<string> Models { get; set; } = [];

    /// <summary>How often the repository is checked for new, changed or removed models and versions; 0 = never.</summary>
    public double PollIntervalSeconds { get; set; }

    /// <summary>How long an unload (or shutdown) lets queued requests run before answering the rest with Unavailable.</summary>
    public double UnloadTimeoutSeconds { get; set; } = 30;
}

/// <summary>Opens a model version; the seam that lets tests run the repository on in-memory models.</summary>
public interface IModelBackendFactory
{
    IModelBackend Load(string modelPath, ModelConfig config);
}

/// <summary>The default factory: ONNX Runtime through NativeEngine; models on GPU share <paramref name="pinnedMemory"/>.</summary>
public sealed class OnnxBackendFactory(PinnedMemory pinnedMemory, ILogger<OnnxBackendFactory> logger) : IModelBackendFactory
{
    public OnnxBackendFactory()
        : this(new PinnedMemory(), NullLogger<OnnxBackendFactory>.Instance)
    {
    }

    public IModelBackend Load(string modelPath, ModelConfig config) => OnnxBackend.Load(modelPath, config, pinnedMemory, logger);
}

/// <summary>
/// The model repository (Triton's model repository manager plus its scheduler front): it loads the
/// versions the version policy selects, runs each behind its own <see cref="DynamicBatcher"/>,
/// routes requests, reloads and unloads without losing requests, and reports states and statistics.
/// </summary>
/// <remarks>
/// Requests read an immutable routing table (model name → <see cref="ModelRoute"/>) with one volatile
/// read; lifecycle operations build a new table and swap it in. A reload loads the new versions
/// first, swaps the table, then drains the old versions (they finish what they queued) and frees
/// them. A request that reaches a version just as it starts draining is routed again.
/// Lifecycle operations run one at a time.
/// </remarks>
public sealed partial class ModelRepository : IModelRepository, IUnroutedModels, IAsyncDisposable
{
    private const string Platform = "onnxruntime_onnx";

    private readonly ModelRepositoryOptions _options;
    private readonly IModelBackendFactory _backends;
    private readonly IBufferAllocator? _allocator;
    private readonly IDurationObservers? _durationObservers;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private readonly Lock _statusLock = new();
    /// <summary>Per model: the state of each version tried (key 0 = the model as a whole, before any version).</summary>
    private readonly Dictionary<string, SortedDictionary<long, (ModelState State, string Reason)>> _status = [];
    /// <summary>Models meant to be loaded (server readiness waits for them).</summary>
    private readonly HashSet<string> _required = [];
    private readonly Dictionary<string, string> _fingerprints = [];
    private Timer? _pollTimer;
    private int _polling;
    private volatile bool _started;
    private volatile bool _stopping;

    public ModelRepository(ModelRepositoryOptions options, IModelBackendFactory? backends = null, IBufferAllocator? allocator = null, ILogger<ModelRepository>? logger = null,
        IDurationObservers? durationObservers = null)
    {
        _options = options;
        _backends = backends ?? new OnnxBackendFactory();
        _allocator = allocator;
        _durationObservers = durationObservers;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        Router = new InferenceRouter(this, _logger);
        RepositoryPath = System.IO.Path.GetFullPath(options.Path);
    }

    public string RepositoryPath { get; }

    /// <summary>The data plane this repository publishes its ready versions to: the front doors' <see cref="IInferenceScheduler"/>.</summary>
    public InferenceRouter Router { get; }

    private TimeSpan UnloadTimeout => TimeSpan.FromSeconds(_options.UnloadTimeoutSeconds);

    // ---- lifecycle ----

    /// <summary>Loads the configured models (or all), logging failures, then starts polling when configured.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (!Directory.Exists(RepositoryPath))
            throw new DirectoryNotFoundException($"model repository '{RepositoryPath}' does not exist");
        IEnumerable<string> names = _options.Models.Count > 0 ? _options.Models : ModelFolders().Order(StringComparer.Ordinal);
        foreach (var name in names)
        {
            try
            {
                await LoadAsync(name, null, cancellationToken).ConfigureAwait(false);
            }
            catch (InferenceException ex)
            {
                LogLoadFailed(_logger, name, ex.Message);
            }
        }
        _started = true;
        if (_options.PollIntervalSeconds > 0)
        {
            var interval = TimeSpan.FromSeconds(_options.PollIntervalSeconds);
            _pollTimer = new Timer(static state => _ = ((ModelRepository)state!).PollAsync(), this, interval, interval);
        }
    }

    /// <summary>Stops polling and unloads every model: queued requests run until the unload timeout or <paramref name="cancellationToken"/>, the rest are answered Unavailable.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        _stopping = true;
        if (_pollTimer is not null)
            await _pollTimer.DisposeAsync().ConfigureAwait(false);
        await _lifecycle.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            var drains = new List<Task>();
            foreach (var route in Router.Clear())
            {
                foreach (var version in route.Versions)
                    drains.Add(RetireAsync(route.Name, (LoadedVersion)version, UnloadTimeout, "the server shut down", cancellationToken));
            }
            await Task.WhenAll(drains).ConfigureAwait(false);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>Stops at once (queued requests answered Unavailable). Safe to call more than once: the DI container may.</summary>
    public async ValueTask DisposeAsync()
    {
        using var expired = new CancellationTokenSource();
        await expired.CancelAsync().ConfigureAwait(false);
        await StopAsync(expired.Token).ConfigureAwait(false);
    }

    public async Task LoadAsync(string name, string? configJson = null, CancellationToken cancellationToken = default)
    {
        var directory = ModelDirectory(name);
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await LoadLockedAsync(name, directory, configJson).ConfigureAwait(false);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    public async Task UnloadAsync(string name, CancellationToken cancellationToken = default)
    {
        bool known;
        lock (_statusLock)
            known = _status.ContainsKey(name) || _required.Contains(name);
        if (!known)
            ModelDirectory(name); // throws NotFound for a name the repository never had
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (_statusLock)
                _required.Remove(name);
            if (!Router.TryGetRoute(name, out var route))
                return;
            Router.Publish(name, null);
            var drains = new List<Task>();
            foreach (var version in route.Versions)
                drains.Add(RetireAsync(name, (LoadedVersion)version, UnloadTimeout, "unloaded", cancellationToken));
            await Task.WhenAll(drains).ConfigureAwait(false);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    private async Task LoadLockedAsync(string name, string directory, string? configJson)
    {
        lock (_statusLock)
            _required.Add(name);
        ModelConfig config;
        IReadOnlyList<long> selected;
        try
        {
            config = configJson is null
                ? ModelConfigReader.ReadDirectory(directory)
                : ModelConfigReader.Parse(name, $"load request for model '{name}' (config parameter)", configJson, yaml: false);
            var available = VersionFolders(directory);
            if (available.Count == 0)
                throw new ModelConfigException(directory, "versions", $"no version folder (1, 2, ...) holding {config.DefaultModelFilename}");
            selected = config.VersionPolicy.Select(available);
            if (selected.Count == 0)
                throw new ModelConfigException(config.Source, "version_policy", $"selects none of the versions present ({string.Join(", ", available)})");
            foreach (var version in config.TrafficSplit.Keys)
            {
                if (!selected.Contains(version))
                    throw new ModelConfigException(config.Source, $"traffic_split.{version}", $"version {version} is not loaded by the version policy (loaded: {string.Join(", ", selected)})");
            }
        }
        catch (ModelConfigException ex)
        {
            SetStatus(name, 0, ModelState.Unavailable, ex.Message);
            throw new InferenceException(ErrorCode.InvalidArgument, ex.Message);
        }

        lock (_statusLock)
        {
            _fingerprints[name] = Fingerprint(directory);
            _status.Remove(name);
        }
        var loaded = new List<LoadedVersion>();
        var failures = new List<string>();
        foreach (var number in selected)
        {
            SetStatus(name, number, ModelState.Loading, "");
            try
            {
                loaded.Add(await Task.Run(() => LoadVersion(name, directory, number, config)).ConfigureAwait(false));
                SetStatus(name, number, ModelState.Ready, "");
            }
            catch (Exception ex)
            {
                var reason = ex is ModelConfigException ? ex.Message : $"{System.IO.Path.Combine(directory, number.ToString(CultureInfo.InvariantCulture), config.DefaultModelFilename)}: {ex.Message}";
                SetStatus(name, number, ModelState.Unavailable, reason);
                failures.Add($"version {number}: {reason}");
                LogVersionLoadFailed(_logger, name, number, reason);
            }
        }

        Router.TryGetRoute(name, out var previous);
        if (loaded.Count > 0)
        {
            var route = new ModelRoute(name, [.. loaded], config.TrafficSplit);
            Router.Publish(name, route);
            if (_logger.IsEnabled(LogLevel.Information))
                LogReady(_logger, name, string.Join(", ", loaded.Select(v => v.Name)));
            if (!route.SplitTakesOneSignature)
                LogSplitSignatures(_logger, name);
            if (previous is not null)
            {
                var retiring = new List<Task>();
                foreach (var version in previous.Versions)
                    retiring.Add(RetireAsync(name, (LoadedVersion)version, UnloadTimeout, reason: null, CancellationToken.None));
                await Task.WhenAll(retiring).ConfigureAwait(false);
                foreach (var version in previous.Versions)
                {
                    if (!loaded.Exists(v => v.Number == version.Number) && !failures.Exists(f => f.StartsWith($"version {version.Number}:", StringComparison.Ordinal)))
                        ClearStatus(name, version.Number);
                }
            }
        }
        else if (previous is not null)
        {
            // Nothing new loaded: the versions already serving keep serving.
            foreach (var version in previous.Versions)
                SetStatus(name, version.Number, ModelState.Ready, "");
        }
        if (failures.Count > 0)
            throw new InferenceException(ErrorCode.Unavailable, $"model '{name}' failed to load: {string.Join("; ", failures)}");
    }

    private LoadedVersion LoadVersion(string name, string directory, long number, ModelConfig config)
    {
        var path = System.IO.Path.Combine(directory, number.ToString(CultureInfo.InvariantCulture), config.DefaultModelFilename);
        var backend = _backends.Load(path, config);
        DynamicBatcher? batcher = null;
        try
        {
            var version = number.ToString(CultureInfo.InvariantCulture);
            batcher = new DynamicBatcher(name, version, backend, config.SchedulerOptions(backend.Allocator ?? _allocator, _durationObservers?.ForVersion(name, version), _logger));
            batcher.Start(config.Warmup.Batches, config.Warmup.BatchSize);
            return new LoadedVersion(number, config, backend, batcher);
        }
        catch
        {
            batcher?.Dispose();
            backend.Dispose();
            throw;
        }
    }

    /// <summary>Drains a version that no longer receives requests, frees it and records why it went (null = replaced by a reload).</summary>
    private async Task RetireAsync(string name, LoadedVersion version, TimeSpan grace, string? reason, CancellationToken cancellationToken)
    {
        if (reason is not null)
            SetStatus(name, version.Number, ModelState.Unloading, reason);
        await version.Batcher.DrainAsync(grace, cancellationToken).ConfigureAwait(false);
        version.Batcher.Dispose();
        version.Backend.Dispose();
        if (reason is not null)
            SetStatus(name, version.Number, ModelState.Unavailable, reason);
        LogUnloaded(_logger, name, version.Name);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Model {Model} failed to load: {Reason}")]
    private static partial void LogLoadFailed(ILogger logger, string model, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Model {Model} version {Version} failed to load: {Reason}")]
    private static partial void LogVersionLoadFailed(ILogger logger, string model, long version, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {Model} ready: versions {Versions}")]
    private static partial void LogReady(ILogger logger, string model, string versions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {Model} version {Version} unloaded")]
    private static partial void LogUnloaded(ILogger logger, string model, string version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {Model}: the versions of its traffic split take different inputs or outputs; " +
        "a V2 or binary-protocol request is routed only among the versions it fits, a predict or raw binary request by the split alone (docs/model-configuration.md#traffic-split)")]
    private static partial void LogSplitSignatures(ILogger logger, string model);

    [LoggerMessage(Level = LogLevel.Error, Message = "Polling the model repository failed")]
    private static partial void LogPollFailed(ILogger logger, Exception exception);

    /// <summary>Reloads models whose files changed, loads new ones (when loading all) and unloads removed ones.</summary>
    internal async Task PollAsync()
    {
        if (_stopping || Interlocked.Exchange(ref _polling, 1) == 1)
            return;
        try
        {
            var folders = ModelFolders();
            string[] required;
            Dictionary<string, string> fingerprints;
            lock (_statusLock)
            {
                required = [.. _required];
                fingerprints = new Dictionary<string, string>(_fingerprints);
            }
            foreach (var name in required)
            {
                if (!folders.Contains(name))
                    await UnloadAsync(name).ConfigureAwait(false);
                else if (fingerprints.GetValueOrDefault(name) != Fingerprint(System.IO.Path.Combine(RepositoryPath, name)))
                    await TryLoadAsync(name).ConfigureAwait(false);
            }
            if (_options.Models.Count == 0)
            {
                foreach (var name in folders)
                {
                    if (!fingerprints.ContainsKey(name))
                        await TryLoadAsync(name).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex)
        {
            LogPollFailed(_logger, ex);
        }
        finally
        {
            Volatile.Write(ref _polling, 0);
        }
    }

    private async Task TryLoadAsync(string name)
    {
        try
        {
            await LoadAsync(name).ConfigureAwait(false);
        }
        catch (InferenceException ex)
        {
            LogLoadFailed(_logger, name, ex.Message);
            lock (_statusLock)
                _fingerprints[name] = Fingerprint(System.IO.Path.Combine(RepositoryPath, name));
        }
    }

    // ---- what the router asks about a model it has no route for ----

    public (ErrorCode Code, string Message) Explain(string model, string? version)
    {
        lock (_statusLock)
        {
            if (_status.TryGetValue(model, out var versions))
            {
                if (version is null)
                    return (ErrorCode.Unavailable, $"model '{model}' is not ready ({Describe(versions)})");
                if (long.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && versions.TryGetValue(number, out var status))
                    return (ErrorCode.Unavailable, $"model '{model}' version {version} is not ready ({status.State.Name()}{(status.Reason.Length > 0 ? ": " + status.Reason : "")})");
            }
        }
        return (ErrorCode.NotFound, version is null ? $"unknown model '{model}'" : $"unknown version {version} of model '{model}'");
    }

    // ---- queries ----

    public bool IsReady
    {
        get
        {
            if (!_started || _stopping)
                return false;
            lock (_statusLock)
            {
                foreach (var name in _required)
                {
                    if (!Router.TryGetRoute(name, out _))
                        return false;
                }
            }
            return true;
        }
    }

    public bool IsModelReady(string name, string? version = null) =>
        Router.TryGetRoute(name, out var route) && (version is null || route.Find(version) is not null);

    public IReadOnlyList<ModelIndexEntry> GetIndex(bool readyOnly = false)
    {
        var entries = new List<ModelIndexEntry>();
        var folders = ModelFolders();
        lock (_statusLock)
        {
            foreach (var name in _status.Keys)
                folders.Add(name);
            foreach (var name in folders.Order(StringComparer.Ordinal))
            {
                if (!_status.TryGetValue(name, out var versions))
                {
                    if (!readyOnly)
                        entries.Add(new ModelIndexEntry(name, null, ModelState.Unavailable, "not loaded"));
                    continue;
                }
                foreach (var (number, status) in versions)
                {
                    if (!readyOnly || status.State == ModelState.Ready)
                        entries.Add(new ModelIndexEntry(name, number == 0 ? null : number.ToString(CultureInfo.InvariantCulture), status.State, status.Reason));
                }
            }
        }
        return entries;
    }

    public ModelMetadata GetMetadata(string name, string? version = null)
    {
        var route = Route(name);
        var loaded = Version(route, version);
        return new ModelMetadata(name, version is null ? route.VersionNames : [loaded.Name], Platform, loaded.Inputs, loaded.Outputs);
    }

    public int GetMaxBatchSize(string name, string? version = null) => Version(Route(name), version).Config.MaxBatchSize;

    public string GetConfigJson(string name, string? version = null) => Version(Route(name), version).ConfigJson;

    public IReadOnlyList<ModelStatistics> GetStatistics(string? name = null, string? version = null)
    {
        var statistics = new List<ModelStatistics>();
        if (name is null)
        {
            foreach (var route in Router.Routes.OrderBy(r => r.Name, StringComparer.Ordinal))
            {
                foreach (var loaded in route.Versions)
                    statistics.Add(loaded.Batcher.GetStatistics());
            }
            return statistics;
        }
        var modelRoute = Route(name);
        if (version is not null)
        {
            statistics.Add(Version(modelRoute, version).Batcher.GetStatistics());
            return statistics;
        }
        foreach (var loaded in modelRoute.Versions)
            statistics.Add(loaded.Batcher.GetStatistics());
        return statistics;
    }

    private ModelRoute Route(string name)
    {
        if (Router.TryGetRoute(name, out var route))
            return route;
        lock (_statusLock)
        {
            if (_status.TryGetValue(name, out var versions))
                throw new InferenceException(ErrorCode.Unavailable, $"model '{name}' is not ready ({Describe(versions)})");
        }
        if (Directory.Exists(System.IO.Path.Combine(RepositoryPath, name)) && IsModelName(name))
            throw new InferenceException(ErrorCode.Unavailable, $"model '{name}' is not loaded");
        throw new InferenceException(ErrorCode.NotFound, $"unknown model '{name}'");
    }

    private static LoadedVersion Version(ModelRoute route, string? version)
    {
        if (version is null)
            return (LoadedVersion)route.Latest;
        return (LoadedVersion?)route.Find(version) ?? throw new InferenceException(ErrorCode.NotFound, $"model '{route.Name}' has no ready version {version} (ready: {string.Join(", ", route.VersionNames)})");
    }

    // ---- repository folder and status bookkeeping ----

    private void SetStatus(string name, long version, ModelState state, string reason)
    {
        lock (_statusLock)
        {
            if (!_status.TryGetValue(name, out var versions))
                _status[name] = versions = [];
            if (version != 0)
                versions.Remove(0);
            versions[version] = (state, reason);
        }
    }

    private void ClearStatus(string name, long version)
    {
        lock (_statusLock)
        {
            if (_status.TryGetValue(name, out var versions))
                versions.Remove(version);
        }
    }

    private static string Describe(SortedDictionary<long, (ModelState State, string Reason)> versions)
    {
        var parts = new List<string>();
        foreach (var (number, status) in versions)
            parts.Add($"{(number == 0 ? "" : $"version {number} ")}{status.State.Name()}{(status.Reason.Length > 0 ? ": " + status.Reason : "")}");
        return string.Join("; ", parts);
    }

    private string ModelDirectory(string name)
    {
        var directory = System.IO.Path.Combine(RepositoryPath, name);
        if (!IsModelName(name) || !Directory.Exists(directory))
            throw new InferenceException(ErrorCode.NotFound, $"model '{name}' is not in the repository {RepositoryPath}");
        return directory;
    }

    private static bool IsModelName(string name) =>
        name.Length > 0 && name != "." && name != ".." && name.IndexOfAny(['/', '\\']) < 0 && !name.StartsWith('.');

    private HashSet<string> ModelFolders()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (!Directory.Exists(RepositoryPath))
            return names;
        foreach (var directory in Directory.EnumerateDirectories(RepositoryPath))
        {
            var name = System.IO.Path.GetFileName(directory);
            if (IsModelName(name) && (VersionFolders(directory).Count > 0 || HasConfig(directory)))
                names.Add(name);
        }
        return names;
    }

    private static bool HasConfig(string directory) =>
        File.Exists(System.IO.Path.Combine(directory, ModelConfigReader.JsonFileName)) || File.Exists(System.IO.Path.Combine(directory, ModelConfigReader.YamlFileName));

    private static List<long> VersionFolders(string directory)
    {
        var versions = new List<long>();
        foreach (var folder in Directory.EnumerateDirectories(directory))
        {
            if (long.TryParse(System.IO.Path.GetFileName(folder), NumberStyles.None, CultureInfo.InvariantCulture, out var version) && version > 0)
                versions.Add(version);
        }
        return versions;
    }

    /// <summary>What polling compares: the config files and every version folder's files, with sizes and times.</summary>
    private static string Fingerprint(string directory)
    {
        if (!Directory.Exists(directory))
            return "";
        var parts = new List<string>();
        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            var info = new FileInfo(file);
            parts.Add($"{System.IO.Path.GetRelativePath(directory, file)}:{info.Length}:{info.LastWriteTimeUtc.Ticks}");
        }
        parts.Sort(StringComparer.Ordinal);
        return string.Join("|", parts);
    }
}
