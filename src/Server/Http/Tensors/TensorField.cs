namespace HighPerfInference.Server.Http.Tensors;

/// <summary>
/// Names a tensor's JSON value in error messages ("input 'INPUT0' 'data'"); formatted only when an
/// error is raised, so the parse path builds no strings.
/// </summary>
internal readonly struct TensorField(string kind, string? name, int index, string part)
{
    public override string ToString() =>
        name is null ? $"{kind} #{index} '{part}'" : $"{kind} '{name}' '{part}'";
}
