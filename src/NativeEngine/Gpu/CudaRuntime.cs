using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using HighPerfInference.NativeEngine.Interop;

namespace HighPerfInference.NativeEngine.Gpu;

/// <summary>
/// What the process can do with CUDA. libhpinative has the CUDA part only when it was built with
/// <c>-DHPI_ENABLE_CUDA=ON</c> (docs/gpu.md); otherwise <see cref="IsBuiltIn"/> is false, <see cref="DeviceCount"/>
/// is 0 and every CUDA operation throws <see cref="NotSupportedException"/> saying so.
/// </summary>
public static unsafe class CudaRuntime
{
    public const string NotBuiltInMessage =
        "CUDA support not built into libhpinative (build with -DHPI_ENABLE_CUDA=ON on a machine with the CUDA toolkit).";

    /// <summary>True when libhpinative was built with the CUDA part.</summary>
    public static bool IsBuiltIn => CudaNative.DeviceCount(out _) != HpiStatus.NotAvailable;

    /// <summary>The number of CUDA devices; 0 when CUDA is not built in, there is no driver or no device.</summary>
    public static int DeviceCount => CudaNative.DeviceCount(out int count) == HpiStatus.Ok ? count : 0;

    /// <summary>True when there is a device to run on.</summary>
    public static bool IsAvailable => DeviceCount > 0;

    /// <summary>Why <see cref="IsAvailable"/> is false, for logs and skipped tests; null when it is true.</summary>
    public static string? UnavailableReason => CudaNative.DeviceCount(out int count) switch
    {
        HpiStatus.NotAvailable => NotBuiltInMessage,
        HpiStatus.Ok when count > 0 => null,
        HpiStatus.Ok => $"No CUDA device{Detail(CudaNative.LastError())}.",
        var status => $"The CUDA device query failed{Detail(CudaNative.LastError())}.",
    };

    /// <summary>The CUDA runtime version libhpinative was linked with, as 1000 * major + 10 * minor.</summary>
    public static int RuntimeVersion
    {
        get
        {
            Check(CudaNative.RuntimeVersion(out int runtime, out _), "cudaRuntimeGetVersion");
            return runtime;
        }
    }

    /// <summary>The newest CUDA version the installed driver supports (1000 * major + 10 * minor).</summary>
    public static int DriverVersion
    {
        get
        {
            Check(CudaNative.RuntimeVersion(out _, out int driver), "cudaDriverGetVersion");
            return driver;
        }
    }

    /// <summary>Name, memory and compute capability of device <paramref name="deviceId"/>; free memory is read now.</summary>
    public static DeviceInfo GetDevice(int deviceId)
    {
        CudaNative.DeviceInfo info;
        Check(CudaNative.GetDeviceInfo(deviceId, &info), "cudaGetDeviceProperties", deviceId);
        return new DeviceInfo(
            deviceId,
            Marshal.PtrToStringUTF8((nint)info.Name) ?? "",
            info.TotalMemory,
            info.FreeMemory,
            new Version(info.ComputeMajor, info.ComputeMinor),
            info.MultiprocessorCount,
            info.PciBusId);
    }

    /// <summary>Throws the exception that explains a failed HpiNative CUDA status.</summary>
    internal static void Check(HpiStatus status, string operation, int deviceId = 0)
    {
        if (status != HpiStatus.Ok)
            Throw(status, operation, deviceId);
    }

    [DoesNotReturn]
    private static void Throw(HpiStatus status, string operation, int deviceId)
    {
        int cudaError = CudaNative.LastError();
        throw status switch
        {
            HpiStatus.NotAvailable => new NotSupportedException(NotBuiltInMessage),
            HpiStatus.NoDevice => new CudaException($"{operation}: CUDA device {deviceId} does not exist{Detail(cudaError)}.", 0),
            HpiStatus.CudaError => new CudaException($"{operation} failed{Detail(cudaError)}.", cudaError),
            HpiStatus.OutOfMemory => new OutOfMemoryException($"{operation}: out of memory."),
            _ => new ArgumentException($"{operation} rejected its arguments ({status})."),
        };
    }

    /// <summary>" (cudaError N: text)", or nothing when no CUDA call has failed on this thread.</summary>
    private static string Detail(int cudaError) => cudaError == 0
        ? ""
        : $" (cudaError {cudaError}: {Marshal.PtrToStringUTF8((nint)CudaNative.ErrorString(cudaError))})";
}
