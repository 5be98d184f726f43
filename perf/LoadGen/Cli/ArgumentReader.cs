using System.Globalization;

namespace HighPerfInference.LoadGen.Cli;

/// <summary>
/// The command line as named options: <c>--name value</c>, <c>--name=value</c>, repeatable names and
/// bare flags. Hand-written because the tool needs little, and its errors should name the option.
/// Every option is declared by the command that reads it; an undeclared one is an error, so a typo
/// never silently runs the wrong benchmark.
/// </summary>
public sealed class ArgumentReader
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    private ArgumentReader()
    {
    }

    /// <summary>Splits <paramref name="args"/>; <paramref name="flags"/> are the names that take no value.</summary>
    public static ArgumentReader Parse(IReadOnlyList<string> args, IReadOnlyCollection<string> options, IReadOnlyCollection<string> flags)
    {
        var reader = new ArgumentReader();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
                throw new UsageException($"unexpected argument '{arg}' (options start with --)");
            var name = arg[2..];
            string? value = null;
            var equals = name.IndexOf('=', StringComparison.Ordinal);
            if (equals >= 0)
            {
                value = name[(equals + 1)..];
                name = name[..equals];
            }
            if (flags.Contains(name))
            {
                if (value is not null)
                    throw new UsageException($"--{name} takes no value");
                reader._flags.Add(name);
                continue;
            }
            if (!options.Contains(name))
                throw new UsageException($"unknown option --{name}");
            if (value is null)
            {
                if (i + 1 >= args.Count)
                    throw new UsageException($"--{name} needs a value");
                value = args[++i];
            }
            if (!reader._values.TryGetValue(name, out var list))
                reader._values[name] = list = [];
            list.Add(value);
        }
        return reader;
    }

    public bool Has(string name) => _values.ContainsKey(name) || _flags.Contains(name);

    public bool Flag(string name) => _flags.Contains(name);

    /// <summary>The value of a single-valued option, or <paramref name="fallback"/> when absent.</summary>
    public string? String(string name, string? fallback = null)
    {
        if (!_values.TryGetValue(name, out var list))
            return fallback;
        if (list.Count > 1)
            throw new UsageException($"--{name} given more than once");
        return list[0];
    }

    public string Required(string name) => String(name) ?? throw new UsageException($"--{name} is required");

    /// <summary>Every value of a repeatable option, in order.</summary>
    public IReadOnlyList<string> All(string name) => _values.TryGetValue(name, out var list) ? list : [];

    public int Int(string name, int fallback, int min = int.MinValue) =>
        String(name) is { } text ? ParseInt(name, text, min) : fallback;

    public double Double(string name, double fallback, double min = double.MinValue)
    {
        if (String(name) is not { } text)
            return fallback;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < min)
            throw new UsageException($"--{name}: '{text}' is not a number >= {min.ToString(CultureInfo.InvariantCulture)}");
        return value;
    }

    /// <summary>A comma-separated list of positive integers, e.g. <c>1,4,16,64</c>.</summary>
    public int[]? IntList(string name)
    {
        if (String(name) is not { } text)
            return null;
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
            throw new UsageException($"--{name} needs at least one value");
        var values = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
            values[i] = ParseInt(name, parts[i], 1);
        return values;
    }

    /// <summary>A comma-separated list of positive numbers, e.g. request rates <c>500,1000,2500.5</c>.</summary>
    public double[]? DoubleList(string name)
    {
        if (String(name) is not { } text)
            return null;
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
            throw new UsageException($"--{name} needs at least one value");
        var values = new double[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || values[i] <= 0)
                throw new UsageException($"--{name}: '{parts[i]}' is not a positive number");
        }
        return values;
    }

    /// <summary>A duration: <c>500ms</c>, <c>2s</c>, <c>1.5m</c>, or a bare number of seconds.</summary>
    public TimeSpan Duration(string name, TimeSpan fallback) =>
        String(name) is { } text ? ParseDuration(name, text) : fallback;

    public static TimeSpan ParseDuration(string name, string text)
    {
        var (number, scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 0.001),
            _ when text.EndsWith('s') => (text[..^1], 1.0),
            _ when text.EndsWith('m') => (text[..^1], 60.0),
            _ => (text, 1.0),
        };
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0)
            throw new UsageException($"--{name}: '{text}' is not a duration (e.g. 500ms, 2s, 1m)");
        return TimeSpan.FromSeconds(value * scale);
    }

    private static int ParseInt(string name, string text, int min)
    {
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min)
            throw new UsageException($"--{name}: '{text}' is not an integer >= {min}");
        return value;
    }
}

/// <summary>A command line the tool cannot run; Program prints the message and the usage, and exits 64.</summary>
public sealed class UsageException(string message) : Exception(message);
