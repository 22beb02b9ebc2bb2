using DataPrep.Pipeline;

namespace DataPrep.Images;

/// <summary>Plugs the image formats into <see cref="ConvertRunner"/> (the core does not reference ImageSharp).</summary>
public static class ImageSupport
{
    /// <summary>Registers <c>images</c>, <c>recordio-image</c> and <c>augmented-manifest</c> with <see cref="ConvertRunner.RunAsync"/>. Idempotent.</summary>
    public static void Register()
    {
        foreach (var f in new[] { OutputFormat.Images, OutputFormat.RecordIOImage, OutputFormat.AugmentedManifest })
        {
            ConvertRunner.RegisterFormat(f, (o, p, ct) => ImageConvertRunner.RunAsync(o, p, ct));
        }
    }
}
