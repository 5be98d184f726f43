using HighPerfInference.Conformance.Tests.Onnx;
using HighPerfInference.Conformance.Tests.Suite;

namespace HighPerfInference.Conformance.Tests;

public class ModelSignatureTests
{
    [Fact]
    public void Reads_the_projects_own_model()
    {
        var signature = ModelSignature.Read(RepositoryPaths.Model("identity_all_types"));

        Assert.Equal(14, signature.Inputs.Count);
        Assert.Equal(new GraphValue("IN_BOOL", ValueKind.Tensor, OnnxDataType.Bool), signature.Inputs[0]);
        Assert.Equal(new GraphValue("OUT_BF16", ValueKind.Tensor, OnnxDataType.BFloat16), signature.Outputs[12]);
        Assert.Equal(new GraphValue("OUT_BYTES", ValueKind.Tensor, OnnxDataType.String), signature.Outputs[13]);
    }

    [Fact]
    public void Initializers_are_not_inputs()
    {
        // fixed_vec4 multiplies by an initializer "two"; an IR 3 model lists initializers as inputs as well.
        Assert.Equal(["INPUT0"], ModelSignature.Read(RepositoryPaths.Model("fixed_vec4")).Inputs.Select(i => i.Name));
    }

    [Fact]
    public void Tells_sequences_and_optionals_from_tensors()
    {
        Assert.True(TestData.Installed, TestData.NotInstalled);

        var sequence = ModelSignature.Read(TestData.Find("node/test_sequence_insert_at_back").ModelPath);
        var optional = ModelSignature.Read(TestData.Find("node/test_optional_get_element_sequence").ModelPath);

        Assert.Equal(ValueKind.Sequence, sequence.Inputs[0].Kind);
        Assert.Equal(ValueKind.Tensor, sequence.Inputs[1].Kind);
        Assert.Equal(ValueKind.Optional, optional.Inputs[0].Kind);
    }
}
