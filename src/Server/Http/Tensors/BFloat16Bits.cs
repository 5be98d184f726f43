namespace HighPerfInference.Server.Http.Tensors;

/// <summary>bfloat16 as its 16 bits: the top half of an IEEE single, rounded to nearest even.</summary>
internal static class BFloat16Bits
{
    public static ushort FromSingle(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
            return (ushort)((bits >> 16) | 0x0040); // keep the sign, stay a (quiet) NaN
        bits += 0x7FFF + ((bits >> 16) & 1);
        return (ushort)(bits >> 16);
    }

    public static float ToSingle(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);
}
