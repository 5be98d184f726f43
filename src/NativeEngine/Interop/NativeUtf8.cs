using System.Runtime.InteropServices;
using System.Text;

namespace HighPerfInference.NativeEngine.Interop;

/// <summary>UTF-8 conversions for the cold paths (options, names, metadata).</summary>
internal static unsafe class Utf8
{
    /// <summary>The string as NUL-terminated UTF-8, to pin with <c>fixed</c> for one call.</summary>
    public static byte[] NullTerminated(string value)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        return bytes;
    }

    public static string Read(byte* value) => value == null ? "" : Marshal.PtrToStringUTF8((nint)value) ?? "";
}

/// <summary>
/// An array of NUL-terminated UTF-8 strings in one native block (the pointer array first, then the bytes),
/// in the <c>const char* const*</c> shape ORT takes. The owner frees it exactly once.
/// </summary>
internal readonly unsafe struct NativeUtf8Array
{
    private NativeUtf8Array(byte** pointers, int count)
    {
        Pointers = pointers;
        Count = count;
    }

    public byte** Pointers { get; }

    public int Count { get; }

    public static NativeUtf8Array Create(ReadOnlySpan<string> values)
    {
        nuint tableBytes = (nuint)(values.Length * sizeof(byte*));
        nuint total = tableBytes;
        foreach (string value in values)
            total += (nuint)Encoding.UTF8.GetByteCount(value) + 1;

        var pointers = (byte**)NativeMemory.Alloc(total == 0 ? 1 : total);
        byte* next = (byte*)pointers + tableBytes;
        byte* end = (byte*)pointers + total;
        for (int i = 0; i < values.Length; i++)
        {
            int length = Encoding.UTF8.GetBytes(values[i], new Span<byte>(next, (int)(end - next)));
            next[length] = 0;
            pointers[i] = next;
            next += length + 1;
        }
        return new NativeUtf8Array(pointers, values.Length);
    }

    public void Free() => NativeMemory.Free(Pointers);
}

/// <summary>ORT's default CPU allocator, which owns the strings and arrays some API calls return.</summary>
internal static unsafe class OrtAllocator
{
    public static readonly nint Default = GetDefault();

    private static nint GetDefault()
    {
        nint allocator;
        OrtStatus.Check(OrtApi.GetAllocatorWithDefaultOptions(&allocator));
        return allocator;
    }

    public static void Free(void* pointer) => OrtStatus.Check(OrtApi.AllocatorFree(Default, pointer));

    /// <summary>Copies a string ORT allocated with the default allocator, then frees it.</summary>
    public static string TakeString(byte* value)
    {
        try
        {
            return Utf8.Read(value);
        }
        finally
        {
            if (value != null)
                Free(value);
        }
    }
}
