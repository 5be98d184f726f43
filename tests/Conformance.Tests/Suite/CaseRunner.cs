using HighPerfInference.Conformance.Tests.Onnx;
using HighPerfInference.NativeEngine;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace HighPerfInference.Conformance.Tests.Suite;

/// <summary>
/// Runs one case through NativeEngine: loads model.onnx once, feeds every test_data_set_*'s
/// input_N.pb, and compares the outputs with output_N.pb. Cases that cannot apply are skipped with
/// the reason: non-tensor values (the .pb files are then not TensorProtos), a model ONNX Runtime's
/// CPU provider cannot load (its message), or test data that contradicts its own model.
/// </summary>
internal static class CaseRunner
{
    public static CaseResult Run(ConformanceCase c)
    {
        var result = RunUnlisted(c);
        if (!KnownFailures.TryGetReason(c.Id, out var known))
            return result;
        return result.Outcome == CaseOutcome.Passed
            ? CaseResult.Fail(c, $"listed in {KnownFailures.FileName} but passes now: remove it from the list")
            : CaseResult.Skip(c, $"{known}; this run: {result.Detail}");
    }

    private static CaseResult RunUnlisted(ConformanceCase c)
    {
        var signature = ModelSignature.Read(c.ModelPath);
        if (NonTensor(signature) is { } reason)
            return CaseResult.Skip(c, reason);

        ModelSession session;
        try
        {
            session = ModelSession.Load(c.ModelPath, Options);
        }
        catch (OnnxRuntimeException e)
        {
            return CaseResult.Skip(c, $"ONNX Runtime cannot load the model: {e.Message}");
        }

        using (session)
        {
            var dataSets = 0;
            foreach (var dataSet in c.DataSets)
            {
                if (RunDataSet(c, session, dataSet) is { } notMatched)
                    return notMatched;
                dataSets++;
            }

            return CaseResult.Pass(c, $"{dataSets} data set(s) match");
        }
    }

    private static SessionOptions Options { get; } = CreateOptions();

    private static SessionOptions CreateOptions()
    {
        _ = OrtEnvironment.Shared; // before the first ORT type
        return new SessionOptions { IntraOpNumThreads = 1 };
    }

    private static string? NonTensor(ModelSignature signature)
    {
        foreach (var (values, role) in new[] { (signature.Inputs, "input"), (signature.Outputs, "output") })
        {
            foreach (var value in values)
            {
                if (value.Kind != ValueKind.Tensor)
                    return $"{value.Kind.ToString().ToLowerInvariant()} {role} '{value.Name}': not a tensor (NativeEngine and this suite feed and compare tensors only)";
            }
        }

        return null;
    }

    /// <summary>Null when every output matches; else the failure (which output differs and how, or ORT's error) or the skip.</summary>
    private static CaseResult? RunDataSet(ConformanceCase c, ModelSession session, string dataSet)
    {
        var name = Path.GetFileName(dataSet);
        var inputs = ConformanceCase.TensorFiles(dataSet, "input_").Select(TensorProtoReader.Read).ToList();
        var expected = ConformanceCase.TensorFiles(dataSet, "output_").Select(TensorProtoReader.Read).ToList();
        if (inputs.Count != session.Inputs.Count)
            return CaseResult.Fail(c, $"{name}: {inputs.Count} input files for a model of {session.Inputs.Count} inputs");

        var feeds = new ReferenceTensor[session.Inputs.Count];
        for (var i = 0; i < inputs.Count; i++)
        {
            var index = IndexOf(session.Inputs, inputs[i].Name, i);
            var declared = session.Inputs[index];
            if (!Fits(inputs[i].Dims, declared.Shape))
            {
                return CaseResult.Skip(c, $"{name}: the test data contradicts the model: input '{declared.Name}' is " +
                    $"{inputs[i].ShapeText}, the model declares [{string.Join(',', declared.Shape)}], which ORT enforces");
            }

            feeds[index] = AsDeclared(inputs[i], declared.ElementType);
        }

        ReferenceTensor[] outputs;
        try
        {
            outputs = SessionRunner.Run(session, feeds);
        }
        catch (OnnxRuntimeException e)
        {
            return CaseResult.Fail(c, $"{name}: ONNX Runtime failed to run it: {e.Message}");
        }

        return Mismatch(session, expected, outputs, Tolerance.For(c.Name)) is { } mismatch
            ? CaseResult.Fail(c, $"{name}: {mismatch}")
            : null;
    }

    /// <summary>Whether data of these dims can feed an input of this declared shape (-1: any size).</summary>
    private static bool Fits(long[] dims, long[] declared)
    {
        if (dims.Length != declared.Length)
            return false;
        for (var i = 0; i < dims.Length; i++)
        {
            if (declared[i] >= 0 && declared[i] != dims[i])
                return false;
        }

        return true;
    }

    private static string? Mismatch(ModelSession session, List<ReferenceTensor> expected, ReferenceTensor[] outputs, Tolerance tolerance)
    {
        for (var i = 0; i < expected.Count; i++)
        {
            var index = IndexOf(session.Outputs, expected[i].Name, i);
            var reference = AsDeclared(expected[i], session.Outputs[index].ElementType);
            var mismatch = TensorComparison.Mismatch(reference, outputs[index], tolerance);
            if (mismatch is not null)
                return $"output '{session.Outputs[index].Name}': {mismatch}";
        }

        return null;
    }

    /// <summary>
    /// ONNX 1.12's test generator stores bfloat16 data as UINT16 (numpy has no bfloat16): the same
    /// bits, to be read as the type the model declares.
    /// </summary>
    private static ReferenceTensor AsDeclared(ReferenceTensor tensor, TensorElementType declared) =>
        tensor.DataType == OnnxDataType.UInt16 && declared == TensorElementType.BFloat16
            ? tensor with { DataType = OnnxDataType.BFloat16 }
            : tensor;

    /// <summary>The .pb file names its value where it can; otherwise files follow the model's order.</summary>
    private static int IndexOf(IReadOnlyList<TensorInfo> values, string name, int position)
    {
        for (var i = 0; i < values.Count; i++)
        {
            if (values[i].Name == name)
                return i;
        }

        return position;
    }
}
