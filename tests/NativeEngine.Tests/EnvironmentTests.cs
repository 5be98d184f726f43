using HighPerfInference.NativeEngine.Tests.Models;

namespace HighPerfInference.NativeEngine.Tests;

[Collection(LoggingCollection.Name)]
public sealed class EnvironmentTests
{
    [Fact]
    public void ORT_log_messages_reach_the_logger_with_the_session_log_id()
    {
        using var log = new CapturedLog(OrtLogLevel.Verbose);
        using var options = new SessionOptions { LogId = "logging-test-session", LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_VERBOSE };

        using (ModelSession.FromBytes(TestModels.AddSub(), options))
        {
        }

        var messages = log.Messages;
        Assert.Contains(messages, m => m.Source == "logging-test-session" && m.Message.Length > 0);
        Assert.Contains(messages, m => m.Level <= OrtLogLevel.Info);
    }

    [Fact]
    public void The_minimum_level_filters_ORT_messages()
    {
        using var log = new CapturedLog(OrtLogLevel.Error);
        using var options = new SessionOptions { LogId = "quiet-session" };

        using (ModelSession.FromBytes(TestModels.AddSub(), options))
        {
        }

        Assert.DoesNotContain(log.Messages, m => m.Level < OrtLogLevel.Error);
    }

    [Fact]
    public void A_throwing_logger_does_not_break_ORT()
    {
        var previous = OrtEnvironment.Shared.Logger;
        var previousLevel = OrtEnvironment.Shared.MinimumLevel;
        try
        {
            OrtEnvironment.Shared.MinimumLevel = OrtLogLevel.Verbose;
            OrtEnvironment.Shared.Logger = (_, _, _) => throw new InvalidOperationException("logger failure");
            using var session = ModelSession.FromBytes(TestModels.AddSub());
            Assert.Equal(2, session.Inputs.Count);
        }
        finally
        {
            OrtEnvironment.Shared.Logger = previous;
            OrtEnvironment.Shared.MinimumLevel = previousLevel;
        }
    }
}
