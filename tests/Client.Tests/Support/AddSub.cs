using HighPerfInference.Protocol;

namespace HighPerfInference.Client.Tests.Support;

/// <summary>add_sub requests whose answers a test can check: INPUT0 = seed + i, INPUT1 = 2i over [rows,16].</summary>
internal static class AddSub
{
    public static InferRequest Request(float seed, int rows = 1)
    {
        var a = new float[rows * 16];
        var b = new float[rows * 16];
        for (var i = 0; i < a.Length; i++)
        {
            a[i] = seed + i;
            b[i] = 2 * i;
        }
        return new InferRequest("add_sub").AddInput("INPUT0", [rows, 16], a).AddInput("INPUT1", [rows, 16], b);
    }

    public static void AssertResult(InferResult result, float seed, int rows = 1)
    {
        var sum = result["OUTPUT0"];
        var difference = result["OUTPUT1"];
        Assert.Equal((DataType.Fp32, DataType.Fp32), (sum.DataType, difference.DataType));
        Assert.Equal([rows, 16L], sum.Shape.ToArray());
        var sums = sum.AsSpan<float>();
        var differences = difference.AsSpan<float>();
        Assert.Equal(rows * 16, sums.Length);
        for (var i = 0; i < sums.Length; i++)
        {
            Assert.Equal(seed + i + (2 * i), sums[i]);
            Assert.Equal(seed + i - (2 * i), differences[i]);
        }
    }
}
