using System.ComponentModel;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace HighPerfInference.Conformance.Tests.XunitExtensions;

/// <summary>
/// Thrown by a test that finds, while running, that it cannot apply (a model ONNX Runtime cannot
/// load, a sequence input): <see cref="SkippableFactAttribute"/> and <see cref="SkippableTheoryAttribute"/>
/// report it as skipped with this message as the reason. xunit 2 has no dynamic skip of its own.
/// </summary>
public sealed class SkipException(string reason) : Exception(reason);

/// <summary>A fact that may throw <see cref="SkipException"/> to be reported as skipped.</summary>
[XunitTestCaseDiscoverer("HighPerfInference.Conformance.Tests.XunitExtensions.SkippableFactDiscoverer", "HighPerfInference.Conformance.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class SkippableFactAttribute : FactAttribute;

public sealed class SkippableFactDiscoverer(IMessageSink diagnosticMessageSink) : FactDiscoverer(diagnosticMessageSink)
{
    protected override IXunitTestCase CreateTestCase(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute) =>
        new SkippableTestCase(DiagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod, null);
}

/// <summary>A theory whose cases may throw <see cref="SkipException"/> to be reported as skipped.</summary>
[XunitTestCaseDiscoverer("HighPerfInference.Conformance.Tests.XunitExtensions.SkippableTheoryDiscoverer", "HighPerfInference.Conformance.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class SkippableTheoryAttribute : TheoryAttribute;

public sealed class SkippableTheoryDiscoverer(IMessageSink diagnosticMessageSink) : TheoryDiscoverer(diagnosticMessageSink)
{
    protected override IEnumerable<IXunitTestCase> CreateTestCasesForDataRow(
        ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo theoryAttribute, object[] dataRow) =>
        [new SkippableTestCase(DiagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod, dataRow)];

    protected override IEnumerable<IXunitTestCase> CreateTestCasesForTheory(
        ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo theoryAttribute) =>
        [new SkippableTheoryTestCase(DiagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod)];
}

/// <summary>A skippable fact, or one data row of a skippable theory (the usual case: rows are enumerated at discovery).</summary>
public sealed class SkippableTestCase : XunitTestCase
{
    [EditorBrowsable(EditorBrowsableState.Never)]
    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public SkippableTestCase()
    {
    }

    public SkippableTestCase(IMessageSink diagnosticMessageSink, TestMethodDisplay display, TestMethodDisplayOptions options, ITestMethod testMethod, object[]? dataRow)
        : base(diagnosticMessageSink, display, options, testMethod, dataRow)
    {
    }

    public override Task<RunSummary> RunAsync(IMessageSink diagnosticMessageSink, IMessageBus messageBus, object[] constructorArguments, ExceptionAggregator aggregator, CancellationTokenSource cancellationTokenSource) =>
        SkippingMessageBus.RunAsync(messageBus, bus => base.RunAsync(diagnosticMessageSink, bus, constructorArguments, aggregator, cancellationTokenSource));
}

/// <summary>A skippable theory whose rows could not be enumerated at discovery: they run as one test case.</summary>
public sealed class SkippableTheoryTestCase : XunitTheoryTestCase
{
    [EditorBrowsable(EditorBrowsableState.Never)]
    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public SkippableTheoryTestCase()
    {
    }

    public SkippableTheoryTestCase(IMessageSink diagnosticMessageSink, TestMethodDisplay display, TestMethodDisplayOptions options, ITestMethod testMethod)
        : base(diagnosticMessageSink, display, options, testMethod)
    {
    }

    public override Task<RunSummary> RunAsync(IMessageSink diagnosticMessageSink, IMessageBus messageBus, object[] constructorArguments, ExceptionAggregator aggregator, CancellationTokenSource cancellationTokenSource) =>
        SkippingMessageBus.RunAsync(messageBus, bus => base.RunAsync(diagnosticMessageSink, bus, constructorArguments, aggregator, cancellationTokenSource));
}

/// <summary>Turns each test failure caused by <see cref="SkipException"/> into a skip with its message as the reason.</summary>
internal sealed class SkippingMessageBus(IMessageBus inner) : IMessageBus
{
    private static readonly string s_skipExceptionName = typeof(SkipException).FullName!;
    private int _skipped;

    public static async Task<RunSummary> RunAsync(IMessageBus messageBus, Func<IMessageBus, Task<RunSummary>> run)
    {
        using var bus = new SkippingMessageBus(messageBus);
        var summary = await run(bus);
        summary.Failed -= bus._skipped;
        summary.Skipped += bus._skipped;
        return summary;
    }

    public bool QueueMessage(IMessageSinkMessage message)
    {
        if (message is ITestFailed failed && failed.ExceptionTypes.Length > 0 && failed.ExceptionTypes[0] == s_skipExceptionName)
        {
            _skipped++;
            return inner.QueueMessage(new TestSkipped(failed.Test, failed.Messages[0]));
        }

        return inner.QueueMessage(message);
    }

    // The inner bus belongs to the runner that passed it in.
    public void Dispose()
    {
    }
}
