using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using HighPerfInference.NativeEngine;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace HighPerfInference.Server.Models;

/// <summary>
/// Reads and checks a model configuration. Every problem throws <see cref="ModelConfigException"/>
/// naming the file and the field: unknown (typo'd) fields (with the nearest known name), wrong
/// types, values outside their limits, and combinations that cannot work. YAML is read as the same
/// document as JSON (same field names).
/// </summary>
public static class ModelConfigReader
{
    public const string JsonFileName = "config.json";
    public const string YamlFileName = "config.yaml";

    private const int MaxBatchSizeLimit = 65535;

    /// <summary>
    /// Reads the configuration of the model in <paramref name="modelDirectory"/> (config.json or
    /// config.yaml; a folder with neither gets the defaults, like a Triton config with only a name).
    /// </summary>
    public static ModelConfig ReadDirectory(string modelDirectory)
    {
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(modelDirectory));
        var json = Path.Combine(modelDirectory, JsonFileName);
        var yaml = Path.Combine(modelDirectory, YamlFileName);
        var hasJson = File.Exists(json);
        var hasYaml = File.Exists(yaml);
        if (hasJson && hasYaml)
            throw new ModelConfigException(modelDirectory, "config", $"both {JsonFileName} and {YamlFileName} exist; keep one");
        if (hasJson)
            return Parse(name, json, File.ReadAllText(json), yaml: false);
        if (hasYaml)
            return Parse(name, yaml, File.ReadAllText(yaml), yaml: true);
        return Parse(name, Path.Combine(modelDirectory, "(no config file)"), "{}", yaml: false);
    }

    /// <summary>Reads a configuration given as text; <paramref name="source"/> names it in errors.</summary>
    public static ModelConfig Parse(string modelName, string source, string text, bool yaml)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(yaml ? YamlToJson(text) : text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new ModelConfigException(source, "(document)", $"not valid JSON: {ex.Message}");
        }
        catch (YamlException ex)
        {
            throw new ModelConfigException(source, "(document)", $"not valid YAML: {ex.Message}");
        }
        using (document)
            return Read(modelName, new Fields(document.RootElement, "", source, s_topLevel));
    }

    private static readonly string[] s_topLevel =
    [
        "name", "platform", "backend", "default_model_filename", "max_batch_size", "input", "output", "dynamic_batching",
        "instance_group", "version_policy", "execution_provider", "intra_op_threads", "model_warmup", "traffic_split",
    ];

    private static ModelConfig Read(string modelName, Fields root)
    {
        var name = root.Text("name") ?? modelName;
        if (name != modelName)
            throw root.Error("name", $"is '{name}' but the model's folder is '{modelName}'");
        if (root.Text("platform") is { } platform && platform != "onnxruntime_onnx")
            throw root.Error("platform", $"'{platform}' is not supported; this server runs \"onnxruntime_onnx\" models");
        if (root.Text("backend") is { } backend && backend != "onnxruntime")
            throw root.Error("backend", $"'{backend}' is not supported; this server runs the \"onnxruntime\" backend");
        var fileName = root.Text("default_model_filename") ?? "model.onnx";
        if (fileName.Length == 0 || fileName.IndexOfAny(['/', '\\']) >= 0)
            throw root.Error("default_model_filename", $"'{fileName}' must be a plain file name inside the version folder");

        var maxBatchSize = (int)root.Integer("max_batch_size", 0, 0, MaxBatchSizeLimit);
        var provider = ReadExecutionProvider(root.Object("execution_provider", ["kind", "fp16", "engine_cache_path", "workspace_size", "memory_limit", "fallback_to_cpu"]));
        var warmup = ReadWarmup(root.Object("model_warmup", ["batches", "batch_size"]), maxBatchSize, provider.Kind);
        return new ModelConfig
        {
            Name = name,
            Source = root.Source,
            DefaultModelFilename = fileName,
            MaxBatchSize = maxBatchSize,
            Inputs = ReadTensors(root, "input"),
            Outputs = ReadTensors(root, "output"),
            DynamicBatching = ReadDynamicBatching(root, maxBatchSize),
            InstanceGroups = ReadInstanceGroups(root),
            VersionPolicy = ReadVersionPolicy(root),
            ExecutionProvider = provider,
            IntraOpThreads = (int)root.Integer("intra_op_threads", 1, 0, 256),
            Warmup = warmup,
            TrafficSplit = ReadTrafficSplit(root),
        };
    }

    private static TensorConfig[] ReadTensors(Fields root, string field)
    {
        var items = root.Objects(field, ["name", "data_type", "dims"]);
        var tensors = new TensorConfig[items.Count];
        for (var i = 0; i < tensors.Length; i++)
        {
            var item = items[i];
            var name = item.Text("name") ?? throw item.Error("name", "is required");
            var typeName = item.Text("data_type") ?? throw item.Error("data_type", "is required");
            var dataType = ModelConfigJson.ParseTritonType(typeName);
            if (dataType == Protocol.DataType.Invalid)
                throw item.Error("data_type", $"'{typeName}' is not a datatype (TYPE_FP32, TYPE_INT64, ...)");
            var dims = item.Integers("dims", -1, long.MaxValue) ?? throw item.Error("dims", "is required");
            tensors[i] = new TensorConfig(name, dataType, dims);
        }
        return tensors;
    }

    private static DynamicBatchingConfig? ReadDynamicBatching(Fields root, int maxBatchSize)
    {
        var batching = root.Object("dynamic_batching",
            ["preferred_batch_size", "max_queue_delay_microseconds", "preserve_ordering", "priority_levels", "default_priority_level", "default_queue_policy"]);
        if (batching is null)
            return null;
        if (maxBatchSize == 0)
            throw root.Error("dynamic_batching", "needs max_batch_size > 0: a model without a batch dimension cannot combine requests");
        var preferred = batching.Integers("preferred_batch_size", 1, maxBatchSize) ?? [];
        if (batching.Boolean("preserve_ordering", false))
            throw batching.Error("preserve_ordering", "true is not supported: each request is answered as soon as its batch completes");
        var levels = (int)batching.Integer("priority_levels", 0, 0, 100);
        var defaultLevel = (int)batching.Integer("default_priority_level", levels, levels == 0 ? 0 : 1, levels);

        var policy = batching.Object("default_queue_policy", ["max_queue_size", "default_timeout_microseconds", "timeout_action", "allow_timeout_override"]);
        var queuePolicy = new QueuePolicyConfig();
        if (policy is not null)
        {
            var action = policy.Text("timeout_action") ?? "REJECT";
            if (action == "DELAY")
                throw policy.Error("timeout_action", "DELAY is not supported; use REJECT (expired requests are answered with a timeout)");
            if (action != "REJECT")
                throw policy.Error("timeout_action", $"'{action}' is not REJECT or DELAY");
            queuePolicy = new QueuePolicyConfig
            {
                MaxQueueSize = (int)policy.Integer("max_queue_size", 0, 0, 1_000_000),
                DefaultTimeoutMicroseconds = policy.Integer("default_timeout_microseconds", 0, 0, 3_600_000_000),
                AllowTimeoutOverride = policy.Boolean("allow_timeout_override", true),
            };
        }
        return new DynamicBatchingConfig
        {
            PreferredBatchSizes = Array.ConvertAll(preferred, size => (int)size),
            MaxQueueDelayMicroseconds = batching.Integer("max_queue_delay_microseconds", 0, 0, 60_000_000),
            PriorityLevels = levels,
            DefaultPriorityLevel = defaultLevel,
            DefaultQueuePolicy = queuePolicy,
        };
    }

    private static InstanceGroupConfig[] ReadInstanceGroups(Fields root)
    {
        var items = root.Objects("instance_group", ["name", "count", "kind", "gpus"]);
        if (items.Count == 0)
            return [new InstanceGroupConfig()];
        var groups = new InstanceGroupConfig[items.Count];
        var total = 0;
        for (var i = 0; i < groups.Length; i++)
        {
            var item = items[i];
            _ = item.Text("name"); // Triton's group name: type-checked, not used
            var kindName = item.Text("kind") ?? "KIND_AUTO";
            var kind = kindName switch
            {
                "KIND_AUTO" => InstanceKind.Auto,
                "KIND_CPU" => InstanceKind.Cpu,
                "KIND_GPU" => InstanceKind.Gpu,
                _ => throw item.Error("kind", $"'{kindName}' is not KIND_CPU, KIND_GPU or KIND_AUTO"),
            };
            var gpus = item.Integers("gpus", 0, 1023) ?? [];
            if (kind == InstanceKind.Cpu && gpus.Length > 0)
                throw item.Error("gpus", "lists GPUs for a KIND_CPU group");
            var count = (int)item.Integer("count", 1, 1, 64);
            groups[i] = new InstanceGroupConfig { Count = count, Kind = kind, Gpus = Array.ConvertAll(gpus, gpu => (int)gpu) };
            total += count * Math.Max(1, gpus.Length);
        }
        if (total > 64)
            throw root.Error("instance_group", $"asks for {total} instances; at most 64");
        return groups;
    }

    private static VersionPolicy ReadVersionPolicy(Fields root)
    {
        var policy = root.Object("version_policy", ["latest", "all", "specific"]);
        if (policy is null)
            return VersionPolicy.Latest(1);
        var latest = policy.Object("latest", ["num_versions"]);
        var all = policy.Object("all", []);
        var specific = policy.Object("specific", ["versions"]);
        if ((latest is null ? 0 : 1) + (all is null ? 0 : 1) + (specific is null ? 0 : 1) != 1)
            throw root.Error("version_policy", "must hold exactly one of latest, all or specific");
        if (latest is not null)
            return VersionPolicy.Latest((int)latest.Integer("num_versions", 1, 1, 1000));
        if (all is not null)
            return VersionPolicy.All;
        var versions = specific!.Integers("versions", 1, long.MaxValue);
        if (versions is null || versions.Length == 0)
            throw specific.Error("versions", "must list at least one version");
        return VersionPolicy.Specific(versions);
    }

    private static ExecutionProviderConfig ReadExecutionProvider(Fields? provider)
    {
        if (provider is null)
            return new ExecutionProviderConfig();
        var kindName = provider.Text("kind") ?? "cpu";
        var kind = kindName.ToLowerInvariant() switch
        {
            "cpu" => ExecutionProviderKind.Cpu,
            "cuda" => ExecutionProviderKind.Cuda,
            "tensorrt" => ExecutionProviderKind.TensorRT,
            _ => throw provider.Error("kind", $"'{kindName}' is not cpu, cuda or tensorrt"),
        };
        var config = new ExecutionProviderConfig
        {
            Kind = kind,
            Fp16 = provider.Boolean("fp16", false),
            EngineCachePath = provider.Text("engine_cache_path"),
            WorkspaceSize = provider.Integer("workspace_size", 0, 0, long.MaxValue),
            MemoryLimit = provider.Integer("memory_limit", 0, 0, long.MaxValue),
            FallbackToCpu = provider.Boolean("fallback_to_cpu", false),
        };
        if (kind != ExecutionProviderKind.TensorRT && (config.Fp16 || config.EngineCachePath is not null || config.WorkspaceSize != 0))
            throw provider.Error("kind", "fp16, engine_cache_path and workspace_size apply to the tensorrt provider only");
        if (kind != ExecutionProviderKind.Cuda && config.MemoryLimit != 0)
            throw provider.Error("kind", "memory_limit applies to the cuda provider only");
        return config;
    }

    private static WarmupConfig ReadWarmup(Fields? warmup, int maxBatchSize, ExecutionProviderKind provider)
    {
        // TensorRT builds its engine on a session's first run (minutes for a large model): by default one
        // warmup batch per instance does that before the version reports READY.
        if (warmup is null)
            return new WarmupConfig { Batches = provider == ExecutionProviderKind.TensorRT ? 1 : 0 };
        return new WarmupConfig
        {
            Batches = (int)warmup.Integer("batches", 1, 0, 1000),
            BatchSize = (int)warmup.Integer("batch_size", 1, 1, Math.Max(1, maxBatchSize)),
        };
    }

    private static Dictionary<long, int> ReadTrafficSplit(Fields root)
    {
        var split = new Dictionary<long, int>();
        var element = root.Raw("traffic_split", JsonValueKind.Object);
        if (element is not { } value)
            return split;
        long total = 0;
        foreach (var property in value.EnumerateObject())
        {
            var field = $"traffic_split.{property.Name}";
            if (!long.TryParse(property.Name, NumberStyles.None, CultureInfo.InvariantCulture, out var version) || version < 1)
                throw new ModelConfigException(root.Source, field, "keys are version numbers (1, 2, ...)");
            if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetInt32(out var weight) || weight is < 0 or > 1_000_000)
                throw new ModelConfigException(root.Source, field, "weights are integers in 0..1000000");
            split[version] = weight;
            total += weight;
        }
        if (split.Count > 0 && total == 0)
            throw root.Error("traffic_split", "the weights add up to 0");
        return split;
    }

    /// <summary>Converts a YAML document to JSON text: plain scalars become numbers, booleans or null where they read as one.</summary>
    private static string YamlToJson(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        if (stream.Documents.Count == 0)
            return "{}";
        return (ToJson(stream.Documents[0].RootNode) ?? new JsonObject()).ToJsonString();
    }

    private static JsonNode? ToJson(YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode mapping:
                var obj = new JsonObject();
                foreach (var (key, value) in mapping.Children)
                    obj[((YamlScalarNode)key).Value ?? ""] = ToJson(value);
                return obj;
            case YamlSequenceNode sequence:
                var array = new JsonArray();
                foreach (var item in sequence.Children)
                    array.Add(ToJson(item));
                return array;
            case YamlScalarNode scalar:
                var text = scalar.Value ?? "";
                if (scalar.Style != ScalarStyle.Plain)
                    return JsonValue.Create(text);
                if (text is "" or "~" or "null")
                    return null;
                if (text is "true" or "false")
                    return JsonValue.Create(text == "true");
                if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
                    return JsonValue.Create(integer);
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var real))
                    return JsonValue.Create(real);
                return JsonValue.Create(text);
            default:
                return null;
        }
    }

    /// <summary>
    /// One JSON object of the config with its path: typed getters that throw with the file and the
    /// field, and a check, when it is opened, that it holds no field outside the known ones.
    /// </summary>
    private sealed class Fields
    {
        private readonly JsonElement _element;
        private readonly string _path;

        public Fields(JsonElement element, string path, string source, string[] known)
        {
            _element = element;
            _path = path;
            Source = source;
            if (element.ValueKind != JsonValueKind.Object)
                throw new ModelConfigException(source, path.Length == 0 ? "(document)" : path, $"expected an object, got {Describe(element)}");
            var seen = new HashSet<string>();
            foreach (var property in element.EnumerateObject())
            {
                if (Array.IndexOf(known, property.Name) < 0)
                    throw new ModelConfigException(source, FieldPath(property.Name), $"unknown field{Suggestion(property.Name, known)}");
                if (!seen.Add(property.Name))
                    throw new ModelConfigException(source, FieldPath(property.Name), "is given twice");
            }
        }

        public string Source { get; }

        public ModelConfigException Error(string field, string problem) => new(Source, FieldPath(field), problem);

        public JsonElement? Raw(string field, JsonValueKind kind)
        {
            if (!_element.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
                return null;
            if (value.ValueKind != kind)
                throw Error(field, $"expected {Describe(kind)}, got {Describe(value)}");
            return value;
        }

        public string? Text(string field) => Raw(field, JsonValueKind.String)?.GetString();

        public bool Boolean(string field, bool fallback)
        {
            if (!_element.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
                return fallback;
            return value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Error(field, $"expected true or false, got {Describe(value)}"),
            };
        }

        /// <summary>An integer (a JSON number, or a string of digits as protobuf's JSON writes 64-bit values) within [min, max].</summary>
        public long Integer(string field, long fallback, long min, long max)
        {
            if (!_element.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
                return fallback;
            return Checked(value, FieldPath(field), min, max);
        }

        public long[]? Integers(string field, long min, long max)
        {
            if (Raw(field, JsonValueKind.Array) is not { } array)
                return null;
            var values = new long[array.GetArrayLength()];
            var i = 0;
            foreach (var item in array.EnumerateArray())
            {
                values[i] = Checked(item, $"{FieldPath(field)}[{i}]", min, max);
                i++;
            }
            return values;
        }

        public Fields? Object(string field, string[] known) =>
            Raw(field, JsonValueKind.Object) is { } value ? new Fields(value, FieldPath(field), Source, known) : null;

        public List<Fields> Objects(string field, string[] known)
        {
            var list = new List<Fields>();
            if (Raw(field, JsonValueKind.Array) is not { } array)
                return list;
            foreach (var item in array.EnumerateArray())
                list.Add(new Fields(item, $"{FieldPath(field)}[{list.Count}]", Source, known));
            return list;
        }

        private long Checked(JsonElement value, string path, long min, long max)
        {
            long number;
            var ok = value.ValueKind switch
            {
                JsonValueKind.Number => value.TryGetInt64(out number),
                JsonValueKind.String => long.TryParse(value.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out number),
                _ => (number = 0) != 0,
            };
            if (!ok)
                throw new ModelConfigException(Source, path, $"expected an integer, got {Describe(value)}");
            if (number < min || number > max)
                throw new ModelConfigException(Source, path, $"{number} is outside {min}..{(max == long.MaxValue ? "" : max.ToString(CultureInfo.InvariantCulture))}");
            return number;
        }

        private string FieldPath(string field) => _path.Length == 0 ? field : $"{_path}.{field}";

        private static string Describe(JsonElement value) => value.ValueKind switch
        {
            JsonValueKind.String => $"\"{value.GetString()}\"",
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
            _ => Describe(value.ValueKind),
        };

        private static string Describe(JsonValueKind kind) => kind switch
        {
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "a list",
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            _ => kind.ToString().ToLowerInvariant(),
        };

        /// <summary>" (did you mean 'x'?)" for the known name closest to a typo, when one is close.</summary>
        private static string Suggestion(string name, string[] known)
        {
            string? best = null;
            var bestDistance = int.MaxValue;
            foreach (var candidate in known)
            {
                var distance = Distance(name, candidate);
                if (distance < bestDistance)
                {
                    best = candidate;
                    bestDistance = distance;
                }
            }
            return best is not null && bestDistance <= Math.Max(2, name.Length / 3) ? $" (did you mean '{best}'?)" : "";
        }

        private static int Distance(string a, string b)
        {
            var previous = new int[b.Length + 1];
            var current = new int[b.Length + 1];
            for (var j = 0; j <= b.Length; j++)
                previous[j] = j;
            for (var i = 1; i <= a.Length; i++)
            {
                current[0] = i;
                for (var j = 1; j <= b.Length; j++)
                    current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
                (previous, current) = (current, previous);
            }
            return previous[b.Length];
        }
    }
}
