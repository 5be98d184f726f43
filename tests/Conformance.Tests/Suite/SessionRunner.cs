using System.Runtime.InteropServices;
using HighPerfInference.Conformance.Tests.Onnx;
using HighPerfInference.NativeEngine;

namespace HighPerfInference.Conformance.Tests.Suite;

/// <summary>
/// One NativeEngine Run over reference tensors: each input is copied into 64-byte aligned native
/// memory (as the server's batch buffers are) and wrapped without a further copy
/// (<see cref="OrtValue.CreateTensor(TensorElementType, ReadOnlySpan{long}, nint, nuint)"/>); ORT
/// allocates the outputs, which are copied back into reference tensors before they are freed.
/// </summary>
internal static class SessionRunner
{
    /// <summary>Runs <paramref name="session"/> on <paramref name="inputs"/>, in the session's input order; outputs in its output order.</summary>
    public static ReferenceTensor[] Run(InferenceSession session, IReadOnlyList<ReferenceTensor> inputs)
    {
        using var feeds = new Feeds(inputs);
        var outputs = new OrtValue?[session.Outputs.Count];
        try
        {
            session.Run(feeds.Values, outputs);
            var results = new ReferenceTensor[outputs.Length];
            for (var i = 0; i < outputs.Length; i++)
                results[i] = ToReference(outputs[i]!, session.Outputs[i].Name);
            return results;
        }
        finally
        {
            foreach (var output in outputs)
                output?.Dispose();
        }
    }

    private static ReferenceTensor ToReference(OrtValue value, string name)
    {
        var type = (OnnxDataType)value.ElementType;
        if (type != OnnxDataType.String)
            return new ReferenceTensor { Name = name, DataType = type, Dims = value.GetShape(), Data = value.GetTensorBytes().ToArray() };

        var strings = new byte[value.ElementCount][];
        for (var i = 0; i < strings.Length; i++)
        {
            strings[i] = new byte[value.GetStringElementByteCount(i)];
            value.CopyStringElement(i, strings[i]);
        }

        return new ReferenceTensor { Name = name, DataType = type, Dims = value.GetShape(), Strings = strings };
    }

    /// <summary>The input values of one run and the native memory under them, owned until the run has returned.</summary>
    private sealed unsafe class Feeds : IDisposable
    {
        private readonly List<nint> _buffers = [];

        public Feeds(IReadOnlyList<ReferenceTensor> inputs)
        {
            Values = new OrtValue[inputs.Count];
            try
            {
                for (var i = 0; i < inputs.Count; i++)
                    Values[i] = Create(inputs[i]);
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public OrtValue[] Values { get; }

        public void Dispose()
        {
            foreach (var value in Values)
                value?.Dispose();
            foreach (var buffer in _buffers)
                NativeMemory.AlignedFree((void*)buffer);
        }

        private OrtValue Create(ReferenceTensor tensor)
        {
            if (tensor.DataType == OnnxDataType.String)
            {
                var strings = OrtValue.CreateStringTensor(tensor.Dims);
                for (var i = 0; i < tensor.Strings.Length; i++)
                    strings.SetStringElement(i, tensor.Strings[i]);
                return strings;
            }

            var length = (nuint)tensor.Data.Length;
            var buffer = NativeMemory.AlignedAlloc(Math.Max(length, 1), 64);
            _buffers.Add((nint)buffer);
            tensor.Data.CopyTo(new Span<byte>(buffer, tensor.Data.Length));
            return OrtValue.CreateTensor((TensorElementType)tensor.DataType, tensor.Dims, (nint)buffer, length);
        }
    }
}
