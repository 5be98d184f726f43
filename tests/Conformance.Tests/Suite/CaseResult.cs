namespace HighPerfInference.Conformance.Tests.Suite;

internal enum CaseOutcome
{
    Passed,
    Failed,
    Skipped,
}

/// <summary>How one case went; <paramref name="Detail"/> says what failed, or why it was skipped.</summary>
internal sealed record CaseResult(ConformanceCase Case, CaseOutcome Outcome, string Detail)
{
    public static CaseResult Pass(ConformanceCase c, string detail) => new(c, CaseOutcome.Passed, detail);

    public static CaseResult Fail(ConformanceCase c, string detail) => new(c, CaseOutcome.Failed, detail);

    public static CaseResult Skip(ConformanceCase c, string reason) => new(c, CaseOutcome.Skipped, reason);
}
