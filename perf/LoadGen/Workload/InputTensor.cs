using HighPerfInference.LoadGen.Cli;

namespace HighPerfInference.LoadGen.Workload;

/// <summary>An input with its contents: raw little-endian row-major bytes, as the binary protocol and the binary extension carry them.</summary>
public sealed record InputTensor(TensorSpec Spec, byte[] Data);
