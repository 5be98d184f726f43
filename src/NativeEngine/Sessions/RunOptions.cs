using HighPerfInference.NativeEngine.Interop;

namespace HighPerfInference.NativeEngine;

/// <summary>
/// Per-Run settings (<c>OrtRunOptions</c>): a tag for ORT's log messages, and a terminate flag that makes
/// every Run using these options stop early with an error. One instance may be shared by concurrent Runs;
/// terminating cancels all of them.
/// </summary>
public sealed unsafe class RunOptions : IDisposable
{
    public RunOptions()
    {
        nint options;
        OrtStatus.Check(OrtApi.CreateRunOptions(&options));
        Handle = new RunOptionsHandle(options);
    }

    internal RunOptionsHandle Handle { get; }

    internal nint Pointer => Handle.GetPointer(this);

    /// <summary>Appears in ORT's log messages about runs with these options.</summary>
    public string Tag
    {
        get
        {
            byte* tag;
            OrtStatus.Check(OrtApi.RunOptionsGetRunTag(Pointer, &tag));
            return Utf8.Read(tag);
        }

        set
        {
            ArgumentNullException.ThrowIfNull(value);
            fixed (byte* tag = Utf8.NullTerminated(value))
                OrtStatus.Check(OrtApi.RunOptionsSetRunTag(Pointer, tag));
        }
    }

    /// <summary>Asks every Run using these options to stop as soon as it can; they fail with an <see cref="OrtException"/>. Safe from any thread.</summary>
    public void Terminate() => OrtStatus.Check(OrtApi.RunOptionsSetTerminate(Pointer));

    /// <summary>Clears <see cref="Terminate"/> so the options can run again.</summary>
    public void ResetTerminate() => OrtStatus.Check(OrtApi.RunOptionsUnsetTerminate(Pointer));

    public void Dispose() => Handle.Dispose();
}
