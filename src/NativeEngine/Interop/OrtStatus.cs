using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace HighPerfInference.NativeEngine.Interop;

/// <summary>The one place an <c>OrtStatus*</c> is inspected: read code and message, release it, throw.</summary>
internal static unsafe class OrtStatus
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Check(nint status)
    {
        if (status != 0)
            Throw(status);
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Throw(nint status)
    {
        var code = (OrtErrorCode)OrtApi.GetErrorCode(status);
        string message = Marshal.PtrToStringUTF8((nint)OrtApi.GetErrorMessage(status)) ?? "";
        OrtApi.ReleaseStatus(status);
        throw new OrtException(code, message);
    }
}
