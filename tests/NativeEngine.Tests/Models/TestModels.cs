namespace HighPerfInference.NativeEngine.Tests.Models;

/// <summary>The small models the tests run, built in memory.</summary>
internal static class TestModels
{
    /// <summary>Triton's "simple": OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1, fp32 [batch, 16].</summary>
    public static byte[] AddSub() => new OnnxModelBuilder()
        .Input("INPUT0", TensorElementType.Float, "batch", 16)
        .Input("INPUT1", TensorElementType.Float, "batch", 16)
        .Output("OUTPUT0", TensorElementType.Float, "batch", 16)
        .Output("OUTPUT1", TensorElementType.Float, "batch", 16)
        .Node("Add", ["INPUT0", "INPUT1"], ["OUTPUT0"])
        .Node("Sub", ["INPUT0", "INPUT1"], ["OUTPUT1"])
        .Build();

    /// <summary>Y = X for one element type, shape [batch, width].</summary>
    public static byte[] Identity(TensorElementType type) => new OnnxModelBuilder()
        .Input("X", type, "batch", "width")
        .Output("Y", type, "batch", "width")
        .Node("Identity", ["X"], ["Y"])
        .Build();

    /// <summary>Y = (float)X for an int32 input.</summary>
    public static byte[] CastInt32ToFloat() => new OnnxModelBuilder()
        .Input("X", TensorElementType.Int32, "n")
        .Output("Y", TensorElementType.Float, "n")
        .Node("Cast", ["X"], ["Y"], ("to", (long)TensorElementType.Float))
        .Build();
}
