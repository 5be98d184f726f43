using System.Globalization;
using System.Text;

namespace HighPerfInference.LoadGen.ServerMetrics;

/// <summary>One sample of the Prometheus text exposition: <c>name{label="value",...} 1.5</c>.</summary>
public sealed record MetricSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public bool HasLabel(string name, string value) => Labels.TryGetValue(name, out var actual) && actual == value;
}

/// <summary>
/// Reads the Prometheus text format (version 0.0.4): comments and blank lines skipped, label values
/// unescaped (\\, \", \n), NaN and ±Inf understood, an optional timestamp ignored. Off the hot path:
/// it runs twice per load step.
/// </summary>
public static class PrometheusText
{
    public static List<MetricSample> Parse(string text)
    {
        var samples = new List<MetricSample>();
        var lineNumber = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            lineNumber++;
            var line = rawLine.Trim();
            if (line.Length == 0 || line[0] == '#')
                continue;
            samples.Add(ParseLine(line, lineNumber));
        }
        return samples;
    }

    private static MetricSample ParseLine(string line, int lineNumber)
    {
        var i = 0;
        while (i < line.Length && line[i] != '{' && !char.IsWhiteSpace(line[i]))
            i++;
        var name = line[..i];
        if (name.Length == 0)
            throw Bad(lineNumber, "no metric name");
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (true)
            {
                SkipSpaces(line, ref i);
                if (i < line.Length && line[i] == '}')
                {
                    i++;
                    break;
                }
                var equals = line.IndexOf('=', i);
                if (equals < 0 || equals + 1 >= line.Length || line[equals + 1] != '"')
                    throw Bad(lineNumber, "a label needs name=\"value\"");
                var labelName = line[i..equals].Trim();
                i = equals + 2;
                var value = new StringBuilder();
                while (true)
                {
                    if (i >= line.Length)
                        throw Bad(lineNumber, "unterminated label value");
                    var c = line[i++];
                    if (c == '"')
                        break;
                    if (c == '\\' && i < line.Length)
                    {
                        var escaped = line[i++];
                        value.Append(escaped == 'n' ? '\n' : escaped);
                    }
                    else
                    {
                        value.Append(c);
                    }
                }
                labels[labelName] = value.ToString();
                SkipSpaces(line, ref i);
                if (i < line.Length && line[i] == ',')
                    i++;
            }
        }
        var rest = line[i..].Trim();
        var space = rest.IndexOfAny([' ', '\t']);
        var valueText = space < 0 ? rest : rest[..space];
        return new MetricSample(name, labels, ParseValue(valueText, lineNumber));
    }

    private static double ParseValue(string text, int lineNumber) => text switch
    {
        "NaN" => double.NaN,
        "+Inf" or "Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        _ when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) => value,
        _ => throw Bad(lineNumber, $"'{text}' is not a sample value"),
    };

    private static void SkipSpaces(string line, ref int i)
    {
        while (i < line.Length && char.IsWhiteSpace(line[i]))
            i++;
    }

    private static FormatException Bad(int lineNumber, string why) => new($"metrics line {lineNumber}: {why}");
}
