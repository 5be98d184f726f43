using System.Diagnostics;
using System.Reflection;
using HighPerfInference.NativeEngine;
using HighPerfInference.NativeEngine.Gpu;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

// gpu-check tests [SUBSTRING]   every test in the Gpu folders of the NativeEngine and Server test assemblies
// gpu-check providers           ONNX Runtime's version and what its CUDA and TensorRT providers say here
// Ends with "N passed, M failed, K skipped"; exits 1 when a test failed.
return args switch
{
    ["tests", .. var rest] => GpuCheck.RunTests(rest.Length > 0 ? rest[0] : null),
    ["providers"] => GpuCheck.ReportProviders(),
    _ => GpuCheck.Usage(),
};

internal static class GpuCheck
{
    private static readonly Assembly[] s_testAssemblies =
    [
        typeof(HighPerfInference.NativeEngine.Tests.Gpu.GpuFactAttribute).Assembly,
        typeof(HighPerfInference.Server.Tests.Gpu.GpuFactAttribute).Assembly,
    ];

    public static int Usage()
    {
        Console.Error.WriteLine("usage: gpu-check tests [SUBSTRING] | gpu-check providers");
        return 64;
    }

    public static int ReportProviders()
    {
        Console.WriteLine($"ONNX Runtime {OrtEnvironment.Shared.Version}; compiled-in providers: {string.Join(", ", OrtEnvironment.Shared.GetAvailableProviders())}");
        Console.WriteLine($"CUDA runtime: {(CudaRuntime.UnavailableReason ?? $"{CudaRuntime.DeviceCount} device(s)")}");
        foreach (var kind in new[] { ExecutionProviderKind.Cuda, ExecutionProviderKind.TensorRT })
            Console.WriteLine($"{kind} execution provider: {ExecutionProviders.UnavailableReason(kind) ?? "available"}");
        return 0;
    }

    /// <summary>Runs each [Fact]-style test of the Gpu namespaces the way xunit would: a fresh instance per test, Skip honoured, failures reported.</summary>
    public static int RunTests(string? filter)
    {
        int passed = 0, failed = 0, skipped = 0;
        foreach (var assembly in s_testAssemblies)
        {
            foreach (var type in assembly.GetTypes())
            {
                if (type.Namespace is null || !type.Namespace.EndsWith(".Gpu", StringComparison.Ordinal) || type.IsAbstract)
                    continue;
                foreach (var method in type.GetMethods(BindingFlags.Instance | BindingFlags.Public))
                {
                    if (method.GetCustomAttribute<FactAttribute>() is not { } fact)
                        continue;
                    var name = $"{type.FullName}.{method.Name}";
                    if (filter is not null && !name.Contains(filter, StringComparison.Ordinal))
                        continue;
                    if (fact.Skip is { } reason)
                    {
                        Console.WriteLine($"SKIP {name}: {reason}");
                        skipped++;
                        continue;
                    }
                    // A theory runs once per row of its data attributes; a fact once, without arguments.
                    var rows = method.GetParameters().Length == 0
                        ? [[]]
                        : method.GetCustomAttributes<DataAttribute>().SelectMany(data => data.GetData(method)).ToList();
                    foreach (var row in rows)
                    {
                        var label = row.Length == 0 ? name : $"{name}({string.Join(", ", row)})";
                        var watch = Stopwatch.StartNew();
                        try
                        {
                            Run(type, method, row, new ConsoleOutput(method.Name)).GetAwaiter().GetResult();
                            Console.WriteLine($"PASS {label} ({watch.Elapsed.TotalSeconds:F2} s)");
                            passed++;
                        }
                        catch (Exception e)
                        {
                            var cause = e is TargetInvocationException { InnerException: { } inner } ? inner : e;
                            Console.WriteLine($"FAIL {label} ({watch.Elapsed.TotalSeconds:F2} s): {cause}");
                            failed++;
                        }
                    }
                }
            }
        }
        Console.WriteLine($"{passed} passed, {failed} failed, {skipped} skipped");
        return failed == 0 ? 0 : 1;
    }

    private static async Task Run(Type type, MethodInfo method, object?[] arguments, ITestOutputHelper output)
    {
        var constructor = type.GetConstructors().Single();
        var constructorArguments = Array.ConvertAll(constructor.GetParameters(), p => p.ParameterType == typeof(ITestOutputHelper)
            ? output
            : throw new NotSupportedException($"{type.Name}: constructor parameter {p.ParameterType.Name} (only ITestOutputHelper is supported)"));
        var instance = constructor.Invoke(constructorArguments);
        try
        {
            if (instance is IAsyncLifetime lifetime)
                await lifetime.InitializeAsync();
            try
            {
                if (method.Invoke(instance, arguments) is Task task)
                    await task;
            }
            finally
            {
                if (instance is IAsyncLifetime disposable)
                    await disposable.DisposeAsync();
            }
        }
        finally
        {
            (instance as IDisposable)?.Dispose();
        }
    }

    /// <summary>What a test writes to its output, on the console with the test's name in front.</summary>
    private sealed class ConsoleOutput(string test) : ITestOutputHelper
    {
        public void WriteLine(string message) => Console.WriteLine($"  [{test}] {message}");

        public void WriteLine(string format, params object[] args) => WriteLine(string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));
    }
}
