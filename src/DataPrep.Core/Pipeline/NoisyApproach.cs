namespace DataPrep.Pipeline;

/// <summary>The two ways of DESIGN §3.4 to split clean and noisy data.</summary>
public enum NoisyApproach
{
    /// <summary>Train = all clean rows; noisy rows split into validation and test.</summary>
    TrainOnClean = 1,
    /// <summary>Clean rows split into train and validation; part of the noisy rows joins validation, the rest is test.</summary>
    MixedValidation = 2,
}
