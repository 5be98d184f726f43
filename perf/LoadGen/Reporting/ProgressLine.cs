using System.Diagnostics;
using System.Globalization;
using HighPerfInference.LoadGen.Load;

namespace HighPerfInference.LoadGen.Reporting;

/// <summary>
/// The line on stderr while a step runs: phase, elapsed time, current answers/s. On a terminal it
/// rewrites itself once a second; redirected, it prints one line a second.
/// </summary>
public sealed class ProgressLine(TextWriter output, bool enabled)
{
    private readonly bool _interactive = !Console.IsErrorRedirected;

    /// <summary>Waits <paramref name="duration"/>, showing progress.</summary>
    public async Task RunAsync(string label, TimeSpan duration, Connection[] connections, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var lastCount = Completed(connections);
        var lastTime = start;
        while (true)
        {
            var left = duration - Stopwatch.GetElapsedTime(start);
            if (left <= TimeSpan.Zero)
                break;
            await Task.Delay(left < TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            if (!enabled)
                continue;
            var now = Stopwatch.GetTimestamp();
            var count = Completed(connections);
            var rate = (count - lastCount) / Stopwatch.GetElapsedTime(lastTime, now).TotalSeconds;
            (lastCount, lastTime) = (count, now);
            var line = string.Create(CultureInfo.InvariantCulture,
                $"  {label}: {Stopwatch.GetElapsedTime(start).TotalSeconds,5:0.0}/{duration.TotalSeconds:0.#}s  {rate,12:N0} answers/s");
            if (_interactive)
                output.Write($"\r{line,-78}");
            else
                output.WriteLine(line);
        }
        if (enabled && _interactive)
            output.Write($"\r{new string(' ', 78)}\r");
    }

    public void Note(string message) => output.WriteLine(message);

    private static long Completed(Connection[] connections)
    {
        long sum = 0;
        foreach (var connection in connections)
            sum += connection.Completed;
        return sum;
    }
}
