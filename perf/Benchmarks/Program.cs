using System.Reflection;
using BenchmarkDotNet.Running;
using HighPerfInference.Benchmarks;

// "check-allocations": compare exported results with allocation-budgets.json (see scripts/check-allocations).
if (args is ["check-allocations", ..])
    return AllocationBudgetChecker.Run(args[1..]);
BenchmarkSwitcher.FromAssembly(Assembly.GetExecutingAssembly()).Run(args);
return 0;
