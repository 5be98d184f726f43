using System.Runtime.InteropServices;
using HighPerfInference.Conformance.Tests.Onnx;
using HighPerfInference.NativeEngine;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace HighPerfInference.Conformance.Tests.Suite;

/// <summary>
/// One NativeEngine run over reference tensors, the way the server runs a batch: each input is copied
/// into 64-byte aligned native memory (as the server's batch buffers are) and bound without a further
/// copy through <see cref="BatchRunner"/>; string inputs go as ORT string tensors; ORT allocates the
/// outputs, which are copied back into reference tensors.
/// </summary>
internal static class SessionRunner
{
    /// <summary>Runs <paramref name="session"/> on <paramref name="inputs"/>, in the session's input order; outputs in its output order.</summary>
    public static ReferenceTensor[] Run(ModelSession session, IReadOnlyList<ReferenceTensor> inputs)
    {
        using var feeds = new Feeds(inputs);
        using var runner = new BatchRunner(session);
        feeds.Set(runner);
        for (var o = 0; o < session.Outputs.Count; o++)
            runner.SetOutputAllocated(o);
        runner.Run();
        var results = new ReferenceTensor[session.Outputs.Count];
        for (var o = 0; o < results.Length; o++)
            results[o] = ToReference(runner.GetOutput(o), session.Outputs[o].Name);
        return results;
    }

    private static ReferenceTensor ToReference(OrtValue value, string name)
    {
        var info = value.GetTensorTypeAndShape();
        var type = (OnnxDataType)info.ElementDataType;
        if (type != OnnxDataType.String)
            return new ReferenceTensor { Name = name, DataType = type, Dims = info.Shape, Data = value.GetTensorDataAsSpan<byte>().ToArray() };

        var strings = new byte[info.ElementCount][];
        for (var i = 0; i < strings.Length; i++)
            strings[i] = value.GetStringElementAsSpan(i).ToArray();
        return new ReferenceTensor { Name = name, DataType = type, Dims = info.Shape, Strings = strings };
    }

    /// <summary>The native memory and string tensors under one run's inputs, owned until the run has returned.</summary>
    private sealed unsafe class Feeds(IReadOnlyList<ReferenceTensor> inputs) : IDisposable
    {
        private readonly List<nint> _buffers = [];
        private readonly List<OrtValue> _strings = [];

        public void Set(BatchRunner runner)
        {
            for (var i = 0; i < inputs.Count; i++)
            {
                var tensor = inputs[i];
                if (tensor.DataType == OnnxDataType.String)
                {
                    var strings = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, tensor.Dims);
                    _strings.Add(strings);
                    for (var e = 0; e < tensor.Strings.Length; e++)
                        strings.StringTensorSetElementAt(tensor.Strings[e], e);
                    runner.SetInput(i, strings);
                    continue;
                }

                var length = (nuint)tensor.Data.Length;
                var buffer = NativeMemory.AlignedAlloc(Math.Max(length, 1), 64);
                _buffers.Add((nint)buffer);
                tensor.Data.CopyTo(new Span<byte>(buffer, tensor.Data.Length));
                runner.SetInput(i, (TensorElementType)tensor.DataType, tensor.Dims, (nint)buffer, tensor.Data.Length);
            }
        }

        public void Dispose()
        {
            foreach (var value in _strings)
                value.Dispose();
            foreach (var buffer in _buffers)
                NativeMemory.AlignedFree((void*)buffer);
        }
    }
}
