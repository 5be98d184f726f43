using System.Runtime.InteropServices;

namespace HighPerfInference.NativeEngine.Interop;

/// <summary>
/// Loads <c>libonnxruntime.so.1</c> from the application's base directory (the build copies it there)
/// and asks it for the API table of version <see cref="ApiVersion"/>. Loading by absolute path matters:
/// ORT looks for the CUDA/TensorRT provider libraries in the directory it was loaded from.
/// </summary>
internal static unsafe class OrtLibrary
{
    public const string FileName = "libonnxruntime.so.1";

    /// <summary>ORT 1.29: the table is valid for indices 0-424.</summary>
    public const uint ApiVersion = 29;

    /// <summary>The directory ORT was loaded from; the provider libraries must sit beside it.</summary>
    public static readonly string Directory = AppContext.BaseDirectory;

    /// <summary>The <c>OrtApi</c> table: an array of function pointers, read by index in <see cref="OrtApi"/>.</summary>
    public static readonly nint* Table;

    /// <summary>The library's own version string, for example "1.29.0".</summary>
    public static readonly string Version;

    static OrtLibrary()
    {
        string path = Path.Combine(Directory, FileName);
        if (!NativeLibrary.TryLoad(path, out nint library))
            throw new DllNotFoundException($"ONNX Runtime is not available: {path} could not be loaded. Building src/NativeEngine fetches it into artifacts/onnxruntime/ and copies it beside the application.");

        // const OrtApiBase* OrtGetApiBase(void); OrtApiBase = { GetApi(uint32_t), GetVersionString(void) }
        var getApiBase = (delegate* unmanaged<nint*>)NativeLibrary.GetExport(library, "OrtGetApiBase");
        nint* apiBase = getApiBase();
        var getApi = (delegate* unmanaged<uint, nint*>)apiBase[0];
        var getVersionString = (delegate* unmanaged<byte*>)apiBase[1];

        Version = Marshal.PtrToStringUTF8((nint)getVersionString()) ?? "";
        Table = getApi(ApiVersion);
        if (Table == null)
            throw new DllNotFoundException($"{path} (ONNX Runtime {Version}) does not provide API version {ApiVersion}.");
    }
}
