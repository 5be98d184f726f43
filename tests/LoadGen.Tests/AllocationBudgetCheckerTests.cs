using HighPerfInference.Benchmarks;

namespace HighPerfInference.LoadGen.Tests;

public class AllocationBudgetCheckerTests
{
    // The shape of BenchmarkDotNet 0.14's full JSON export (--exporters json), trimmed to what the checker reads.
    private const string Report = """
        {"Title": "x", "HostEnvironmentInfo": {}, "Benchmarks": [
          {"Namespace": "HighPerfInference.Benchmarks", "Type": "JsonTensorBenchmarks", "Method": "ReadFp32", "Parameters": "Elements=16",
           "FullName": "HighPerfInference.Benchmarks.JsonTensorBenchmarks.ReadFp32(Elements: 16)",
           "Memory": {"Gen0Collections": 0, "TotalOperations": 23824, "BytesAllocatedPerOperation": 0}},
          {"Namespace": "HighPerfInference.Benchmarks", "Type": "JsonTensorBenchmarks", "Method": "ReadFp32", "Parameters": "Elements=262144",
           "Memory": {"Gen0Collections": 1, "TotalOperations": 2, "BytesAllocatedPerOperation": 1048600}},
          {"Namespace": "HighPerfInference.Benchmarks", "Type": "ProtocolBenchmarks", "Method": "WriteErrorFrame", "Parameters": "",
           "Memory": {"BytesAllocatedPerOperation": 24}},
          {"Namespace": "HighPerfInference.Benchmarks", "Type": "ProtocolBenchmarks", "Method": "NoDiagnoser", "Parameters": ""}
        ]}
        """;

    [Fact]
    public void Results_are_read_per_case_with_their_parameters()
    {
        var measured = AllocationBudgetChecker.ReadResults(Report);
        Assert.Equal(4, measured.Count);
        Assert.Equal("JsonTensorBenchmarks.ReadFp32(Elements=262144)", measured[1].Name);
        Assert.Equal(1048600, measured[1].BytesPerOperation);
        Assert.Equal("ProtocolBenchmarks.WriteErrorFrame", measured[2].Name);
        Assert.Null(measured[3].BytesPerOperation);
    }

    [Fact]
    public void A_case_over_its_budget_fails_and_one_within_passes()
    {
        var budgets = AllocationBudgetChecker.ReadBudgets("""
            {"$comment": "hot paths", "budgets": {
              "JsonTensorBenchmarks.ReadFp32(Elements=16)": 0,
              "JsonTensorBenchmarks.ReadFp32": 0,
              "ProtocolBenchmarks.WriteErrorFrame": 32
            }}
            """);
        var checks = AllocationBudgetChecker.Check(budgets, AllocationBudgetChecker.ReadResults(Report));

        Assert.Equal(
            [
                ("JsonTensorBenchmarks.ReadFp32(Elements=16)", BudgetVerdict.Within),      // one case by name
                ("JsonTensorBenchmarks.ReadFp32(Elements=16)", BudgetVerdict.Within),      // Type.Method covers every case
                ("JsonTensorBenchmarks.ReadFp32(Elements=262144)", BudgetVerdict.Over),
                ("ProtocolBenchmarks.WriteErrorFrame", BudgetVerdict.Within),
            ],
            checks.Select(c => (c.Measured!.Name, c.Verdict)));
        var text = AllocationBudgetChecker.Format(checks);
        Assert.Contains("OVER     JsonTensorBenchmarks.ReadFp32(Elements=262144): 1048600 B allocated per operation, budget 0 B", text, StringComparison.Ordinal);
        Assert.EndsWith("3 within budget, 1 over or missing\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_budget_that_nothing_measured_fails()
    {
        var budgets = AllocationBudgetChecker.ReadBudgets("""{"budgets": {"SchedulerBenchmarks.Enqueue": 0, "ProtocolBenchmarks.NoDiagnoser": 0}}""");
        var checks = AllocationBudgetChecker.Check(budgets, AllocationBudgetChecker.ReadResults(Report));
        Assert.All(checks, c => Assert.Equal(BudgetVerdict.NotMeasured, c.Verdict));
        Assert.Contains("MISSING  SchedulerBenchmarks.Enqueue", AllocationBudgetChecker.Format(checks), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"budgets": {"A.B": -1}}""", "expected a byte count")]
    [InlineData("""{"budgets": {"A.B": "0"}}""", "expected a byte count")]
    [InlineData("""{"budgets": {"NoDot": 0}}""", "name it Type.Method")]
    [InlineData("""{"limits": {}}""", "needs a \"budgets\" object")]
    public void A_malformed_budget_file_is_refused(string json, string expected)
    {
        var error = Assert.Throws<FormatException>(() => AllocationBudgetChecker.ReadBudgets(json));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Filters_select_each_budgeted_method_once()
    {
        var budgets = AllocationBudgetChecker.ReadBudgets("""{"budgets": {"J.Read(Elements=16)": 0, "J.Read": 0, "P.Write": 0}}""");
        Assert.Equal(["*.J.Read", "*.P.Write"], AllocationBudgetChecker.Filters(budgets));
    }

    [Fact]
    public void The_budget_file_in_the_repository_parses()
    {
        var path = Path.Combine(RepositoryRoot(), "perf", "Benchmarks", "allocation-budgets.json");
        Assert.NotEmpty(AllocationBudgetChecker.ReadBudgets(File.ReadAllText(path)));
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "HighPerfInference.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new DirectoryNotFoundException("repository root");
    }
}
