using HighPerfInference.NativeEngine.Gpu;

namespace HighPerfInference.NativeEngine.Tests.Gpu;

/// <summary>The image transform's CPU reference (in every build): layout, arithmetic and argument checks.</summary>
public sealed class PreprocessReferenceTests
{
    [Fact]
    public void Hwc_pixels_become_normalized_nchw_planes()
    {
        // One 1x2 RGB image: pixel (0,0) = 10,20,30; pixel (0,1) = 40,50,60.
        byte[] image = [10, 20, 30, 40, 50, 60];
        var preprocessor = new ImagePreprocessor(mean: [1f, 2f, 3f], scale: [0.5f, 0.25f, 2f]);
        var output = new float[6];

        preprocessor.RunOnCpu(image, output, batch: 1, height: 1, width: 2);

        // Plane R, then G, then B: (value - mean) * scale.
        Assert.Equal([4.5f, 19.5f, 4.5f, 12f, 54f, 114f], output);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    public void A_batch_matches_the_formula_element_for_element(int channels)
    {
        const int batch = 3, height = 5, width = 7;
        var random = new Random(channels);
        var image = new byte[batch * height * width * channels];
        random.NextBytes(image);
        float[] mean = [123.675f, 116.28f, 103.53f, 127.5f];
        float[] scale = [1 / 58.395f, 1 / 57.12f, 1 / 57.375f, 1 / 127.5f];
        var preprocessor = new ImagePreprocessor(mean.AsSpan(0, channels), scale.AsSpan(0, channels));
        var output = new float[image.Length];

        preprocessor.RunOnCpu(image, output, batch, height, width);

        for (int n = 0; n < batch; n++)
        {
            for (int y = 0; y < height; y++)
            {
                for (int x = 0; x < width; x++)
                {
                    for (int c = 0; c < channels; c++)
                    {
                        float expected = (image[((n * height + y) * width + x) * channels + c] - mean[c]) * scale[c];
                        Assert.Equal(expected, output[((n * channels + c) * height + y) * width + x]);
                    }
                }
            }
        }
    }

    [Fact]
    public void Bad_arguments_are_rejected_before_any_native_call()
    {
        Assert.Throws<ArgumentException>(() => new ImagePreprocessor(mean: [], scale: []));
        Assert.Throws<ArgumentException>(() => new ImagePreprocessor(mean: [0, 0, 0, 0, 0], scale: [1, 1, 1, 1, 1]));
        Assert.Throws<ArgumentException>(() => new ImagePreprocessor(mean: [0, 0, 0], scale: [1, 1]));

        var preprocessor = new ImagePreprocessor(mean: [0, 0, 0], scale: [1, 1, 1]);
        Assert.Throws<ArgumentException>(() => preprocessor.RunOnCpu(new byte[11], new float[12], 1, 2, 2));
        Assert.Throws<ArgumentException>(() => preprocessor.RunOnCpu(new byte[12], new float[11], 1, 2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => preprocessor.RunOnCpu(new byte[12], new float[12], 0, 2, 2));
    }
}
