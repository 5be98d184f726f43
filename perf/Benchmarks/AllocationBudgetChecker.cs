using System.Globalization;
using System.Text;
using System.Text.Json;

namespace HighPerfInference.Benchmarks;

/// <summary>A hot path's budget: at most this many bytes allocated per benchmark operation.</summary>
public sealed record AllocationBudget(string Benchmark, long MaxBytesPerOperation);

/// <summary>One benchmark case as BenchmarkDotNet exported it; null bytes when it was measured without the memory diagnoser.</summary>
public sealed record MeasuredAllocation(string Type, string Method, string Parameters, double? BytesPerOperation)
{
    /// <summary>"Type.Method", or "Type.Method(Parameters)" for a parameterised case.</summary>
    public string Name => Parameters.Length == 0 ? $"{Type}.{Method}" : $"{Type}.{Method}({Parameters})";
}

public enum BudgetVerdict
{
    Within,
    Over,
    /// <summary>The budgeted benchmark did not run or ran without [MemoryDiagnoser]: nothing was checked, which fails too.</summary>
    NotMeasured,
}

public sealed record BudgetCheck(AllocationBudget Budget, MeasuredAllocation? Measured, BudgetVerdict Verdict);

/// <summary>
/// Checks BenchmarkDotNet's exported results (its full JSON report, <c>*-report-full*.json</c>, from <c>--exporters json</c>) against
/// perf/Benchmarks/allocation-budgets.json and fails when a hot path allocates more than its budget.
/// A budget names "Type.Method" (every parameter case) or "Type.Method(Name=Value)" (one case).
/// scripts/check-allocations runs the budgeted benchmarks in a short job and then this check.
/// </summary>
public static class AllocationBudgetChecker
{
    public const string Usage = """
        check-allocations [--budgets FILE] [--results DIR]   check exported results against the budgets
          --budgets FILE   default perf/Benchmarks/allocation-budgets.json
          --results DIR    BenchmarkDotNet's results folder (default BenchmarkDotNet.Artifacts/results)
        check-allocations --list-filters [--budgets FILE]    the --filter patterns that run every budgeted benchmark
        """;

    public static int Run(IReadOnlyList<string> args)
    {
        var budgetsPath = "perf/Benchmarks/allocation-budgets.json";
        var resultsPath = "BenchmarkDotNet.Artifacts/results";
        var listFilters = false;
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--budgets" when i + 1 < args.Count:
                    budgetsPath = args[++i];
                    break;
                case "--results" when i + 1 < args.Count:
                    resultsPath = args[++i];
                    break;
                case "--list-filters":
                    listFilters = true;
                    break;
                default:
                    Console.Error.WriteLine($"check-allocations: unexpected '{args[i]}'\n{Usage}");
                    return 64;
            }
        }
        var budgets = ReadBudgets(File.ReadAllText(budgetsPath));
        if (listFilters)
        {
            foreach (var filter in Filters(budgets))
                Console.WriteLine(filter);
            return 0;
        }
        var measured = new List<MeasuredAllocation>();
        if (Directory.Exists(resultsPath))
        {
            foreach (var file in Directory.GetFiles(resultsPath, "*-report-full*.json"))
                measured.AddRange(ReadResults(File.ReadAllText(file)));
        }
        var checks = Check(budgets, measured);
        Console.Write(Format(checks));
        return checks.All(c => c.Verdict == BudgetVerdict.Within) ? 0 : 1;
    }

    /// <summary>Reads <c>{"budgets": {"Type.Method": bytes, ...}}</c> (other top-level members, e.g. comments, are ignored).</summary>
    public static IReadOnlyList<AllocationBudget> ReadBudgets(string json)
    {
        using var document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        if (!document.RootElement.TryGetProperty("budgets", out var budgets) || budgets.ValueKind != JsonValueKind.Object)
            throw new FormatException("the budget file needs a \"budgets\" object of benchmark name -> max bytes per operation");
        var list = new List<AllocationBudget>();
        foreach (var budget in budgets.EnumerateObject())
        {
            if (budget.Value.ValueKind != JsonValueKind.Number || !budget.Value.TryGetInt64(out var bytes) || bytes < 0)
                throw new FormatException($"budget '{budget.Name}': expected a byte count >= 0");
            if (!budget.Name.Contains('.', StringComparison.Ordinal))
                throw new FormatException($"budget '{budget.Name}': name it Type.Method");
            list.Add(new AllocationBudget(budget.Name, bytes));
        }
        return list;
    }

    /// <summary>The benchmark cases of one BenchmarkDotNet full JSON report.</summary>
    public static IReadOnlyList<MeasuredAllocation> ReadResults(string json)
    {
        using var document = JsonDocument.Parse(json);
        var list = new List<MeasuredAllocation>();
        foreach (var benchmark in document.RootElement.GetProperty("Benchmarks").EnumerateArray())
        {
            double? bytes = benchmark.TryGetProperty("Memory", out var memory) && memory.ValueKind == JsonValueKind.Object
                && memory.TryGetProperty("BytesAllocatedPerOperation", out var allocated) && allocated.ValueKind == JsonValueKind.Number
                ? allocated.GetDouble()
                : null;
            list.Add(new MeasuredAllocation(
                benchmark.GetProperty("Type").GetString()!,
                benchmark.GetProperty("Method").GetString()!,
                benchmark.TryGetProperty("Parameters", out var parameters) ? parameters.GetString() ?? "" : "",
                bytes));
        }
        return list;
    }

    /// <summary>Every budget against every case it covers; a budget that covers no measured case is NotMeasured.</summary>
    public static IReadOnlyList<BudgetCheck> Check(IReadOnlyList<AllocationBudget> budgets, IReadOnlyList<MeasuredAllocation> measured)
    {
        var checks = new List<BudgetCheck>();
        foreach (var budget in budgets)
        {
            var covered = false;
            foreach (var result in measured)
            {
                if (budget.Benchmark != result.Name && budget.Benchmark != $"{result.Type}.{result.Method}")
                    continue;
                covered = true;
                var verdict = result.BytesPerOperation switch
                {
                    null => BudgetVerdict.NotMeasured,
                    var bytes when bytes > budget.MaxBytesPerOperation => BudgetVerdict.Over,
                    _ => BudgetVerdict.Within,
                };
                checks.Add(new BudgetCheck(budget, result, verdict));
            }
            if (!covered)
                checks.Add(new BudgetCheck(budget, null, BudgetVerdict.NotMeasured));
        }
        return checks;
    }

    /// <summary>BenchmarkDotNet --filter globs (matched against Namespace.Type.Method) for the budgeted benchmarks.</summary>
    public static IReadOnlyList<string> Filters(IReadOnlyList<AllocationBudget> budgets)
    {
        var filters = new List<string>();
        foreach (var budget in budgets)
        {
            var paren = budget.Benchmark.IndexOf('(', StringComparison.Ordinal);
            var filter = "*." + (paren < 0 ? budget.Benchmark : budget.Benchmark[..paren]);
            if (!filters.Contains(filter))
                filters.Add(filter);
        }
        return filters;
    }

    public static string Format(IReadOnlyList<BudgetCheck> checks)
    {
        var text = new StringBuilder();
        foreach (var check in checks)
        {
            var name = check.Measured?.Name ?? check.Budget.Benchmark;
            var line = check.Verdict switch
            {
                BudgetVerdict.Within => $"ok       {name}: {Bytes(check.Measured!.BytesPerOperation!.Value)} <= {check.Budget.MaxBytesPerOperation} B",
                BudgetVerdict.Over => $"OVER     {name}: {Bytes(check.Measured!.BytesPerOperation!.Value)} allocated per operation, budget {check.Budget.MaxBytesPerOperation} B",
                _ => $"MISSING  {name}: no allocation figure (did it run, with [MemoryDiagnoser]?)",
            };
            text.Append(line).Append('\n');
        }
        var failed = checks.Count(c => c.Verdict != BudgetVerdict.Within);
        text.Append(CultureInfo.InvariantCulture, $"{checks.Count - failed} within budget, {failed} over or missing\n");
        return text.ToString();
    }

    private static string Bytes(double bytes) => bytes.ToString("0.#", CultureInfo.InvariantCulture) + " B";
}
